-- Merchandiser analytics (footfall.api.merch): floor plans, heatmaps, zones, sales,
-- queues, paths and layout changes. Periods come in as UTC bounds [lo, hi).

-- name: floors
SELECT floor_id, name, width_m, height_m, plan_px_per_m, plan_origin_x, plan_origin_y, plan_mime,
       plan_image IS NOT NULL AS has_plan
FROM floors WHERE store_id = %(store_id)s ORDER BY floor_id;

-- name: floor_plan_image
SELECT plan_image, plan_mime, plan_px_per_m, plan_origin_x, plan_origin_y
FROM floors WHERE store_id = %(store_id)s AND floor_id = %(floor_id)s;

-- name: set_floor_plan
UPDATE floors SET plan_image = %(image)s, plan_mime = %(mime)s, plan_px_per_m = %(px_per_m)s,
                  plan_origin_x = %(origin_x)s, plan_origin_y = %(origin_y)s
WHERE store_id = %(store_id)s AND floor_id = %(floor_id)s
RETURNING floor_id;

-- name: zones
SELECT zone_id, floor_id, name, kind, polygon, area_m2, categories, comfort_limit, till_zone
FROM zones WHERE store_id = %(store_id)s ORDER BY zone_id;

-- name: heatmap_totals
-- Each camera's totals per cell over the period: whole UTC days [day_lo, day_hi) from the
-- daily rollup, the hours before and after them from the hourly one.
WITH parts AS (
    SELECT device_id, cell_m, x, y, presence_s, tracks
    FROM heatmap_cells_1d
    WHERE store_id = %(store_id)s AND floor_id = %(floor_id)s AND bucket >= %(day_lo)s AND bucket < %(day_hi)s
    UNION ALL
    -- two index ranges, not one range with the days filtered out (that would read every hour)
    SELECT device_id, cell_m, x, y, presence_s, tracks
    FROM heatmap_cells_1h
    WHERE store_id = %(store_id)s AND floor_id = %(floor_id)s AND bucket >= %(lo)s AND bucket < least(%(day_lo)s, %(hi)s)
    UNION ALL
    SELECT device_id, cell_m, x, y, presence_s, tracks
    FROM heatmap_cells_1h
    WHERE store_id = %(store_id)s AND floor_id = %(floor_id)s AND bucket >= greatest(%(day_hi)s, %(lo)s)
      AND bucket < %(hi)s
)
SELECT device_id, cell_m::double precision AS cell_m, x, y,
       sum(presence_s)::double precision AS presence_s, sum(tracks)::bigint AS tracks
FROM parts
GROUP BY device_id, cell_m, x, y;

-- name: zone_visit_totals
-- Per zone and camera: visits (entries), exits, and dwell percentiles of the visits that ended.
SELECT zone_id, device_id,
       sum(entries)::bigint AS entries,
       sum(exits)::bigint AS exits,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d)
        FROM zone_visits AS v2, unnest(v2.dwell_s) AS d
        WHERE v2.store_id = v.store_id AND v2.zone_id = v.zone_id AND v2.device_id = v.device_id
          AND v2.valid AND v2.start_ts >= %(lo)s AND v2.start_ts < %(hi)s) AS dwell_median_s,
       (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY d)
        FROM zone_visits AS v2, unnest(v2.dwell_s) AS d
        WHERE v2.store_id = v.store_id AND v2.zone_id = v.zone_id AND v2.device_id = v.device_id
          AND v2.valid AND v2.start_ts >= %(lo)s AND v2.start_ts < %(hi)s) AS dwell_p90_s,
       sum(cardinality(dwell_s))::bigint AS dwell_n
FROM zone_visits AS v
WHERE store_id = %(store_id)s AND valid AND start_ts >= %(lo)s AND start_ts < %(hi)s
GROUP BY store_id, zone_id, device_id;

-- name: zone_occupancy_peaks
-- Per zone and camera: the highest occupancy and the minutes above the zone's comfort limit.
SELECT o.zone_id, o.device_id,
       max(coalesce(o.peak, o.occupancy))::integer AS peak,
       count(*) FILTER (WHERE coalesce(o.peak, o.occupancy) > z.comfort_limit)::integer AS minutes_over,
       (array_agg(o.start_ts ORDER BY coalesce(o.peak, o.occupancy) DESC, o.start_ts))[1] AS peak_at
FROM occupancy AS o
JOIN zones AS z ON z.store_id = o.store_id AND z.zone_id = o.zone_id
WHERE o.store_id = %(store_id)s AND o.zone_id <> '' AND o.valid AND o.start_ts >= %(lo)s AND o.start_ts < %(hi)s
GROUP BY o.zone_id, o.device_id;

-- name: store_visitors
SELECT coalesce(sum(c.entries), 0)::bigint AS visitors
FROM door_counts_15m AS c
JOIN doors AS d ON d.store_id = c.store_id AND d.door_id = c.door_id AND d.kind = 'customer'
WHERE c.store_id = %(store_id)s AND c.bucket >= %(lo)s AND c.bucket < %(hi)s;

-- name: visitors_seen_by_cameras
-- Per camera: store visitors (customer-door entries) in the 15-minute slots in which the
-- camera reported valid zone data, so a zone's reach compares like with like when a camera
-- was off, faulty or (in the demo) running only part of the day.
WITH seen AS (
    SELECT DISTINCT device_id, date_bin(INTERVAL '15 minutes', start_ts, TIMESTAMPTZ '2000-01-01 00:00+00') AS bucket
    FROM zone_visits
    WHERE store_id = %(store_id)s AND valid AND start_ts >= %(lo)s AND start_ts < %(hi)s
)
SELECT s.device_id, coalesce(sum(c.entries), 0)::bigint AS visitors
FROM seen AS s
JOIN door_counts_15m AS c ON c.store_id = %(store_id)s AND c.bucket = s.bucket
JOIN doors AS d ON d.store_id = c.store_id AND d.door_id = c.door_id AND d.kind = 'customer'
GROUP BY s.device_id;

-- name: category_sales
-- Net revenue and units per category (voided receipts excluded; return lines are negative).
SELECT coalesce(l.category, '') AS category,
       coalesce(sum(l.amount), 0)::double precision AS revenue,
       coalesce(sum(l.quantity) FILTER (WHERE NOT l.is_return), 0)::double precision AS units,
       count(DISTINCT l.receipt_id) FILTER (WHERE NOT l.is_return)::bigint AS receipts
FROM receipts AS r
JOIN receipt_lines AS l USING (store_id, receipt_id)
WHERE r.store_id = %(store_id)s AND r.ts >= %(lo)s AND r.ts < %(hi)s AND NOT r.voided
GROUP BY 1
ORDER BY 2 DESC, 1;

-- name: product_sales
-- Every product sold in the look-back window [since, hi): its sales in the period [lo, hi),
-- the local days it sold on, and its last sale. A product that sold before the period and
-- not in it is dead stock, with zero units.
SELECT coalesce(l.sku, l.description, '') AS sku,
       (array_agg(l.description ORDER BY r.ts DESC) FILTER (WHERE l.description IS NOT NULL))[1] AS description,
       (array_agg(coalesce(l.category, '') ORDER BY r.ts DESC))[1] AS category,
       coalesce(sum(l.quantity) FILTER (WHERE r.ts >= %(lo)s AND NOT l.is_return), 0)::double precision AS units,
       coalesce(sum(l.amount) FILTER (WHERE r.ts >= %(lo)s), 0)::double precision AS revenue,
       count(DISTINCT (r.ts AT TIME ZONE %(tz)s)::date) FILTER (WHERE r.ts >= %(lo)s AND NOT l.is_return)::integer
           AS sale_days,
       max(r.ts) FILTER (WHERE NOT l.is_return) AS last_sale
FROM receipts AS r
JOIN receipt_lines AS l USING (store_id, receipt_id)
WHERE r.store_id = %(store_id)s AND r.ts >= %(since)s AND r.ts < %(hi)s AND NOT r.voided
GROUP BY 1
ORDER BY 1;

-- name: zone_minutes
-- A zone's minutes: arrivals, departures, dwell of ended visits, people at the end and at the peak.
SELECT v.start_ts, v.end_ts, v.device_id, v.entries, v.exits, v.dwell_s,
       coalesce(v.occupancy, o.occupancy) AS occupancy, coalesce(o.peak, v.occupancy) AS peak
FROM zone_visits AS v
LEFT JOIN occupancy AS o
  ON o.device_id = v.device_id AND o.zone_id = v.zone_id AND o.start_ts = v.start_ts AND o.valid
WHERE v.store_id = %(store_id)s AND v.zone_id = %(zone_id)s AND v.valid
  AND v.start_ts >= %(lo)s AND v.start_ts < %(hi)s
ORDER BY v.start_ts, v.device_id;

-- name: track_polylines
SELECT device_id, start_ts, points
FROM tracks
WHERE store_id = %(store_id)s AND floor_id = %(floor_id)s AND start_ts >= %(lo)s AND start_ts < %(hi)s;

-- name: zone_days
-- Per local day and zone: visits and the dwell of ended visits (all cameras; the owner is chosen in Python).
SELECT (v.start_ts AT TIME ZONE %(tz)s)::date AS day, v.zone_id, v.device_id,
       sum(v.entries)::bigint AS entries,
       coalesce(array_agg(d) FILTER (WHERE d IS NOT NULL), '{}') AS dwell_s
FROM zone_visits AS v
LEFT JOIN LATERAL unnest(v.dwell_s) AS d ON true
WHERE v.store_id = %(store_id)s AND v.valid AND v.start_ts >= %(lo)s AND v.start_ts < %(hi)s
GROUP BY 1, 2, 3;

-- name: visitor_days
SELECT (c.bucket AT TIME ZONE %(tz)s)::date AS day, sum(c.entries)::bigint AS visitors
FROM door_counts_15m AS c
JOIN doors AS d ON d.store_id = c.store_id AND d.door_id = c.door_id AND d.kind = 'customer'
WHERE c.store_id = %(store_id)s AND c.bucket >= %(lo)s AND c.bucket < %(hi)s
GROUP BY 1;

-- name: category_days
SELECT (r.ts AT TIME ZONE %(tz)s)::date AS day, coalesce(l.category, '') AS category,
       sum(l.amount)::double precision AS revenue
FROM receipts AS r
JOIN receipt_lines AS l USING (store_id, receipt_id)
WHERE r.store_id = %(store_id)s AND r.ts >= %(lo)s AND r.ts < %(hi)s AND NOT r.voided
GROUP BY 1, 2;

-- name: insert_layout_change
INSERT INTO layout_changes (store_id, changed_on, zones, note, created_by)
VALUES (%(store_id)s, %(changed_on)s, %(zones)s, %(note)s, %(created_by)s)
RETURNING change_id, store_id, changed_on, zones, note, created_by, created_at;

-- name: list_layout_changes
SELECT change_id, store_id, changed_on, zones, note, created_by, created_at
FROM layout_changes WHERE store_id = %(store_id)s ORDER BY changed_on, change_id;

-- name: get_layout_change
SELECT change_id, store_id, changed_on, zones, note, created_by, created_at
FROM layout_changes WHERE store_id = %(store_id)s AND change_id = %(change_id)s;
