-- Queries of the forecasting service (footfall.api.forecasts): history for training and
-- anomaly detection, and the trained-model table. Slots are `date_bin`ned from the
-- 15-minute rollups with an origin on a local midnight, so hourly slots follow the
-- store's wall clock even where its offset is not a whole number of hours.

-- name: door_history
-- Entries per slot over the given doors (customer doors for the store total). Where two
-- devices cover one door (a counter and a camera line) the rollup holds both, so each
-- door's counts are divided by the devices reporting (its valid seconds over the slot
-- width, rounded); a door with under half a slot of valid readings is left out, and a
-- slot where no door is left is a gap. The 15-minute rollup is read through the KPI
-- queries' fresh_doors block (kpis.sql): right as soon as late rows are committed.
WITH {fresh_doors},
per_door AS (
    SELECT date_bin(%(width)s::interval, r.bucket, %(origin)s) AS slot, r.door_id,
           sum(r.entries)::double precision AS entries,
           sum(r.exits)::double precision AS exits,
           sum(r.valid_s) AS valid_s
    FROM fresh_doors AS r
    WHERE r.store_id = %(store_id)s
      AND r.door_id = ANY(%(doors)s)
      AND r.bucket >= %(lo)s AND r.bucket < %(hi)s
    GROUP BY 1, 2
    HAVING sum(r.valid_s) >= 0.5 * extract(epoch FROM %(width)s::interval)
)
SELECT slot,
       sum(entries / greatest(1, round(valid_s / extract(epoch FROM %(width)s::interval)))) AS entries,
       sum(exits / greatest(1, round(valid_s / extract(epoch FROM %(width)s::interval)))) AS exits,
       sum(valid_s) AS valid_s
FROM per_door
GROUP BY 1
ORDER BY 1;

-- name: receipt_history
SELECT date_bin(%(width)s::interval, r.bucket, %(origin)s) AS slot,
       sum(r.transactions)::double precision AS transactions,
       sum(r.revenue)::double precision AS revenue
FROM receipts_15m AS r
WHERE r.store_id = %(store_id)s AND r.bucket >= %(lo)s AND r.bucket < %(hi)s
GROUP BY 1
ORDER BY 1;

-- name: receipt_span
SELECT min(bucket) AS first, max(bucket) AS last FROM receipts_15m WHERE store_id = %(store_id)s;

-- name: device_counts
-- Per device and door, entries and exits per 15 minutes (valid readings; a blocked
-- sensor's readings are marked invalid by the edge and show up as gaps).
SELECT c.device_id, c.door_id, d.kind AS device_kind,
       date_bin(INTERVAL '15 minutes', c.start_ts, TIMESTAMPTZ '2000-01-01 00:00+00') AS slot,
       sum(c.entries) FILTER (WHERE c.valid)::double precision AS entries,
       sum(c.exits) FILTER (WHERE c.valid)::double precision AS exits
FROM door_counts AS c
LEFT JOIN devices AS d USING (device_id)
WHERE c.store_id = %(store_id)s AND c.start_ts >= %(lo)s AND c.start_ts < %(hi)s
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 4;

-- name: next_model_version
SELECT coalesce(max(version), 0) + 1 AS version
FROM trained_models WHERE store_id = %(store_id)s AND metric = %(metric)s;

-- name: insert_model
INSERT INTO trained_models (store_id, metric, version, slot_minutes, method, train_start, train_end,
                            features, backtest, details, library, model)
VALUES (%(store_id)s, %(metric)s, %(version)s, %(slot_minutes)s, %(method)s, %(train_start)s, %(train_end)s,
        %(features)s, %(backtest)s, %(details)s, %(library)s, %(model)s)
RETURNING model_id, trained_at;

-- name: prune_models
-- Keep the newest `keep` versions of each of a store's models.
DELETE FROM trained_models AS t
WHERE t.store_id = %(store_id)s
  AND t.version <= (SELECT max(version) - %(keep)s FROM trained_models AS u
                    WHERE u.store_id = t.store_id AND u.metric = t.metric);

-- name: latest_models
SELECT DISTINCT ON (metric) model_id, store_id, metric, version, slot_minutes, method, trained_at, train_start,
       train_end, features, backtest, details, library, model
FROM trained_models
WHERE store_id = %(store_id)s
ORDER BY metric, version DESC;

-- name: latest_model_keys
-- The newest model per metric without its bytes (the alerts engine fetches those only when
-- its cache misses: `model_bytes`).
SELECT DISTINCT ON (metric) model_id, store_id, metric, version, trained_at
FROM trained_models
WHERE store_id = %(store_id)s
ORDER BY metric, version DESC;

-- name: model_bytes
SELECT model FROM trained_models WHERE model_id = %(model_id)s;

-- name: list_models
SELECT model_id, store_id, metric, version, slot_minutes, method, trained_at, train_start, train_end, features,
       backtest, details, library
FROM trained_models
WHERE store_id = ANY(%(store_ids)s)
ORDER BY store_id, metric, version DESC;

-- name: stale_stores
-- Stores whose newest model is older than `older_than`, or that have none.
SELECT s.store_id
FROM stores AS s
LEFT JOIN LATERAL (SELECT max(trained_at) AS at FROM trained_models AS t WHERE t.store_id = s.store_id) AS m ON true
WHERE m.at IS NULL OR m.at < %(older_than)s
ORDER BY s.store_id;
