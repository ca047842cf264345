"""The TimescaleDB path, on the suite's TimescaleDB leg (skipped, with the reason, where
`./run test` found no TimescaleDB to build)."""

from datetime import UTC, datetime, timedelta

from footfall.api import kpis as k
from footfall.api.kpis import Kpi
from footfall.core.settings import DbSettings
from footfall.db import migrate as mig
from footfall.db.connect import connect
from footfall.db.timescale import DOOR_AGGREGATES as AGGREGATES
from tests.integration.conftest import TIMESCALE_ONLY

pytestmark = TIMESCALE_ONLY


def test_timescale_migrations_create_hypertables_and_aggregates(empty_db: DbSettings) -> None:
    flavour, applied = mig.migrate(empty_db, flavour="timescale")
    assert flavour is mig.Flavour.TIMESCALE
    assert applied
    assert mig.migrate(empty_db)[1] == []
    info = mig.info(empty_db)
    assert info.timescale_version
    assert {"door_counts", "occupancy", "heatmap_cells", "zone_visits", "tracks", "heartbeats"} <= set(info.hypertables)
    assert {"door_counts_15m", "door_counts_1h"} <= set(info.continuous_aggregates)
    with connect(empty_db, autocommit=True) as conn:
        jobs = {r["proc_name"] for r in conn.execute("SELECT proc_name FROM timescaledb_information.jobs")}
        assert {"policy_refresh_continuous_aggregate", "policy_compression", "policy_retention"} <= jobs


def test_timescale_rollups_match_the_plain_semantics(db: DbSettings) -> None:
    t0 = datetime(2026, 3, 29, 10, tzinfo=UTC)
    with connect(db, autocommit=True) as conn:
        for i, (entries, valid) in enumerate([(3, True), (2, True), (7, False)]):
            conn.execute(
                "INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, valid, seq)"
                " VALUES ('s', 'd', 'main', %s, %s, %s, 1, %s, %s) ON CONFLICT DO NOTHING",
                (t0 + timedelta(minutes=i), t0 + timedelta(minutes=i + 1), entries, valid, i),
            )
        conn.execute("CALL refresh_continuous_aggregate('door_counts_15m', NULL, NULL)")
        conn.execute("CALL refresh_continuous_aggregate('door_counts_1h', NULL, NULL)")
        row = conn.execute("SELECT * FROM door_counts_1h").fetchone()
        assert (row["entries"], row["exits"], row["readings"]) == (5, 2, 3)
        assert (row["valid_s"], row["invalid_s"]) == (120, 60)


def test_aggregates_are_real_time_and_compression_and_retention_are_as_written(db: DbSettings) -> None:
    with connect(db, autocommit=True) as conn:
        caggs = {
            r["view_name"]: r["materialized_only"]
            for r in conn.execute(
                "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
            )
        }
        assert caggs == {
            "door_counts_15m": False,
            "door_counts_1h": False,
            "heatmap_cells_1h": False,
            "heatmap_cells_1d": False,
        }
        segment_by = {
            r["hypertable_name"]: r["segmentby"]
            for r in conn.execute(
                "SELECT hypertable_name, string_agg(attname, ',' ORDER BY segmentby_column_index) AS segmentby "
                "FROM timescaledb_information.compression_settings WHERE segmentby_column_index IS NOT NULL "
                "GROUP BY 1"
            )
        }
        assert segment_by["door_counts"] == "device_id,door_id"
        policies = {
            (r["proc_name"], r["hypertable_name"]): r["config"]
            for r in conn.execute("SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs")
        }
        assert policies[("policy_compression", "door_counts")]["compress_after"] == "45 days"
        assert policies[("policy_retention", "door_counts")]["drop_after"] == "3 years"
        assert policies[("policy_retention", "tracks")]["drop_after"] == "30 days"
        # Every policy runs when called (the scheduler on PostgreSQL 15.20 cannot: `footfall doctor`).
        for (proc, _), _config in policies.items():
            if proc.startswith("policy_"):
                job = conn.execute(
                    "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s LIMIT 1", (proc,)
                ).fetchone()
                conn.execute("CALL run_job(%s)", (job["job_id"],))


def test_aggregates_equal_raw_sums_bucket_by_bucket(db: DbSettings) -> None:
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    with connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid,"
            " seq) SELECT 's', 'd' || (i %% 3), 'main', %(t0)s + i * INTERVAL '1 minute',"
            " %(t0)s + (i + 1) * INTERVAL '1 minute', i %% 7, i %% 5,"
            " CASE WHEN i %% 2 = 0 THEN i %% 11 END, i %% 13 <> 0, i"
            " FROM generate_series(0, 3 * 24 * 60) AS i",
            {"t0": t0},
        )
        for name, _ in AGGREGATES:
            conn.execute("CALL refresh_continuous_aggregate(%s::regclass, NULL, NULL)", (name,))
        for name, width in AGGREGATES:
            mismatched = conn.execute(
                f"""
                WITH raw AS (
                    SELECT store_id, door_id, time_bucket(%(w)s::interval, start_ts) AS bucket,
                           coalesce(sum(entries) FILTER (WHERE valid), 0) AS entries,
                           coalesce(sum(exits) FILTER (WHERE valid), 0) AS exits,
                           sum(passersby) FILTER (WHERE valid) AS passersby,
                           count(*) AS readings
                    FROM door_counts GROUP BY 1, 2, 3
                )
                SELECT count(*) AS n
                FROM raw FULL JOIN {name} AS a USING (store_id, door_id, bucket)
                WHERE (raw.entries, raw.exits, raw.passersby, raw.readings)
                      IS DISTINCT FROM (a.entries, a.exits, a.passersby, a.readings)
                """,
                {"w": width},
            ).fetchone()["n"]
            assert mismatched == 0, name


def test_late_rows_into_a_compressed_chunk_land_and_count_at_once(db: DbSettings) -> None:
    t0 = datetime(2026, 6, 9, 10, tzinfo=UTC)
    insert = (
        "INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, valid, seq)"
        " SELECT 's', %(dev)s, 'main', %(t0)s + i * INTERVAL '1 minute', %(t0)s + (i + 1) * INTERVAL '1 minute',"
        " %(n)s, 0, true, i FROM generate_series(0, %(minutes)s - 1) AS i ON CONFLICT DO NOTHING"
    )
    with connect(db, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO stores (store_id, name, timezone) VALUES ('s', 'S', 'UTC');"
            "INSERT INTO doors (store_id, door_id, kind) VALUES ('s', 'main', 'customer')"
        )
        conn.execute(insert, {"dev": "d1", "t0": t0, "n": 1, "minutes": 120})
        for name, _ in AGGREGATES:
            conn.execute("CALL refresh_continuous_aggregate(%s::regclass, NULL, NULL)", (name,))
        compressed = conn.execute(
            "SELECT count(compress_chunk(c)) AS n FROM show_chunks('door_counts') AS c"
        ).fetchone()["n"]
        assert compressed >= 1
        # The late replay: d1's minutes again (duplicates, dropped) and a second device's.
        dup = conn.execute(insert, {"dev": "d1", "t0": t0, "n": 9, "minutes": 120})
        assert dup.rowcount == 0
        conn.execute(insert, {"dev": "d2", "t0": t0, "n": 2, "minutes": 60})
        store = k.store_info(conn, "s")
        day = t0.date()
        assert k.kpi_summary(conn, store=store, first=day, last=day).value(Kpi.VISITORS).value == 120 + 120
        hours = {r.hour: r.entries for r in k.traffic_by_hour(conn, store=store, first=day, last=day) if r.entries}
        assert hours == {10: 60 + 120, 11: 60}


def test_ingest_reads_each_tables_retention_horizon_from_the_policies(empty_db: DbSettings) -> None:
    from footfall.core.topics import Kind
    from footfall.db.queries import queries
    from footfall.ingest.worker import horizons

    mig.migrate(empty_db, flavour="timescale")
    with connect(empty_db, autocommit=True) as conn:
        policies = {r["table_name"]: r["drop_after"] for r in conn.execute(queries("ingest")["retention_horizons"])}
    found = horizons(policies, None)
    assert found[Kind.TRACKS] == timedelta(days=30)
    assert found[Kind.HEARTBEAT] == timedelta(days=90)
    assert found[Kind.HEATMAP] == timedelta(days=400)
    assert found[Kind.COUNTS] >= timedelta(days=3 * 360)
    assert horizons(policies, 7)[Kind.COUNTS] == timedelta(days=7)
