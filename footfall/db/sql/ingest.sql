-- Named queries of the MQTT → database consumer (footfall.ingest).
--
-- A batch is COPYed into the session's staging table, one row per accepted message with
-- its readings as normalised JSON (dumped from the validated model, so PostgreSQL never
-- sees the raw bytes), then moved into each fact table by one INSERT … SELECT … ON
-- CONFLICT DO NOTHING on the table's natural key. Duplicates (broker redeliveries, edge
-- replays) are dropped by the key; the plain path's rollup triggers see only the rows
-- really inserted.

-- name: schema_version
SELECT coalesce(max(version), 0) AS version FROM schema_migrations;

-- name: flavour
SELECT value FROM footfall_meta WHERE key = 'flavour';

-- name: install_id
-- This deployment's stable id (made on first use): part of the default MQTT client ids,
-- so two deployments on one broker never share a persistent session.
WITH made AS (
    INSERT INTO footfall_meta (key, value) VALUES ('install_id', substr(md5(random()::text || clock_timestamp()::text), 1, 16))
    ON CONFLICT (key) DO NOTHING
    RETURNING value
)
SELECT value FROM made
UNION ALL
SELECT value FROM footfall_meta WHERE key = 'install_id'
LIMIT 1;

-- name: has_retention_jobs
SELECT to_regclass('timescaledb_information.jobs') IS NOT NULL AS ok;

-- name: retention_horizons
-- The drop_after of each fact table's scheduled TimescaleDB retention policy (none on the plain
-- path): a policy switched off drops nothing, so it sets no horizon.
SELECT h.hypertable_name AS table_name, (j.config ->> 'drop_after')::interval AS drop_after
FROM timescaledb_information.jobs j
JOIN timescaledb_information.hypertables h
  ON h.hypertable_schema = j.hypertable_schema AND h.hypertable_name = j.hypertable_name
WHERE j.proc_name = 'policy_retention' AND j.scheduled AND j.config ? 'drop_after';

-- name: create_stage
CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
    kind      text NOT NULL,
    store_id  text NOT NULL,
    device_id text NOT NULL,
    seq       bigint NOT NULL,
    sent_at   timestamptz NOT NULL,
    body      jsonb NOT NULL
) ON COMMIT DELETE ROWS;

-- name: copy_stage
COPY ingest_stage (kind, store_id, device_id, seq, sent_at, body) FROM STDIN;

-- name: create_typed_stage
-- Typed staging (the default): every reading kind arrives one row per fact-table row (a
-- reading, a heatmap cell, a track) by binary COPY, so the move below is a plain
-- INSERT … SELECT with no JSON to parse on either side. Integers are staged as bigint and
-- reals as double precision, so a value beyond the column's range is refused by the
-- INSERT's assignment cast (a DataError the writer isolates) rather than wrapped by the
-- client's binary int4 encoder. Track points and heartbeat payloads are JSON in the fact
-- table too: they are staged as the JSON text pydantic dumped and cast to jsonb.
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_counts (
    store_id  text NOT NULL,
    device_id text NOT NULL,
    door_id   text NOT NULL,
    start_ts  timestamptz NOT NULL,
    end_ts    timestamptz NOT NULL,
    entries   bigint NOT NULL,
    exits     bigint NOT NULL,
    passersby bigint,
    valid     boolean NOT NULL,
    seq       bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_occupancy (
    store_id  text NOT NULL,
    device_id text NOT NULL,
    zone_id   text NOT NULL,
    start_ts  timestamptz NOT NULL,
    end_ts    timestamptz NOT NULL,
    occupancy bigint NOT NULL,
    peak      bigint,
    valid     boolean NOT NULL,
    seq       bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_heatmap (
    store_id   text NOT NULL,
    device_id  text NOT NULL,
    floor_id   text NOT NULL,
    start_ts   timestamptz NOT NULL,
    end_ts     timestamptz NOT NULL,
    cell_m     double precision NOT NULL,
    x          bigint NOT NULL,
    y          bigint NOT NULL,
    presence_s double precision NOT NULL,
    tracks     bigint NOT NULL,
    valid      boolean NOT NULL,
    seq        bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_zones (
    store_id  text NOT NULL,
    device_id text NOT NULL,
    zone_id   text NOT NULL,
    start_ts  timestamptz NOT NULL,
    end_ts    timestamptz NOT NULL,
    entries   bigint NOT NULL,
    exits     bigint NOT NULL,
    dwell_s   double precision[] NOT NULL,
    occupancy bigint,
    valid     boolean NOT NULL,
    seq       bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_tracks (
    store_id  text NOT NULL,
    device_id text NOT NULL,
    floor_id  text NOT NULL,
    start_ts  timestamptz NOT NULL,
    end_ts    timestamptz NOT NULL,
    track_no  bigint NOT NULL,
    points    text NOT NULL,
    seq       bigint NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_stage_heartbeat (
    store_id    text NOT NULL,
    device_id   text NOT NULL,
    start_ts    timestamptz NOT NULL,
    end_ts      timestamptz NOT NULL,
    seq         bigint NOT NULL,
    sent_at     timestamptz NOT NULL,
    uptime_s    double precision NOT NULL,
    queue_depth bigint NOT NULL,
    payload     text NOT NULL
) ON COMMIT DELETE ROWS;

-- name: copy_stage_counts
COPY ingest_stage_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq)
FROM STDIN (FORMAT BINARY);

-- name: copy_stage_occupancy
COPY ingest_stage_occupancy (store_id, device_id, zone_id, start_ts, end_ts, occupancy, peak, valid, seq)
FROM STDIN (FORMAT BINARY);

-- name: copy_stage_heatmap
COPY ingest_stage_heatmap (store_id, device_id, floor_id, start_ts, end_ts, cell_m, x, y, presence_s, tracks, valid, seq)
FROM STDIN (FORMAT BINARY);

-- name: copy_stage_zones
COPY ingest_stage_zones (store_id, device_id, zone_id, start_ts, end_ts, entries, exits, dwell_s, occupancy, valid, seq)
FROM STDIN (FORMAT BINARY);

-- name: copy_stage_tracks
COPY ingest_stage_tracks (store_id, device_id, floor_id, start_ts, end_ts, track_no, points, seq)
FROM STDIN (FORMAT BINARY);

-- name: copy_stage_heartbeat
COPY ingest_stage_heartbeat (store_id, device_id, start_ts, end_ts, seq, sent_at, uptime_s, queue_depth, payload)
FROM STDIN (FORMAT BINARY);

-- name: clear_typed_stage
DELETE FROM ingest_stage_counts;
DELETE FROM ingest_stage_occupancy;
DELETE FROM ingest_stage_heatmap;
DELETE FROM ingest_stage_zones;
DELETE FROM ingest_stage_tracks;
DELETE FROM ingest_stage_heartbeat;

-- name: insert_counts_typed
INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq)
SELECT store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq
FROM ingest_stage_counts
ON CONFLICT DO NOTHING;

-- name: conflicts_counts_typed
SELECT s.device_id, s.seq, s.door_id AS place, s.start_ts AS start,
       jsonb_build_object('end', s.end_ts, 'entries', s.entries, 'exits', s.exits, 'passersby', s.passersby,
                          'valid', s.valid) AS received,
       jsonb_build_object('end', d.end_ts, 'entries', d.entries, 'exits', d.exits, 'passersby', d.passersby,
                          'valid', d.valid, 'seq', d.seq) AS stored
FROM ingest_stage_counts s
JOIN door_counts d ON d.device_id = s.device_id AND d.door_id = s.door_id AND d.start_ts = s.start_ts
WHERE (d.end_ts, d.entries, d.exits, d.passersby, d.valid)
      IS DISTINCT FROM (s.end_ts, s.entries, s.exits, s.passersby, s.valid);

-- name: insert_occupancy_typed
INSERT INTO occupancy (store_id, device_id, zone_id, start_ts, end_ts, occupancy, peak, valid, seq)
SELECT store_id, device_id, zone_id, start_ts, end_ts, occupancy, peak, valid, seq
FROM ingest_stage_occupancy
ON CONFLICT DO NOTHING;

-- name: conflicts_occupancy_typed
SELECT s.device_id, s.seq, s.zone_id AS place, s.start_ts AS start,
       jsonb_build_object('end', s.end_ts, 'occupancy', s.occupancy, 'peak', s.peak, 'valid', s.valid) AS received,
       jsonb_build_object('end', d.end_ts, 'occupancy', d.occupancy, 'peak', d.peak, 'valid', d.valid,
                          'seq', d.seq) AS stored
FROM ingest_stage_occupancy s
JOIN occupancy d ON d.device_id = s.device_id AND d.zone_id = s.zone_id AND d.start_ts = s.start_ts
WHERE (d.end_ts, d.occupancy, d.peak, d.valid) IS DISTINCT FROM (s.end_ts, s.occupancy, s.peak, s.valid);

-- name: insert_heatmap_typed
-- Cells are already k-anonymous: triage dropped those under ingest.min_heatmap_k before staging.
INSERT INTO heatmap_cells (store_id, device_id, floor_id, start_ts, end_ts, cell_m, x, y, presence_s, tracks, valid, seq)
SELECT store_id, device_id, floor_id, start_ts, end_ts, cell_m, x, y, presence_s, tracks, valid, seq
FROM ingest_stage_heatmap
ON CONFLICT DO NOTHING;

-- name: insert_zones_typed
INSERT INTO zone_visits (store_id, device_id, zone_id, start_ts, end_ts, entries, exits, dwell_s, occupancy, valid, seq)
SELECT store_id, device_id, zone_id, start_ts, end_ts, entries, exits, dwell_s, occupancy, valid, seq
FROM ingest_stage_zones
ON CONFLICT DO NOTHING;

-- name: conflicts_zones_typed
SELECT s.device_id, s.seq, s.zone_id AS place, s.start_ts AS start,
       jsonb_build_object('end', s.end_ts, 'entries', s.entries, 'exits', s.exits, 'valid', s.valid) AS received,
       jsonb_build_object('end', d.end_ts, 'entries', d.entries, 'exits', d.exits, 'valid', d.valid,
                          'seq', d.seq) AS stored
FROM ingest_stage_zones s
JOIN zone_visits d ON d.device_id = s.device_id AND d.zone_id = s.zone_id AND d.start_ts = s.start_ts
WHERE (d.end_ts, d.entries, d.exits, d.valid) IS DISTINCT FROM (s.end_ts, s.entries, s.exits, s.valid);

-- name: insert_tracks_typed
INSERT INTO tracks (store_id, device_id, floor_id, start_ts, end_ts, track_no, points, seq)
SELECT store_id, device_id, floor_id, start_ts, end_ts, track_no, points::jsonb, seq
FROM ingest_stage_tracks
ON CONFLICT DO NOTHING;

-- name: insert_heartbeat_typed
INSERT INTO heartbeats (store_id, device_id, start_ts, end_ts, seq, sent_at, uptime_s, queue_depth, payload)
SELECT store_id, device_id, start_ts, end_ts, seq, sent_at, uptime_s, queue_depth, payload::jsonb
FROM ingest_stage_heartbeat
ON CONFLICT DO NOTHING;

-- name: copy_ceiling_table
-- `footfall bench ingest`: a table of door_counts' shape (columns, defaults, checks, keys and
-- indexes; no triggers, no conflicts) for the bare COPY ceiling.
CREATE TABLE bench_copy_ceiling (LIKE door_counts INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);

-- name: copy_ceiling_table_heatmap
-- The same for `--mix heatmap`: a table of heatmap_cells' shape.
CREATE TABLE bench_copy_ceiling (LIKE heatmap_cells INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);

-- name: insert_counts
INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq)
SELECT s.store_id, s.device_id, r.door_id, r.start, r."end", r.entries, r.exits, r.passersby, r.valid, s.seq
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_to_recordset(s.body -> 'readings') AS r (
    door_id text, start timestamptz, "end" timestamptz, entries integer, exits integer, passersby integer,
    valid boolean)
WHERE s.kind = 'counts'
ON CONFLICT DO NOTHING;

-- name: conflicts_counts
-- Staged readings whose natural key is stored with other values (run only when a batch
-- had duplicates): a device that sent the same door and minute again with other counts.
SELECT s.device_id, s.seq, r.door_id AS place, r.start,
       jsonb_build_object('end', r."end", 'entries', r.entries, 'exits', r.exits, 'passersby', r.passersby,
                          'valid', r.valid) AS received,
       jsonb_build_object('end', d.end_ts, 'entries', d.entries, 'exits', d.exits, 'passersby', d.passersby,
                          'valid', d.valid, 'seq', d.seq) AS stored
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_to_recordset(s.body -> 'readings') AS r (
    door_id text, start timestamptz, "end" timestamptz, entries integer, exits integer, passersby integer,
    valid boolean)
JOIN door_counts d ON d.device_id = s.device_id AND d.door_id = r.door_id AND d.start_ts = r.start
WHERE s.kind = 'counts'
  AND (d.end_ts, d.entries, d.exits, d.passersby, d.valid)
      IS DISTINCT FROM (r."end", r.entries, r.exits, r.passersby, r.valid);

-- name: conflicts_occupancy
SELECT s.device_id, s.seq, coalesce(r.zone_id, '') AS place, r.start,
       jsonb_build_object('end', r."end", 'occupancy', r.occupancy, 'peak', r.peak, 'valid', r.valid) AS received,
       jsonb_build_object('end', d.end_ts, 'occupancy', d.occupancy, 'peak', d.peak, 'valid', d.valid,
                          'seq', d.seq) AS stored
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_to_recordset(s.body -> 'readings') AS r (
    zone_id text, start timestamptz, "end" timestamptz, occupancy integer, peak integer, valid boolean)
JOIN occupancy d ON d.device_id = s.device_id AND d.zone_id = coalesce(r.zone_id, '') AND d.start_ts = r.start
WHERE s.kind = 'occupancy'
  AND (d.end_ts, d.occupancy, d.peak, d.valid) IS DISTINCT FROM (r."end", r.occupancy, r.peak, r.valid);

-- name: conflicts_zones
SELECT s.device_id, s.seq, r.zone_id AS place, r.start,
       jsonb_build_object('end', r."end", 'entries', r.entries, 'exits', r.exits, 'valid', r.valid) AS received,
       jsonb_build_object('end', d.end_ts, 'entries', d.entries, 'exits', d.exits, 'valid', d.valid,
                          'seq', d.seq) AS stored
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_to_recordset(s.body -> 'readings') AS r (
    zone_id text, start timestamptz, "end" timestamptz, entries integer, exits integer, valid boolean)
JOIN zone_visits d ON d.device_id = s.device_id AND d.zone_id = r.zone_id AND d.start_ts = r.start
WHERE s.kind = 'zones'
  AND (d.end_ts, d.entries, d.exits, d.valid) IS DISTINCT FROM (r."end", r.entries, r.exits, r.valid);

-- name: insert_occupancy
INSERT INTO occupancy (store_id, device_id, zone_id, start_ts, end_ts, occupancy, peak, valid, seq)
SELECT s.store_id, s.device_id, coalesce(r.zone_id, ''), r.start, r."end", r.occupancy, r.peak, r.valid, s.seq
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_to_recordset(s.body -> 'readings') AS r (
    zone_id text, start timestamptz, "end" timestamptz, occupancy integer, peak integer, valid boolean)
WHERE s.kind = 'occupancy'
ON CONFLICT DO NOTHING;

-- name: insert_heatmap
INSERT INTO heatmap_cells (store_id, device_id, floor_id, start_ts, end_ts, cell_m, x, y, presence_s, tracks, valid, seq)
SELECT s.store_id, s.device_id, r ->> 'floor_id', (r ->> 'start')::timestamptz, (r ->> 'end')::timestamptz,
       (r ->> 'cell_m')::real, c.x, c.y, c.presence_s, c.tracks, (r ->> 'valid')::boolean, s.seq
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_array_elements(s.body -> 'readings') AS r
CROSS JOIN LATERAL jsonb_to_recordset(r -> 'cells') AS c (x integer, y integer, presence_s real, tracks integer)
WHERE s.kind = 'heatmap'
ON CONFLICT DO NOTHING;

-- name: insert_tracks
INSERT INTO tracks (store_id, device_id, floor_id, start_ts, end_ts, track_no, points, seq)
SELECT s.store_id, s.device_id, r ->> 'floor_id', (r ->> 'start')::timestamptz, (r ->> 'end')::timestamptz,
       t.n - 1, t.track -> 'points', s.seq
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_array_elements(s.body -> 'readings') AS r
CROSS JOIN LATERAL jsonb_array_elements(r -> 'tracks') WITH ORDINALITY AS t (track, n)
WHERE s.kind = 'tracks'
ON CONFLICT DO NOTHING;

-- name: insert_zones
INSERT INTO zone_visits (store_id, device_id, zone_id, start_ts, end_ts, entries, exits, dwell_s, occupancy, valid, seq)
SELECT s.store_id, s.device_id, r ->> 'zone_id', (r ->> 'start')::timestamptz, (r ->> 'end')::timestamptz,
       (r ->> 'entries')::integer, (r ->> 'exits')::integer,
       ARRAY(SELECT d::real FROM jsonb_array_elements_text(r -> 'dwell_s') AS d),
       (r ->> 'occupancy')::integer, (r ->> 'valid')::boolean, s.seq
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_array_elements(s.body -> 'readings') AS r
WHERE s.kind = 'zones'
ON CONFLICT DO NOTHING;

-- name: insert_heartbeat
INSERT INTO heartbeats (store_id, device_id, start_ts, end_ts, seq, sent_at, uptime_s, queue_depth, payload)
SELECT s.store_id, s.device_id, (r ->> 'start')::timestamptz, (r ->> 'end')::timestamptz, s.seq, s.sent_at,
       (r ->> 'uptime_s')::double precision, (r ->> 'queue_depth')::integer, r
FROM ingest_stage s
CROSS JOIN LATERAL jsonb_array_elements(s.body -> 'readings') AS r
WHERE s.kind = 'heartbeat'
ON CONFLICT DO NOTHING;

-- name: upsert_status
-- One row per device: the newest state by (seq, sent_at); older or repeated ones change nothing.
INSERT INTO device_status AS d (device_id, store_id, state, seq, sent_at)
SELECT DISTINCT ON (s.device_id) s.device_id, s.store_id, s.body ->> 'state', s.seq, s.sent_at
FROM ingest_stage s
WHERE s.kind = 'status'
ORDER BY s.device_id, s.seq DESC, s.sent_at DESC
ON CONFLICT (device_id) DO UPDATE SET
    store_id = excluded.store_id, state = excluded.state, seq = excluded.seq, sent_at = excluded.sent_at,
    updated_at = now()
WHERE (excluded.seq, excluded.sent_at) > (d.seq, d.sent_at);

-- name: insert_dead_letter
INSERT INTO dead_letters (topic, store_id, device_id, reason_code, reason, payload, payload_size, payload_sha256)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (topic, payload_sha256) DO NOTHING;

-- name: load_devices
SELECT d.device_id, d.store_id, d.kind, d.active,
       coalesce(array_agg(dd.door_id) FILTER (WHERE dd.door_id IS NOT NULL), '{}') AS doors
FROM devices d
LEFT JOIN device_doors dd ON dd.device_id = d.device_id
WHERE %(everything)s OR d.device_id = ANY(%(device_ids)s)
GROUP BY d.device_id;

-- name: load_places
SELECT s.store_id,
       ARRAY(SELECT z.zone_id FROM zones z WHERE z.store_id = s.store_id) AS zones,
       ARRAY(SELECT f.floor_id FROM floors f WHERE f.store_id = s.store_id) AS floors
FROM stores s
WHERE %(everything)s OR s.store_id = ANY(%(store_ids)s);

-- name: refresh_aggregate
CALL refresh_continuous_aggregate(%s::regclass, %s::timestamptz, %s::timestamptz);

-- name: stale_windows
-- Windows of the door rollups that wait for a refresh (migration 0016), hourly-aligned:
-- the hourly aggregate's chain includes the 15-minute one it is built on.
SELECT lower(w) AS lo, upper(w) AS hi
FROM footfall_stale_windows('door_counts_1h'::regclass, INTERVAL '1 hour', %s, %s) AS w
ORDER BY 1;
