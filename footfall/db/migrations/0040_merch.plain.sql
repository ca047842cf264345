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

-- Plain path: a rollup table kept exact by a statement-level trigger, as for door counts.
CREATE TABLE heatmap_cells_1h (
    store_id    text NOT NULL,
    floor_id    text NOT NULL,
    device_id   text NOT NULL,
    cell_m      real NOT NULL,
    bucket      timestamptz NOT NULL,
    x           integer NOT NULL,
    y           integer NOT NULL,
    presence_s  double precision NOT NULL,
    tracks      bigint NOT NULL,
    readings    integer NOT NULL,
    PRIMARY KEY (store_id, floor_id, bucket, device_id, cell_m, x, y)
);

-- Whole UTC days: a quarter reads ~90 rows per cell and camera instead of ~2,000.
CREATE TABLE heatmap_cells_1d (LIKE heatmap_cells_1h INCLUDING ALL);

CREATE FUNCTION footfall_heatmap_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target text;
    width interval;
BEGIN
    FOREACH target IN ARRAY ARRAY['heatmap_cells_1h', 'heatmap_cells_1d'] LOOP
        width := CASE target WHEN 'heatmap_cells_1h' THEN INTERVAL '1 hour' ELSE INTERVAL '1 day' END;
        EXECUTE format($sql$
            INSERT INTO %I AS r
                (store_id, floor_id, device_id, cell_m, bucket, x, y, presence_s, tracks, readings)
            SELECT store_id, floor_id, device_id, cell_m,
                   date_bin(%L::interval, start_ts, TIMESTAMPTZ '2000-01-01 00:00+00'), x, y,
                   sum(presence_s), sum(tracks), count(*)
            FROM new_rows
            WHERE valid
            GROUP BY 1, 2, 3, 4, 5, 6, 7
            ORDER BY 1, 2, 3, 4, 5, 6, 7
            ON CONFLICT (store_id, floor_id, bucket, device_id, cell_m, x, y) DO UPDATE SET
                presence_s = r.presence_s + excluded.presence_s,
                tracks = r.tracks + excluded.tracks,
                readings = r.readings + excluded.readings
            $sql$, target, width);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER heatmap_cells_rollup
    AFTER INSERT ON heatmap_cells
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_heatmap_rollup();

-- Heatmap cells written before this migration.
INSERT INTO heatmap_cells_1h (store_id, floor_id, device_id, cell_m, bucket, x, y, presence_s, tracks, readings)
SELECT store_id, floor_id, device_id, cell_m,
       date_bin(INTERVAL '1 hour', start_ts, TIMESTAMPTZ '2000-01-01 00:00+00'), x, y,
       sum(presence_s), sum(tracks), count(*)
FROM heatmap_cells
WHERE valid
GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO heatmap_cells_1d (store_id, floor_id, device_id, cell_m, bucket, x, y, presence_s, tracks, readings)
SELECT store_id, floor_id, device_id, cell_m,
       date_bin(INTERVAL '1 day', bucket, TIMESTAMPTZ '2000-01-01 00:00+00'), x, y,
       sum(presence_s), sum(tracks), sum(readings)
FROM heatmap_cells_1h
GROUP BY 1, 2, 3, 4, 5, 6, 7;
