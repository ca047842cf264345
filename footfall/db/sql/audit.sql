-- The audit log (footfall.db.audit).

-- name: insert_entry
INSERT INTO audit_log (actor_id, actor, action, target, client, detail)
VALUES (%(actor_id)s, %(actor)s, %(action)s, %(target)s, %(client)s, %(detail)s)
RETURNING audit_id;

-- name: list_entries
SELECT audit_id, at, actor_id, actor, action, target, client, detail
FROM audit_log
WHERE (%(action)s::text IS NULL OR action = %(action)s)
  AND (%(actor)s::text IS NULL OR actor = %(actor)s)
  AND (%(target)s::text IS NULL OR target = %(target)s)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
ORDER BY audit_id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_entries
SELECT count(*) AS n
FROM audit_log
WHERE (%(action)s::text IS NULL OR action = %(action)s)
  AND (%(actor)s::text IS NULL OR actor = %(actor)s)
  AND (%(target)s::text IS NULL OR target = %(target)s)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s);
