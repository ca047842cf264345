"""The TimescaleDB path, on the suite's TimescaleDB leg (skipped, with the reason, where
`./run test` found no TimescaleDB to build)."""

from datetime import UTC, datetime, timedelta

from footfall.core.settings import DbSettings
from footfall.db import migrate as mig
from footfall.db.connect import connect
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
