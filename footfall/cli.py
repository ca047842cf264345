"""The `footfall` command: one entry point for every process and tool.

This module is the composition root: it may import every package, and it adds each
package's commands (`register` in each `cli` module). The packages' own `cli` modules
share `footfall.core.cli` and never import this one, so they keep their package's
import rules (see `[tool.importlinter]` in pyproject.toml).
"""

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from footfall.core.cli import console, fail, load_settings, read_secret, refuse_argv_password
from footfall.core.errors import FootfallError

app = typer.Typer(
    name="footfall",
    help="Open-source retail store analytics: edge counters and cameras → MQTT → TimescaleDB → KPIs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema: migrate and inspect.", no_args_is_help=True)
schema_app = typer.Typer(help="The MQTT message contract.", no_args_is_help=True)
stores_app = typer.Typer(help="Store configuration as code.", no_args_is_help=True)
eval_app = typer.Typer(help="Accuracy evaluations against ground truth.")
app.add_typer(db_app, name="db")
app.add_typer(schema_app, name="schema")
app.add_typer(stores_app, name="stores")
app.add_typer(eval_app, name="eval")
credentials_app = typer.Typer(help="Broker users and ACLs for edge agents.", no_args_is_help=True)


@app.callback()
def _main(
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
    log_format: Annotated[str, typer.Option(help="text (for people) or json (for log shippers).")] = "text",
) -> None:
    from footfall.core.logs import configure

    if log_format not in ("text", "json"):
        raise fail(f"--log-format must be text or json, not {log_format!r}")
    configure(log_level, log_format)  # type: ignore[arg-type]


@db_app.command("migrate")
def db_migrate(
    flavour: Annotated[
        str | None, typer.Option(help="Force 'timescale' or 'plain'; default: TimescaleDB when available.")
    ] = None,
    create: Annotated[bool, typer.Option(help="Create the database first if it does not exist.")] = True,
) -> None:
    """Apply pending migrations (each in a transaction; re-running applies nothing)."""
    from footfall.db.connect import describe, ensure_database
    from footfall.db.migrate import migrate

    settings = load_settings()
    try:
        if create:
            ensure_database(settings.db)
        used, applied = migrate(settings.db, flavour=flavour)
    except (FootfallError, ValueError) as exc:
        raise fail(str(exc)) from None
    where = describe(settings.db)
    if applied:
        for m in applied:
            console.print(f"applied [bold]{m.label}[/]")
        console.print(f"{where}: {len(applied)} migration(s) applied, storage path: [bold]{used}[/]")
    else:
        console.print(f"{where}: up to date, nothing to apply (storage path: [bold]{used}[/])")


@db_app.command("info")
def db_info(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show the server, the storage path (TimescaleDB or plain PostgreSQL) and migrations."""
    from dataclasses import asdict

    from footfall.db.migrate import info

    settings = load_settings()
    try:
        i = info(settings.db)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(asdict(i), default=str))
        return
    t = Table(show_header=False, box=None)
    t.add_row("database", i.location)
    t.add_row("server", f"PostgreSQL {i.server_version}")
    ts = i.timescale_version or (
        f"available ({i.timescale_available}), not installed" if i.timescale_available else "not available"
    )
    t.add_row("TimescaleDB", ts)
    t.add_row("storage path", str(i.flavour or "not migrated yet"))
    t.add_row("applied", ", ".join(i.applied) or "none")
    t.add_row("pending", ", ".join(i.pending) or "none")
    if i.hypertables:
        t.add_row("hypertables", ", ".join(i.hypertables))
        t.add_row("continuous aggregates", ", ".join(i.continuous_aggregates))
    if i.timescale_version:
        t.add_row("background jobs", _jobs_line(i.failed_jobs))
    console.print(t)
    for note in _job_notes(i.failed_jobs):
        console.print(f"[yellow]note:[/] {note}")


def _jobs_line(failed: list) -> str:
    if not failed:
        return "no failed runs"
    kinds: dict[str, int] = {}
    for f in failed:
        kinds[f.proc_name] = kinds.get(f.proc_name, 0) + 1
    return f"{len(failed)} with a failed last run (" + ", ".join(f"{n} × {k}" for k, n in kinds.items()) + ")"


def _job_notes(failed: list) -> list[str]:
    """One line per distinct failure: the known explanation, or the error itself."""
    notes: dict[str, None] = {}
    for f in failed:
        if f.known:
            notes[f"background jobs fail with {f.error!r}: {f.known}"] = None
        else:
            notes[f"job {f.job_id} ({f.proc_name}) failed: {f.error or 'no error recorded'}"] = None
    return list(notes)


@schema_app.command("export")
def schema_export(directory: Annotated[Path, typer.Argument(help="Folder to write the schemas into.")]) -> None:
    """Write one JSON Schema per payload kind (documentation for firmware writers)."""
    from footfall.core.messages import dumps_schema, json_schemas

    directory.mkdir(parents=True, exist_ok=True)
    for kind, schema in json_schemas().items():
        path = directory / f"{kind.value}.schema.json"
        path.write_text(dumps_schema(schema), encoding="utf-8")
        console.print(f"wrote {path}")


@schema_app.command("asyncapi")
def schema_asyncapi(
    file: Annotated[Path | None, typer.Argument(help="Write the document here (default: standard output).")] = None,
    prefix: Annotated[str, typer.Option(help="The deployment's topic prefix.")] = "footfall",
) -> None:
    """Write the AsyncAPI 3 document of every MQTT topic and payload (generated from the models)."""
    from footfall.core.asyncapi import asyncapi_document, dumps_document
    from footfall.core.topics import check_prefix

    try:
        text = dumps_document(asyncapi_document(prefix=check_prefix(prefix)))
    except FootfallError as exc:
        raise fail(str(exc)) from None
    if file is None:
        sys.stdout.write(text)
        return
    file.write_text(text, encoding="utf-8")
    console.print(f"wrote {file}")


@stores_app.command("apply")
def stores_apply(
    file: Annotated[Path, typer.Argument(help="Store YAML file (see examples/store.yaml).")],
    check: Annotated[bool, typer.Option("--check", help="Validate the file only; touch no database.")] = False,
) -> None:
    """Create or update a store with its floors, doors, zones, devices and cameras (idempotent)."""
    from footfall.core.storeconfig import StoreConfig

    try:
        cfg = StoreConfig.from_yaml(file)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    for f in cfg.floors:  # the plan pictures are read only here and by apply (the edge never needs them)
        if f.plan is not None:
            try:
                f.plan.read()
            except ValueError as exc:
                raise fail(f"{file}: floor {f.id}: {exc}") from None
    if check:
        console.print(f"{file}: valid ({len(cfg.doors)} doors, {len(cfg.zones)} zones, {len(cfg.devices)} devices)")
        return
    from footfall.db.connect import connect
    from footfall.db.stores import apply_store

    settings = load_settings()
    try:
        with connect(settings.db) as conn:
            result = apply_store(conn, cfg)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    if not result.changed:
        console.print(f"store {cfg.store.id}: unchanged")
        return
    for label, counts in (("created", result.created), ("updated", result.updated), ("removed", result.removed)):
        for table, n in sorted(counts.items()):
            console.print(f"store {cfg.store.id}: {label} {n} {table}")


@credentials_app.command("add")
def credentials_add(
    user: Annotated[str, typer.Argument(help="Broker user name (for an edge agent: its device id).")],
    *,
    store: Annotated[str | None, typer.Option(help="The store an edge agent may publish for.")] = None,
    ingest: Annotated[
        bool, typer.Option("--ingest", help="An ingest user: may read every store, write nothing.")
    ] = False,
    screen: Annotated[
        bool,
        typer.Option("--screen", help="An in-store screen of --store: may read its alerts topic only, write nothing."),
    ] = False,
    alerts: Annotated[
        bool,
        typer.Option("--alerts", help="The alerts engine: may write every store's alerts topic, read nothing."),
    ] = False,
    password_file: Annotated[Path, typer.Option(help="Mosquitto password file to update.")] = Path(
        "docker/mosquitto/passwd"
    ),
    acl_file: Annotated[Path, typer.Option(help="Mosquitto ACL file to update.")] = Path("docker/mosquitto/acl"),
    prefix: Annotated[str, typer.Option(help="Topic prefix of the deployment.")] = "footfall",
    password_from: Annotated[
        Path | None,
        typer.Option(
            "--password-from",
            help="Read the password from this file (first line), or from standard input with -. "
            "Default: FOOTFALL_NEW_PASSWORD, else generate one (printed once unless --write-secret).",
        ),
    ] = None,
    password: Annotated[str | None, typer.Option(hidden=True, help="Refused: visible in `ps`.")] = None,
    write_secret: Annotated[
        Path | None, typer.Option(help="Also write the password to this file (mode 0600) for the agent.")
    ] = None,
    db: Annotated[
        bool, typer.Option("--db", help="Also store the hash on the device row (devices.credential_hash).")
    ] = False,
) -> None:
    """Add or replace a broker user with its ACL: an edge agent publishes only under {prefix}/v1/{store}/#,
    a screen reads only {prefix}/v1/{store}/alerts."""
    from footfall.core.errors import FootfallError
    from footfall.edge.credentials import BrokerRole, add_credentials, generate_password

    if password is not None:
        raise refuse_argv_password(", FOOTFALL_NEW_PASSWORD, or none to generate one") from None
    if ingest + screen + alerts > 1:
        raise fail("give at most one of --ingest, --screen and --alerts")
    role = BrokerRole.INGEST if ingest else BrokerRole.SCREEN if screen else BrokerRole.ALERTS if alerts else None
    if role is BrokerRole.SCREEN and store is None:
        raise fail("a screen reads one store's alerts: give --store STORE with --screen")
    if role in (BrokerRole.INGEST, BrokerRole.ALERTS) and store is not None:
        raise fail(f"--{role.value} users are not tied to a store: drop --store, or --{role.value} (one of the two)")
    if role is None and store is None:
        raise fail("give --store STORE for an edge agent, or --ingest, --alerts (or --screen --store STORE)")
    given = read_secret(password_from) if password_from is not None else os.environ.get("FOOTFALL_NEW_PASSWORD")
    generated = not given
    secret = given or generate_password()
    try:
        entry = add_credentials(
            user=user,
            password=secret,
            store_id=store,
            password_file=password_file,
            acl_file=acl_file,
            prefix=prefix,
            role=role,
        )
        if write_secret is not None:
            write_secret.parent.mkdir(parents=True, exist_ok=True)
            write_secret.touch(mode=0o600, exist_ok=True)
            write_secret.chmod(0o600)
            write_secret.write_text(secret + "\n", encoding="utf-8")
        if db:
            from footfall.db.connect import connect
            from footfall.db.devices import store_credential_hash

            with connect(load_settings().db) as conn:
                store_credential_hash(conn, device_id=user, password_hash=entry.password_hash)
    except FootfallError as exc:
        raise fail(str(exc)) from None
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
        raise fail(str(exc)) from None
    console.print(f"user {user}: {'removed' if removed else 'was not there'}")


def _register_packages() -> None:
    from footfall.alerts import cli as alerts_cli
    from footfall.api import cli as api_cli
    from footfall.bench import cli as bench_cli
    from footfall.demo import cli as demo_cli
    from footfall.doctor import cli as doctor_cli
    from footfall.edge import cli as edge_cli
    from footfall.edge.vision import cli as vision_cli
    from footfall.firmware_stubs import cli as stubs_cli
    from footfall.ingest import cli as ingest_cli
    from footfall.models import cli as models_cli

    for module in (ingest_cli, edge_cli, vision_cli, stubs_cli, api_cli, models_cli, alerts_cli):
        module.register(app, evaluate=eval_app)
    # Groups whose commands come from more than one package:
    edge_cli.edge_app.add_typer(credentials_app, name="credentials")
    vision_cli.vision_app.command("scene")(stubs_cli.vision_scene)  # synthetic scenes live with the simulators
    # training and serving models needs the database, which the pure models package cannot reach
    for name, command in (
        ("train", api_cli.models_train),
        ("retrain", api_cli.models_retrain),
        ("list", api_cli.models_list),
    ):
        models_cli.models_app.command(name)(command)
    bench_cli.register(app)
    demo_cli.register(app, sim=stubs_cli.sim_app)
    doctor_cli.register(app)


_register_packages()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
