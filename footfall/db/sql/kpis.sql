-- KPI queries of footfall.api.kpis. Buckets come from the store calendar (DST-safe) as
-- arrays of UTC edges; rollups are chosen by the caller (`{doors}`, `{receipts}`): the
-- hourly ones when every edge is on a whole UTC hour, the 15-minute ones otherwise.
--
-- Door rollups are read through `{fresh_doors}` (the `fresh_doors` block below): on
-- TimescaleDB a continuous aggregate shows old sums for buckets a late write invalidated
-- until a refresh re-materialises them, so those buckets are summed from the raw rows
-- in the same statement (one snapshot: the rows and the invalidation logs agree).

-- name: store_info
SELECT s.store_id, s.name, s.timezone, s.sales_area_m2::double precision AS sales_area_m2, s.currency,
       s.opening_hours,
       coalesce(array_agg(d.door_id ORDER BY d.door_id) FILTER (WHERE d.kind = 'customer'), '{}')
           AS customer_doors,
       coalesce(array_agg(d.door_id ORDER BY d.door_id) FILTER (WHERE d.kind = 'customer' AND d.outward_counter),
                '{}') AS outward_doors,
       EXISTS (SELECT 1 FROM staff_shifts AS f WHERE f.store_id = s.store_id) AS has_shifts,
       EXISTS (SELECT 1 FROM zones AS z WHERE z.store_id = s.store_id AND cardinality(z.categories) > 0)
           AS has_zone_categories
FROM stores AS s
LEFT JOIN doors AS d USING (store_id)
WHERE s.store_id = ANY(%(store_ids)s)
GROUP BY s.store_id
ORDER BY s.store_id;

-- name: all_store_ids
SELECT store_id FROM stores ORDER BY store_id;

-- name: fresh_doors
-- Two common table expressions for the queries that read a door rollup, for one store
-- and `[lo, hi)`: `stale` — whole buckets of `width_iv` the rollup `rollup` does not hold
-- right yet (migration 0016: TimescaleDB's pending invalidations; none on the plain
-- path) — and `fresh_doors`: the rollup's rows outside them, plus the same sums from the
-- raw door counts inside them (the columns and sums of the rollup's definition).
stale AS (
    SELECT w FROM footfall_stale_windows(%(rollup)s::regclass, %(width_iv)s::interval, %(lo)s, %(hi)s) AS w
),
fresh_doors AS (
    SELECT c.store_id, c.door_id, c.bucket, c.entries, c.exits, c.passersby, c.valid_s, c.invalid_s
    FROM {doors} AS c
    WHERE c.store_id = %(store_id)s AND c.bucket >= %(lo)s AND c.bucket < %(hi)s
      AND NOT EXISTS (SELECT 1 FROM stale AS s WHERE s.w @> c.bucket)
    UNION ALL
    SELECT d.store_id, d.door_id,
           date_bin(%(width_iv)s::interval, d.start_ts, TIMESTAMPTZ '2000-01-01 00:00+00') AS bucket,
           coalesce(sum(d.entries) FILTER (WHERE d.valid), 0)::bigint,
           coalesce(sum(d.exits) FILTER (WHERE d.valid), 0)::bigint,
           sum(d.passersby) FILTER (WHERE d.valid)::bigint,
           coalesce(sum(extract(epoch FROM d.end_ts - d.start_ts)) FILTER (WHERE d.valid), 0)::double precision,
           coalesce(sum(extract(epoch FROM d.end_ts - d.start_ts)) FILTER (WHERE NOT d.valid), 0)::double precision
    FROM stale AS s
    JOIN door_counts AS d ON d.start_ts >= lower(s.w) AND d.start_ts < upper(s.w)
    WHERE d.store_id = %(store_id)s AND d.start_ts >= %(lo)s AND d.start_ts < %(hi)s
    GROUP BY 1, 2, 3
)

-- name: bucket_totals
-- One row per bucket that has any data; `i` is the bucket's 1-based position in
-- `starts`. A rollup slot is "open" when it starts inside one of the store's opening
-- intervals (`open_edges` = [open₁, close₁, open₂, close₂, …], so an odd position is
-- inside). Seconds per door and slot are capped at the slot width, so two devices
-- covering one door cannot make coverage exceed 100 percent.
WITH {fresh_doors},
door_slots AS (
    SELECT r.bucket,
           sum(r.entries) AS entries,
           sum(r.exits) AS exits,
           sum(r.passersby) AS passersby,
           coalesce(sum(r.entries) FILTER (WHERE r.door_id = ANY(%(outward)s)), 0) AS outward_entries,
           sum(least(r.valid_s, %(width)s)) AS valid_s,
           sum(least(r.invalid_s, %(width)s)) AS invalid_s
    FROM fresh_doors AS r
    WHERE r.store_id = %(store_id)s
      AND r.door_id = ANY(%(doors)s)
      AND r.bucket >= %(lo)s AND r.bucket < %(hi)s
    GROUP BY r.bucket
),
sale_slots AS (
    SELECT bucket, transactions, refunds, voids, revenue, items, loyalty_transactions
    FROM {receipts}
    WHERE store_id = %(store_id)s AND bucket >= %(lo)s AND bucket < %(hi)s
),
slots AS (
    SELECT coalesce(d.bucket, s.bucket) AS bucket,
           coalesce(d.entries, 0) AS entries,
           coalesce(d.exits, 0) AS exits,
           d.passersby,
           coalesce(d.outward_entries, 0) AS outward_entries,
           coalesce(d.valid_s, 0) AS valid_s,
           coalesce(d.invalid_s, 0) AS invalid_s,
           coalesce(s.transactions, 0) AS transactions,
           coalesce(s.refunds, 0) AS refunds,
           coalesce(s.voids, 0) AS voids,
           coalesce(s.revenue, 0) AS revenue,
           coalesce(s.items, 0) AS items,
           coalesce(s.loyalty_transactions, 0) AS loyalty_transactions
    FROM door_slots AS d
    FULL JOIN sale_slots AS s ON s.bucket = d.bucket
),
marked AS (
    SELECT slots.*, width_bucket(bucket, %(open_edges)s::timestamptz[]) %% 2 = 1 AS open
    FROM slots
)
SELECT width_bucket(bucket, %(starts)s::timestamptz[]) AS i,
       sum(entries)::bigint AS entries,
       sum(exits)::bigint AS exits,
       sum(passersby)::bigint AS passersby,
       sum(outward_entries)::bigint AS outward_entries,
       sum(transactions)::bigint AS transactions,
       sum(refunds)::bigint AS refunds,
       sum(voids)::bigint AS voids,
       sum(revenue) AS revenue,
       sum(items) AS items,
       sum(loyalty_transactions)::bigint AS loyalty_transactions,
       coalesce(sum(valid_s) FILTER (WHERE open), 0)::double precision AS valid_s,
       coalesce(sum(invalid_s) FILTER (WHERE open), 0)::double precision AS invalid_s,
       count(*) FILTER (WHERE open AND entries >= %(gap_entries)s AND transactions + refunds + voids = 0)
           AS pos_gap_slots
FROM marked
GROUP BY 1
ORDER BY 1;

-- name: staff_hours
-- Staff-hours on duty in each bucket (shifts are at most a day long, which bounds the scan).
SELECT b.i,
       sum(extract(epoch FROM least(f.ends_at, b.end_ts) - greatest(f.starts_at, b.start_ts))) / 3600.0
           AS staff_hours
FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY AS b(start_ts, end_ts, i)
JOIN staff_shifts AS f
  ON f.store_id = %(store_id)s
 AND f.starts_at < b.end_ts AND f.ends_at > b.start_ts
 AND f.starts_at >= b.start_ts - INTERVAL '1 day'
GROUP BY b.i
ORDER BY b.i;

-- name: traffic_by_local_hour
-- Customer-door entries by the store's local hour of day over a period.
WITH {fresh_doors}
SELECT extract(hour FROM r.bucket AT TIME ZONE %(tz)s)::int AS hour,
       sum(r.entries)::bigint AS entries,
       sum(r.exits)::bigint AS exits
FROM fresh_doors AS r
WHERE r.store_id = %(store_id)s
  AND r.door_id = ANY(%(doors)s)
  AND r.bucket >= %(lo)s AND r.bucket < %(hi)s
GROUP BY 1
ORDER BY 1;

-- name: receipts_by_local_hour
SELECT extract(hour FROM r.bucket AT TIME ZONE %(tz)s)::int AS hour,
       sum(r.transactions)::bigint AS transactions,
       sum(r.revenue) AS revenue
FROM {receipts} AS r
WHERE r.store_id = %(store_id)s AND r.bucket >= %(lo)s AND r.bucket < %(hi)s
GROUP BY 1
ORDER BY 1;

-- name: latest_occupancy
-- The newest whole-store occupancy a device measured (cameras, stereo counters).
SELECT end_ts, occupancy
FROM occupancy
WHERE store_id = %(store_id)s AND zone_id = '' AND valid AND start_ts >= %(lo)s AND start_ts < %(hi)s
ORDER BY start_ts DESC
LIMIT 1;

-- name: sensor_faults
-- Sensors that reported faults in heartbeats during a period.
SELECT sensor ->> 'sensor_id' AS sensor_id,
       array_agg(DISTINCT fault ORDER BY fault) AS faults,
       count(DISTINCT h.start_ts) AS heartbeats
FROM heartbeats AS h
CROSS JOIN LATERAL jsonb_array_elements(coalesce(h.payload -> 'sensors', '[]'::jsonb)) AS sensor
CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(sensor -> 'faults', '[]'::jsonb)) AS fault
WHERE h.store_id = %(store_id)s AND h.start_ts >= %(lo)s AND h.start_ts < %(hi)s
GROUP BY 1
ORDER BY 1;

-- name: category_revenue
-- Net revenue and units per product category (voided receipts excluded; return lines
-- carry negative amounts).
SELECT coalesce(l.category, '') AS category,
       coalesce(sum(l.amount), 0) AS revenue,
       coalesce(sum(l.quantity) FILTER (WHERE NOT l.is_return), 0) AS items
FROM receipts AS r
JOIN receipt_lines AS l USING (store_id, receipt_id)
WHERE r.store_id = %(store_id)s AND r.ts >= %(lo)s AND r.ts < %(hi)s AND NOT r.voided
GROUP BY 1;

-- name: store_zones
SELECT zone_id, name, area_m2, categories FROM zones WHERE store_id = %(store_id)s ORDER BY zone_id;
