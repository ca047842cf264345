"""The API's KPI reads against a real streaming replica of a private primary.

The test starts its own two clusters under `.local/`: a primary, and a hot standby made
from it with `pg_basebackup -R` that streams its WAL. The app gets the primary as its
database and the standby as `db.replica_url`. It shows that:

- a count written on the primary reaches the API through the replica once replayed
  (`X-Footfall-Read-From: replica`, which the app sets only after the server it read
  answered `pg_is_in_recovery()` true and said how far behind it was);
- with replay paused (`pg_wal_replay_pause()`) and a newer count on the primary, a
  tolerant app (`replica_max_lag_s` an hour) keeps answering the replica's older number,
  and says how stale it is (`X-Footfall-Replica-Lag-S` grows) — proof the read is really
  served by the replica — while an app allowing one second answers the primary's current
  number and says why (`X-Footfall-Read-From: primary`, `X-Footfall-Read-Note`);
- logins (which write) work throughout: they stay on the primary;
- once replay resumes, the replica answers again with the new number.

Plain PostgreSQL only: the standby needs the same server binaries and preloaded libraries
as the primary, and the TimescaleDB leg's server is a shared build the test harness points
at by URL, not one it can clone privately.
"""

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.api.replica import READ_FROM, READ_NOTE, REPLICA_LAG
from footfall.api.users import create_user
from footfall.core.settings import DbSettings, Settings
from footfall.db.connect import connect
from footfall.db.migrate import Flavour, migrate
from footfall.devtools.services import LOCAL, PrivatePostgres, free_port
from tests.helpers import wait_until
from tests.integration.api.conftest import add_door_minutes, add_store

DAY = date(2026, 6, 1)
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
DBNAME = "footfall_replica"


@dataclass
class Pair:
    primary: DbSettings
    replica: DbSettings


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    folder = LOCAL / f"replica-test-{secrets.token_hex(4)}"
    primary = PrivatePostgres(folder / "primary", port=free_port())
    standby = PrivatePostgres(folder / "standby", port=free_port())
    try:
        primary.start()
        with psycopg.connect(primary.url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DBNAME}")
        pdb = DbSettings(url=primary.url.rsplit("/", 1)[0] + f"/{DBNAME}", pool_min=1, pool_max=4)
        migrate(pdb, flavour=Flavour.PLAIN)
        standby.replicate_from(primary)
        standby.start()
        rdb = DbSettings(url=standby.url.rsplit("/", 1)[0] + f"/{DBNAME}", pool_min=1, pool_max=4)
        yield Pair(pdb, rdb)
    finally:
        standby.stop("immediate")
        primary.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def visitors(client: TestClient, headers: dict[str, str]) -> tuple[float | None, httpx.Headers]:
    r = client.get(f"/v1/stores/rs/kpis/summary?first={DAY}&last={DAY}", headers=headers)
    assert r.status_code == 200, r.text
    value = next(v["value"] for v in r.json()["data"] if v["kpi"] == "visitors")
    return value, r.headers


def app_for(settings: Settings, pair: Pair, max_lag_s: float) -> TestClient:
    db = pair.primary.model_copy(update={"replica_url": pair.replica.url, "replica_max_lag_s": max_lag_s})
    return TestClient(create_app(settings.model_copy(update={"db": db})))


def test_kpis_are_read_from_the_replica_and_a_lagging_replica_is_never_served_as_current(
    settings: Settings, pair: Pair
) -> None:
    with connect(pair.primary, autocommit=True) as conn:
        add_store(conn, "rs", "UTC")
        create_user(conn, username="boss", password="correct horse", role=Role.ADMIN, stores=[], all_stores=True)
        add_door_minutes(conn, "rs", START, 60, entries=1)  # 60 visitors

    with (
        app_for(settings, pair, max_lag_s=3600) as tolerant,
        app_for(settings, pair, max_lag_s=1) as strict,
        connect(pair.replica, autocommit=True) as standby,
        connect(pair.primary, autocommit=True) as primary,
    ):
        assert standby.execute("SELECT pg_is_in_recovery() AS r").fetchone() == {"r": True}
        token = tolerant.post("/v1/auth/token", data={"username": "boss", "password": "correct horse"})
        assert token.status_code == 200, token.text
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}

        # Replicated: the replica answers, current.
        seen: list = []
        assert wait_until(lambda: seen.append(visitors(tolerant, auth)) or seen[-1][0] == 60, 30), seen[-1]
        value, headers = seen[-1]
        assert headers[READ_FROM] == "replica"
        assert float(headers[REPLICA_LAG]) <= 1.0

        # Replay paused, 30 more visitors on the primary.
        standby.execute("SELECT pg_wal_replay_pause()")
        add_door_minutes(primary, "rs", START.replace(hour=10), 30, entries=1)
        replayed_lsn = standby.execute("SELECT pg_last_wal_replay_lsn() AS l").fetchone()
        assert wait_until(
            lambda: (
                standby.execute("SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() AS ok").fetchone()
                == {"ok": True}
            ),
            30,
        ), "the standby never received the new WAL"
        assert wait_until(lambda: float(visitors(tolerant, auth)[1][REPLICA_LAG]) > 1.0, 30)

        # The tolerant app still reads the replica: the old number, and it says how stale.
        value, headers = visitors(tolerant, auth)
        assert value == 60
        assert headers[READ_FROM] == "replica"
        assert float(headers[REPLICA_LAG]) > 1.0
        assert standby.execute("SELECT pg_last_wal_replay_lsn() AS l").fetchone() == replayed_lsn

        # The strict app falls back to the primary: the current number, and why.
        value, headers = visitors(strict, auth)
        assert value == 90
        assert headers[READ_FROM] == "primary"
        assert float(headers[REPLICA_LAG]) > 1.0
        assert "over the 1 s allowed" in headers[READ_NOTE]

        # A login writes (last login, audit): the primary takes it while the replica is paused.
        again = strict.post("/v1/auth/token", data={"username": "boss", "password": "correct horse"})
        assert again.status_code == 200, again.text

        # Replay resumes: the replica catches up and answers the new number itself.
        standby.execute("SELECT pg_wal_replay_resume()")
        seen.clear()
        assert wait_until(lambda: seen.append(visitors(strict, auth)) or seen[-1][0] == 90, 30), seen[-1]
        assert wait_until(lambda: visitors(strict, auth)[1][READ_FROM] == "replica", 30)


def test_a_replica_that_does_not_answer_sends_reads_to_the_primary_and_says_so(settings: Settings, pair: Pair) -> None:
    db = pair.primary.model_copy(update={"replica_url": pair.primary.url_for("no_such_database")})
    with connect(pair.primary, autocommit=True) as conn:
        add_store(conn, "rs2", "UTC")
        user = f"u{secrets.token_hex(3)}"
        create_user(conn, username=user, password="correct horse", role=Role.ADMIN, stores=[], all_stores=True)
    with TestClient(create_app(settings.model_copy(update={"db": db}))) as client:
        token = client.post("/v1/auth/token", data={"username": user, "password": "correct horse"})
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        r = client.get(f"/v1/stores/rs2/kpis/summary?first={DAY}&last={DAY}", headers=auth)
        assert r.status_code == 200, r.text
        assert r.headers[READ_FROM] == "primary"
        assert "replica unavailable" in r.headers[READ_NOTE]
        plain = client.get("/v1/stores", headers=auth)
        assert READ_FROM not in plain.headers  # only fact reads are routed
