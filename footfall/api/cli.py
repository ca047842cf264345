"""Command-line entry points of `footfall.api`, registered on the root `footfall` command.

- `footfall api run` serves the API; `footfall api openapi` writes its OpenAPI document.
- `footfall users create|list|key` manage users and API keys without the API (the first admin).
- `footfall receipts import FILE` imports CSV (with a column mapping) or ARTS POSLog XML.

- `footfall models train|retrain|list`: the model lifecycle against the database (they join
  the `models` group of `footfall.models.cli` in the root command; the pure models package
  cannot reach the database). Kept here, not in `footfall.api.forecasts`, so that
  `footfall --help` does not import scikit-learn.

`footfall pos simulate` (a simulated point of sale) lives in `footfall.demo.cli`, and
`footfall bench api` in `footfall.bench.cli`.
"""

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from footfall.core.cli import console, err, fail, load_settings, read_secret, refuse_argv_password

if TYPE_CHECKING:
    from footfall.api.receipts import CsvMapping
    from footfall.api.receipts.poslog import PosLogResult
    from footfall.api.receipts.save import SaveResult

api_app = typer.Typer(help="The HTTP API.", no_args_is_help=True)
users_app = typer.Typer(help="Users, roles, store scope and API keys.", no_args_is_help=True)
receipts_app = typer.Typer(help="Point-of-sale receipts.", no_args_is_help=True)


@api_app.command("run")
def api_run(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default FOOTFALL_API__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default FOOTFALL_API__PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Serve the API (OpenAPI at /docs and /openapi.json)."""
    import uvicorn

    settings = load_settings()
    h, p = host or settings.api.host, port or settings.api.port
    err.print(f"Footfall API on http://{h}:{p} (docs at http://{h}:{p}/docs)")
    if workers > 1:
        import os
        import tempfile

        from footfall.api.metrics import MULTIPROC_ENV

        # Each worker writes its metrics to files here and /metrics adds them all up (any worker
        # answers a scrape for every one); a fresh folder per run, so no old process's counts linger.
        with tempfile.TemporaryDirectory(prefix="footfall-api-metrics-") as folder:
            os.environ[MULTIPROC_ENV] = folder
            uvicorn.run("footfall.api.main:app", host=h, port=p, workers=workers, log_config=None)
    else:
        from footfall.api.app import create_app

        uvicorn.run(create_app(settings), host=h, port=p, log_config=None)


@api_app.command("openapi")
def api_openapi(
    file: Annotated[Path | None, typer.Argument(help="Write here; default standard output.")] = None,
) -> None:
    """Print or write the OpenAPI document (no database needed)."""
    from footfall.api.app import create_app

    doc = json.dumps(create_app(load_settings()).openapi(), indent=2, sort_keys=True) + "\n"
    if file is None:
        print(doc, end="")
    else:
        file.write_text(doc, encoding="utf-8")
        console.print(f"wrote {file}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Log-in name.")],
    *,
    role: Annotated[str, typer.Option(help="admin, manager, merchandiser or alert_subscriber.")] = "manager",
    store: Annotated[list[str] | None, typer.Option("--store", help="A store in scope (repeat for several).")] = None,
    all_stores: Annotated[bool, typer.Option(help="Scope: every store.")] = False,
    password_from: Annotated[
        Path | None,
        typer.Option(
            "--password-from",
            help="Read the password from this file (first line), or from standard input with -. "
            "Default: FOOTFALL_NEW_PASSWORD, else a prompt.",
        ),
    ] = None,
    no_password: Annotated[bool, typer.Option(help="An API-key-only user.")] = False,
    password: Annotated[str | None, typer.Option(hidden=True, help="Refused: visible in `ps`.")] = None,
) -> None:
    """Create a user (the first admin is made this way). The password is prompted for, or read from a file."""
    import os

    from footfall.api.access import Actor, Role
    from footfall.api.users import create_user
    from footfall.core.errors import FootfallError
    from footfall.db.connect import connect

    if password is not None:
        raise refuse_argv_password(", the prompt, or FOOTFALL_NEW_PASSWORD") from None
    try:
        r = Role(role)
    except ValueError:
        raise fail(f"--role must be one of {', '.join(x.value for x in Role)}, not {role!r}") from None
    if not no_password:
        if password_from is not None:
            password = read_secret(password_from)
        else:
            password = os.environ.get("FOOTFALL_NEW_PASSWORD") or typer.prompt(
                "password", hide_input=True, confirmation_prompt=True
            )
    if password is not None and len(password) < 8:
        raise fail("the password must be at least 8 characters")
    settings = load_settings()
    try:
        with connect(settings.db, autocommit=True) as conn:
            u = create_user(
                conn,
                username=username,
                password=password,
                role=r,
                stores=store or [],
                all_stores=all_stores,
                actor=Actor.cli(),
            )
    except FootfallError as exc:
        raise fail(str(exc)) from None
    scope = "all stores" if u.all_stores or u.role is Role.ADMIN else ", ".join(u.stores) or "no stores"
    console.print(f"created user [bold]{u.username}[/] (id {u.user_id}, {u.role.value}; {scope})")


@users_app.command("list")
def users_list() -> None:
    """List users."""
    from rich.table import Table

    from footfall.api.users import list_users
    from footfall.core.errors import FootfallError
    from footfall.db.connect import connect

    try:
        with connect(load_settings().db, autocommit=True) as conn:
            users, _ = list_users(conn, limit=10_000)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    t = Table("id", "user", "role", "scope", "disabled")
    for u in users:
        t.add_row(
            str(u.user_id), u.username, u.role.value, "all" if u.all_stores else ", ".join(u.stores), str(u.disabled)
        )
    console.print(t)


@users_app.command("key")
def users_key(
    username: Annotated[str, typer.Argument(help="The user the key acts as.")],
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
) -> None:
    """Create an API key for a user and print it (shown once; only its hash is stored)."""
    from footfall.api.access import Actor
    from footfall.api.users import create_api_key
    from footfall.core.errors import FootfallError
    from footfall.db.connect import connect

    try:
        with connect(load_settings().db, autocommit=True) as conn:
            row = conn.execute("SELECT user_id FROM users WHERE username = %s", (username,)).fetchone()
            if row is None:
                raise fail(f"no user {username!r}; create it with `footfall users create`")
            key, plaintext = create_api_key(conn, user_id=row["user_id"], name=name, actor=Actor.cli())
    except FootfallError as exc:
        raise fail(str(exc)) from None
    err.print(f"API key {key.prefix} for {username} (store it now: it is not shown again):")
    print(plaintext)


def _mapping_from_flags(
    columns: list[str], flags: dict[str, str | None], price_list: Path | None, skip: list[str]
) -> "CsvMapping":
    from footfall.api.receipts import CsvMapping, load_price_list

    cols: dict[str, str] = {}
    for c in columns:
        field, sep, col = c.partition("=")
        if not sep or not field or not col:
            raise ValueError(f"--column {c!r}: write FIELD=CSV_COLUMN, e.g. --column receipt_id=Transaction")
        cols[field.strip()] = col.strip()
    skip_values: dict[str, list[str]] = {}
    for s in skip:
        field, sep, value = s.partition("=")
        if not sep:
            raise ValueError(f"--skip {s!r}: write FIELD=VALUE, e.g. --skip description=NONE")
        skip_values.setdefault(field, []).append(value)
    return CsvMapping.model_validate(
        {
            **{k: v for k, v in flags.items() if v is not None},
            "columns": cols,
            "price_list": load_price_list(price_list) if price_list else {},
            "skip_values": skip_values,
        }
    )


def _report_poslog(file: Path, result: "PosLogResult", saved: "SaveResult") -> None:
    for issue in result.issues:
        err.print(f"[yellow]skipped[/] {file}: {issue}")
    for conflict in saved.conflicts:
        err.print(f"[yellow]not saved[/] {file}: {conflict.message}")
    console.print(
        f"{file}: {len(result.receipts)} receipts ({saved.created} new, {saved.updated} updated, "
        f"{saved.unchanged} unchanged, {saved.duplicates} duplicate copies, "
        f"{len(saved.conflicts)} conflicting and not saved), {len(result.issues)} skipped, "
        f"{result.skipped_non_retail} non-retail transactions ignored"
    )


@receipts_app.command("import")
def receipts_import(
    file: Annotated[Path, typer.Argument(help="CSV or ARTS POSLog XML file.", exists=True, dir_okay=False)],
    *,
    mapping: Annotated[Path | None, typer.Option(help="CSV column mapping (YAML); see docs/api.md.")] = None,
    column: Annotated[
        list[str] | None, typer.Option("--column", help="FIELD=CSV_COLUMN, instead of a mapping file (repeat).")
    ] = None,
    store: Annotated[str | None, typer.Option(help="Store of every receipt (overrides the mapping's).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of timestamps without offset.")] = None,
    date_format: Annotated[
        str | None, typer.Option(help="strptime format of the date column, e.g. %m/%d/%Y (overrides the mapping's).")
    ] = None,
    time_format: Annotated[str | None, typer.Option(help="strptime format of the time column, e.g. %I:%M %p.")] = None,
    price_list: Annotated[Path | None, typer.Option(help="Price list (YAML or CSV item,price[,category]).")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="FIELD=VALUE meaning 'no item' (repeat).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, poslog, or auto (by extension).")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Receipts per transaction.")] = 2000,
) -> None:
    """Import receipts: idempotent (a second run changes nothing); bad rows are reported by line and skipped."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from footfall.api.errors import ImportFailed
    from footfall.api.receipts import CsvMapping, import_csv, parse_poslog, save_receipts
    from footfall.core.errors import FootfallError
    from footfall.db.connect import connect

    kind = fmt if fmt != "auto" else ("poslog" if file.suffix.lower() == ".xml" else "csv")
    if kind not in ("csv", "poslog"):
        raise fail(f"--format must be csv, poslog or auto, not {fmt!r}")
    settings = load_settings()
    try:
        with connect(settings.db, autocommit=True) as conn:
            if kind == "poslog":
                result = parse_poslog(file, store_id=store)
                saved = save_receipts(conn, result.receipts, source="poslog")
                _report_poslog(file, result, saved)
                return
            flags = {"store_id": store, "timezone": timezone, "date_format": date_format, "time_format": time_format}
            if mapping is not None:
                m = CsvMapping.from_yaml(mapping, overrides=flags)
            elif column:
                m = _mapping_from_flags(column, flags, price_list, skip or [])
            else:
                raise fail("give --mapping FILE or --column FIELD=COLUMN flags (see docs/api.md)")
            with Progress(
                TextColumn("[bold]importing[/] {task.description}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task(file.name, total=file.stat().st_size)
                report = import_csv(
                    conn,
                    file,
                    m,
                    batch_size=batch_size,
                    on_progress=lambda done, _total: progress.update(task, completed=done),
                )
    except ImportFailed as exc:
        raise fail(f"{file}: {exc}") from None
    except (FootfallError, ValueError) as exc:
        raise fail(str(exc)) from None
    for row_issue in report.issues[:200]:
        err.print(f"[yellow]skipped[/] {file}: {row_issue}")
    if len(report.issues) > 200:
        err.print(f"… and {len(report.issues) - 200} more problems")
    s = report.saved
    console.print(
        f"{file}: {report.rows} rows read, {report.imported_rows} imported, {report.skipped_rows} skipped "
        f"→ {report.receipts} receipts ({s.created} new, {s.updated} updated, {s.unchanged} unchanged); "
        f"{len(report.issues)} problems"
    )
    if report.issues:
        raise typer.Exit(2)


def register(app: typer.Typer, *, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `eval` group.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    app.add_typer(api_app, name="api")
    app.add_typer(users_app, name="users")
    app.add_typer(receipts_app, name="receipts")


# -- footfall models train | retrain | list ----------------------------------------------

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
    from footfall.core.cli import progress
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
