-- Named queries on devices outside the store file (footfall.db.devices).

-- name: set_credential_hash
UPDATE devices SET credential_hash = %(password_hash)s, updated_at = now() WHERE device_id = %(device_id)s;

-- name: store_devices
-- Every device of a store with what was last heard of it: its retained status, its newest
-- heartbeat (edge agents), what its agent's newest heartbeat says of it (counters and
-- cameras), and the end of its newest door count. Looks back `since` only, so the scan stays
-- on recent chunks.
WITH hb AS (
    SELECT DISTINCT ON (device_id) device_id, end_ts, received_at, queue_depth, uptime_s, payload
    FROM heartbeats
    WHERE store_id = %(store_id)s AND start_ts >= %(since)s
    ORDER BY device_id, start_ts DESC
), sensor AS (
    SELECT DISTINCT ON (s ->> 'sensor_id')
           s ->> 'sensor_id' AS device_id, hb.device_id AS agent_id, hb.queue_depth AS agent_queue_depth,
           (s ->> 'last_seen')::timestamptz AS last_seen, coalesce((s ->> 'errors')::integer, 0) AS errors,
           coalesce(s -> 'faults', '[]'::jsonb) AS faults
    FROM hb CROSS JOIN LATERAL jsonb_array_elements(coalesce(hb.payload -> 'sensors', '[]'::jsonb)) AS s
    ORDER BY s ->> 'sensor_id', hb.end_ts DESC
), counts AS (
    SELECT device_id, max(end_ts) AS last_count_end, bool_and(valid) AS all_valid
    FROM door_counts
    WHERE store_id = %(store_id)s AND start_ts >= %(since)s
    GROUP BY device_id
)
SELECT d.device_id, d.kind, d.name, d.active,
       st.state, st.updated_at AS status_at,
       hb.end_ts AS heartbeat_at, hb.queue_depth, hb.uptime_s,
       sensor.agent_id, sensor.agent_queue_depth, sensor.last_seen AS sensor_last_seen, sensor.errors,
       sensor.faults, counts.last_count_end, counts.all_valid
FROM devices d
LEFT JOIN device_status st ON st.device_id = d.device_id
LEFT JOIN hb ON hb.device_id = d.device_id
LEFT JOIN sensor ON sensor.device_id = d.device_id
LEFT JOIN counts ON counts.device_id = d.device_id
WHERE d.store_id = %(store_id)s
ORDER BY d.kind = 'edge' DESC, d.device_id;
