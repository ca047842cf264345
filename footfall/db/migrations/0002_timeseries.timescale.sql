-- Time-series storage on TimescaleDB (>= 2.9): hypertables, continuous aggregates with
-- real-time aggregation (hourly on top of 15-minute: hierarchical, hence 2.9),
-- compression and retention policies. The continuous aggregates have the same names and
-- columns as the plain path's rollup tables, so queries do not care which path is live.
-- Late readings older than a materialised bucket are picked up by the refresh policy's
-- window (30 days); ingest also refreshes the affected window explicitly.

CREATE EXTENSION IF NOT EXISTS timescaledb;

DO $$
DECLARE
    v int[] := string_to_array(
        regexp_replace((SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'), '[^0-9.].*$', ''),
        '.')::int[];
BEGIN
    IF v < ARRAY[2, 9] THEN
        RAISE EXCEPTION 'TimescaleDB % is too old: Footfall needs 2.9 or newer (hierarchical continuous aggregates); upgrade the extension or migrate with --flavour plain',
            array_to_string(v, '.');
    END IF;
END
$$;

-- create_hypertable's signature changed in 2.13 (by_range); use whichever this server has.
CREATE FUNCTION pg_temp.footfall_hypertable(tbl regclass, col name, chunk interval) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v int[] := string_to_array(
        regexp_replace((SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'), '[^0-9.].*$', ''),
        '.')::int[];
BEGIN
    IF v >= ARRAY[2, 13] THEN
        EXECUTE format('SELECT create_hypertable(%L::regclass, by_range(%L, %L::interval))', tbl, col, chunk);
    ELSE
        EXECUTE format('SELECT create_hypertable(%L::regclass, %L, chunk_time_interval => %L::interval)',
                       tbl, col, chunk);
    END IF;
END
$$;

SELECT pg_temp.footfall_hypertable('door_counts', 'start_ts', INTERVAL '7 days');
SELECT pg_temp.footfall_hypertable('occupancy', 'start_ts', INTERVAL '7 days');
SELECT pg_temp.footfall_hypertable('heatmap_cells', 'start_ts', INTERVAL '1 day');
SELECT pg_temp.footfall_hypertable('zone_visits', 'start_ts', INTERVAL '7 days');
SELECT pg_temp.footfall_hypertable('tracks', 'start_ts', INTERVAL '1 day');
SELECT pg_temp.footfall_hypertable('heartbeats', 'start_ts', INTERVAL '7 days');

CREATE MATERIALIZED VIEW door_counts_15m
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT store_id,
       door_id,
       time_bucket(INTERVAL '15 minutes', start_ts) AS bucket,
       sum(CASE WHEN valid THEN entries ELSE 0 END)::bigint AS entries,
       sum(CASE WHEN valid THEN exits ELSE 0 END)::bigint AS exits,
       sum(CASE WHEN valid THEN passersby END)::bigint AS passersby,
       sum(CASE WHEN valid THEN extract(epoch FROM end_ts - start_ts) ELSE 0 END)::double precision AS valid_s,
       sum(CASE WHEN valid THEN 0 ELSE extract(epoch FROM end_ts - start_ts) END)::double precision AS invalid_s,
       count(*)::integer AS readings
FROM door_counts
GROUP BY store_id, door_id, time_bucket(INTERVAL '15 minutes', start_ts)
WITH NO DATA;

CREATE MATERIALIZED VIEW door_counts_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT store_id,
       door_id,
       time_bucket(INTERVAL '1 hour', bucket) AS bucket,
       sum(entries)::bigint AS entries,
       sum(exits)::bigint AS exits,
       sum(passersby)::bigint AS passersby,
       sum(valid_s)::double precision AS valid_s,
       sum(invalid_s)::double precision AS invalid_s,
       sum(readings)::integer AS readings
FROM door_counts_15m
GROUP BY store_id, door_id, time_bucket(INTERVAL '1 hour', bucket)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('door_counts_15m',
    start_offset => INTERVAL '30 days', end_offset => INTERVAL '15 minutes',
    schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('door_counts_1h',
    start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '15 minutes');

ALTER TABLE door_counts SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id, door_id', timescaledb.compress_orderby = 'start_ts');
ALTER TABLE occupancy SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id, zone_id', timescaledb.compress_orderby = 'start_ts');
ALTER TABLE heatmap_cells SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id, floor_id', timescaledb.compress_orderby = 'start_ts, x, y');
ALTER TABLE zone_visits SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id, zone_id', timescaledb.compress_orderby = 'start_ts');
ALTER TABLE tracks SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id, floor_id', timescaledb.compress_orderby = 'start_ts, track_no');
ALTER TABLE heartbeats SET (timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = 'start_ts');

-- Segment by the primary key's non-time columns, so uniqueness checks on late inserts stay
-- cheap. Compress after the continuous aggregates' refresh window, so late data still lands
-- in uncompressed chunks.
SELECT add_compression_policy('door_counts', INTERVAL '45 days');
SELECT add_compression_policy('occupancy', INTERVAL '45 days');
SELECT add_compression_policy('heatmap_cells', INTERVAL '7 days');
SELECT add_compression_policy('zone_visits', INTERVAL '45 days');
SELECT add_compression_policy('tracks', INTERVAL '7 days');
SELECT add_compression_policy('heartbeats', INTERVAL '7 days');

-- Retention: raw facts for three years (rollups keep the history), tracks and
-- heartbeats only as long as operators look at them.
SELECT add_retention_policy('door_counts', INTERVAL '3 years');
SELECT add_retention_policy('occupancy', INTERVAL '3 years');
SELECT add_retention_policy('zone_visits', INTERVAL '3 years');
SELECT add_retention_policy('heatmap_cells', INTERVAL '400 days');
SELECT add_retention_policy('tracks', INTERVAL '30 days');
SELECT add_retention_policy('heartbeats', INTERVAL '90 days');
