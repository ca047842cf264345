-- Trained forecasting models (footfall.models), one row per version. Kept in the database,
-- not a models folder: API workers are stateless and may run on several machines, and the
-- database is the one stateful service they all reach (and back up). A year-long hourly
-- model pickles to a few hundred kB.

CREATE TABLE trained_models (
    model_id      bigserial PRIMARY KEY,
    store_id      text NOT NULL REFERENCES stores ON DELETE CASCADE,
    metric        text NOT NULL CHECK (metric IN ('entries', 'transactions', 'revenue')),
    version       integer NOT NULL CHECK (version > 0),
    slot_minutes  integer NOT NULL CHECK (slot_minutes IN (15, 30, 60)),
    method        text NOT NULL,
    trained_at    timestamptz NOT NULL DEFAULT now(),
    train_start   timestamptz NOT NULL,
    train_end     timestamptz NOT NULL,
    features      text[] NOT NULL,
    backtest      jsonb NOT NULL,          -- held-out week: mase, mae, coverage_80, …
    details       jsonb NOT NULL,          -- flags, band quantiles, calendar (hours, holidays)
    library       text NOT NULL,           -- scikit-learn version the bytes need
    model         bytea NOT NULL,
    UNIQUE (store_id, metric, version),
    CHECK (train_end > train_start)
);
CREATE INDEX trained_models_latest_idx ON trained_models (store_id, metric, version DESC);
