"""MQTT consumer: validate, dedupe, batch-write into PostgreSQL / TimescaleDB, dead letters.

`IngestWorker` is the consumer; `footfall ingest run` runs one (or `--workers N`) from the
FOOTFALL_* settings, and `footfall bench ingest` measures it. See docs/ingest.md.
"""
