import psycopg
import pytest

from footfall.core.settings import DbSettings
from footfall.db import migrate as mig
from footfall.db.connect import connect
from footfall.db.errors import MigrationError
from tests.integration.conftest import PgServer


def test_migrate_twice_applies_nothing_the_second_time(empty_db: DbSettings, pg_server: PgServer) -> None:
    # No flavour given: the path follows what the server can load (TimescaleDB on its leg).
    with connect(empty_db, autocommit=True) as conn:
        detected, _ = mig.detect_flavour(conn)
    flavour, first = mig.migrate(empty_db, flavour=pg_server.flavour if detected is not pg_server.flavour else None)
    assert flavour is pg_server.flavour
    assert [m.version for m in first] == sorted({m.version for m in mig.plan(flavour)})
    again_flavour, second = mig.migrate(empty_db)
    assert again_flavour is flavour
    assert second == []
    info = mig.info(empty_db)
    assert info.flavour is flavour
    assert info.pending == []
    assert (info.timescale_version is not None) is (flavour is mig.Flavour.TIMESCALE)


def test_flavour_cannot_switch(empty_db: DbSettings) -> None:
    mig.migrate(empty_db, flavour="plain")
    with pytest.raises(MigrationError, match="cannot switch"):
        mig.migrate(empty_db, flavour="timescale")


def test_edited_migration_is_refused(empty_db: DbSettings) -> None:
    mig.migrate(empty_db)
    with connect(empty_db, autocommit=True) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        mig.migrate(empty_db)


def test_failing_migration_rolls_back(empty_db: DbSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    real = mig.discover()
    broken = mig.Migration(9999, "broken", None, "CREATE TABLE half_done (x int); SELECT 1/0;")
    monkeypatch.setattr(mig, "discover", lambda: [*real, broken])
    with pytest.raises(MigrationError, match="9999_broken failed and was rolled back"):
        mig.migrate(empty_db)
    with connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('half_done') AS t").fetchone()["t"] is None
        assert conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()["v"] < 9999


def test_schema_has_the_architecture_tables(conn: psycopg.Connection) -> None:
    tables = {
        r["relname"]
        for r in conn.execute(
            "SELECT relname FROM pg_class "
            "WHERE relkind IN ('r', 'p', 'v', 'm') AND relnamespace = 'public'::regnamespace"
        )
    }
    assert {
        "stores",
        "floors",
        "doors",
        "zones",
        "devices",
        "cameras",
        "door_counts",
        "occupancy",
        "heatmap_cells",
        "zone_visits",
        "receipts",
        "receipt_lines",
        "heartbeats",
        "dead_letters",
        "plans",
        "staff_shifts",
        "users",
        "api_keys",
        "door_counts_15m",
        "door_counts_1h",
        "receipts_15m",
        "receipts_1h",
    } <= tables


def test_alert_audit_rows_move_into_the_shared_audit_log(empty_db: DbSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    # a database from before migration 0060, with alert audit rows of a store rule and a store-less one
    real = mig.discover()
    monkeypatch.setattr(mig, "discover", lambda: [m for m in real if m.version < 60])
    mig.migrate(empty_db)
    with connect(empty_db, autocommit=True) as conn:
        conn.execute("INSERT INTO stores (store_id, name, timezone) VALUES ('a', 'A', 'Europe/Riga')")
        uid = conn.execute("INSERT INTO users (username, role) VALUES ('mia', 'manager') RETURNING user_id").fetchone()
        rules = [
            conn.execute(
                "INSERT INTO alert_rules (name, spec, store_id) VALUES ('r', '{}', %s) RETURNING rule_id", (store,)
            ).fetchone()["rule_id"]
            for store in ("a", None)
        ]
        conn.execute(
            "INSERT INTO alert_audit (at, user_id, username, action, via, rule_id, state_id, detail) VALUES "
            "('2026-06-03T07:00Z', %(u)s, 'mia', 'rule_create', 'api', %(r0)s, NULL, '{}'), "
            "('2026-06-03T08:00Z', %(u)s, 'mia', 'acknowledge', 'link', %(r0)s, 17, '{}'), "
            "('2026-06-03T09:00Z', %(u)s, 'mia', 'mute', 'api', %(r1)s, NULL, '{\"until\": \"2026-06-04\"}')",
            {"u": uid["user_id"], "r0": rules[0], "r1": rules[1]},
        )
    monkeypatch.setattr(mig, "discover", lambda: real)
    mig.migrate(empty_db)
    with connect(empty_db) as conn:
        rows = conn.execute("SELECT at, actor_id, actor, action, target, detail FROM audit_log ORDER BY audit_id")
        got = [(r["actor"], r["action"], r["target"], r["detail"]) for r in rows]
        assert got == [
            ("mia", "alert_rule_create", f"alert_rule:{rules[0]}",
             {"via": "api", "rule_id": rules[0], "state_id": None, "store_id": "a"}),
            ("mia", "alert_acknowledge", "alert:17",
             {"via": "link", "rule_id": rules[0], "state_id": 17, "store_id": "a"}),
            ("mia", "alert_mute", f"alert_rule:{rules[1]}",
             {"until": "2026-06-04", "via": "api", "rule_id": rules[1], "state_id": None, "store_id": None}),
        ]  # fmt: skip
        assert conn.execute("SELECT to_regclass('alert_audit') AS t").fetchone()["t"] is None
