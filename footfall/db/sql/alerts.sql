-- Alerts: rules, states, events, subscriptions, outbox, audit (footfall.db.alerts and
-- footfall.alerts). Scope is always checked in SQL against users / user_stores, so a
-- subscriber never receives anything about a store outside their scope.

-- name: insert_rule
INSERT INTO alert_rules (name, spec, store_id, owner_id, source_key, enabled)
VALUES (%(name)s, %(spec)s, %(store_id)s, %(owner_id)s, %(source_key)s, %(enabled)s)
RETURNING *;

-- name: upsert_store_rule
INSERT INTO alert_rules (name, spec, store_id, owner_id, source_key, enabled)
VALUES (%(name)s, %(spec)s, %(store_id)s, NULL, %(source_key)s, %(enabled)s)
ON CONFLICT (source_key) DO UPDATE SET
    name = excluded.name, spec = excluded.spec, store_id = excluded.store_id, enabled = excluded.enabled,
    updated_at = now()
WHERE (alert_rules.name, alert_rules.spec, alert_rules.store_id, alert_rules.enabled)
      IS DISTINCT FROM (excluded.name, excluded.spec, excluded.store_id, excluded.enabled)
RETURNING rule_id, (xmax = 0) AS created;

-- name: prune_store_rules
DELETE FROM alert_rules
WHERE store_id = %(store_id)s AND source_key LIKE %(prefix)s AND NOT (source_key = ANY(%(keep)s))
RETURNING rule_id;

-- name: update_rule
UPDATE alert_rules
SET name = %(name)s, spec = %(spec)s, store_id = %(store_id)s, enabled = %(enabled)s, updated_at = now()
WHERE rule_id = %(rule_id)s
RETURNING *;

-- name: delete_rule
DELETE FROM alert_rules WHERE rule_id = %(rule_id)s RETURNING rule_id, store_id;

-- name: rule_by_id
SELECT * FROM alert_rules WHERE rule_id = %(rule_id)s;

-- name: list_rules
-- Rules the caller may see: of a store in scope, or store-less rules they own (admins see all).
SELECT r.*
FROM alert_rules AS r
WHERE %(admin)s
   OR (r.store_id IS NULL AND r.owner_id = %(user_id)s)
   OR (r.store_id IS NOT NULL AND (%(all_stores)s OR r.store_id = ANY(%(stores)s)))
ORDER BY r.rule_id
LIMIT %(limit)s OFFSET %(offset)s;

-- name: set_mute
UPDATE alert_rules SET muted_until = %(until)s, updated_at = now() WHERE rule_id = %(rule_id)s RETURNING *;

-- name: rule_targets
-- Every enabled rule with the stores it covers: its own store, or every store in its
-- owner's scope.
SELECT r.rule_id, r.spec, r.muted_until, s.store_id
FROM alert_rules AS r
LEFT JOIN users AS u ON u.user_id = r.owner_id
JOIN stores AS s
  ON s.store_id = r.store_id
  OR (r.store_id IS NULL AND u.user_id IS NOT NULL AND NOT u.disabled
      AND (u.role = 'admin' OR u.all_stores
           OR EXISTS (SELECT 1 FROM user_stores AS us WHERE us.user_id = u.user_id AND us.store_id = s.store_id)))
WHERE r.enabled
ORDER BY s.store_id, r.rule_id;

-- name: store_queue_zones
SELECT store_id, zone_id, till_zone FROM zones WHERE kind = 'queue' AND store_id = ANY(%(store_ids)s) ORDER BY zone_id;

-- name: store_devices
SELECT device_id, store_id, kind FROM devices WHERE active AND store_id = ANY(%(store_ids)s) ORDER BY device_id;

-- name: device_last_seen
-- The newest sign of life of each device since `lo`: the end of its newest reading (counts,
-- occupancy or heartbeat), or when its edge agent last heard from it (`last_seen` of the sensor in
-- the agent's heartbeats, as on the devices page) — a counter polled at night with nothing to
-- count is alive, one the agent has not heard from is not.
SELECT d.device_id,
       greatest(
           (SELECT max(end_ts) FROM door_counts AS c WHERE c.device_id = d.device_id AND c.start_ts >= %(lo)s),
           (SELECT max(end_ts) FROM occupancy AS o WHERE o.device_id = d.device_id AND o.start_ts >= %(lo)s),
           (SELECT max(end_ts) FROM heartbeats AS h WHERE h.device_id = d.device_id AND h.start_ts >= %(lo)s),
           (SELECT max((sensor ->> 'last_seen')::timestamptz)
            FROM devices AS dev
            JOIN heartbeats AS h ON h.store_id = dev.store_id AND h.start_ts >= %(lo)s
            CROSS JOIN LATERAL jsonb_array_elements(coalesce(h.payload -> 'sensors', '[]'::jsonb)) AS sensor
            WHERE dev.device_id = d.device_id AND sensor ->> 'sensor_id' = d.device_id)
       ) AS last_end
FROM unnest(%(device_ids)s::text[]) AS d(device_id);

-- name: device_faults
-- Heartbeats in `[lo, hi)` in which a sensor reported a fault, per sensor id.
SELECT sensor ->> 'sensor_id' AS device_id, count(DISTINCT h.start_ts) AS faulty
FROM heartbeats AS h
CROSS JOIN LATERAL jsonb_array_elements(coalesce(h.payload -> 'sensors', '[]'::jsonb)) AS sensor
WHERE h.store_id = %(store_id)s AND h.start_ts >= %(lo)s AND h.start_ts < %(hi)s
  AND jsonb_array_length(coalesce(sensor -> 'faults', '[]'::jsonb)) > 0
GROUP BY 1;

-- name: zone_occupancy
-- The newest occupancy of a zone measured in `[lo, hi)`.
SELECT occupancy FROM occupancy
WHERE store_id = %(store_id)s AND zone_id = %(zone_id)s AND valid AND start_ts >= %(lo)s AND start_ts < %(hi)s
ORDER BY start_ts DESC
LIMIT 1;

-- name: ensure_state
INSERT INTO alert_states (rule_id, store_id, subject) VALUES (%(rule_id)s, %(store_id)s, %(subject)s)
ON CONFLICT (rule_id, store_id, subject) DO NOTHING;

-- name: drop_unjudged_state
-- A placeholder state that was never judged (a store-wide queue rule while its store had no
-- queue zone): no transition, so no event or message goes with it.
DELETE FROM alert_states WHERE state_id = %(state_id)s AND seq = 0 AND fired_at IS NULL;

-- name: lock_state
-- One replica at a time per rule × scope; the others skip it this cycle.
SELECT * FROM alert_states
WHERE rule_id = %(rule_id)s AND store_id = %(store_id)s AND subject = %(subject)s
FOR UPDATE SKIP LOCKED;

-- name: lock_state_by_id
SELECT * FROM alert_states WHERE state_id = %(state_id)s FOR UPDATE;

-- name: save_state
UPDATE alert_states
SET state = %(state)s, since = %(since)s, breach_since = %(breach_since)s, fired_at = %(fired_at)s,
    resolved_at = %(resolved_at)s, acked_at = %(acked_at)s, acked_by = coalesce(%(acked_by)s, acked_by),
    escalated_at = %(escalated_at)s, seq = %(seq)s, value = %(value)s, border = %(border)s,
    evaluated_at = %(evaluated_at)s, note = %(note)s
WHERE state_id = %(state_id)s;

-- name: insert_event
INSERT INTO alert_events (state_id, rule_id, store_id, subject, seq, kind, at, payload)
VALUES (%(state_id)s, %(rule_id)s, %(store_id)s, %(subject)s, %(seq)s, %(kind)s, %(at)s, %(payload)s)
ON CONFLICT (state_id, seq) DO NOTHING
RETURNING event_id;

-- name: recipients
-- Subscriptions that get an event: matching rule and store, the right level, an enabled
-- user who has the store in scope.
SELECT sub.subscription_id, sub.channel, sub.target, sub.level, u.user_id
FROM alert_subscriptions AS sub
JOIN users AS u USING (user_id)
WHERE NOT u.disabled
  AND (sub.rule_id IS NULL OR sub.rule_id = %(rule_id)s)
  AND (sub.store_id IS NULL OR sub.store_id = %(store_id)s)
  AND sub.level = ANY(%(levels)s)
  AND (u.role = 'admin' OR u.all_stores
       OR EXISTS (SELECT 1 FROM user_stores AS us WHERE us.user_id = u.user_id AND us.store_id = %(store_id)s))
ORDER BY sub.subscription_id;

-- name: enqueue
INSERT INTO alert_outbox (event_id, digest_key, subscription_id, channel, target, payload, next_attempt_at)
VALUES (%(event_id)s, %(digest_key)s, %(subscription_id)s, %(channel)s, %(target)s, %(payload)s,
        coalesce(%(not_before)s, now()))
ON CONFLICT (event_id, digest_key, subscription_id, channel) DO NOTHING
RETURNING message_id;

-- name: claim_due
-- Due messages, locked for this worker until its transaction ends (other workers skip them).
SELECT o.*, s.secret
FROM alert_outbox AS o
LEFT JOIN alert_subscriptions AS s USING (subscription_id)
WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= now()
ORDER BY o.message_id
LIMIT %(limit)s
FOR UPDATE OF o SKIP LOCKED;

-- name: mark_delivered
UPDATE alert_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL
WHERE message_id = %(message_id)s;

-- name: mark_retry
UPDATE alert_outbox
SET attempts = attempts + 1, last_error = %(error)s,
    next_attempt_at = now() + make_interval(secs => %(delay_s)s),
    failed_at = CASE WHEN attempts + 1 >= %(max_attempts)s THEN now() END
WHERE message_id = %(message_id)s
RETURNING attempts, failed_at;

-- name: store_alert_snapshot
-- The current state of every rule × scope of a store (the retained MQTT message).
SELECT st.state_id, st.rule_id, r.name, st.subject, st.state, st.since, st.value, st.border, st.fired_at,
       st.acked_at, st.note, r.spec ->> 'metric' AS metric, r.spec ->> 'severity' AS severity
FROM alert_states AS st
JOIN alert_rules AS r USING (rule_id)
WHERE st.store_id = %(store_id)s
ORDER BY st.rule_id, st.subject;

-- name: list_states
SELECT st.*, r.name, r.spec ->> 'metric' AS metric, r.spec ->> 'severity' AS severity
FROM alert_states AS st
JOIN alert_rules AS r USING (rule_id)
WHERE (%(all_stores)s OR st.store_id = ANY(%(stores)s))
  AND (%(state)s::text IS NULL OR st.state = %(state)s)
ORDER BY st.state_id
LIMIT %(limit)s OFFSET %(offset)s;

-- name: state_by_id
SELECT st.*, r.name, r.spec, r.spec ->> 'metric' AS metric, r.spec ->> 'severity' AS severity
FROM alert_states AS st
JOIN alert_rules AS r USING (rule_id)
WHERE st.state_id = %(state_id)s;

-- name: events_after
-- Events of stores in scope after an id (the Server-Sent Events stream).
SELECT event_id, kind, store_id, rule_id, subject, at, payload
FROM alert_events
WHERE event_id > %(after)s AND (%(all_stores)s OR store_id = ANY(%(stores)s))
ORDER BY event_id
LIMIT %(limit)s;

-- name: list_audit
-- The alert entries of the shared audit log (footfall.db.audit) in the shape of
-- GET /v1/alert-audit: stores in scope, and store-less rules for everyone who reads alerts.
SELECT a.audit_id, a.at, a.actor_id AS user_id, a.actor AS username, substr(a.action, 7) AS action,
       coalesce(a.detail ->> 'via', 'api') AS via, (a.detail ->> 'rule_id')::bigint AS rule_id,
       (a.detail ->> 'state_id')::bigint AS state_id,
       a.detail - 'via' - 'rule_id' - 'state_id' - 'store_id' AS detail
FROM audit_log AS a
WHERE a.action LIKE 'alert\_%%'
  AND (%(admin)s OR %(all_stores)s OR a.detail ->> 'store_id' IS NULL OR a.detail ->> 'store_id' = ANY(%(stores)s))
ORDER BY a.audit_id DESC
LIMIT %(limit)s;

-- name: insert_subscription
INSERT INTO alert_subscriptions (user_id, rule_id, store_id, channel, target, secret, level, digest)
VALUES (%(user_id)s, %(rule_id)s, %(store_id)s, %(channel)s, %(target)s, %(secret)s, %(level)s, %(digest)s)
RETURNING *;

-- name: list_subscriptions
SELECT * FROM alert_subscriptions WHERE %(admin)s OR user_id = %(user_id)s ORDER BY subscription_id;

-- name: delete_subscription
DELETE FROM alert_subscriptions WHERE subscription_id = %(subscription_id)s AND (%(admin)s OR user_id = %(user_id)s)
RETURNING subscription_id;

-- name: user_scope
SELECT u.user_id, u.username, u.role, u.all_stores, u.disabled,
       coalesce(array_agg(us.store_id) FILTER (WHERE us.store_id IS NOT NULL), '{}') AS stores
FROM users AS u
LEFT JOIN user_stores AS us USING (user_id)
WHERE u.user_id = %(user_id)s
GROUP BY u.user_id;

-- name: day_events
-- The firing events of a store in `[lo, hi)` (digests).
SELECT e.event_id, e.kind, e.subject, e.at, e.payload, r.name
FROM alert_events AS e
JOIN alert_rules AS r USING (rule_id)
WHERE e.store_id = %(store_id)s AND e.at >= %(lo)s AND e.at < %(hi)s AND e.kind = 'firing'
ORDER BY e.at;

-- name: digest_recipients
SELECT sub.subscription_id, sub.channel, sub.target, sub.digest, u.user_id, u.username
FROM alert_subscriptions AS sub
JOIN users AS u USING (user_id)
WHERE NOT u.disabled
  AND sub.channel IN ('email', 'telegram')
  AND sub.digest <> 'none'
  AND (sub.store_id IS NULL OR sub.store_id = %(store_id)s)
  AND (u.role = 'admin' OR u.all_stores
       OR EXISTS (SELECT 1 FROM user_stores AS us WHERE us.user_id = u.user_id AND us.store_id = %(store_id)s))
ORDER BY sub.subscription_id;

-- name: scope_exists
-- Whether a rule's store and its zone, door or device exist.
SELECT EXISTS (SELECT 1 FROM stores WHERE store_id = %(store_id)s) AS store_ok,
       (%(zone)s::text IS NULL OR EXISTS (SELECT 1 FROM zones WHERE store_id = %(store_id)s AND zone_id = %(zone)s))
           AS zone_ok,
       (%(door)s::text IS NULL OR EXISTS (SELECT 1 FROM doors WHERE store_id = %(store_id)s AND door_id = %(door)s))
           AS door_ok,
       (%(device)s::text IS NULL
        OR EXISTS (SELECT 1 FROM devices WHERE store_id = %(store_id)s AND device_id = %(device)s)) AS device_ok,
       (%(zone)s::text IS NULL
        OR EXISTS (SELECT 1 FROM zones WHERE store_id = %(store_id)s AND kind = 'queue'
                   AND %(zone)s IN (zone_id, till_zone))) AS queue_ok;

-- name: read_states
-- Every state row, unlocked: the engine's fast path (a state that would not change is not locked).
SELECT * FROM alert_states;

-- name: save_readings
-- The latest value, border and note of states that did not change, in one statement per
-- cycle (a reading not judged keeps the last value and border, and says why in `note`).
UPDATE alert_states AS s
SET value = coalesce(v.value, s.value), border = coalesce(v.border, s.border), note = v.note,
    evaluated_at = %(now)s
FROM unnest(%(state_ids)s::bigint[], %(values)s::double precision[], %(borders)s::double precision[],
            %(notes)s::text[])
     AS v(state_id, value, border, note)
WHERE s.state_id = v.state_id AND (s.evaluated_at IS NULL OR s.evaluated_at < %(now)s);

-- name: outbox_depth
-- Messages waiting for delivery (due or backing off) per channel, and the age of the oldest
-- (the delivery worker's metrics); the partial index alert_outbox_due_idx covers the rows.
SELECT channel, count(*) AS waiting, extract(epoch FROM now() - min(created_at))::float8 AS oldest_s
FROM alert_outbox
WHERE delivered_at IS NULL AND failed_at IS NULL
GROUP BY channel;
