-- name: door_traffic_buckets
-- Customer-door traffic per bucket. Buckets come from the store calendar (DST-safe) as
-- two arrays of UTC edges; the 15-minute rollup fits every time zone's hour and day.
SELECT b.start_ts,
       b.end_ts,
       coalesce(sum(r.entries), 0)::bigint AS entries,
       coalesce(sum(r.exits), 0)::bigint AS exits,
       sum(r.passersby)::bigint AS passersby,
       coalesce(sum(r.valid_s), 0)::double precision AS valid_s,
       coalesce(sum(r.invalid_s), 0)::double precision AS invalid_s
FROM unnest(%(starts)s::timestamptz[], %(ends)s::timestamptz[]) AS b(start_ts, end_ts)
LEFT JOIN door_counts_15m AS r
       ON r.store_id = %(store_id)s
      AND r.bucket >= b.start_ts AND r.bucket < b.end_ts
      AND r.door_id IN (SELECT door_id FROM doors WHERE store_id = %(store_id)s AND kind = 'customer')
GROUP BY b.start_ts, b.end_ts
ORDER BY b.start_ts;

-- name: store_timezone
SELECT timezone FROM stores WHERE store_id = %(store_id)s;
