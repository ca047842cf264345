"""`footfall demo`: the end-to-end demo on embedded defaults.

It creates the database if needed, applies the migrations and the example store, and
reports what it set up. The ingest, edge and API issues extend it into a running store.
"""

import logging
from importlib import resources
from pathlib import Path

from rich.console import Console

from footfall.core.settings import Settings
from footfall.core.storeconfig import StoreConfig

logger = logging.getLogger(__name__)


def example_store_path() -> Path:
    """The example store shipped in the checkout (or inside the package when installed)."""
    here = Path(__file__).resolve().parent.parent / "examples" / "store.yaml"
    if here.exists():
        return here
    return Path(str(resources.files("footfall").joinpath("examples", "store.yaml")))


def run_demo(settings: Settings, console: Console, *, minutes: float | None = None) -> None:
    """Set up the demo database and store, then run the store until Ctrl-C (or for `minutes`)."""
    from footfall.db.connect import connect, ensure_database
    from footfall.db.migrate import info, migrate
    from footfall.db.stores import apply_store

    if ensure_database(settings.db):
        console.print(f"created database [bold]{settings.db.dbname}[/]")
    flavour, applied = migrate(settings.db)
    console.print(f"schema: {len(applied)} migration(s) applied; storage path [bold]{flavour}[/]")
    cfg = StoreConfig.from_yaml(example_store_path())
    with connect(settings.db) as conn:
        result = apply_store(conn, cfg)
    state = "created/updated" if result.changed else "already up to date"
    console.print(f"store [bold]{cfg.store.id}[/] ({cfg.store.name}, {cfg.store.timezone}): {state}")
    i = info(settings.db)
    console.print(
        f"database {i.location}: PostgreSQL {i.server_version}, TimescaleDB {i.timescale_version or 'not in use'}"
    )
    run_store(settings, console, cfg, minutes=minutes)


def run_store(settings: Settings, console: Console, cfg: StoreConfig, *, minutes: float | None = None) -> None:
    """Run the simulated store: the API with a POS posting receipts (door traffic comes from
    the edge agent and ingest once they are wired in here)."""
    import time

    from footfall.api.demo import start_api_demo

    api = start_api_demo(settings, cfg, console)
    console.print("\nrunning; Ctrl-C to stop" if minutes is None else f"\nrunning for {minutes:g} min")
    deadline = None if minutes is None else time.monotonic() + minutes * 60
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
        if api.pos:
            s = api.pos.stats
            console.print(f"POS posted {s.posted} receipts ({s.created} new, {s.failures} failed attempts)")
