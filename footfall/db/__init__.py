"""PostgreSQL / TimescaleDB plumbing shared by ingest and the API.

Connections and pools, the migration runner, named SQL blocks and the store-config
upsert. It imports only `footfall.core`; the edge never imports it.
"""
