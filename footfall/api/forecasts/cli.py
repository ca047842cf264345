"""`footfall models train | retrain | list`: the model lifecycle against the database.

These join the `models` group of `footfall.models.cli` in the root command (the pure
models package cannot reach the database).

- `footfall models train [--store S]…` fits and stores every (or the named) store's models,
  with a progress bar;
- `footfall models retrain --older-than 24h` retrains stores whose newest model is older
  (what a cron job or the alerts engine runs on a schedule);
- `footfall models list [--store S]` shows the stored versions and their held-out scores.
"""

import json
import re
from datetime import date, timedelta
from typing import Annotated

import typer

from footfall.core.cli import console, err, fail, load_settings, progress

DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhd])$")


def _duration(text: str) -> timedelta:
    m = DURATION.match(text.strip())
    if not m:
        raise fail(f"--older-than {text!r}: write a number and m, h or d (e.g. 30m, 24h, 7d)")
    n, unit = float(m.group(1)), m.group(2)
    return timedelta(minutes=n) if unit == "m" else timedelta(hours=n) if unit == "h" else timedelta(days=n)


def _train(store_ids: list[str] | None, *, holidays: str | None, extra: list[str], as_json: bool, days: int) -> None:
    from footfall.api.forecasts import holiday_calendar, train_store
    from footfall.api.kpis import all_store_ids, store_info
    from footfall.core.errors import FootfallError
    from footfall.db.connect import connect

    try:
        extra_dates = tuple(date.fromisoformat(d) for d in extra)
    except ValueError as exc:
        raise fail(f"--holiday-date: {exc}; write YYYY-MM-DD") from None
    settings = load_settings()
    rows = []
    try:
        with connect(settings.db, autocommit=True) as conn:
            ids = store_ids or all_store_ids(conn)
            stores = [store_info(conn, s) for s in ids]
            with progress() as bar:
                task = bar.add_task("training", total=len(stores))
                for store in stores:
                    bar.update(task, description=f"training {store.store_id}")
                    cal = holiday_calendar(store, holidays, extra_dates)
                    for r in train_store(conn, store, holidays=cal, days=days):
                        rows.append(r)
                    bar.advance(task)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    out = [
        {
            "store_id": r.store_id,
            "metric": r.metric,
            "version": r.version,
            "method": r.method,
            "train_start": r.train_start.isoformat(),
            "train_end": r.train_end.isoformat(),
            "backtest": r.backtest,
            "flags": list(r.flags),
            "fit_s": round(r.seconds, 3),
        }
        for r in rows
    ]
    if as_json:
        print(json.dumps({"stores": len(stores), "models": out}))
        return
    from rich.table import Table

    t = Table("store", "metric", "version", "method", "window", "held-out mase", "coverage_80", "flags")
    for r in rows:
        t.add_row(r.store_id, r.metric, f"v{r.version}", r.method,
                  f"{r.train_start:%Y-%m-%d} … {r.train_end:%Y-%m-%d}", str(r.backtest.get("mase")),
                  str(r.backtest.get("coverage_80")), "; ".join(r.flags))  # fmt: skip
    console.print(t)
    if not rows:
        err.print("no store has door counts or receipts yet: nothing to train")


def models_train(
    *,
    store: Annotated[list[str] | None, typer.Option("--store", help="A store to train (repeat); default all.")] = None,
    holidays: Annotated[
        str | None, typer.Option(help="Holiday preset (LV, EE, LT, DE, GB, US, none); default from the time zone.")
    ] = None,
    holiday_date: Annotated[
        list[str] | None, typer.Option("--holiday-date", help="An extra holiday, YYYY-MM-DD (repeat).")
    ] = None,
    days: Annotated[int, typer.Option(min=7, max=730, help="Days of history to learn from.")] = 365,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fit and store stores' forecast models (entries, transactions, revenue) as new versions."""
    _train(store, holidays=holidays, extra=holiday_date or [], as_json=as_json, days=days)


def models_retrain(
    *,
    older_than: Annotated[str, typer.Option(help="Retrain stores whose newest model is older (30m, 24h, 7d).")] = "24h",
    holidays: Annotated[str | None, typer.Option(help="Holiday preset; default from the time zone.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Retrain stale stores (and stores never trained): the scheduled job for cron or the engine."""
    from footfall.api.forecasts import stale_stores
    from footfall.core.errors import FootfallError
    from footfall.db.connect import connect

    age = _duration(older_than)
    try:
        with connect(load_settings().db, autocommit=True) as conn:
            ids = stale_stores(conn, older_than=age)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    if not ids:
        if as_json:
            print(json.dumps({"stores": 0, "models": []}))
        else:
            console.print(f"every store has a model newer than {older_than}: nothing to do")
        return
    _train(ids, holidays=holidays, extra=[], as_json=as_json, days=365)


def models_list(
    *,
    store: Annotated[list[str] | None, typer.Option("--store", help="A store (repeat); default all.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Stored model versions with their training window, features and held-out scores."""
    from footfall.api.forecasts import list_models
    from footfall.api.kpis import all_store_ids
    from footfall.core.errors import FootfallError
    from footfall.db.connect import connect

    try:
        with connect(load_settings().db, autocommit=True) as conn:
            rows = list_models(conn, store or all_store_ids(conn))
    except FootfallError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(rows, default=str))
        return
    from rich.table import Table

    t = Table("store", "metric", "version", "method", "trained", "window", "held-out mase", "coverage_80")
    for r in rows:
        t.add_row(r["store_id"], r["metric"], f"v{r['version']}", r["method"], f"{r['trained_at']:%Y-%m-%d %H:%M}",
                  f"{r['train_start']:%Y-%m-%d} … {r['train_end']:%Y-%m-%d}", str(r["backtest"].get("mase")),
                  str(r["backtest"].get("coverage_80")))  # fmt: skip
    console.print(t)
