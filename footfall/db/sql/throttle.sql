-- Log-in throttling (footfall.api.throttle).

-- name: lock_key
-- The key's row, made if missing, locked until the transaction ends (attempts on one key queue here).
INSERT INTO login_throttle AS t (key) VALUES (%(key)s)
ON CONFLICT (key) DO UPDATE SET key = t.key
RETURNING key, failures, window_start, locked_until, now() AS now;

-- name: save_key
UPDATE login_throttle
SET failures = %(failures)s, window_start = %(window_start)s, locked_until = %(locked_until)s
WHERE key = %(key)s;

-- name: forget_key
DELETE FROM login_throttle WHERE key = %(key)s;

-- name: release_key
-- A good log-in from an address: its attempt no longer counts against the address.
UPDATE login_throttle
SET failures = greatest(failures - 1, 0),
    locked_until = CASE WHEN failures - 1 < %(limit)s THEN NULL ELSE locked_until END
WHERE key = %(key)s;

-- name: purge_stale
DELETE FROM login_throttle
WHERE window_start < now() - make_interval(secs => %(keep_s)s)
  AND (locked_until IS NULL OR locked_until < now());
