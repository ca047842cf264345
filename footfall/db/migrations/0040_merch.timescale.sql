-- Merchandising (issue 13): floor plan pictures, zone kinds and comfort limits, layout
-- changes, and an hourly heatmap rollup so a quarter of heatmap reads in well under a
-- second. The rollup keeps each camera apart (device_id): cameras that overlap on the
-- plan are merged at query time (footfall/api/merch/heatmap.py), not summed here.

ALTER TABLE floors
    ADD COLUMN plan_image     bytea,
    ADD COLUMN plan_mime      text CHECK (plan_mime IN ('image/png', 'image/jpeg')),
    ADD COLUMN plan_px_per_m  double precision CHECK (plan_px_per_m > 0),
    ADD COLUMN plan_origin_x  double precision NOT NULL DEFAULT 0,
    ADD COLUMN plan_origin_y  double precision NOT NULL DEFAULT 0,
    ADD CONSTRAINT floors_plan_complete CHECK ((plan_image IS NULL) = (plan_px_per_m IS NULL));

ALTER TABLE zones
    ADD COLUMN kind           text NOT NULL DEFAULT 'area' CHECK (kind IN ('area', 'queue')),
    ADD COLUMN comfort_limit  integer CHECK (comfort_limit > 0),
    ADD COLUMN till_zone      text,
    ADD CONSTRAINT zones_queue_has_till CHECK ((kind = 'queue') = (till_zone IS NOT NULL));

CREATE TABLE layout_changes (
    store_id    text NOT NULL REFERENCES stores ON DELETE CASCADE,
    change_id   bigserial NOT NULL,
    changed_on  date NOT NULL,
    zones       text[] NOT NULL CHECK (cardinality(zones) > 0),
    note        text NOT NULL DEFAULT '',
    created_by  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, change_id)
);

CREATE INDEX receipt_lines_sku_idx ON receipt_lines (store_id, sku);

-- TimescaleDB path: a continuous aggregate with the plain path's table name and columns,
-- real-time aggregation on, refreshed by a policy like the door-count rollups.
CREATE MATERIALIZED VIEW heatmap_cells_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT store_id,
       floor_id,
       device_id,
       cell_m,
       time_bucket(INTERVAL '1 hour', start_ts) AS bucket,
       x,
       y,
       sum(presence_s)::double precision AS presence_s,
       sum(tracks)::bigint AS tracks,
       count(*)::integer AS readings
FROM heatmap_cells
WHERE valid
GROUP BY store_id, floor_id, device_id, cell_m, time_bucket(INTERVAL '1 hour', start_ts), x, y
WITH NO DATA;

SELECT add_continuous_aggregate_policy('heatmap_cells_1h',
    start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '15 minutes');

-- Whole UTC days, hierarchical on the hourly aggregate (as door_counts_1h on door_counts_15m).
CREATE MATERIALIZED VIEW heatmap_cells_1d
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT store_id,
       floor_id,
       device_id,
       cell_m,
       time_bucket(INTERVAL '1 day', bucket) AS bucket,
       x,
       y,
       sum(presence_s)::double precision AS presence_s,
       sum(tracks)::bigint AS tracks,
       sum(readings)::integer AS readings
FROM heatmap_cells_1h
GROUP BY store_id, floor_id, device_id, cell_m, time_bucket(INTERVAL '1 day', bucket), x, y
WITH NO DATA;

SELECT add_continuous_aggregate_policy('heatmap_cells_1d',
    start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 day',
    schedule_interval => INTERVAL '1 hour');
