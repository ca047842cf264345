-- Alerts (issue 12): rules, their persisted state per scope, the transitions (events),
-- subscriptions, the transactional outbox the delivery worker drains, and an audit
-- trail of acknowledgements and mutes. Same on both storage paths.

CREATE TABLE alert_rules (
    rule_id      bigserial PRIMARY KEY,
    name         text NOT NULL,
    spec         jsonb NOT NULL,              -- footfall.core.alertrules.RuleSpec, validated before it is stored
    store_id     text REFERENCES stores ON DELETE CASCADE,   -- NULL: every store in the owner's scope
    owner_id     bigint REFERENCES users ON DELETE SET NULL,
    source_key   text UNIQUE,                 -- 'store/<store>/<id>' for rules applied from a store YAML
    enabled      boolean NOT NULL DEFAULT true,
    muted_until  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_rules_store_idx ON alert_rules (store_id);

-- One row per rule × store × subject (zone, door or device id; '' for the whole store).
CREATE TABLE alert_states (
    state_id      bigserial PRIMARY KEY,
    rule_id       bigint NOT NULL REFERENCES alert_rules ON DELETE CASCADE,
    store_id      text NOT NULL,
    subject       text NOT NULL DEFAULT '',
    state         text NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'pending', 'firing', 'resolved')),
    since         timestamptz,                -- when the current state began
    breach_since  timestamptz,                -- start of the current unbroken breach
    fired_at      timestamptz,
    resolved_at   timestamptz,
    acked_at      timestamptz,
    acked_by      bigint REFERENCES users ON DELETE SET NULL,
    escalated_at  timestamptz,
    value         double precision,
    border        double precision,
    seq           integer NOT NULL DEFAULT 0, -- transitions so far; makes every event's key unique
    evaluated_at  timestamptz,                -- the instant of the newest evaluation applied (replicas skip older)
    UNIQUE (rule_id, store_id, subject)
);
CREATE INDEX alert_states_store_idx ON alert_states (store_id, state);

-- Every notified transition: firing, resolved, escalated, acknowledged.
CREATE TABLE alert_events (
    event_id    bigserial PRIMARY KEY,
    state_id    bigint NOT NULL REFERENCES alert_states ON DELETE CASCADE,
    rule_id     bigint NOT NULL,
    store_id    text NOT NULL,
    subject     text NOT NULL DEFAULT '',
    seq         integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('firing', 'resolved', 'escalated', 'acknowledged')),
    at          timestamptz NOT NULL,         -- engine clock
    payload     jsonb NOT NULL,               -- the message body every channel renders
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (state_id, seq)
);
CREATE INDEX alert_events_store_at_idx ON alert_events (store_id, at);

CREATE TABLE alert_subscriptions (
    subscription_id  bigserial PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    rule_id          bigint REFERENCES alert_rules ON DELETE CASCADE,   -- NULL: any rule
    store_id         text REFERENCES stores ON DELETE CASCADE,          -- NULL: any store in the user's scope
    channel          text NOT NULL CHECK (channel IN ('webhook', 'email', 'telegram')),
    target           text NOT NULL,           -- URL, e-mail address or Telegram chat id
    secret           text,                    -- webhook signing secret (whsec_…)
    level            smallint NOT NULL DEFAULT 1 CHECK (level IN (1, 2)),  -- 2: escalation group
    digest           text NOT NULL DEFAULT 'none' CHECK (digest IN ('none', 'daily', 'weekly', 'both')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_subscriptions_user_idx ON alert_subscriptions (user_id);

-- The transactional outbox: written in the same transaction as the state change, drained
-- by the delivery worker with retries and backoff. `subscription_id` NULL: a broadcast
-- channel (MQTT retained state).
CREATE TABLE alert_outbox (
    message_id       bigserial PRIMARY KEY,
    event_id         bigint REFERENCES alert_events ON DELETE CASCADE,
    digest_key       text,                    -- digests: 'daily/<store>/<date>' etc., NULL for events
    subscription_id  bigint REFERENCES alert_subscriptions ON DELETE CASCADE,
    channel          text NOT NULL CHECK (channel IN ('webhook', 'email', 'telegram', 'mqtt')),
    target           text NOT NULL,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    delivered_at     timestamptz,
    failed_at        timestamptz,             -- given up after the last attempt
    last_error       text,
    UNIQUE NULLS NOT DISTINCT (event_id, digest_key, subscription_id, channel)
);
CREATE INDEX alert_outbox_due_idx ON alert_outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- Who acknowledged or muted what. Named to fold into a general audit log later.
CREATE TABLE alert_audit (
    audit_id   bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    user_id    bigint REFERENCES users ON DELETE SET NULL,
    username   text NOT NULL,
    action     text NOT NULL,                 -- acknowledge, mute, unmute, rule_create, rule_update, rule_delete
    via        text NOT NULL,                 -- api, link
    rule_id    bigint,
    state_id   bigint,
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Fresh data wakes the engine: one notice per committed statement (not per row), with
-- the table's name. Statement-level triggers without transition tables work on plain
-- tables and on hypertables alike.
CREATE FUNCTION footfall_alerts_fresh() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('footfall_alerts_fresh', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER door_counts_alerts_fresh AFTER INSERT OR UPDATE ON door_counts
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_alerts_fresh();
CREATE TRIGGER receipts_alerts_fresh AFTER INSERT OR UPDATE ON receipts
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_alerts_fresh();
CREATE TRIGGER occupancy_alerts_fresh AFTER INSERT ON occupancy
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_alerts_fresh();
CREATE TRIGGER heartbeats_alerts_fresh AFTER INSERT ON heartbeats
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_alerts_fresh();
