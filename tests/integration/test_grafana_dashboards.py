"""Grafana provisioning: the files parse, every panel names a provisioned data source, and
every SQL query in the dashboards (panels and template variables) runs — as the read-only
role Grafana logs in as (docker/postgres/grafana-reader.sql) — against the migrated schema
on both storage paths, returning rows from seeded data; the traffic and conversion numbers
are the seeded ones. PromQL panels name only metrics ingest really exports.

Grafana expands its macros before a query reaches PostgreSQL; `expand` does the same for
the macros the dashboards use, as Grafana's PostgreSQL data source does
(pkg/tsdb/grafana-postgresql-datasource/macros.go):

| macro | becomes |
|---|---|
| `$__timeFilter(col)` | `col BETWEEN 'from' AND 'to'` (RFC 3339, UTC) |
| `$__timeFrom()`, `$__timeTo()` | `'from'`, `'to'` |
| `$__timeGroup(col, '15m')` | `time_bucket('900.000s',col)` with the data source's `timescaledb: true`, |
|   | else `floor(extract(epoch from col)/900)*900` |
| `$__timeGroupAlias(col, '15m')` | the same, `AS "time"` |
| `$store`, `${store}` | the selected stores quoted and comma-separated (here: All) |

Anything else that looks like a macro or a variable fails the test, so a dashboard cannot
use one this test does not expand.
"""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg import sql
from psycopg.types.json import Jsonb

from footfall.core.settings import DbSettings
from footfall.db.connect import connect
from footfall.db.migrate import Flavour
from footfall.ingest.metrics import IngestMetrics
from tests.integration.conftest import TIMESCALE_ONLY

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "docker" / "grafana"
READER_SQL = ROOT / "docker" / "postgres" / "grafana-reader.sql"
STORES = {"gf-alpha": ("Alpha", "Europe/Riga", 2, 10), "gf-beta": ("Beta", "America/New_York", 1, 5)}
"""store → (name, time zone, customer entries per minute, sales per hour)."""
HOURS = 6


def _datasources() -> list[dict]:
    doc = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "footfall.yaml").read_text(encoding="utf-8"))
    assert doc["apiVersion"] == 1
    return doc["datasources"]


def _dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((GRAFANA / "dashboards").glob("*.json"))}


def _targets(dashboard: dict) -> list[tuple[str, dict]]:
    """(where, target) for every panel query and every query variable."""
    out = []
    for panel in dashboard["panels"]:
        for t in panel["targets"]:
            out.append((f"{dashboard['uid']} panel {panel['id']} {panel['title']!r} {t['refId']}", t))
    for var in dashboard.get("templating", {}).get("list", []):
        if var["type"] == "query":
            out.append((f"{dashboard['uid']} variable {var['name']}", {"datasource": var["datasource"], **var}))
    return out


def _sql_queries() -> list[tuple[str, str]]:
    pg_uid = next(d["uid"] for d in _datasources() if d["type"] == "grafana-postgresql-datasource")
    out = []
    for dashboard in _dashboards().values():
        for where, t in _targets(dashboard):
            if t["datasource"]["uid"] == pg_uid:
                out.append((where, t.get("rawSql") or t["query"]))
    return out


# -- macros -----------------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(interval: str) -> int:
    m = re.fullmatch(r"'?(\d+)([smhd])'?", interval.strip())
    assert m, f"interval {interval!r}: this test expands NUMBER plus s, m, h or d"
    return int(m.group(1)) * _UNITS[m.group(2)]


def expand(sql: str, *, start: datetime, end: datetime, stores: list[str], timescaledb: bool) -> str:
    """`sql` as Grafana would send it for the time range [start, end] and the given stores."""
    lit = {"from": f"'{start.astimezone(UTC).isoformat()}'", "to": f"'{end.astimezone(UTC).isoformat()}'"}

    def group(col: str, interval: str) -> str:
        s = _seconds(interval)
        return f"time_bucket('{s:.3f}s',{col})" if timescaledb else f"floor(extract(epoch from {col})/{s})*{s}"

    def macro(m: re.Match) -> str:
        name, args = m.group(1), [a.strip() for a in m.group(2).split(",")] if m.group(2).strip() else []
        match name:
            case "__timeFilter":
                return f"{args[0]} BETWEEN {lit['from']} AND {lit['to']}"
            case "__timeFrom":
                return lit["from"]
            case "__timeTo":
                return lit["to"]
            case "__timeGroup":
                return group(args[0], args[1])
            case "__timeGroupAlias":
                return group(args[0], args[1]) + ' AS "time"'
        raise AssertionError(f"macro ${name} is not expanded by this test: add it here and in docs/deploy.md")

    out = re.sub(r"\$(__[A-Za-z]+)\(([^)]*)\)", macro, sql)
    quoted = ",".join("'" + s.replace("'", "''") + "'" for s in stores)
    out = re.sub(r"\$\{store\}|\$store\b", quoted, out)
    leftover = re.search(r"\$\{?[A-Za-z_]\w*", out)
    assert leftover is None, f"unexpanded variable or macro {leftover.group(0)!r}"
    return out


def test_expand_follows_grafana() -> None:
    start, end = datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC)
    sql = "SELECT $__timeGroupAlias(t, '5m'), x FROM y WHERE $__timeFilter(t) AND s IN ($store) AND $__timeTo() > t"
    assert expand(sql, start=start, end=end, stores=["a", "o'b"], timescaledb=False) == (
        'SELECT floor(extract(epoch from t)/300)*300 AS "time", x FROM y '
        "WHERE t BETWEEN '2026-06-01T00:00:00+00:00' AND '2026-06-02T00:00:00+00:00' "
        "AND s IN ('a','o''b') AND '2026-06-02T00:00:00+00:00' > t"
    )
    assert "time_bucket('300.000s',t) AS \"time\"" in expand(sql, start=start, end=end, stores=["a"], timescaledb=True)
    with pytest.raises(AssertionError, match="not expanded"):
        expand("SELECT $__unixEpochFilter(t)", start=start, end=end, stores=[], timescaledb=False)
    with pytest.raises(AssertionError, match="unexpanded"):
        expand("SELECT $other", start=start, end=end, stores=[], timescaledb=False)


# -- provisioning files -------------------------------------------------------------------------


def test_provisioning_parses_and_every_panel_names_a_provisioned_source() -> None:
    sources = {d["uid"]: d for d in _datasources()}
    assert {d["type"] for d in sources.values()} == {"grafana-postgresql-datasource", "prometheus"}
    pg = next(d for d in sources.values() if d["type"] == "grafana-postgresql-datasource")
    assert pg["user"] == ROLE, "Grafana reads through the read-only role"
    assert f"CREATE ROLE {ROLE} LOGIN" in READER_SQL.read_text(encoding="utf-8")
    assert pg["jsonData"]["timescaledb"] is True  # the central compose runs TimescaleDB
    assert pg["secureJsonData"]["password"].startswith("$"), "the password comes from the environment"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "footfall.yaml").read_text(encoding="utf-8"))[
        "providers"
    ]
    compose = yaml.safe_load((ROOT / "docker" / "compose.central.yaml").read_text(encoding="utf-8"))
    mounts = compose["services"]["grafana"]["volumes"]
    assert any(m.endswith(":" + providers[0]["options"]["path"] + ":ro") for m in mounts)
    dashboards = _dashboards()
    assert set(dashboards) == {"traffic.json", "devices.json", "ingest.json"}
    assert len({d["uid"] for d in dashboards.values()}) == len(dashboards)
    for d in dashboards.values():
        ids = [p["id"] for p in d["panels"]]
        assert len(set(ids)) == len(ids), f"{d['uid']}: panel ids repeat"
        for where, t in _targets(d):
            assert t["datasource"]["uid"] in sources, f"{where}: unknown data source {t['datasource']}"
            assert t["datasource"]["type"] == sources[t["datasource"]["uid"]]["type"], where
            assert t.get("rawSql") or t.get("expr") or t.get("query"), f"{where}: no query"


def _exported_series() -> set[str]:
    """Every series name ingest's registry exports (counters as _total, histograms as _bucket/_sum/_count)."""
    names = set()
    for family in IngestMetrics().registry.collect():
        match family.type:
            case "counter":
                names.add(family.name + "_total")
            case "histogram":
                names |= {family.name + s for s in ("_bucket", "_sum", "_count")}
            case _:
                names.add(family.name)
    return names


def test_promql_panels_use_only_metrics_ingest_exports() -> None:
    exported = _exported_series()
    used = set()
    for d in _dashboards().values():
        for where, t in _targets(d):
            if t["datasource"]["type"] == "prometheus":
                for name in re.findall(r"\bfootfall_[a-z_]+", t["expr"]):
                    assert name in exported, f"{where}: {name} is not a metric ingest exports"
                    used.add(name)
    assert "footfall_ingest_lag_seconds_bucket" in used  # the ingest-lag dashboard's point


# -- every SQL query, against the schema --------------------------------------------------------


def _seed(conn: psycopg.Connection, t0: datetime) -> None:
    """HOURS of minute counts, receipts, heartbeats, statuses and dead letters for two stores."""
    with conn.cursor() as cur:
        for store_id, (name, tz, per_min, sales_per_h) in STORES.items():
            cur.execute("INSERT INTO stores (store_id, name, timezone) VALUES (%s, %s, %s)", (store_id, name, tz))
            cur.execute(
                "INSERT INTO doors (store_id, door_id, kind) VALUES (%s, 'main', 'customer'), (%s, 'staff', 'staff')",
                (store_id, store_id),
            )
            edge, beam = f"{store_id}-edge", f"{store_id}-beam"
            cur.execute(
                "INSERT INTO devices (device_id, store_id, kind) VALUES (%s, %s, 'edge'), (%s, %s, 'counter_tcp')",
                (edge, store_id, beam, store_id),
            )
            cur.execute(
                "INSERT INTO device_status (device_id, store_id, state, seq, sent_at) VALUES (%s, %s, 'online', 1, %s)",
                (edge, store_id, t0),
            )
            rows = []
            for i in range(HOURS * 60):
                start = t0 + timedelta(minutes=i)
                end = start + timedelta(minutes=1)
                received = end + timedelta(seconds=3 + i % 5)
                rows.append((store_id, beam, "main", start, end, per_min, per_min, 2 * i, received))
                rows.append((store_id, beam, "staff", start, end, 5, 5, 2 * i + 1, received))  # never counted
            cur.executemany(
                "INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, seq, "
                "received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                rows,
            )
            receipts = [
                (store_id, f"r{h}-{k}", t0 + timedelta(hours=h, minutes=k * 3), Decimal("20.00"), False)
                for h in range(HOURS)
                for k in range(sales_per_h)
            ]
            receipts.append((store_id, "void-1", t0 + timedelta(minutes=5), Decimal("99.00"), True))  # voided
            cur.executemany(
                "INSERT INTO receipts (store_id, receipt_id, ts, total, items, voided) VALUES (%s, %s, %s, %s, 1, %s)",
                receipts,
            )
            heartbeats = []
            for k in range(HOURS * 2):
                start = t0 + timedelta(minutes=30 * k)
                payload = {"sensors": [{"sensor_id": beam, "faults": ["silent"] if k % 3 == 0 else []}]}
                heartbeats.append(
                    (store_id, edge, start, start + timedelta(seconds=30), k, start, 30.0 * k, k % 4, Jsonb(payload))
                )
            cur.executemany(
                "INSERT INTO heartbeats (store_id, device_id, start_ts, end_ts, seq, sent_at, uptime_s, queue_depth, "
                "payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                heartbeats,
            )
        cur.executemany(
            "INSERT INTO dead_letters (received_at, topic, reason_code, reason, payload, payload_size) "
            "VALUES (%s, 'footfall/v1/gf-alpha/x/counts', %s, 'test', '\\x00', 1)",
            [(t0 + timedelta(minutes=10), "bad_json"), (t0 + timedelta(minutes=70), "unknown_device")],
        )


ROLE = "footfall_grafana"


def _as_grafana(db: DbSettings) -> psycopg.Connection:
    """A connection with the privileges grafana-reader.sql gives Grafana's role.

    Roles belong to the whole server, which other tests and runs share: each test creates
    the role under a name of its own (the same SQL, renamed) and `seeded` drops it after.
    """
    role = db.dbname.replace("footfall_t_", "ffg_")
    with connect(db, autocommit=True) as admin:
        admin.execute(READER_SQL.read_text(encoding="utf-8").replace(ROLE, role))
    conn = connect(db, autocommit=True)
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    return conn


def _drop_role(db: DbSettings) -> None:
    role = db.dbname.replace("footfall_t_", "ffg_")
    with connect(db, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            admin.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(role)))


@pytest.fixture
def seeded(db: DbSettings, flavour: Flavour) -> Iterator[tuple[DbSettings, datetime, datetime, bool]]:
    now = datetime.now(UTC)
    t0 = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS + 1)
    with connect(db) as conn:
        _seed(conn, t0)
        conn.commit()
    try:
        yield db, t0 - timedelta(hours=1), now, flavour is Flavour.TIMESCALE
    finally:
        _drop_role(db)


def _run_all(db: DbSettings, start: datetime, end: datetime, timescaledb: bool) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {}
    with _as_grafana(db) as conn:
        for where, sql in _sql_queries():
            text = expand(sql, start=start, end=end, stores=sorted(STORES), timescaledb=timescaledb)
            try:
                results[where] = conn.execute(text).fetchall()
            except psycopg.Error as exc:
                pytest.fail(f"{where}: {type(exc).__name__}: {exc}\n{text}")
    return results


def test_every_dashboard_query_runs_as_grafanas_role_and_returns_rows(seeded) -> None:
    db, start, end, timescaledb = seeded
    results = _run_all(db, start, end, timescaledb)
    assert len(results) == len(_sql_queries()) >= 15
    empty = [where for where, rows in results.items() if not rows]
    assert not empty, f"queries that returned no rows from the seeded data: {empty}"


def _totals(results: dict[str, list[dict]]) -> dict[str, dict]:
    rows = next(v for k, v in results.items() if "'Totals by store'" in k)
    return {r["store"]: r for r in rows}


def test_traffic_and_conversion_are_the_seeded_numbers(seeded) -> None:
    db, start, end, timescaledb = seeded
    totals = _totals(_run_all(db, start, end, timescaledb))
    for name, _tz, per_min, sales_per_h in STORES.values():
        row = totals[name]
        assert row["visitors"] == HOURS * 60 * per_min  # customer door only: the staff door is left out
        assert row["transactions"] == HOURS * sales_per_h  # the voided receipt is not a transaction
        assert row["conversion"] == pytest.approx(row["transactions"] / row["visitors"])
        assert row["revenue"] == Decimal("20.00") * row["transactions"]
        assert row["atv"] == Decimal("20.00")


def test_the_grafana_role_cannot_read_users_or_secrets(seeded) -> None:
    db, _start, _end, _ts = seeded
    with _as_grafana(db) as conn:
        for table in ("users", "api_keys", "app_secrets", "receipt_lines"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT 1 FROM {table} LIMIT 1")


@TIMESCALE_ONLY
def test_late_rows_below_the_refreshed_watermark_count_at_once(seeded) -> None:
    """After the aggregates are refreshed, a backlog replayed into an hour they hold shows in
    the dashboards before any refresh, as it does in the API (docs/timescale.md)."""
    db, start, end, timescaledb = seeded
    with connect(db, autocommit=True) as conn:
        for view in ("door_counts_15m", "door_counts_1h"):
            conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
    before = _totals(_run_all(db, start, end, timescaledb))["Alpha"]["visitors"]
    t_late = start + timedelta(minutes=10)  # the hour before the seeded ones, materialised as empty
    with connect(db) as conn:
        conn.execute(
            "INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, seq) "
            "VALUES ('gf-alpha', 'gf-alpha-beam', 'main', %s, %s, 7, 0, 100000)",
            (t_late, t_late + timedelta(minutes=1)),
        )
        conn.commit()
    after = _totals(_run_all(db, start, end, timescaledb))["Alpha"]["visitors"]
    assert after == before + 7
