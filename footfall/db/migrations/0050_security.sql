-- API security (issue 10): an audit log, the token-signing secret made on first start,
-- login throttling state, and a per-user token version that revokes issued tokens.
-- Same on both storage paths.

-- Who changed what, and every failed log-in. Written by footfall.db.audit.record in the
-- transaction of the change it describes; read by admins at GET /v1/audit.
CREATE TABLE audit_log (
    audit_id   bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor_id   bigint REFERENCES users ON DELETE SET NULL,
    actor      text NOT NULL,                 -- user name, 'cli:<os user>', 'anonymous', 'system'
    action     text NOT NULL,                 -- e.g. login_failed, user_update, api_key_revoke
    target     text NOT NULL DEFAULT '',      -- e.g. 'user:ann', 'api_key:12', 'address:10.0.0.7'
    client     text,                          -- the caller's address, when there is one
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC);

-- Secrets the services make for themselves on first start (the token-signing key when
-- FOOTFALL_API__SECRET_KEY is not set). One row per name; the first writer wins, so
-- every worker and replica signs with the same key.
CREATE TABLE app_secrets (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON app_secrets FROM PUBLIC;

-- Log-in throttling, per user name and per client address ('user:ann', 'address:10.0.0.7').
-- `failures` counts attempts not proven good inside the window that began at `window_start`.
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,
    failures      integer NOT NULL DEFAULT 0,
    window_start  timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz
);
CREATE INDEX login_throttle_window_idx ON login_throttle (window_start);

-- Bumped when a user's password, role, scope or state changes: tokens carry the version
-- they were issued under and stop working when it moves on.
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;
