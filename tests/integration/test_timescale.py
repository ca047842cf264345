"""The TimescaleDB path. Runs where the server can load the extension; skipped, with the
reason, where it cannot (plain PostgreSQL in local development and CI here)."""

from datetime import UTC, datetime, timedelta

import pytest

from footfall.core.settings import DbSettings
from footfall.db import migrate as mig
from footfall.db.connect import connect


@pytest.fixture
def timescale_db(empty_db: DbSettings) -> DbSettings:
    with connect(empty_db, autocommit=True) as conn:
        flavour, reason = mig.detect_flavour(conn)
    if flavour is not mig.Flavour.TIMESCALE:
        pytest.skip(f"TimescaleDB path not exercised: {reason}")
    return empty_db


@pytest.mark.timescale
def test_timescale_migrations_create_hypertables_and_aggregates(timescale_db: DbSettings) -> None:
    flavour, applied = mig.migrate(timescale_db, flavour="timescale")
    assert flavour is mig.Flavour.TIMESCALE
    assert applied
    assert mig.migrate(timescale_db)[1] == []
    info = mig.info(timescale_db)
    assert info.timescale_version
    assert {"door_counts", "occupancy", "heatmap_cells", "zone_visits", "tracks", "heartbeats"} <= set(info.hypertables)
    assert {"door_counts_15m", "door_counts_1h"} <= set(info.continuous_aggregates)
    with connect(timescale_db, autocommit=True) as conn:
        jobs = {r["proc_name"] for r in conn.execute("SELECT proc_name FROM timescaledb_information.jobs")}
        assert {"policy_refresh_continuous_aggregate", "policy_compression", "policy_retention"} <= jobs


@pytest.mark.timescale
def test_timescale_rollups_match_the_plain_semantics(timescale_db: DbSettings) -> None:
    mig.migrate(timescale_db, flavour="timescale")
    t0 = datetime(2026, 3, 29, 10, tzinfo=UTC)
    with connect(timescale_db, autocommit=True) as conn:
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


@pytest.mark.timescale
def test_ingest_reads_each_tables_retention_horizon_from_the_policies(timescale_db: DbSettings) -> None:
    from footfall.core.topics import Kind
    from footfall.db.queries import queries
    from footfall.ingest.worker import horizons

    mig.migrate(timescale_db, flavour="timescale")
    with connect(timescale_db, autocommit=True) as conn:
        policies = {r["table_name"]: r["drop_after"] for r in conn.execute(queries("ingest")["retention_horizons"])}
    found = horizons(policies, None)
    assert found[Kind.TRACKS] == timedelta(days=30)
    assert found[Kind.HEARTBEAT] == timedelta(days=90)
    assert found[Kind.HEATMAP] == timedelta(days=400)
    assert found[Kind.COUNTS] >= timedelta(days=3 * 360)
    assert horizons(policies, 7)[Kind.COUNTS] == timedelta(days=7)
