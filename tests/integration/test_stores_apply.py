from pathlib import Path

import psycopg
import pytest
import yaml

from footfall.core.errors import ConfigError
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
        "doors": 4,
        "zones": 5,
        "devices": 5,
        "cameras": 1,
        "device_doors": 4,
    }
    second = apply_store(conn, cfg)
    assert not second.changed
    cam = conn.execute("SELECT homography FROM cameras").fetchone()
    assert len(cam["homography"]) == 9
    plan = conn.execute("SELECT plan_mime, plan_px_per_m, length(plan_image) AS n FROM floors").fetchone()
    assert (plan["plan_mime"], plan["plan_px_per_m"]) == ("image/png", 20)
    assert plan["n"] == (EXAMPLE.parent / "plan-ground.png").stat().st_size


def test_apply_updates_removes_and_deactivates(conn: psycopg.Connection) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    apply_store(conn, StoreConfig.from_data(data, base_dir=EXAMPLE.parent))
    data["store"]["name"] = "Riga, renamed"
    data["zones"] = data["zones"][:4]  # the checkout goes; the queue is served elsewhere now
    data["zones"][3]["kind"] = "area"
    del data["zones"][3]["till"]
    data["devices"] = [d for d in data["devices"] if d["id"] != "riga-01-beam"]
    data["devices"][-1]["zones"].remove("checkout")
    del data["floors"][0]["plan"]  # a floor without `plan` keeps the picture it has
    result = apply_store(conn, StoreConfig.from_data(data))
    assert result.updated == {"stores": 1, "zones": 1, "cameras": 1}
    assert result.removed == {"zones": 1, "devices": 1, "device_doors": 1}
    assert conn.execute("SELECT plan_image IS NOT NULL AS kept FROM floors").fetchone()["kept"]
    active = conn.execute("SELECT active FROM devices WHERE device_id = 'riga-01-beam'").fetchone()["active"]
    assert active is False


def test_a_device_of_another_store_is_refused(conn: psycopg.Connection) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    apply_store(conn, StoreConfig.from_data(data, base_dir=EXAMPLE.parent))
    data["store"]["id"] = "tallinn-01"
    with pytest.raises(Conflict, match="riga-01-edge"):
        apply_store(conn, StoreConfig.from_data(data, base_dir=EXAMPLE.parent))
    assert conn.execute("SELECT count(*) AS n FROM stores").fetchone()["n"] == 1


def test_a_missing_plan_picture_is_a_config_error_naming_the_floor(conn: psycopg.Connection, tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["floors"][0]["plan"]["image"] = "nowhere.png"
    with pytest.raises(ConfigError, match=r"floor ground: floor plan image .*nowhere\.png"):
        apply_store(conn, StoreConfig.from_data(data, base_dir=tmp_path))
    assert conn.execute("SELECT count(*) AS n FROM stores").fetchone()["n"] == 0
