-- Named queries on devices outside the store file (footfall.db.devices).

-- name: set_credential_hash
UPDATE devices SET credential_hash = %(password_hash)s, updated_at = now() WHERE device_id = %(device_id)s;
