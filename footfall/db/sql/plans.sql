-- Plans (monthly targets) and staff shifts.

-- name: list_plans
SELECT store_id, month, revenue_target, traffic_target, conversion_target, updated_at
FROM plans WHERE store_id = %(store_id)s ORDER BY month;

-- name: get_plan
SELECT store_id, month, revenue_target, traffic_target, conversion_target, updated_at
FROM plans WHERE store_id = %(store_id)s AND month = %(month)s;

-- name: upsert_plan
INSERT INTO plans (store_id, month, revenue_target, traffic_target, conversion_target)
VALUES (%(store_id)s, %(month)s, %(revenue_target)s, %(traffic_target)s, %(conversion_target)s)
ON CONFLICT (store_id, month) DO UPDATE SET
    revenue_target = excluded.revenue_target,
    traffic_target = excluded.traffic_target,
    conversion_target = excluded.conversion_target,
    updated_at = now()
RETURNING store_id, month, revenue_target, traffic_target, conversion_target, updated_at;

-- name: delete_plan
DELETE FROM plans WHERE store_id = %(store_id)s AND month = %(month)s RETURNING month;

-- name: upsert_shift
INSERT INTO staff_shifts (store_id, shift_id, starts_at, ends_at, role)
VALUES (%(store_id)s, %(shift_id)s, %(starts_at)s, %(ends_at)s, %(role)s)
ON CONFLICT (store_id, shift_id) DO UPDATE SET
    starts_at = excluded.starts_at, ends_at = excluded.ends_at, role = excluded.role;

-- name: list_shifts
SELECT store_id, shift_id, starts_at, ends_at, role
FROM staff_shifts
WHERE store_id = %(store_id)s AND starts_at < %(hi)s AND ends_at > %(lo)s
  AND starts_at >= %(lo)s - INTERVAL '1 day'
ORDER BY starts_at, shift_id;

-- name: delete_shift
DELETE FROM staff_shifts WHERE store_id = %(store_id)s AND shift_id = %(shift_id)s RETURNING shift_id;
