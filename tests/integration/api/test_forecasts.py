"""Forecasts, staffing and anomalies end to end: history written as ingest and the POS write it,
models trained and stored, endpoints answering with the model version."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest

from footfall.api.access import Role
from footfall.api.forecasts import anomalies, forecast, list_models, stale_stores, train_store
from footfall.api.forecasts.history import load_history
from footfall.api.kpis import store_info
from footfall.core.calendar import Interval
from tests.integration.api.conftest import Api, add_store

TZ = ZoneInfo("Europe/Riga")
HOURS = {d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
WEEKS = 5

pytestmark = pytest.mark.integration


def _rate(local: datetime) -> float:
    if not 9 <= local.hour < 21:
        return 0.0
    peak = 1.0 + (local.hour in (12, 13, 17, 18))
    return 6.0 * peak * (1.4 if local.weekday() == 5 else 1.0)


def load_store(
    conn: psycopg.Connection,
    store_id: str,
    *,
    end: datetime,
    weeks: int = WEEKS,
    flatline: tuple[datetime, datetime] | None = None,
    seed: int = 0,
) -> None:
    """Quarter-hour counts for a counter and a camera on `main`, and receipts, for `weeks` before `end`.

    Inside `flatline` the counter reports zeros while the camera and the tills carry on.
    """
    rng = np.random.default_rng(seed)
    start = end - timedelta(weeks=weeks)
    counts, receipts = [], []
    t = start
    n = 0
    while t < end:
        lam = _rate(t.astimezone(TZ)) / 4
        e = int(rng.poisson(lam))
        x = int(rng.poisson(lam))
        broken = flatline is not None and flatline[0] <= t < flatline[1]
        counts.append((f"{store_id}-ctr", t, 0 if broken else e, 0 if broken else x, n))
        counts.append((f"{store_id}-cam", t, int(rng.binomial(e, 0.95)), int(rng.binomial(x, 0.95)), n))
        for k in range(int(rng.binomial(e, 0.3))):
            receipts.append((f"{store_id}-{n}-{k}", t + timedelta(minutes=5 + k), "12.50"))
        t += timedelta(minutes=15)
        n += 1
    for device, kind in ((f"{store_id}-ctr", "counter_tcp"), (f"{store_id}-cam", "camera")):
        conn.execute(
            "INSERT INTO devices (device_id, store_id, kind) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (device, store_id, kind),
        )
    with conn.cursor() as cur:
        with cur.copy(
            "COPY door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, valid, seq) FROM STDIN"
        ) as copy:
            for device, ts, e, x, seq in counts:
                copy.write_row((store_id, device, "main", ts, ts + timedelta(minutes=15), e, x, True, seq))
        with cur.copy("COPY receipts (store_id, receipt_id, ts, total, items) FROM STDIN") as copy:
            for rid, ts, total in receipts:
                copy.write_row((store_id, rid, ts, total, 1))


def _hour(dt: datetime) -> datetime:
    return dt.replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def trained(api: Api) -> tuple[Api, datetime]:
    """Store `a` (open 9–21) with five weeks of history up to this hour, trained once."""
    now = _hour(datetime.now(UTC))
    add_store(api.conn, "a", opening_hours=HOURS)
    load_store(api.conn, "a", end=now)
    train_store(api.conn, store_info(api.conn, "a"))
    return api, now


def test_training_stores_versioned_models_with_window_features_and_scores(trained) -> None:
    api, now = trained
    store = store_info(api.conn, "a")
    rows = list_models(api.conn, ["a"])
    assert {r["metric"] for r in rows} == {"entries", "transactions", "revenue"}
    entries = next(r for r in rows if r["metric"] == "entries")
    assert (entries["version"], entries["method"], entries["slot_minutes"]) == (1, "gbm+profile", 60)
    assert entries["train_end"] <= now
    assert entries["train_end"] - entries["train_start"] >= timedelta(weeks=WEEKS) - timedelta(days=1)
    assert "slot_of_week" in entries["features"]
    assert 0 < entries["backtest"]["mase"] < 1.2
    assert entries["details"]["calendar"]["holidays"]["name"] == "LV"  # from Europe/Riga
    again = train_store(api.conn, store)
    assert {r.version for r in again} == {2}
    assert stale_stores(api.conn, older_than=timedelta(hours=1)) == []


def test_forecast_endpoint_answers_with_bands_and_the_model_version(trained) -> None:
    api, now = trained
    headers = api.as_role(Role.MANAGER, ["a"])
    today = now.astimezone(TZ).date()
    first, last = today + timedelta(days=1), today + timedelta(days=7)
    r = api.client.get(f"/v1/stores/a/forecast?first={first}&last={last}&interval=hour", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "a/entries/v1"
    assert body["count"] == 7 * 24
    assert {m["metric"] for m in body["models"]} == {"entries", "transactions", "revenue"}
    rows = body["data"]
    for row in rows:
        e = row["entries"]
        assert e["lower"] <= e["mean"] <= e["upper"]
        local_hour = datetime.fromisoformat(row["local_start"]).hour
        if not 9 <= local_hour < 21:
            assert e["upper"] == 0  # closed: nobody expected
    noon = [row["entries"]["mean"] for row in rows if datetime.fromisoformat(row["local_start"]).hour == 12]
    ten = [row["entries"]["mean"] for row in rows if datetime.fromisoformat(row["local_start"]).hour == 10]
    assert np.mean(noon) > 1.4 * np.mean(ten)  # the lunch peak is learnt
    assert rows[0]["transactions"]["mean"] < rows[0]["entries"]["mean"] + 1e-9


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("interval=15min", 2 * 96),  # quarter hours split from the hourly model
        ("interval=day", 2),  # days sum the hours
        ("interval=hour&door=main", 48),  # one door's share of the store
    ],
)
def test_forecast_intervals_and_doors(trained, query, count) -> None:
    api, now = trained
    store = store_info(api.conn, "a")
    today = now.astimezone(TZ).date()
    body = forecast(api.conn, store=store, first=today + timedelta(days=1), last=today + timedelta(days=2),
                    interval=Interval.HOUR, door=None)  # fmt: skip
    hourly_total = sum(r.entries.mean for r in body.data)
    headers = api.as_role(Role.MANAGER, ["a"])
    r = api.client.get(
        f"/v1/stores/a/forecast?first={today + timedelta(days=1)}&last={today + timedelta(days=2)}&{query}",
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["count"] == count
    total = sum(row["entries"]["mean"] for row in r.json()["data"])
    assert total == pytest.approx(hourly_total, rel=0.05)


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("first={d30}&last={d30}", "days ahead"),  # beyond the 14-day horizon
        ("first={d1}&last={d1}&interval=week", "15min, hour or day"),
        ("first={d1}&last={d1}&door=staff", "not one of the store's customer doors"),
        ("first={d2}&last={d1}", "before it starts"),
    ],
)
def test_forecast_refuses_what_it_cannot_answer(trained, query, detail) -> None:
    api, now = trained
    today = now.astimezone(TZ).date()
    q = query.format(d1=today + timedelta(days=1), d2=today + timedelta(days=2), d30=today + timedelta(days=30))
    r = api.client.get(f"/v1/stores/a/forecast?{q}", headers=api.as_role(Role.MANAGER, ["a"]))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.json()["detail"]


def test_staffing_endpoint_recommends_staff_per_hour_and_power_hours(trained) -> None:
    api, now = trained
    day = now.astimezone(TZ).date() + timedelta(days=1)
    r = api.client.get(
        f"/v1/stores/a/staffing?first={day}&last={day}&target_ratio=4&min_staff=1",
        headers=api.as_role(Role.MANAGER, ["a"]),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "a/entries/v1"
    assert body["count"] == 24
    for row in body["data"]:
        hour = datetime.fromisoformat(row["local_start"]).hour
        if 9 <= hour < 21:
            assert row["staff"] >= max(1, int(np.ceil(row["visitors"] / 4 - 1e-6)))
            assert row["staff_busy"] >= row["staff"]
        else:
            assert row["staff"] == 0
    power = [datetime.fromisoformat(p["local_start"]).hour for p in body["power_hours"]]
    assert len(power) == 3
    assert set(power) <= {12, 13, 17, 18}  # the peaks


def test_a_store_never_trained_answers_from_a_model_fitted_on_request(api: Api) -> None:
    now = _hour(datetime.now(UTC))
    add_store(api.conn, "n", opening_hours=HOURS)
    load_store(api.conn, "n", end=now, weeks=2)
    day = now.astimezone(TZ).date() + timedelta(days=1)
    r = api.client.get(f"/v1/stores/n/forecast?first={day}&last={day}", headers=api.as_role(Role.MANAGER, ["n"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "n/entries/on-request"
    entries = next(m for m in body["models"] if m["metric"] == "entries")
    assert entries["method"] == "seasonal_baseline"  # two weeks is too short for the trees
    assert any(f.startswith("short_history") for f in entries["flags"])
    assert any("footfall models train --store n" in f for f in entries["flags"])
    assert list_models(api.conn, ["n"]) == []  # nothing stored by a read


@pytest.mark.parametrize("seed", [4, 5])
def test_anomalies_find_a_flatlined_counter_while_the_camera_and_tills_carry_on(api: Api, seed: int) -> None:
    now = datetime(2026, 6, 11, tzinfo=TZ).astimezone(UTC)  # a fixed past: the same data every run
    yesterday = now.astimezone(TZ).date() - timedelta(days=1)
    broken = (
        datetime(yesterday.year, yesterday.month, yesterday.day, 11, tzinfo=TZ).astimezone(UTC),
        datetime(yesterday.year, yesterday.month, yesterday.day, 15, tzinfo=TZ).astimezone(UTC),
    )
    add_store(api.conn, "f", opening_hours=HOURS)
    load_store(api.conn, "f", end=now, flatline=broken, seed=seed)
    store = store_info(api.conn, "f")
    train_store(api.conn, store, end=broken[0] - timedelta(days=1))
    r = api.client.get(
        f"/v1/stores/f/anomalies?first={yesterday}&last={yesterday}", headers=api.as_role(Role.MANAGER, ["f"])
    )
    assert r.status_code == 200, r.text
    found = r.json()["data"]
    kinds = {(a["kind"], a["device_id"]) for a in found}
    assert ("flatline", "f-ctr") in kinds
    assert ("disagreement", None) in kinds
    flat = next(a for a in found if a["kind"] == "flatline")
    # a quiet slot just before can join the run (a true zero looks the same)
    assert broken[0] - timedelta(minutes=30) <= datetime.fromisoformat(flat["start"]) <= broken[0]
    # at 6 visitors an hour, 1-in-1000 evidence (about 7 people missed) takes a bit over an hour
    assert broken[0] < datetime.fromisoformat(flat["detected_at"]) <= broken[0] + timedelta(hours=2)
    assert "during opening hours" in flat["reason"]
    # the camera itself is fine: nothing flags it flatlined
    assert ("flatline", "f-cam") not in kinds
    # and the same query through the service, as the alerts engine calls it
    direct = anomalies(api.conn, store=store, first=yesterday, last=yesterday)
    assert direct.count == len(found)


def test_history_slots_follow_local_hours_and_leave_gaps(api: Api) -> None:
    now = _hour(datetime.now(UTC))
    add_store(api.conn, "g", opening_hours=HOURS)
    load_store(api.conn, "g", end=now - timedelta(days=3), weeks=1)
    h = load_history(api.conn, store_info(api.conn, "g"), end=now, days=14)
    assert np.isnan(h.entries[-48:]).all()  # the last days had no readings: gaps, not zeros
    assert np.nansum(h.entries) > 0
    assert json.dumps(h.series("entries") is not None)


def test_forecast_and_staffing_answer_for_the_demo_store_within_its_scope(api: Api) -> None:
    from pathlib import Path

    from footfall.core.storeconfig import StoreConfig
    from footfall.db.stores import apply_store

    cfg = StoreConfig.from_yaml(Path(__file__).resolve().parents[3] / "examples" / "store.yaml")
    apply_store(api.conn, cfg)
    now = _hour(datetime.now(UTC))
    load_store(api.conn, cfg.store.id, end=now, weeks=1)  # `footfall demo` seeds eight days
    add_store(api.conn, "elsewhere")
    tomorrow = now.astimezone(ZoneInfo(cfg.store.timezone)).date() + timedelta(days=1)
    period = f"first={tomorrow}&last={tomorrow}"
    mine = api.as_role(Role.MANAGER, [cfg.store.id])
    theirs = api.as_role(Role.MANAGER, ["elsewhere"])
    for path in (f"forecast?{period}", f"staffing?{period}&target_ratio=10", f"anomalies?{period}"):
        r = api.client.get(f"/v1/stores/{cfg.store.id}/{path}", headers=mine)
        assert r.status_code == 200, r.text
        assert r.json()["model_version"] == f"{cfg.store.id}/entries/on-request"
        other = api.client.get(f"/v1/stores/{cfg.store.id}/{path}", headers=theirs)
        assert other.status_code == 404, other.text
    body = api.client.get(f"/v1/stores/{cfg.store.id}/forecast?{period}", headers=mine).json()
    entries = next(m for m in body["models"] if m["metric"] == "entries")
    assert entries["method"] == "seasonal_baseline"  # eight days: the clearly flagged fallback
    assert sum(row["entries"]["mean"] for row in body["data"]) > 0
    closed = [row for row in body["data"] if datetime.fromisoformat(row["local_start"]).hour < 9]
    assert all(row["entries"]["upper"] == 0 for row in closed)  # the example store opens at 9 or 10


def test_models_train_and_retrain_commands_store_versions(api: Api, db, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from footfall.cli import app
    from footfall.core.settings import get_settings

    now = _hour(datetime.now(UTC))
    add_store(api.conn, "a", opening_hours=HOURS)
    add_store(api.conn, "empty")
    load_store(api.conn, "a", end=now, weeks=4)
    monkeypatch.setenv("FOOTFALL_DB__URL", db.url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(app, ["models", "train", "--store", "a", "--holidays", "none", "--json"])
        assert r.exit_code == 0, r.output
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert {(m["metric"], m["version"]) for m in out["models"]} == {
            ("entries", 1), ("transactions", 1), ("revenue", 1)
        }  # fmt: skip
        # the scheduled job: `a` is fresh, `empty` has never been trained (and has nothing to train on)
        r = runner.invoke(app, ["models", "retrain", "--older-than", "1h", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout.strip().splitlines()[-1]) == {"stores": 1, "models": []}
        r = runner.invoke(app, ["models", "retrain", "--older-than", "0m", "--json"])
        assert {m["version"] for m in json.loads(r.stdout.strip().splitlines()[-1])["models"]} == {2}
        r = runner.invoke(app, ["models", "retrain", "--older-than", "soon"])
        assert r.exit_code == 1
        assert "24h" in r.output
        r = runner.invoke(app, ["models", "list", "--store", "a", "--json"])
        assert len(json.loads(r.stdout)) == 6
        r = runner.invoke(app, ["models", "train", "--store", "a"])  # for people: a table (narrow here)
        assert r.exit_code == 0, r.output
        assert "v3" in r.output
        r = runner.invoke(app, ["models", "list"])
        assert r.exit_code == 0, r.output
        assert "v1" in r.output
        r = runner.invoke(app, ["models", "train", "--store", "a", "--holidays", "XX"])
        assert r.exit_code == 1
        assert "unknown holiday preset 'XX'" in " ".join(r.output.split())
    finally:
        get_settings.cache_clear()


def test_plan_vs_fact_projects_the_month_from_the_revenue_forecast(trained) -> None:
    api, now = trained
    month = now.astimezone(TZ).date().replace(day=1)
    api.conn.execute("INSERT INTO plans (store_id, month, revenue_target) VALUES ('a', %s, 100000)", (month,))
    r = api.client.get(f"/v1/stores/a/plan-vs-fact?month={month:%Y-%m}", headers=api.as_role(Role.MANAGER, ["a"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["days_left"] >= 1
    band = body["forecast_projection"]
    assert body["forecast_model_version"] == "a/revenue/v1"
    fact = float(body["revenue_fact"])  # money is a decimal string
    assert fact <= band["lower"] <= band["mean"] <= band["upper"]
    # about 6 people an hour, 30 % buying at 12.50, 12 hours a day: ~ 300 a day still to come
    assert 100 * body["days_left"] < band["mean"] - fact < 800 * body["days_left"]


def test_a_stored_model_that_cannot_be_loaded_is_refitted_on_request_and_flagged(trained) -> None:
    api, now = trained
    api.conn.execute("UPDATE trained_models SET model = 'not a pickle'::bytea WHERE metric = 'entries'")
    day = now.astimezone(TZ).date() + timedelta(days=1)
    r = api.client.get(f"/v1/stores/a/forecast?first={day}&last={day}", headers=api.as_role(Role.MANAGER, ["a"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "a/entries/on-request"
    entries = next(m for m in body["models"] if m["metric"] == "entries")
    assert any("stored entries v1 could not be loaded" in f for f in entries["flags"])
    revenue = next(m for m in body["models"] if m["metric"] == "revenue")
    assert revenue["version"] == 1  # the others still come from the store


def test_models_fitted_on_request_are_fitted_once_per_history(api: Api) -> None:
    # The manager's page asks for the forecast, staffing and anomalies at once: without a
    # stored model, the same history is fitted once and shared; new data means a new fit.
    from concurrent.futures import ThreadPoolExecutor

    from footfall.api.forecasts.service import load_models

    now = _hour(datetime.now(UTC))
    add_store(api.conn, "u", opening_hours=HOURS)
    load_store(api.conn, "u", end=now - timedelta(hours=2), weeks=3)
    store = store_info(api.conn, "u")
    with ThreadPoolExecutor(3) as pool:
        loaded = list(pool.map(lambda _: load_models(api.conn, store, now=now), range(3)))
    first = loaded[0]["entries"]
    assert first.version is None
    assert "fitted on request" in first.extra_flags[0]
    assert all(one["entries"].forecaster is first.forecaster for one in loaded)
    assert load_models(api.conn, store, now=now)["entries"].forecaster is first.forecaster
    api.conn.execute(
        "INSERT INTO receipts (store_id, receipt_id, ts, total, items) VALUES ('u', 'late-1', %s, '12.50', 1)",
        (now - timedelta(minutes=90),),
    )
    assert load_models(api.conn, store, now=now)["entries"].forecaster is not first.forecaster
