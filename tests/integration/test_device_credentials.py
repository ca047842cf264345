"""The broker hash kept on the device row (`footfall.db.devices`), on a real database."""

from pathlib import Path

import psycopg
import pytest

from footfall.core.storeconfig import StoreConfig
from footfall.db.devices import store_credential_hash
from footfall.db.errors import UnknownDevice
from footfall.db.stores import apply_store
from footfall.edge.credentials import mosquitto_hash, verify_password

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "store.yaml"


def test_the_hash_lands_on_the_device_row(conn: psycopg.Connection) -> None:
    cfg = StoreConfig.from_yaml(EXAMPLE)
    apply_store(conn, cfg)
    device = cfg.devices[0].id
    hashed = mosquitto_hash("s3cret-password", iterations=101)

    store_credential_hash(conn, device_id=device, password_hash=hashed)

    row = conn.execute("SELECT credential_hash FROM devices WHERE device_id = %s", (device,)).fetchone()
    assert row is not None
    assert verify_password("s3cret-password", row["credential_hash"])


def test_an_unknown_device_is_refused_naming_the_fix(conn: psycopg.Connection) -> None:
    with pytest.raises(UnknownDevice, match="footfall stores apply"):
        store_credential_hash(conn, device_id="no-such-device", password_hash="$7$101$x$y")
