-- Secrets the services make for themselves (footfall.db.secrets).

-- name: insert_secret
INSERT INTO app_secrets (name, value) VALUES (%(name)s, %(value)s)
ON CONFLICT (name) DO NOTHING;

-- name: secret_by_name
SELECT value FROM app_secrets WHERE name = %(name)s;
