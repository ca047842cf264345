-- The read-only role Grafana's data source logs in as: SELECT on the tables and rollups the
-- provisioned dashboards read, and nothing else — no users, API keys, app secrets, receipts'
-- lines. compose.central.yaml runs this after `footfall db migrate` and then sets the
-- password (FOOTFALL_GRAFANA_DB_PASSWORD); the dashboards' test runs every query as this role.
-- Idempotent: run it again after a migration that adds a table a dashboard reads.

DO $$
BEGIN
    CREATE ROLE footfall_grafana LOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- already there (roles are per server, and several databases may share one)
END
$$;

-- A dashboard query that runs away stops here instead of holding the database.
ALTER ROLE footfall_grafana SET statement_timeout = '30s';

GRANT USAGE ON SCHEMA public TO footfall_grafana;
GRANT SELECT ON stores, doors, devices, device_status, heartbeats, dead_letters,
                door_counts, door_counts_1h, receipts_1h
    TO footfall_grafana;
