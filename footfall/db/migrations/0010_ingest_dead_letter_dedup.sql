-- Ingest: a dead letter redelivered by the broker (the consumer crashed after its commit
-- and before its acknowledgement) or replayed byte for byte by a device is stored once,
-- like every fact. The digest is of the whole payload, not of the bounded copy kept.

ALTER TABLE dead_letters ADD COLUMN payload_sha256 bytea;
CREATE UNIQUE INDEX dead_letters_dedup_idx ON dead_letters (topic, payload_sha256);
