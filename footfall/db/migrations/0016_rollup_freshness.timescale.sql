-- Which buckets of a door-count continuous aggregate do not (yet) hold what is committed.
--
-- Real-time aggregation reads raw rows only above an aggregate's watermark. A reading
-- committed below it — an edge box replaying its backlog after an outage, the normal case
-- — is recorded in TimescaleDB's invalidation logs in the same transaction, and the
-- aggregate shows the old sums for that bucket until a refresh re-materialises it (the
-- ingest refresher, or the policy). The KPI layer asks this function for those buckets
-- and reads them from the raw rows instead, so answers are right as soon as the rows are
-- committed. It is STABLE: called inside the KPI query, it sees the logs in the same
-- snapshot as the rows.
--
-- A bucket of aggregate C is stale when a pending invalidation of C below C's watermark
-- covers it — in the hypertable log of C's source (raw rows not yet processed by any
-- refresh) or in C's own materialization log (processed for a sibling, or never
-- materialised: a new aggregate starts with one entry covering all time) — or when it
-- is stale in the aggregate C is built on (the hourly one on the 15-minute one).
-- Log values are TimescaleDB's internal time: microseconds since 1970-01-01 UTC.

CREATE FUNCTION footfall_stale_windows(rollup regclass, width interval, lo timestamptz, hi timestamptz)
RETURNS SETOF tstzrange
-- A handful of windows, not the default estimate of 1000: the planner then reads the raw
-- rows inside them by index instead of scanning the period (measured: 14 ms, not 108 ms).
LANGUAGE plpgsql STABLE ROWS 4 AS $$
DECLARE
    unix_epoch CONSTANT timestamptz := TIMESTAMPTZ '1970-01-01 00:00:00+00';
    lo_i bigint := (extract(epoch FROM lo) * 1000000)::bigint;
    hi_i bigint := (extract(epoch FROM hi) * 1000000)::bigint;
    has_watermarks boolean := to_regclass('_timescaledb_catalog.continuous_aggs_watermark') IS NOT NULL;
    has_ranges boolean := to_regclass('_timescaledb_catalog.continuous_aggs_materialization_ranges') IS NOT NULL;
    cagg record;
    wm bigint;
    stale tstzmultirange := '{}';
    part tstzmultirange;
BEGIN
    IF hi <= lo THEN
        RETURN;
    END IF;
    FOR cagg IN
        WITH RECURSIVE chain AS (
            SELECT c.mat_hypertable_id, c.raw_hypertable_id, c.parent_mat_hypertable_id
            FROM _timescaledb_catalog.continuous_agg AS c
            JOIN pg_class AS v ON v.relname = c.user_view_name
            JOIN pg_namespace AS n ON n.oid = v.relnamespace AND n.nspname = c.user_view_schema
            WHERE v.oid = rollup
            UNION ALL
            SELECT p.mat_hypertable_id, p.raw_hypertable_id, p.parent_mat_hypertable_id
            FROM _timescaledb_catalog.continuous_agg AS p
            JOIN chain ON p.mat_hypertable_id = chain.parent_mat_hypertable_id
        )
        SELECT * FROM chain
    LOOP
        wm := NULL;
        IF has_watermarks THEN
            SELECT w.watermark INTO wm
            FROM _timescaledb_catalog.continuous_aggs_watermark AS w
            WHERE w.mat_hypertable_id = cagg.mat_hypertable_id;
        END IF;
        -- Unknown watermark (TimescaleDB before 2.11): every pending entry counts.
        wm := least(coalesce(wm, hi_i), hi_i);
        IF wm <= lo_i THEN
            CONTINUE;  -- the whole window is above the watermark: real-time aggregation reads raw rows there
        END IF;
        SELECT coalesce(range_agg(tstzrange(
                   unix_epoch + greatest(e.lowest, lo_i) * INTERVAL '1 microsecond',
                   unix_epoch + (least(e.greatest_inclusive, wm - 1) + 1) * INTERVAL '1 microsecond')), '{}')
        INTO part
        FROM (
            SELECT l.lowest_modified_value AS lowest, l.greatest_modified_value AS greatest_inclusive
            FROM _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log AS l
            WHERE l.hypertable_id = cagg.raw_hypertable_id
            UNION ALL
            SELECT m.lowest_modified_value, m.greatest_modified_value
            FROM _timescaledb_catalog.continuous_aggs_materialization_invalidation_log AS m
            WHERE m.materialization_id = cagg.mat_hypertable_id
        ) AS e
        WHERE e.lowest < wm AND e.greatest_inclusive >= lo_i AND e.lowest <= e.greatest_inclusive;
        stale := stale + part;
        IF has_ranges THEN
            EXECUTE $q$
                SELECT coalesce(range_agg(tstzrange(
                           $1 + greatest(r.lowest_modified_value, $2) * INTERVAL '1 microsecond',
                           $1 + (least(r.greatest_modified_value, $3 - 1) + 1) * INTERVAL '1 microsecond')), '{}')
                FROM _timescaledb_catalog.continuous_aggs_materialization_ranges AS r
                WHERE r.materialization_id = $4 AND r.lowest_modified_value < $3
                  AND r.greatest_modified_value >= $2 AND r.lowest_modified_value <= r.greatest_modified_value
            $q$ INTO part USING unix_epoch, lo_i, wm, cagg.mat_hypertable_id;
            stale := stale + part;
        END IF;
    END LOOP;
    -- Whole buckets of the caller's width, merged.
    RETURN QUERY
        SELECT unnest(range_agg(tstzrange(time_bucket(width, lower(s)),
                                          time_bucket(width, upper(s) - INTERVAL '1 microsecond') + width)))
        FROM unnest(stale) AS s;
END
$$;
