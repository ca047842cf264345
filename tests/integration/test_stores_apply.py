from pathlib import Path

import psycopg
import pytest
import yaml

from footfall.core.storeconfig import StoreConfig
from footfall.db.errors import Conflict
from footfall.db.stores import apply_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "store.yaml"


def test_apply_is_idempotent(conn: psycopg.Connection) -> None:
    cfg = StoreConfig.from_yaml(EXAMPLE)
    first = apply_store(conn, cfg)
    assert first.created == {
        "stores": 1,
        "floors": 1,
        "doors": 3,
        "zones": 3,
        "devices": 5,
        "cameras": 1,
        "device_doors": 3,
    }
    second = apply_store(conn, cfg)
    assert not second.changed
    cam = conn.execute("SELECT homography FROM cameras").fetchone()
    assert len(cam["homography"]) == 9


def test_apply_updates_removes_and_deactivates(conn: psycopg.Connection) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    apply_store(conn, StoreConfig.from_data(data))
    data["store"]["name"] = "Riga, renamed"
    data["zones"] = data["zones"][:2]
    data["devices"] = [d for d in data["devices"] if d["id"] != "riga-01-beam"]
    result = apply_store(conn, StoreConfig.from_data(data))
    assert result.updated == {"stores": 1}
    assert result.removed == {"zones": 1, "devices": 1, "device_doors": 1}
    active = conn.execute("SELECT active FROM devices WHERE device_id = 'riga-01-beam'").fetchone()["active"]
    assert active is False


def test_a_device_of_another_store_is_refused(conn: psycopg.Connection) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    apply_store(conn, StoreConfig.from_data(data))
    data["store"]["id"] = "tallinn-01"
    with pytest.raises(Conflict, match="riga-01-edge"):
        apply_store(conn, StoreConfig.from_data(data))
    assert conn.execute("SELECT count(*) AS n FROM stores").fetchone()["n"] == 1
