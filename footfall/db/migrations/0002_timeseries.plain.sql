-- Time-series storage on plain PostgreSQL (>= 15): BRIN indexes on the fact tables and
-- rollup tables kept exact by a statement-level trigger. The trigger sees only the rows
-- an INSERT really added (duplicates skipped by ON CONFLICT DO NOTHING never reach it),
-- so late and out-of-order readings land in their bucket with no refresh step.

CREATE INDEX door_counts_start_brin ON door_counts USING brin (start_ts);
CREATE INDEX occupancy_start_brin ON occupancy USING brin (start_ts);
CREATE INDEX heatmap_cells_start_brin ON heatmap_cells USING brin (start_ts);
CREATE INDEX zone_visits_start_brin ON zone_visits USING brin (start_ts);
CREATE INDEX tracks_start_brin ON tracks USING brin (start_ts);
CREATE INDEX heartbeats_start_brin ON heartbeats USING brin (start_ts);

CREATE TABLE door_counts_15m (
    store_id   text NOT NULL,
    door_id    text NOT NULL,
    bucket     timestamptz NOT NULL,
    entries    bigint NOT NULL,
    exits      bigint NOT NULL,
    passersby  bigint,
    valid_s    double precision NOT NULL,
    invalid_s  double precision NOT NULL,
    readings   integer NOT NULL,
    PRIMARY KEY (store_id, door_id, bucket)
);

CREATE TABLE door_counts_1h (LIKE door_counts_15m INCLUDING ALL);

CREATE FUNCTION footfall_door_counts_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target text;
    width interval;
BEGIN
    FOREACH target IN ARRAY ARRAY['door_counts_15m', 'door_counts_1h'] LOOP
        width := CASE target WHEN 'door_counts_15m' THEN INTERVAL '15 minutes' ELSE INTERVAL '1 hour' END;
        EXECUTE format($sql$
            INSERT INTO %I AS r
                (store_id, door_id, bucket, entries, exits, passersby, valid_s, invalid_s, readings)
            SELECT store_id, door_id, date_bin(%L::interval, start_ts, TIMESTAMPTZ '2000-01-01 00:00+00'),
                   coalesce(sum(entries) FILTER (WHERE valid), 0),
                   coalesce(sum(exits) FILTER (WHERE valid), 0),
                   sum(passersby) FILTER (WHERE valid),
                   coalesce(sum(extract(epoch FROM end_ts - start_ts)) FILTER (WHERE valid), 0),
                   coalesce(sum(extract(epoch FROM end_ts - start_ts)) FILTER (WHERE NOT valid), 0),
                   count(*)
            FROM new_rows
            GROUP BY 1, 2, 3
            ORDER BY 1, 2, 3
            ON CONFLICT (store_id, door_id, bucket) DO UPDATE SET
                entries = r.entries + excluded.entries,
                exits = r.exits + excluded.exits,
                passersby = CASE WHEN r.passersby IS NULL AND excluded.passersby IS NULL THEN NULL
                                 ELSE coalesce(r.passersby, 0) + coalesce(excluded.passersby, 0) END,
                valid_s = r.valid_s + excluded.valid_s,
                invalid_s = r.invalid_s + excluded.invalid_s,
                readings = r.readings + excluded.readings
            $sql$, target, width);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER door_counts_rollup
    AFTER INSERT ON door_counts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_door_counts_rollup();
