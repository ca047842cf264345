"""The API part of `footfall demo`: a real port, a POS posting receipts, URLs that return numbers."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
from rich.console import Console

from footfall.core.settings import DbSettings, Settings
from footfall.core.storeconfig import StoreConfig
from footfall.db.stores import apply_store
from footfall.demo.api import DEMO_PASSWORD, DEMO_USER, start_api_demo
from footfall.demo.pos import PosSimulator
from footfall.devtools.services import free_port
from tests.integration.api.conftest import add_door_minutes

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "store.yaml"


def test_demo_serves_kpi_urls_with_real_numbers_for_the_demo_login(
    settings: Settings, db: DbSettings, aconn: psycopg.Connection
) -> None:
    cfg = StoreConfig.from_yaml(EXAMPLE)
    apply_store(aconn, cfg)
    # a day of door counts, as `footfall demo` replays before the API starts, so forecasts answer
    add_door_minutes(aconn, cfg.store.id, datetime.now(UTC) - timedelta(days=1), 24 * 60, entries=lambda i: i % 3)
    s = settings.model_copy(update={"db": db, "api": settings.api.model_copy(update={"port": free_port()})})
    demo = start_api_demo(s, cfg, Console(file=io.StringIO()))
    try:
        with httpx.Client(base_url=demo.base_url, timeout=30) as http:
            token = http.post("/v1/auth/token", data={"username": DEMO_USER, "password": DEMO_PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            summary = http.get(demo.urls["yesterday vs the same weekday last week"], headers=headers).json()
            values = {v["kpi"]: v for v in summary["data"]}
            assert values["transactions"]["value"] > 50
            assert values["transactions"]["comparison"] > 50
            assert Decimal(values["revenue"]["value"]) > 0  # money is a decimal string
            for label, url in demo.urls.items():
                r = http.get(url, headers=headers)
                assert r.status_code == 200, (label, r.text)
            csv = http.get(demo.urls["last 7 days by day (CSV)"], headers={**headers, "Accept": "text/csv"})
            assert csv.text.startswith("date,visitors,")
            plan = http.get(demo.urls["plan vs fact this month"], headers=headers).json()
            assert plan["revenue_plan"] == "150000.00"
    finally:
        demo.stop()
    assert demo.pos is not None
    assert demo.pos.stats.failures == 0
    assert not demo.pos.pending


def test_pos_simulator_is_deterministic_and_follows_opening_hours() -> None:
    sim = PosSimulator(store_id="riga-01", timezone="Europe/Riga", seed=3)
    day = datetime(2026, 6, 3, tzinfo=UTC)
    a = sim.receipts_between(day, day + timedelta(days=1))
    b = PosSimulator(store_id="riga-01", timezone="Europe/Riga", seed=3).receipts_between(day, day + timedelta(days=1))
    assert [r["receipt_id"] for r in a] == [r["receipt_id"] for r in b]
    hours = {datetime.fromisoformat(r["ts"]).astimezone(sim_zone()).hour for r in a}
    assert hours <= set(range(7, 22))  # closed at night
    assert len({r["receipt_id"] for r in a}) >= len(a) - sum(1 for r in a if r.get("voided"))


def sim_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Riga")


def test_demo_login_left_alone_when_a_previous_start_made_it_so(db: DbSettings, aconn: psycopg.Connection) -> None:
    """A later demo start does not re-hash an unchanged login (so it does not log its sessions out);
    a login someone changed is put back as printed."""
    from footfall.api.access import Role
    from footfall.api.security import verify_password
    from footfall.api.users import update_user
    from footfall.demo.chain import ensure_login

    cfg = StoreConfig.from_yaml(EXAMPLE)
    apply_store(aconn, cfg)

    def state() -> tuple[str, int, list[str]]:
        row = aconn.execute("SELECT password_hash, token_version FROM users WHERE username = 'demo-x'").fetchone()
        stores = [r["store_id"] for r in aconn.execute("SELECT store_id FROM user_stores ORDER BY 1")]
        return row["password_hash"], row["token_version"], stores

    user_id = ensure_login(aconn, username="demo-x", password="pw-1", role=Role.MANAGER, stores=["riga-01"])
    first = state()
    assert ensure_login(aconn, username="demo-x", password="pw-1", role=Role.MANAGER, stores=["riga-01"]) == user_id
    assert state() == first  # same hash, same token version: nothing touched

    update_user(aconn, user_id=user_id, password="changed by someone")
    assert ensure_login(aconn, username="demo-x", password="pw-1", role=Role.MANAGER, stores=["riga-01"]) == user_id
    hash_now, version_now, _ = state()
    assert verify_password("pw-1", hash_now)
    assert version_now > first[1]  # tokens issued for the other password no longer work
