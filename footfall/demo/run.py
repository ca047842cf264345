"""`footfall demo`: the end-to-end demo on embedded defaults.

One store (`examples/store.yaml`) runs end to end on this machine:

- firmware stubs play its three door counters (a TCP beam counter, an HTTP-push stereo
  sensor, an MQTT-native counter) with scripted people;
- the edge agent (`examples/edge.yaml`, ports moved to free ones) reads them, queues every
  minute in its durable outbox and publishes over MQTT;
- the ingest worker takes the stream from the broker into PostgreSQL;
- a POS simulator posts receipts to the API, which serves KPIs to a demo login.

So that week-on-week comparisons have something to compare, the agent's outbox is first
seeded with door counts for the last days the store has none for — exactly what an edge
box replays after being offline — and they travel the same agent → broker → ingest path.
"""

import logging
import math
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from footfall.core.settings import Settings
from footfall.core.storeconfig import DoorKind, StoreConfig
from footfall.demo.chain import ChainLive, ChainSetup, prepare_chain, print_logins

if TYPE_CHECKING:
    import httpx

    from footfall.core.messages import CountsReading
    from footfall.edge.agent import Agent
    from footfall.edge.config import EdgeConfig
    from footfall.ingest.worker import IngestWorker

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
HISTORY_DAYS = 8
STALL_S = 45.0
"""Give up waiting for the replayed backlog after this long without progress."""
CAMERA_HISTORY_DAYS = 1
"""Past days (besides today) with camera sessions: each session costs a few seconds of CPU."""
NON_INTERACTIVE_MINUTES = 2.0
"""How long the demo runs live when nobody can press Ctrl-C (no terminal on stdin)."""


def example_path(name: str) -> Path:
    """An example file shipped in the checkout (or inside the package when installed)."""
    here = ROOT / "examples" / name
    if here.exists():
        return here
    return Path(str(resources.files("footfall").joinpath("examples", name)))


def example_store_path() -> Path:
    """The example store."""
    return example_path("store.yaml")


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(settings: Settings, console: Console, *, minutes: float | None = None, speed: float = 1.0) -> None:
    """Set up the demo database and store, then run the store live.

    Args:
        settings: process settings (database, broker, API port).
        console: where to report.
        minutes: how long to run live; None runs until Ctrl-C when a terminal is attached
            and for two minutes otherwise.
        speed: the simulated clock speed of the chain's other stores (footfall.demo.chain).
    """
    from footfall.db.connect import connect, ensure_database
    from footfall.db.migrate import info, migrate
    from footfall.db.stores import apply_store

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_like_ctrl_c)  # `kill`, `docker stop`: the same clean stop as Ctrl-C
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
    chain = prepare_chain(settings, console, cfg, speed=speed)
    if minutes is None and not sys.stdin.isatty():
        minutes = NON_INTERACTIVE_MINUTES
    run_store(settings, console, cfg, minutes=minutes, chain=chain)


def demo_edge_config(settings: Settings, store_file: Path, *, camera_clip: Path | None = None) -> "EdgeConfig":
    """`examples/edge.yaml` with free local ports, the queue under FOOTFALL_EDGE__DATA_DIR, a fast replay,
    and the ceiling camera playing `camera_clip` in real time when given."""
    from footfall.demo.camera import CAMERA_ID, vision_options_path
    from footfall.devtools.services import free_port
    from footfall.edge.config import CameraOptions, DeviceOptions, EdgeConfig, MqttCounter, TcpCounter

    base = EdgeConfig.from_yaml(example_path("edge.yaml"))
    devices: list[DeviceOptions] = []
    for dev in base.devices:
        if isinstance(dev, TcpCounter):
            devices.append(dev.model_copy(update={"host": "127.0.0.1", "port": free_port()}))
        elif isinstance(dev, MqttCounter):
            # The counter's own topic sits under the deployment prefix, so demos on one broker stay apart.
            topic = f"{settings.mqtt.prefix}/local/{dev.id}/counters"
            # Client ids under the prefix too: two demos on one broker must not take over each other's sessions.
            client_id = f"footfall-edge-{settings.mqtt.prefix}-{dev.id}"
            devices.append(
                dev.model_copy(
                    update={
                        "host": settings.mqtt.host,
                        "port": settings.mqtt.port,
                        "topic": topic,
                        "client_id": client_id,
                    }
                )
            )
        else:
            devices.append(dev)
    return base.model_copy(
        update={
            "store_file": store_file,
            "data_dir": settings.edge.data_dir.resolve() / f"demo-{base.store_id}",
            "heartbeat_s": 10.0,
            "http": base.http.model_copy(update={"host": "127.0.0.1", "port": free_port()}),
            # The upstream broker is the demo's own (FOOTFALL_MQTT__*), not the file's.
            "mqtt": base.mqtt.model_copy(
                update={
                    "host": None,
                    "port": None,
                    "prefix": None,
                    "client_id": f"footfall-edge-{settings.mqtt.prefix}-{base.device_id}",
                }
            ),
            "queue": base.queue.model_copy(update={"replay_readings_per_s": 20_000.0, "batch_readings": 1000}),
            "devices": devices,
            "cameras": [
                CameraOptions(id=CAMERA_ID, source=str(camera_clip), options_file=vision_options_path(), realtime=True)
            ]
            if camera_clip is not None
            else [],
        }
    )


@dataclass(frozen=True)
class _Door:
    device_id: str
    door_id: str
    share: float
    passersby: bool
    staff: bool


def _door_plan(cfg: StoreConfig, edge: "EdgeConfig") -> list[_Door]:
    kinds = {d.id: d for d in cfg.doors}
    customer = [d for d in cfg.doors if d.kind is DoorKind.CUSTOMER]
    out = []
    lines = {d.id: [ln.door for ln in d.lines] for d in cfg.devices}
    sources = [(dev.id, edge.doors_of(dev)) for dev in edge.devices]
    sources += [(cam.id, lines.get(cam.id, [])) for cam in edge.cameras]  # a camera's counting lines
    for device_id, doors in sources:
        for door in doors:
            d = kinds[door]
            staff = d.kind is DoorKind.STAFF
            share = 0.0 if staff else (0.7 if d.id == customer[0].id else 0.3 / max(1, len(customer) - 1))
            out.append(_Door(device_id, door, share, d.outward_counter, staff))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    # Knuth's method is fine for the small per-minute rates of one door.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def history_readings(
    cfg: StoreConfig, edge: "EdgeConfig", *, start: datetime, end: datetime, conversion: float = 0.28
) -> dict[str, list["CountsReading"]]:
    """Per-minute door counts for `[start, end)`, shaped like the POS simulator's day.

    Returns:
        {device_id: [CountsReading, …]} with entries/exits (and passers-by on an outward
        counter), deterministic per minute.
    """
    from footfall.core.messages import CountsReading
    from footfall.demo.pos import PosSimulator

    pos = PosSimulator(
        store_id=cfg.store.id, timezone=cfg.store.timezone, opening_hours=cfg.store.opening_hours, seed=42
    )
    doors = _door_plan(cfg, edge)
    out: dict[str, list[CountsReading]] = {d.device_id: [] for d in doors}
    t = start.replace(second=0, microsecond=0)
    while t < end:
        visitors = pos.rate(t) / conversion
        rng = random.Random(f"demo/{cfg.store.id}/{int(t.timestamp())}")
        for d in doors:
            lam = 0.05 if d.staff and visitors > 0 else visitors * d.share
            late = pos.rate(t - timedelta(minutes=20)) / conversion * d.share if not d.staff else lam
            entries, exits = _poisson(rng, lam), _poisson(rng, late)
            past = _poisson(rng, 6 * lam + 2) if d.passersby else None
            out[d.device_id].append(
                CountsReading(
                    start=t,
                    end=t + timedelta(minutes=1),
                    door_id=d.door_id,
                    entries=entries,
                    exits=exits,
                    passersby=past,
                )
            )
        t += timedelta(minutes=1)
    return out


def _seed_history(settings: Settings, cfg: StoreConfig, agent: "Agent", console: Console) -> int:
    """Put the door counts the database lacks (up to HISTORY_DAYS) into the agent's outbox.

    The camera's door gets counts too, outside its pipeline sessions, as if it had been
    running all along: otherwise its door would be uncovered most of the time and the
    store's conversion withheld (door data incomplete).
    """
    from footfall.core.calendar import StoreCalendar
    from footfall.core.topics import Kind
    from footfall.db.connect import connect

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    cal = StoreCalendar(cfg.store.timezone)
    floor = cal.day_start(cal.local_date(now) - timedelta(days=HISTORY_DAYS))
    with connect(settings.db) as conn:
        row = conn.execute(
            "SELECT max(end_ts) AS last FROM door_counts WHERE store_id = %s AND end_ts <= %s",
            (cfg.store.id, now),
        ).fetchone()
    start = max(floor, (row and row["last"]) or floor)
    # The live agent's first minute is the current one; history stops a minute short of it.
    end = now - timedelta(minutes=1)
    if end <= start:
        return 0
    total = 0
    # The camera's own minutes come from its pipeline runs (`_seed_camera`), not from here.
    from footfall.demo.camera import CAMERA_ID, SESSION_S, session_starts

    sessions = [(s, s + timedelta(seconds=SESSION_S)) for s in session_starts(cfg, now=now, days=CAMERA_HISTORY_DAYS)]
    for device_id, all_readings in history_readings(cfg, agent.cfg, start=start, end=end).items():
        readings = [
            r for r in all_readings if device_id != CAMERA_ID or not any(lo <= r.start < hi for lo, hi in sessions)
        ]
        for i in range(0, len(readings), 5000):
            agent.sink.put(Kind.COUNTS, device_id, readings[i : i + 5000])
        total += len(readings)
    console.print(
        f"edge agent: {total:,} minutes of door counts since {cal.local(start):%Y-%m-%d %H:%M} queued for replay"
    )
    return total


def _seed_camera(settings: Settings, cfg: StoreConfig, agent: "Agent", console: Console) -> None:
    """Run the camera's history sessions the database lacks through the pipeline into the outbox."""
    from footfall.db.connect import connect
    from footfall.demo.camera import CAMERA_ID, SESSION_S, seed_camera_history, session_starts

    starts = session_starts(cfg, now=datetime.now(UTC), days=CAMERA_HISTORY_DAYS)
    with connect(settings.db) as conn:
        have = {
            r["start_ts"]
            for r in conn.execute(
                "SELECT DISTINCT start_ts FROM zone_visits WHERE device_id = %s AND start_ts = ANY(%s)",
                (CAMERA_ID, starts),
            )
        }
    todo = [s for s in starts if s not in have]
    if not todo:
        return
    t0 = time.monotonic()
    frames = seed_camera_history(cfg, agent.sink, starts=todo)
    console.print(
        f"camera {CAMERA_ID}: {len(todo)} sessions of {SESSION_S / 60:g} min ({frames:,} frames) through the vision "
        f"pipeline in {time.monotonic() - t0:.0f} s, queued for replay"
    )


def _wait_for_rows(settings: Settings, store_id: str, *, since: datetime, rows: int, console: Console) -> None:
    """A progress bar until ingest has written the replayed minutes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from footfall.db.connect import connect, scalar

    if rows <= 0:
        return
    with (
        connect(settings.db, autocommit=True) as conn,
        Progress(
            TextColumn("replaying the backlog: agent → broker → ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar,
    ):
        task = bar.add_task("replay", total=rows)
        seen, stalled_since = -1, time.monotonic()
        while time.monotonic() - stalled_since < STALL_S:
            n = scalar(
                conn, "SELECT count(*) FROM door_counts WHERE store_id = %s AND received_at >= %s", (store_id, since)
            )
            bar.update(task, completed=min(n, rows))
            if n >= rows:
                return
            if n > seen:
                seen, stalled_since = n, time.monotonic()
            time.sleep(0.5)
    console.print(
        f"[yellow]no door counts arrived for {STALL_S:.0f} s: check that the agent and ingest use the same broker "
        "and topic prefix (FOOTFALL_MQTT__*), that no other process uses their MQTT client ids (an ERROR "
        "'took over the session' in the log), and `footfall doctor` for the broker's queue limit; "
        "the numbers below may be incomplete[/]"
    )


def _report(base_url: str, store_id: str, today: date, console: Console, *, out_dir: Path | None = None) -> None:
    """Ask the API, as the demo login, for a few numbers and show them."""
    import httpx

    from footfall.demo.api import DEMO_PASSWORD, DEMO_USER

    yesterday = today - timedelta(days=1)
    with httpx.Client(base_url=base_url, timeout=30) as http:
        token = http.post("/v1/auth/token", data={"username": DEMO_USER, "password": DEMO_PASSWORD})
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        for label, first, last in (("yesterday", yesterday, yesterday), ("today so far", today, today)):
            r = http.get(
                f"/v1/stores/{store_id}/kpis/summary",
                params={"first": str(first), "last": str(last), "compare": "same_weekday_last_week"},
                headers=headers,
            )
            r.raise_for_status()
            console.print(f"  {label}: " + _summary_line(r.json()), highlight=False)
        console.print("  (in brackets: change against the same weekday last week)", highlight=False)
        _merch_report(http, headers, store_id, today, console, out_dir=out_dir)


def _merch_report(
    http: "httpx.Client", headers: dict[str, str], store_id: str, today: date, console: Console, *, out_dir: Path | None
) -> None:
    """Zones and slow movers in a line each, and the heatmap PNG saved next to the agent's queue."""
    yesterday = today - timedelta(days=1)
    period = {"first": str(yesterday), "last": str(today)}
    zones = http.get(f"/v1/stores/{store_id}/zones", params=period, headers=headers)
    if zones.status_code == 200:
        z = zones.json()
        parts = [
            f"{r['zone_id']} reach {r['reach'] or 0:.0%} dwell {r['dwell_median_s'] or 0:.0f} s"
            for r in z["data"]
            if r["kind"] == "area" and r["categories"]
        ]
        console.print(f"  zones (yesterday and today): {', '.join(parts)}", highlight=False)
        console.print(
            f"  dead zones: {', '.join(z['dead_zones']) or 'none'}; hot spots: {', '.join(z['hot_spots']) or 'none'}",
            highlight=False,
        )
    week = {"first": str(today - timedelta(days=7)), "last": str(today)}
    products = http.get(f"/v1/stores/{store_id}/sales/products", params=week, headers=headers)
    if products.status_code == 200:
        slow = [f"{p['sku']} ({p['units']:g} sold)" for p in products.json()["data"][:4]]
        console.print(f"  slowest movers this week: {', '.join(slow)}", highlight=False)
    png = http.get(f"/v1/stores/{store_id}/heatmap", params=period, headers={**headers, "Accept": "image/png"})
    if png.status_code == 200 and out_dir is not None:
        out = out_dir / "heatmap.png"
        out.write_bytes(png.content)
        console.print(f"  heatmap of yesterday and today drawn on the floor plan: {out}", highlight=False)


def _summary_line(body: dict) -> str:
    """`visitors 1,904 (+2.0 % vs same weekday last week), …` from a KPI summary response."""
    rows = {row["kpi"]: row for row in body.get("data", [])}
    parts = []
    for key, fmt in (
        ("visitors", "{:,.0f}"),
        ("transactions", "{:,.0f}"),
        ("conversion", "{:.1%}"),
        ("atv", "{:,.2f}"),
        ("revenue", "{:,.2f}"),
    ):
        row = rows.get(key, {})
        value, ratio = row.get("value"), row.get("change_ratio")
        # money comes as a decimal string ("283.40"): format it as a Decimal, never through float
        text = "—" if value is None else fmt.format(Decimal(value) if isinstance(value, str) else value)
        if ratio is not None:
            text += f" ({ratio:+.1%})"
        parts.append(f"{key} {text}")
    return ", ".join(parts)


def _train_models(settings: Settings, console: Console, *, older_than: timedelta = timedelta(hours=24)) -> None:
    """Train the forecast models of stores without a model from the last day, as the nightly
    `footfall models retrain` would: the pages then show stored models, not fits on request."""
    from footfall.api.forecasts import stale_stores, train_store
    from footfall.api.kpis import store_info
    from footfall.db.connect import connect

    t0 = time.monotonic()
    with connect(settings.db, autocommit=True) as conn:
        ids = stale_stores(conn, older_than=older_than)
        for store_id in ids:
            train_store(conn, store_info(conn, store_id))
    if ids:
        console.print(
            f"forecast models: trained {', '.join(ids)} in {time.monotonic() - t0:.1f} s "
            f"(kept for {older_than.total_seconds() / 3600:g} h; `footfall models retrain` is the nightly job)"
        )


def _run_live(minutes: float | None, console: Console) -> None:
    console.print("\nrunning; Ctrl-C to stop" if minutes is None else f"\nrunning live for {minutes:g} min")
    deadline = None if minutes is None else time.monotonic() + minutes * 60
    while deadline is None or time.monotonic() < deadline:
        time.sleep(0.5)


def _drain(ingest: "IngestWorker", quiet_s: float = 1.0, most_s: float = 10.0) -> None:
    """Let ingest write what the agent sent last (its goodbye status) before it stops."""
    deadline = time.monotonic() + most_s
    last, quiet_from = -1, time.monotonic()
    while time.monotonic() < deadline:
        st = ingest.stats
        if st.received != last:
            last, quiet_from = st.received, time.monotonic()
        elif st.acked >= st.received and time.monotonic() - quiet_from >= quiet_s:
            return
        time.sleep(0.1)


def _live_clip(settings: Settings, cfg: StoreConfig, minutes: float | None) -> Path:
    """The camera's live clip, as long as the live run (at most 10 minutes; rendered once)."""
    from footfall.demo.camera import render_clip

    clip_s = 60.0 * min(10.0, (minutes if minutes is not None else 5.0) + 0.5)
    folder = settings.edge.data_dir.resolve() / f"demo-{cfg.store.id}"
    folder.mkdir(parents=True, exist_ok=True)
    return render_clip(cfg, folder / f"camera-live-{clip_s:.0f}s.mp4", duration_s=clip_s)


def run_store(  # noqa: PLR0915 - one linear script: start, run, stop in order
    settings: Settings,
    console: Console,
    cfg: StoreConfig,
    *,
    minutes: float | None = None,
    chain: "ChainSetup | None" = None,
) -> None:
    """Run the simulated store end to end until Ctrl-C (or for `minutes`); with `chain`, the chain's
    other stores live beside it (footfall.demo.chain)."""
    from footfall.core.calendar import StoreCalendar
    from footfall.core.clock import SystemClock
    from footfall.demo.api import start_api_demo
    from footfall.demo.stubs import stub_specs
    from footfall.edge.agent import Agent
    from footfall.firmware_stubs.store import SimStore, TrafficRates
    from footfall.ingest.worker import IngestWorker

    started = datetime.now(UTC)
    ingest = IngestWorker(
        settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"metrics_port": 0})})
    )
    ingest.start()
    console.print("ingest: subscribed to the broker (shared subscription), writing to PostgreSQL")
    edge_cfg = demo_edge_config(settings, example_store_path(), camera_clip=_live_clip(settings, cfg, minutes))
    agent = Agent(edge_cfg, settings=settings)
    sim = None
    api = None
    live = None
    try:
        agent.start()
        console.print(
            f"edge agent: {len(edge_cfg.devices)} counters, {len(edge_cfg.cameras)} camera, queue in {agent.data_dir}"
        )
        seeded = _seed_history(settings, cfg, agent, console)
        _seed_camera(settings, cfg, agent, console)
        run_for = 8 * 60 if minutes is None else max(1.0, minutes + 1)
        sim = SimStore(
            store=cfg,
            counters=stub_specs(edge_cfg),
            clock=SystemClock(),
            start=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2),
            minutes=run_for,
            seed=int(time.time()) % 1000,
            rates=TrafficRates(customer=2.0),
        )
        sim.start_all()
        console.print("firmware stubs: beam counter (TCP), stereo sensor (HTTP push), staff counter (MQTT) live")
        _wait_for_rows(settings, cfg.store.id, since=started, rows=seeded, console=console)
        _train_models(settings, console)
        api = start_api_demo(settings, cfg, console)
        if chain is not None:
            live = ChainLive(settings, chain, api_url=api.base_url).start()
            print_logins(console, chain, api.base_url)
        today = StoreCalendar(cfg.store.timezone).local_date(datetime.now(UTC))
        console.print("\n[bold]numbers from the API[/] (as the demo login):")
        _report(api.base_url, cfg.store.id, today, console, out_dir=agent.data_dir)
        _run_live(minutes, console)
        console.print("\n[bold]after the live run[/]:")
        _report(api.base_url, cfg.store.id, today, console, out_dir=agent.data_dir)
    except KeyboardInterrupt:
        console.print("\nstopping …")
    finally:
        if live is not None:
            live.stop()
        if sim is not None:
            sim.stop_all()
        agent.stop()
        _drain(ingest)
        ingest.stop()
        if api is not None:
            api.stop()
            if api.pos:
                s = api.pos.stats
                console.print(f"POS posted {s.posted} receipts ({s.created} new, {s.failures} failed attempts)")
        st = ingest.stats
        console.print(f"ingest: {st}")
