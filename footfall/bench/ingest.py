"""`footfall bench ingest`: the consumer against the client-library ceiling and a naive baseline.

Everything runs in one go, against a real Mosquitto and the configured PostgreSQL server,
so the ratios compare like with like on a machine other work may be sharing:

1. **raw** — a bare subscriber (paho through `footfall.core.mqtt`, manual acks, nothing
   else) drains N pre-loaded messages: the most a Python MQTT client can receive here.
2. **ingest** — one IngestWorker process, then `--workers` of them on the same shared
   subscription, drain N messages each into the database (batches, COPY, ON CONFLICT,
   commit, ack): `messages_per_s_by_workers` and `scaling_1_to_<N>_workers`.
3. **naive** — one process validates each message with the same core models and INSERTs
   and commits it on its own before acknowledging it.
4. **latency** — the workers run while a publisher sends `--latency-rate` messages/s for
   `--latency-seconds`; each message's sent_at → its commit is measured.
5. **stages alone** — the same messages through each stage of the consumer with nothing
   else running: validation with the core models (`validate_only_messages_per_s`) and the
   database writer fed already-validated batches (`db_only_messages_per_s`: staging, COPY,
   INSERT … ON CONFLICT, rollup trigger, commit), on both staging legs — typed binary COPY
   (`db_only_rows_per_s`) and the earlier JSON staging (`db_only_json_rows_per_s`) — and,
   as the ceiling, a bare binary COPY of the same rows, batch by batch and committed, into
   a table of door_counts' shape with its keys and indexes but no trigger and no conflict
   handling (`copy_ceiling_rows_per_s`). `ratio_to_copy_ceiling` is the writer's rows/s
   over it (`…_json` for the JSON leg). The three take turns, `STAGE_ROUNDS` times, and
   each one's fastest round counts. With every stage sharing the same two cores, the
   slowest of them bounds the consumer, and the ratio of the consumer to that bound says
   how much the pipeline itself loses.

Messages are pre-loaded into the consumers' persistent sessions before each drain, so the
drain measures the consumer alone (no publisher competing for the two cores). That needs
a broker that queues without limit (`max_queued_messages 0`, as in docker/mosquitto): a
default Mosquitto drops QoS 1 messages beyond 1,000 queued per client. So the benchmark
starts its own Mosquitto under `.local/` with that setting, and creates (and drops) its
own database on the configured server.
"""

import logging
import multiprocessing as mp
import secrets
import shutil
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from footfall.core.settings import Settings

if TYPE_CHECKING:
    from rich.progress import TaskID

    from footfall.core.mqtt import MQTTMessage, MqttTransport
    from footfall.ingest.triage import Accepted, Rejected
    from footfall.ingest.writer import WriteResult

logger = logging.getLogger(__name__)

STORE = "bench-store"
DEVICES = 50
T0 = datetime(2025, 1, 6, tzinfo=UTC)
_SENT_MARK = "2000-01-01T00:00:00.000000Z"


@dataclass
class BenchOptions:
    """What to measure."""

    messages: int = 50_000
    readings: int = 20
    workers: int = 1
    naive_messages: int = 3000
    latency_rate: float = 2000.0
    latency_seconds: float = 10.0
    keep_database: bool = False
    mix: str = "counts"
    """What the stages-alone phase writes: `counts` (R readings a message) or `heatmap` (one
    camera-minute of R cells a message, the kind that is ~97 % of rows at scale)."""


MIXES = ("counts", "heatmap")


def _device(i: int) -> str:
    return f"bench-dev-{i % DEVICES:03d}"


def payload(index: int, readings: int, *, base_minute: int = 0, device: str | None = None) -> bytes:
    """Message `index` of the stream: `readings` one-minute counts of one device, unique keys."""
    dev = device or _device(index)
    seq = index // DEVICES
    first = base_minute + seq * readings
    rs = ",".join(
        '{"start":"%s","end":"%s","door_id":"door","entries":%d,"exits":%d}'  # noqa: UP031 - hot, and plain
        % (
            (T0 + timedelta(minutes=first + k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            (T0 + timedelta(minutes=first + k + 1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            (index + k) % 9,
            (index + 2 * k) % 7,
        )
        for k in range(readings)
    )
    return f'{{"schema":1,"device_id":"{dev}","seq":{seq},"sent_at":"{_SENT_MARK}","readings":[{rs}]}}'.encode()


def heatmap_payload(index: int, cells: int, *, device: str) -> bytes:
    """Message `index` of a heatmap stream: one camera-minute of `cells` sparse cells, unique keys."""
    seq = index // DEVICES
    start = (T0 + timedelta(minutes=seq)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (T0 + timedelta(minutes=seq + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cs = ",".join(
        '{"x":%d,"y":%d,"presence_s":%.1f,"tracks":%d}'  # noqa: UP031 - hot, and plain
        % (k % 200, k // 200, 4.5 + (index + k) % 40, 3 + (index + k) % 5)
        for k in range(cells)
    )
    reading = f'{{"start":"{start}","end":"{end}","floor_id":"ground","cell_m":0.5,"min_tracks":3,"cells":[{cs}]}}'
    return f'{{"schema":1,"device_id":"{device}","seq":{seq},"sent_at":"{_SENT_MARK}","readings":[{reading}]}}'.encode()


def _stamp(raw: bytes) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return raw.replace(_SENT_MARK.encode(), now.encode(), 1)


def _topic(prefix: str, device: str) -> str:
    return f"{prefix}/v1/{STORE}/{device}/counts"


# -- MQTT helpers -------------------------------------------------------------------------


def _transport(port: int, client_id: str, **options: Any) -> "MqttTransport":
    """A transport to the benchmark's own broker (connected by `_up`)."""
    from footfall.core.mqtt import BrokerTarget, MqttTransport

    target = BrokerTarget(
        host="127.0.0.1", port=port, prefix="bench", username=None, password=None, client_id=client_id, keepalive_s=60
    )
    return MqttTransport(target, name=f"bench {client_id}", **options)


def _up(transport: "MqttTransport") -> None:
    transport.start()
    if not transport.wait_connected(30):
        raise RuntimeError(f"the benchmark broker at {transport.address} does not answer")


def _session(port: int, client_id: str, *, clean_start: bool, **hooks: Any) -> "MqttTransport":
    """A persistent session (1 h expiry), acknowledged by hand."""
    return _transport(
        port,
        client_id,
        clean_start=clean_start,
        session_expiry_s=3600,
        receive_maximum=65535,
        manual_ack=True,
        **hooks,
    )


def _make_session(port: int, client_id: str, topic: str) -> None:
    """Create a persistent session subscribed to `topic`, then leave it offline."""
    done = threading.Event()
    c = _session(port, client_id, clean_start=True, on_subscribe=lambda codes: done.set())
    c.subscribe(topic, qos=1)
    _up(c)
    if not done.wait(10):
        raise RuntimeError(f"could not subscribe {client_id}")
    c.stop()


def _drop_session(port: int, client_id: str) -> None:
    """End a persistent session: connect with a clean start and no expiry, then leave."""
    c = _transport(port, client_id, clean_start=True, session_expiry_s=0)
    _up(c)
    c.stop()


def _publisher(port: int, name: str, **hooks: Any) -> "MqttTransport":
    return _transport(port, f"{name}-{secrets.token_hex(3)}", max_inflight=1000, max_queued=0, **hooks)


def _preload(
    port: int,
    prefix: str,
    count: int,
    readings: int,
    *,
    base_minute: int,
    progress: "Progress | None" = None,
    task: "TaskID | None" = None,
) -> None:
    acked = [0]
    pub = _publisher(port, "bench-pub", on_publish=lambda mid, rc: acked.__setitem__(0, acked[0] + 1))
    _up(pub)
    for i in range(count):
        pub.publish(_topic(prefix, _device(i)), _stamp(payload(i, readings, base_minute=base_minute)), qos=1)
        if progress is not None and task is not None and i % 1000 == 0:
            progress.update(task, completed=acked[0])
    while acked[0] < count:
        time.sleep(0.02)
        if progress is not None and task is not None:
            progress.update(task, completed=acked[0])
    pub.stop()


# -- child processes ----------------------------------------------------------------------


def _drain(port: int, client_id: str, expected: int, handle: Any = None) -> dict[str, Any]:
    """Receive `expected` messages of a persistent session, `handle` each, acknowledge it.

    Returns:
        messages received, broker timestamp of the first, monotonic time after the last.
    """
    got = [0]
    first = [0.0]
    done = threading.Event()

    def on_message(msg: "MQTTMessage") -> None:
        if got[0] == 0:
            first[0] = msg.timestamp
        if handle is not None:
            handle(msg.payload)
        c.ack(msg.mid, msg.qos)
        got[0] += 1
        if got[0] >= expected:
            done.set()

    c = _session(port, client_id, clean_start=False, on_message=on_message)
    _up(c)
    done.wait(600)
    last = time.monotonic()
    c.stop()
    return {"messages": got[0], "first": first[0], "last": last}


def _raw_child(port: int, client_id: str, expected: int, out: Any) -> None:
    """A bare subscriber: receive and acknowledge, nothing else."""
    out.put(_drain(port, client_id, expected))


def _worker_child(settings: Settings, client_id: str, expected: int, total: Any, go: Any, out: Any) -> None:  # noqa: PLR0917
    """An IngestWorker that stops once the workers together committed `expected` messages."""
    from footfall.ingest.worker import IngestWorker

    logging.basicConfig(level=logging.WARNING)
    stats: dict[str, Any] = {"messages": 0, "first": 0.0, "last": 0.0, "latencies": []}
    stop = threading.Event()

    def on_commit(accepted: "list[Accepted]", rejected: "list[Rejected]", result: "WriteResult") -> None:
        now = time.time()
        if stats["messages"] == 0:
            stats["first"] = min(a.inbound.received for a in accepted) if accepted else result.committed_at
        stats["messages"] += result.messages
        stats["last"] = result.committed_at
        stats["latencies"].extend(now - a.message.sent_at.timestamp() for a in accepted)
        with total.get_lock():
            total.value += result.messages
            if total.value >= expected:
                stop.set()

    worker = IngestWorker(settings, client_id=client_id, on_commit=on_commit)
    go.wait()

    def watch() -> None:
        while not (total.value >= expected or stop.is_set()):
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

    def stop_when_done() -> None:
        watcher.join()
        stop.set()

    threading.Thread(target=stop_when_done, daemon=True).start()
    worker.run(stop)
    stats["rows"] = worker.stats.rows_inserted
    stats["duplicates"] = worker.stats.duplicate_rows
    stats["dead_letters"] = worker.stats.dead_letters
    out.put(stats)


STAGE_ROUNDS = 5
"""Rounds of the stages-alone phase; each leg's best round counts (the machine is shared, and
short interleaved rounds let each leg meet a quiet moment)."""
CEILINGS: dict[str, tuple[str, str, list[str]]] = {
    "counts": (
        "copy_ceiling_table",
        "store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq",
        ["text", "text", "text", "timestamptz", "timestamptz", "int4", "int4", "int4", "bool", "int8"],
    ),
    "heatmap": (
        "copy_ceiling_table_heatmap",
        "store_id, device_id, floor_id, start_ts, end_ts, cell_m, x, y, presence_s, tracks, valid, seq",
        [
            "text",
            "text",
            "text",
            "timestamptz",
            "timestamptz",
            "float4",
            "int4",
            "int4",
            "float4",
            "int4",
            "bool",
            "int8",
        ],
    ),
}
"""Per mix: the query making the ceiling table (the fact table's shape), its columns, and the
fact table's own column types for the bare binary COPY into it."""


def _stages_child(conninfo: str, prefix: str, count: int, readings: int, batch: int, mix: str, out: Any) -> None:  # noqa: PLR0917 - a multiprocessing target takes positional args
    """Validation alone, then the database writer alone (both staging legs), then a bare COPY.

    The legs take turns, `STAGE_ROUNDS` times, each round on devices of its own so every
    key is new to the database; per leg the fastest round counts. `mix` says which kind.
    """
    import psycopg
    from psycopg.rows import dict_row

    from footfall.core.messages import parse_payload
    from footfall.core.topics import Kind, Topic
    from footfall.db.queries import queries
    from footfall.ingest.triage import Accepted, Inbound
    from footfall.ingest.writer import BatchWriter, Staged

    kind = Kind.HEATMAP if mix == "heatmap" else Kind.COUNTS
    make_table, columns, ceiling_types = CEILINGS[mix]

    def messages(tag: str) -> list[tuple[str, bytes]]:
        devices = [f"bench-{tag}-{i % DEVICES:03d}" for i in range(count)]
        if kind is Kind.HEATMAP:
            topics = [_topic(prefix, d).rsplit("/", 1)[0] + "/heatmap" for d in devices]
            return [
                (t, _stamp(heatmap_payload(i, readings, device=d)))
                for i, (t, d) in enumerate(zip(topics, devices, strict=True))
            ]
        return [(_topic(prefix, d), _stamp(payload(i, readings, device=d))) for i, d in enumerate(devices)]

    raws = messages("stage")
    started = time.perf_counter()
    parsed = [parse_payload(kind, raw) for _, raw in raws]
    validate_s = time.perf_counter() - started

    def accepted(tag: str) -> list[Accepted]:
        raws = messages(tag)
        return [
            Accepted(Inbound(topic, raw, i, 1, 0, 0.0), Topic.parse(topic, prefix), parse_payload(kind, raw))
            for i, (topic, raw) in enumerate(raws)
        ]

    del parsed
    timings: dict[str, list[float]] = {"json": [], "typed": [], "copy": []}
    with psycopg.connect(conninfo, row_factory=dict_row) as conn:
        conn.execute(queries("ingest")[make_table])
        conn.commit()
        writers = {leg: BatchWriter(conn, dead_letter_keep_bytes=1024, staging=leg) for leg in ("json", "typed")}
        writers["json"].prepare()
        for rnd in range(STAGE_ROUNDS):
            for leg, writer in writers.items():
                msgs = accepted(f"s{leg[0]}{rnd}")
                started = time.perf_counter()
                for i in range(0, count, batch):
                    writer.write(Staged.from_accepted(msgs[i : i + batch], staging=writer.staging), [])
                timings[leg].append(time.perf_counter() - started)
            # The ceiling: the same rows, bare binary COPY into a table of the fact table's shape.
            msgs = accepted(f"sc{rnd}")
            started = time.perf_counter()
            for i in range(0, count, batch):
                rows = Staged.from_accepted(msgs[i : i + batch], staging="typed").typed[kind]
                with (
                    conn.cursor() as cur,
                    cur.copy(f"COPY bench_copy_ceiling ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
                ):
                    copy.set_types(ceiling_types)
                    for row in rows:
                        copy.write_row(row)
                conn.commit()
            timings["copy"].append(time.perf_counter() - started)
        ceiling_rows = conn.execute("SELECT count(*) AS n FROM bench_copy_ceiling").fetchone()
        conn.execute("DROP TABLE bench_copy_ceiling")
        conn.commit()
    assert ceiling_rows is not None
    out.put(
        {
            "validate_s": validate_s,
            "db_s": min(timings["typed"]),
            "db_json_s": min(timings["json"]),
            "copy_s": min(timings["copy"]),
            "copy_rows": ceiling_rows["n"] // STAGE_ROUNDS,
            "rounds": {leg: [round(t, 3) for t in ts] for leg, ts in timings.items()},
        }
    )


def _alive_or_result(proc: Any, out: Any) -> bool:
    """Wait until `proc` has a result in `out` (True) or died without one (False)."""
    while out.empty():
        if not proc.is_alive() and out.empty():
            return False
        time.sleep(0.1)
    return True


def _naive_child(port: int, client_id: str, conninfo: str, expected: int, out: Any) -> None:
    """One message at a time: validate, INSERT its readings, COMMIT, acknowledge."""
    import psycopg

    from footfall.core.errors import PayloadError
    from footfall.core.messages import CountsMessage, parse_payload
    from footfall.core.topics import Kind

    conn = psycopg.connect(conninfo)
    sql = (
        "INSERT INTO door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, seq) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    )

    def insert(payload: bytes) -> None:
        try:
            m = parse_payload(Kind.COUNTS, payload)
        except PayloadError:
            return
        if not isinstance(m, CountsMessage):
            return
        with conn.transaction(), conn.cursor() as cur:
            for r in m.readings:
                row = ("naive-" + STORE, m.device_id, r.door_id, r.start, r.end, r.entries, r.exits, m.seq)
                cur.execute(sql, row)

    try:
        out.put(_drain(port, client_id, expected, insert))
    finally:
        conn.close()


def _paced_publisher(  # noqa: PLR0917 - a multiprocessing target takes positional args
    port: int, prefix: str, rate: float, seconds: float, readings: int, base_minute: int, out: Any
) -> None:
    count = int(rate * seconds)
    templates = [payload(i, readings, base_minute=base_minute) for i in range(count)]
    topics = [_topic(prefix, _device(i)) for i in range(count)]
    acked = [0]
    pub = _publisher(port, "bench-lat", on_publish=lambda mid, rc: acked.__setitem__(0, acked[0] + 1))
    _up(pub)
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        pub.publish(topics[i], _stamp(templates[i]), qos=1)
    achieved = count / (time.monotonic() - start)
    # Every PUBACK before leaving: stopping with messages still queued in the client loses
    # them, and the workers would wait for them forever (seen on a loaded machine).
    deadline = time.monotonic() + 300
    while acked[0] < count and time.monotonic() < deadline:
        time.sleep(0.05)
    pub.stop()
    out.put({"messages": count, "rate": achieved})


# -- orchestration ------------------------------------------------------------------------


def _register_store(conn: Any) -> None:
    from footfall.core.storeconfig import StoreConfig
    from footfall.db.stores import apply_store

    cfg = StoreConfig.from_data(
        {
            "store": {"id": STORE, "name": "Benchmark", "timezone": "UTC"},
            "doors": [{"id": "door"}],
            "devices": [{"id": _device(i), "kind": "counter_mqtt", "doors": ["door"]} for i in range(DEVICES)],
        }
    )
    apply_store(conn, cfg)
    conn.commit()


def _collect(progress: Progress | None, task: Any, *, counter: Any, expected: int, procs: list, out: Any) -> list[dict]:
    """Each process's result, showing progress meanwhile.

    Results are read before the processes are joined: a child cannot exit while what it put
    on the queue is still unread.
    """
    import queue

    results: list[dict] = []
    deadline = time.monotonic() + 1800
    while len(results) < len(procs):
        if progress is not None:
            progress.update(task, completed=min(counter.value, expected))
        try:
            results.append(out.get(timeout=0.2))
        except queue.Empty:
            if time.monotonic() > deadline or not any(p.is_alive() for p in procs):
                raise RuntimeError("a benchmark process ended without a result") from None
    for p in procs:
        p.join()
    return results


def _ingest_phase(
    ctx: Any,
    port: int,
    wsettings: Settings,
    workers: int,
    n: int,
    *,
    readings: int,
    base_minute: int,
    progress: Progress | None,
    task: "TaskID | None",
) -> list[dict]:
    """`workers` IngestWorker processes on the shared subscription drain `n` pre-loaded messages."""
    prefix = wsettings.mqtt.prefix
    ids = [f"bench-ingest-{workers}-{i}" for i in range(workers)]
    for cid in ids:
        _make_session(port, cid, f"$share/{wsettings.ingest.share_group}/{prefix}/v1/+/+/+")
    _preload(port, prefix, n, readings, base_minute=base_minute)
    total = ctx.Value("q", 0)
    go = ctx.Event()
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker_child, args=(wsettings, cid, n, total, go, out)) for cid in ids]
    for p in procs:
        p.start()
    time.sleep(3.0)  # imports done; then all start draining together
    go.set()
    stats = _collect(progress, task, counter=total, expected=n, procs=procs, out=out)
    # The sessions must go, or the broker keeps sharing later messages with them.
    for cid in ids:
        _drop_session(port, cid)
    return stats


def run_bench(settings: Settings, opts: BenchOptions, console: Console | None = None) -> dict[str, Any]:  # noqa: PLR0912, PLR0915
    """Run every phase; returns the result object (also what `--json` prints)."""
    from psycopg import sql

    from footfall.core.settings import IngestSettings
    from footfall.db.connect import connect, scalar
    from footfall.db.migrate import migrate
    from footfall.devtools.services import LOCAL, PrivateMosquitto, free_port

    ctx = mp.get_context("spawn")
    dbname = f"footfall_bench_{secrets.token_hex(4)}"
    db = settings.db.model_copy(update={"url": settings.db.url_for(dbname)})
    folder = LOCAL / f"bench-mosquitto-{secrets.token_hex(3)}"
    broker = PrivateMosquitto(folder, port=free_port())
    prefix = f"bench{secrets.token_hex(3)}"
    n, r, w = opts.messages, opts.readings, opts.workers
    progress = (
        Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        )
        if console is not None
        else None
    )
    with connect(settings.db, dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    broker.start()
    result: dict[str, Any] = {
        "messages": n,
        "readings_per_message": r,
        "workers": w,
        "staging": settings.ingest.staging,
        "mix": opts.mix,
    }
    try:
        flavour, _ = migrate(db)
        with connect(db) as conn:
            _register_store(conn)
        result["flavour"] = str(flavour)
        mq = settings.mqtt.model_copy(
            update={"host": "127.0.0.1", "port": broker.port, "prefix": prefix, "session_expiry_s": 3600}
        )
        ing = settings.ingest.model_copy(update={"metrics_port": 0})
        wsettings = settings.model_copy(update={"db": db, "mqtt": mq, "ingest": IngestSettings(**ing.model_dump())})
        if progress is not None:
            progress.start()

        def task(label: str, total: int) -> "TaskID | None":
            return progress.add_task(label, total=total) if progress is not None else None

        # 1. raw paho ceiling
        _make_session(broker.port, "bench-raw", f"$share/raw/{prefix}r/v1/+/+/+")
        t = task("pre-load (raw)", n)
        _preload(broker.port, prefix + "r", n, r, base_minute=0, progress=progress, task=t)
        out = ctx.Queue()
        p = ctx.Process(target=_raw_child, args=(broker.port, "bench-raw", n, out))
        t = task("raw paho subscriber", n)
        p.start()
        raw = out.get(timeout=900)
        p.join()
        if progress is not None and t is not None:
            progress.update(t, completed=raw["messages"])
        result["raw_subscribe_messages_per_s"] = round(raw["messages"] / (raw["last"] - raw["first"]), 1)

        # 2. ingest workers: one, then `workers` (each count on its own pre-loaded stream)
        counts = sorted({1, w})
        span = (n // DEVICES + 1) * r  # minutes one stream covers: the next starts after it
        by_workers: dict[str, float] = {}
        for k, nw in enumerate(counts):
            t = task(f"ingest ({nw} workers)", n)
            stats = _ingest_phase(
                ctx, broker.port, wsettings, nw, n, readings=r, base_minute=k * span, progress=progress, task=t
            )
            first = min(s["first"] for s in stats if s["messages"])
            last = max(s["last"] for s in stats)
            messages = sum(s["messages"] for s in stats)
            by_workers[str(nw)] = round(messages / (last - first), 1)
            if nw == w:
                result["messages_per_s"] = by_workers[str(nw)]
                result["readings"] = n * r
                result["readings_per_s"] = round(messages * r / (last - first), 1)
                result["per_worker_messages"] = [s["messages"] for s in stats]
                result["duplicate_rows_dropped"] = sum(s["duplicates"] for s in stats)
        result["messages_per_s_by_workers"] = by_workers
        result[f"scaling_1_to_{w}_workers"] = round(by_workers[str(w)] / by_workers["1"], 3)
        ids = [f"bench-ingest-{w}-{i}" for i in range(w)]

        # 3. naive baseline
        nn = min(opts.naive_messages, n)
        _make_session(broker.port, "bench-naive", f"$share/naive/{prefix}n/v1/+/+/+")
        t = task("pre-load (naive)", nn)
        _preload(broker.port, prefix + "n", nn, r, base_minute=0, progress=progress, task=t)
        out = ctx.Queue()
        p = ctx.Process(target=_naive_child, args=(broker.port, "bench-naive", db.conninfo(), nn, out))
        t = task("naive (INSERT + COMMIT per message)", nn)
        p.start()
        naive = out.get(timeout=1800)
        p.join()
        if progress is not None and t is not None:
            progress.update(t, completed=naive["messages"])
        naive_rate = naive["messages"] / (naive["last"] - naive["first"])
        result["naive_messages"] = nn
        result["naive_messages_per_s"] = round(naive_rate, 1)
        result["naive_readings_per_s"] = round(naive_rate * r, 1)

        # 4. latency at a fixed rate
        lat_n = int(opts.latency_rate * opts.latency_seconds)
        total = ctx.Value("q", 0)
        go = ctx.Event()
        out = ctx.Queue()
        for cid in ids:
            _make_session(broker.port, cid, f"$share/{settings.ingest.share_group}/{prefix}/v1/+/+/+")
        procs = [ctx.Process(target=_worker_child, args=(wsettings, cid, lat_n, total, go, out)) for cid in ids]
        for p in procs:
            p.start()
        go.set()
        time.sleep(3.0)  # connected and subscribed before publishing
        base = len(counts) * span  # minutes after the drained streams: new keys
        pout = ctx.Queue()
        pub = ctx.Process(
            target=_paced_publisher,
            args=(broker.port, prefix, opts.latency_rate, opts.latency_seconds, r, base, pout),
        )
        t = task(f"latency at {opts.latency_rate:g} msg/s", lat_n)
        pub.start()
        stats = _collect(progress, t, counter=total, expected=lat_n, procs=procs, out=out)
        pubstats = pout.get(timeout=60)
        pub.join()
        lat = sorted(x for s in stats for x in s["latencies"])
        result["latency_messages"] = len(lat)
        result["latency_publish_rate"] = round(pubstats["rate"], 1)
        result["p50_latency_ms"] = round(statistics.median(lat) * 1000, 1) if lat else None
        result["p99_latency_ms"] = round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 1) if lat else None

        # 5. each stage alone, same messages, nothing else running
        sn = max(settings.ingest.batch_size, min(n, 20_000) // STAGE_ROUNDS)  # messages per leg and round
        out = ctx.Queue()
        p = ctx.Process(
            target=_stages_child, args=(db.conninfo(), prefix, sn, r, settings.ingest.batch_size, opts.mix, out)
        )
        t = task("stages alone (validation, database writer)", 1)
        p.start()
        stages = out.get(timeout=1800) if _alive_or_result(p, out) else None
        p.join()
        if stages is None:
            raise RuntimeError("the stages phase failed; run it again with --log-level DEBUG")
        if progress is not None and t is not None:
            progress.update(t, completed=1)
        result["validate_only_messages_per_s"] = round(sn / stages["validate_s"], 1)
        result["db_only_messages_per_s"] = round(sn / stages["db_s"], 1)
        result["db_only_json_messages_per_s"] = round(sn / stages["db_json_s"], 1)
        result["db_only_rows_per_s"] = round(sn * r / stages["db_s"], 1)
        result["db_only_json_rows_per_s"] = round(sn * r / stages["db_json_s"], 1)
        result["copy_ceiling_rows"] = stages["copy_rows"]
        result["copy_ceiling_rows_per_s"] = round(stages["copy_rows"] / stages["copy_s"], 1)
        result["ratio_to_copy_ceiling"] = round(result["db_only_rows_per_s"] / result["copy_ceiling_rows_per_s"], 3)
        result["ratio_to_copy_ceiling_json"] = round(
            result["db_only_json_rows_per_s"] / result["copy_ceiling_rows_per_s"], 3
        )
        result["typed_over_json"] = round(stages["db_json_s"] / stages["db_s"], 3)
        result["stage_rounds_s"] = stages["rounds"]

        # 6. exactly the published set?
        staged_rows = sn * 2 * STAGE_ROUNDS * r  # both writer legs' rows of the stages phase
        with connect(db) as conn:
            expected = (n * len(counts) + lat_n) * r + (staged_rows if opts.mix == "counts" else 0)
            present = scalar(conn, "SELECT count(*) FROM door_counts WHERE store_id = %s", (STORE,))
            rolled = scalar(
                conn, "SELECT coalesce(sum(readings), 0) FROM door_counts_15m WHERE store_id = %s", (STORE,)
            )
            if opts.mix == "heatmap":
                cells = scalar(conn, "SELECT count(*) FROM heatmap_cells WHERE store_id = %s", (STORE,))
                expected, present = expected + staged_rows, present + cells
        result["lost"] = max(0, expected - present)
        result["duplicated"] = max(0, present - expected) + max(0, rolled - present)
        raw_rate = result["raw_subscribe_messages_per_s"]
        result["ratio_to_raw"] = round(result["messages_per_s"] / raw_rate, 3) if raw_rate else None
        result["ratio_to_naive"] = round(result["readings_per_s"] / result["naive_readings_per_s"], 1)
        if opts.mix == "counts":
            bound = min(raw_rate, result["validate_only_messages_per_s"], result["db_only_messages_per_s"])
            result["slowest_stage_messages_per_s"] = bound
            result["ratio_to_slowest_stage"] = round(result["messages_per_s"] / bound, 3) if bound else None
        else:  # the stages measured another kind than the drains: no common bound
            result["slowest_stage_messages_per_s"] = result["ratio_to_slowest_stage"] = None
    finally:
        if progress is not None:
            progress.stop()
        broker.stop()
        shutil.rmtree(folder, ignore_errors=True)
        if not opts.keep_database:
            with connect(settings.db, dbname="postgres", autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    return result
