"""MQTT consumer: validate, dedupe, batch-write into PostgreSQL / TimescaleDB, dead letters."""
