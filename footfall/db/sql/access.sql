-- name: user_by_name
SELECT user_id, username, email, password_hash, role, all_stores, disabled, created_at, token_version
FROM users WHERE username = %(username)s;

-- name: user_by_id
SELECT u.user_id, u.username, u.email, u.role, u.all_stores, u.disabled, u.created_at,
       coalesce(array_agg(s.store_id ORDER BY s.store_id) FILTER (WHERE s.store_id IS NOT NULL), '{}') AS stores
FROM users AS u
LEFT JOIN user_stores AS s USING (user_id)
WHERE u.user_id = %(user_id)s
GROUP BY u.user_id;

-- name: list_users
SELECT u.user_id, u.username, u.email, u.role, u.all_stores, u.disabled, u.created_at,
       coalesce(array_agg(s.store_id ORDER BY s.store_id) FILTER (WHERE s.store_id IS NOT NULL), '{}') AS stores
FROM users AS u
LEFT JOIN user_stores AS s USING (user_id)
GROUP BY u.user_id
ORDER BY u.username
LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_users
SELECT count(*) AS n FROM users;

-- name: insert_user
INSERT INTO users (username, email, password_hash, role, all_stores)
VALUES (%(username)s, %(email)s, %(password_hash)s, %(role)s, %(all_stores)s)
ON CONFLICT (username) DO NOTHING
RETURNING user_id;

-- name: set_user_stores
WITH gone AS (
    DELETE FROM user_stores WHERE user_id = %(user_id)s AND NOT (store_id = ANY(%(stores)s))
)
INSERT INTO user_stores (user_id, store_id)
SELECT %(user_id)s, unnest(%(stores)s::text[])
ON CONFLICT DO NOTHING;

-- name: unknown_stores
SELECT s AS store_id FROM unnest(%(stores)s::text[]) AS s
WHERE NOT EXISTS (SELECT 1 FROM stores WHERE store_id = s);

-- name: update_user
UPDATE users SET
    email = coalesce(%(email)s, email),
    role = coalesce(%(role)s, role),
    all_stores = coalesce(%(all_stores)s, all_stores),
    disabled = coalesce(%(disabled)s, disabled),
    password_hash = coalesce(%(password_hash)s, password_hash)
WHERE user_id = %(user_id)s
RETURNING user_id;

-- name: delete_user
DELETE FROM users WHERE user_id = %(user_id)s RETURNING user_id, username;

-- name: set_password_hash
UPDATE users SET password_hash = %(password_hash)s WHERE user_id = %(user_id)s;

-- name: principal
SELECT u.user_id, u.username, u.role, u.all_stores, u.disabled, u.token_version,
       coalesce(array_agg(s.store_id) FILTER (WHERE s.store_id IS NOT NULL), '{}') AS stores
FROM users AS u
LEFT JOIN user_stores AS s USING (user_id)
WHERE u.user_id = %(user_id)s
GROUP BY u.user_id;

-- name: api_key_by_prefix
SELECT key_id, user_id, key_hash, revoked_at FROM api_keys WHERE prefix = %(prefix)s;

-- name: touch_api_key
UPDATE api_keys SET last_used_at = now()
WHERE key_id = %(key_id)s AND (last_used_at IS NULL OR last_used_at < now() - INTERVAL '1 minute');

-- name: insert_api_key
INSERT INTO api_keys (user_id, name, prefix, key_hash)
VALUES (%(user_id)s, %(name)s, %(prefix)s, %(key_hash)s)
RETURNING key_id, name, prefix, created_at, last_used_at, revoked_at;

-- name: list_api_keys
SELECT key_id, name, prefix, created_at, last_used_at, revoked_at
FROM api_keys WHERE user_id = %(user_id)s ORDER BY key_id;

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE key_id = %(key_id)s AND user_id = %(user_id)s
RETURNING key_id, prefix;

-- name: bump_token_version
-- Tokens issued before this stop working (password, role, scope or state changed).
UPDATE users SET token_version = token_version + 1 WHERE user_id = %(user_id)s;

-- name: revoke_user_api_keys
UPDATE api_keys SET revoked_at = now()
WHERE user_id = %(user_id)s AND revoked_at IS NULL
RETURNING key_id, prefix;
