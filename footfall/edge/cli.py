"""Command-line entry points of `footfall.edge`, registered on the root `footfall` command."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)

edge_app = typer.Typer(help="The edge agent: door counters → durable queue → MQTT.", no_args_is_help=True)
credentials_app = typer.Typer(help="Broker users and ACLs for edge agents.", no_args_is_help=True)
edge_app.add_typer(credentials_app, name="credentials")

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The agent's edge.yaml (see examples/edge.yaml).")]
SimClockOpt = Annotated[
    str | None,
    typer.Option(
        "--sim-clock",
        envvar="FOOTFALL_SIM_CLOCK",
        help="Run on simulated time START@EPOCH*SPEED (tests and demos); default: the real clock.",
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _load(config: Path, *, check_store: bool = True):
    from footfall.core.errors import FootfallError
    from footfall.core.storeconfig import StoreConfig
    from footfall.edge.config import EdgeConfig

    try:
        cfg = EdgeConfig.from_yaml(config)
        if check_store and cfg.store_file is not None:
            cfg.check_store(StoreConfig.from_yaml(cfg.store_file))
    except FootfallError as exc:
        raise _fail(str(exc)) from None
    return cfg


@edge_app.command("run")
def run(config: ConfigOpt, sim_clock: SimClockOpt = None) -> None:
    """Run the edge agent until SIGTERM or Ctrl-C (then it publishes `offline` and stops cleanly)."""
    import signal
    import threading

    from footfall.core.clock import clock_from_spec
    from footfall.core.errors import FootfallError
    from footfall.core.settings import get_settings
    from footfall.edge.agent import Agent

    cfg = _load(config)
    try:
        agent = Agent(cfg, settings=get_settings(), clock=clock_from_spec(sim_clock))
    except FootfallError as exc:
        raise _fail(str(exc)) from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    agent.run(stop)


@edge_app.command("check")
def check(config: ConfigOpt) -> None:
    """Validate edge.yaml (and the store file it names) without starting anything."""
    from footfall.core.errors import FootfallError
    from footfall.core.settings import get_settings
    from footfall.edge.config import HttpCounter

    cfg = _load(config)
    try:  # secrets in files must be readable by the agent
        cfg.broker(get_settings().mqtt)
        for d in cfg.devices:
            if isinstance(d, HttpCounter):
                d.bearer()
    except FootfallError as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"{config}: valid — agent {cfg.device_id} of store {cfg.store_id}, {len(cfg.devices)} counter(s): "
        + ", ".join(f"{d.id} ({d.driver})" for d in cfg.devices)
        + (f"; {len(cfg.cameras)} camera(s): " + ", ".join(c.id for c in cfg.cameras) if cfg.cameras else "")
    )


@edge_app.command("queue")
def queue(
    config: ConfigOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what waits in the agent's durable queue (safe while the agent runs)."""
    from footfall.core.settings import get_settings
    from footfall.edge.outbox import Outbox

    cfg = _load(config, check_store=False)
    settings = get_settings()
    path = cfg.resolved_data_dir(settings.edge) / "outbox.db"
    if not path.exists():
        raise _fail(f"no queue at {path}: the agent has not run with this data_dir yet")
    ob = Outbox.open(path, max_bytes=cfg.queue_max_bytes(settings.edge))
    try:
        s = ob.stats()
    finally:
        ob.close()
    out = {
        "path": str(path),
        "depth": s.depth,
        "bytes": s.bytes,
        "max_bytes": s.max_bytes,
        "file_bytes": s.file_bytes,
        "oldest": None if s.oldest is None else s.oldest.isoformat(),
        "per_device": s.per_device,
    }
    if as_json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        console.print(f"{key:>10}  {value}")


@credentials_app.command("add")
def credentials_add(
    user: Annotated[str, typer.Argument(help="Broker user name (for an edge agent: its device id).")],
    *,
    store: Annotated[str | None, typer.Option(help="The store an edge agent may publish for.")] = None,
    ingest: Annotated[
        bool, typer.Option("--ingest", help="An ingest user: may read every store, write nothing.")
    ] = False,
    password_file: Annotated[Path, typer.Option(help="Mosquitto password file to update.")] = Path(
        "docker/mosquitto/passwd"
    ),
    acl_file: Annotated[Path, typer.Option(help="Mosquitto ACL file to update.")] = Path("docker/mosquitto/acl"),
    prefix: Annotated[str, typer.Option(help="Topic prefix of the deployment.")] = "footfall",
    password: Annotated[
        str | None,
        typer.Option(envvar="FOOTFALL_NEW_PASSWORD", help="The password; default: generate one and print it once."),
    ] = None,
    write_secret: Annotated[
        Path | None, typer.Option(help="Also write the password to this file (mode 0600) for the agent.")
    ] = None,
    db: Annotated[
        bool, typer.Option("--db", help="Also store the hash on the device row (devices.credential_hash).")
    ] = False,
) -> None:
    """Add or replace a broker user with its ACL: an edge agent publishes only under {prefix}/v1/{store}/#."""
    from footfall.core.errors import FootfallError
    from footfall.edge.credentials import add_credentials, generate_password

    if ingest == (store is not None):
        raise _fail("give --store STORE for an edge agent, or --ingest for an ingest user (one of the two)")
    generated = password is None
    secret = password or generate_password()
    try:
        entry = add_credentials(
            user=user,
            password=secret,
            store_id=store,
            ingest=ingest,
            password_file=password_file,
            acl_file=acl_file,
            prefix=prefix,
        )
        if write_secret is not None:
            write_secret.parent.mkdir(parents=True, exist_ok=True)
            write_secret.touch(mode=0o600, exist_ok=True)
            write_secret.chmod(0o600)
            write_secret.write_text(secret + "\n", encoding="utf-8")
        if db:
            from footfall.core.settings import get_settings
            from footfall.db.connect import connect
            from footfall.edge.credentials import store_credential_hash

            with connect(get_settings().db) as conn:
                store_credential_hash(conn, device_id=user, password_hash=entry.password_hash)
    except FootfallError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{password_file}: user {user} {'added' if entry.created else 'updated'}")
    console.print(f"{acl_file}: {'; '.join(entry.rules)}")
    if generated and write_secret is None:
        console.print(f"password (shown once): [bold]{secret}[/]")
    console.print("reload the broker to apply: kill -HUP $(pidof mosquitto)  (or docker compose kill -s HUP mosquitto)")


@credentials_app.command("remove")
def credentials_remove(
    user: Annotated[str, typer.Argument(help="Broker user name.")],
    password_file: Annotated[Path, typer.Option(help="Mosquitto password file.")] = Path("docker/mosquitto/passwd"),
    acl_file: Annotated[Path, typer.Option(help="Mosquitto ACL file.")] = Path("docker/mosquitto/acl"),
) -> None:
    """Remove a broker user and its ACL block."""
    from footfall.core.errors import FootfallError
    from footfall.edge.credentials import remove_credentials

    try:
        removed = remove_credentials(user=user, password_file=password_file, acl_file=acl_file)
    except FootfallError as exc:
        raise _fail(str(exc)) from None
    console.print(f"user {user}: {'removed' if removed else 'was not there'}")


def register(app: typer.Typer, *, bench: typer.Typer, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `bench` and `eval` groups.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    app.add_typer(edge_app, name="edge")

    @bench.command("edge")
    def bench_edge(
        readings: Annotated[int, typer.Option(help="Readings to queue and replay.")] = 20_000,
        batch: Annotated[int, typer.Option(help="Readings per message.")] = 500,
    ) -> None:
        """Outbox write and replay throughput against the real broker, vs raw paho QoS 1 in the same run."""
        from footfall.bench.edge import run_bench
        from footfall.core.settings import get_settings

        result = run_bench(get_settings(), readings=readings, batch=batch, console=err)
        print(json.dumps(result))
