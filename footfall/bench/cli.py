"""`footfall bench …`: every benchmark's command, registered on the root `footfall` command.

- `footfall bench ingest` — ingest against a bare paho subscriber and a naive baseline;
- `footfall bench edge` — outbox write and replay against raw paho QoS 1;
- `footfall bench vision` — the camera pipeline against decode and decode+MOG2;
- `footfall bench api` — KPI queries at a year × 50 stores against the raw tables;
- `footfall bench dashboard` — the store manager page for a store-year, against the one-day page;


- `footfall bench merch` — a month of one store's heatmap (JSON and PNG) against the raw minutes.


- `footfall bench models` — training a year of hourly data × 50 stores, against the seasonal baseline.
- `footfall bench alerts` — commit-to-webhook latency at 500 rules × 50 stores, cycle cost vs naive.

Each prints one JSON object as its last line.
"""

import json
from pathlib import Path
from typing import Annotated

import typer

from footfall.core.cli import console, err, fail, load_settings, progress

bench_app = typer.Typer(help="Benchmarks against real services; each prints one JSON object as its last line.")


def register(app: typer.Typer) -> None:
    """Add the `bench` group to the root app.

    Keep imports of heavy modules inside the commands: `footfall --help` loads this module.
    """
    app.add_typer(bench_app, name="bench")


@bench_app.command("ingest")
def bench_ingest(
    *,
    messages: Annotated[int, typer.Option(min=100, help="Messages in the stream.")] = 50_000,
    readings: Annotated[int, typer.Option(min=1, max=10_000, help="Readings per message.")] = 20,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="Ingest worker processes (one uses ~2 cores with its database).")
    ] = 1,
    naive_messages: Annotated[int, typer.Option(min=10, help="Messages for the naive baseline.")] = 3000,
    latency_rate: Annotated[float, typer.Option(min=1, help="Messages per second in the latency phase.")] = 2000,
    latency_seconds: Annotated[float, typer.Option(min=1, help="Length of the latency phase.")] = 10,
    staging: Annotated[
        str, typer.Option(help="The workers' staging: typed (binary COPY) or json (the earlier path).")
    ] = "typed",
    mix: Annotated[
        str,
        typer.Option(
            help="What the stages-alone phase writes: counts (R readings a message) or heatmap "
            "(R cells of one camera-minute a message); the drains always send counts."
        ),
    ] = "counts",
    as_json: Annotated[bool, typer.Option("--json", help="Only the JSON line on stdout.")] = False,
) -> None:
    """Measure ingest against a bare paho subscriber and a naive one-INSERT-per-message baseline."""
    from footfall.bench.ingest import MIXES, BenchOptions, run_bench
    from footfall.core.errors import FootfallError

    if mix not in MIXES:
        raise fail(f"--mix {mix!r}: use one of {', '.join(MIXES)}")

    opts = BenchOptions(
        messages=messages,
        readings=readings,
        workers=workers,
        naive_messages=naive_messages,
        latency_rate=latency_rate,
        latency_seconds=latency_seconds,
        mix=mix,
    )
    settings = load_settings()
    if staging not in ("typed", "json"):
        raise fail(f"--staging {staging!r}: use typed or json")
    settings = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"staging": staging})})
    try:
        result = run_bench(settings, opts, console=None if as_json else console)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    print(json.dumps(result))


@bench_app.command("edge")
def bench_edge(
    readings: Annotated[int, typer.Option(help="Readings to queue and replay.")] = 20_000,
    batch: Annotated[int, typer.Option(help="Readings per message.")] = 500,
) -> None:
    """Outbox write and replay throughput against the real broker, vs raw paho QoS 1 in the same run."""
    from footfall.bench.edge import run_bench

    result = run_bench(load_settings(), readings=readings, batch=batch, console=err)
    print(json.dumps(result))


@bench_app.command("vision")
def bench_vision(
    video: Annotated[
        Path | None, typer.Option(help="Video file (640×480 for the target); default: a synthetic scene.")
    ] = None,
    passes: Annotated[int, typer.Option(min=1, max=100, help="Passes over the clip per mode.")] = 5,
    options: Annotated[Path | None, typer.Option(help="Pipeline options YAML.")] = None,
    detector: Annotated[str | None, typer.Option(help="bgsub or hog.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")] = False,
) -> None:
    """Frames per second of the full pipeline, against decode-only and decode+MOG2 on the same clip."""
    import tempfile

    from footfall.bench.vision import bench_video
    from footfall.edge.vision.cli import pipeline_options
    from footfall.edge.vision.errors import VisionError

    opts = pipeline_options(options, detector)
    with tempfile.TemporaryDirectory() as tmp:
        if video is None:
            from footfall.firmware_stubs.scenes import door_scene

            video = door_scene(duration_s=30).write(Path(tmp) / "door-scene.mp4")
        try:
            with progress() as bar:
                task = bar.add_task(f"benchmarking {video.name}", total=passes)
                result = bench_video(
                    video, options=opts, passes=passes, on_pass=lambda i: bar.update(task, completed=i)
                )
        except VisionError as exc:
            raise fail(str(exc)) from None
    result["video"] = str(video)
    if not as_json:
        console.print(
            f"pipeline {result['fps']} fps, decode {result['decode_fps']} fps, decode+MOG2 "
            f"{result['bgsub_fps']} fps: {result['ratio_to_bgsub']:.0%} of background subtraction"
        )
    print(json.dumps(result))


@bench_app.command("api")
def bench_api(
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result line.")] = False,
    stores: Annotated[int, typer.Option(min=1, max=1000, help="Stores to generate.")] = 50,
    days: Annotated[int, typer.Option(min=1, max=1100, help="Days of data per store.")] = 365,
    runs: Annotated[int, typer.Option(min=5, max=10_000, help="Timed runs per query.")] = 50,
    keep: Annotated[bool, typer.Option(help="Keep the bench database afterwards.")] = False,
    dbname: Annotated[str, typer.Option(help="Bench database name (dropped and re-created).")] = "footfall_bench_api",
) -> None:
    """KPI query latency at scale: (a) a year of daily conversion, (b) a day of hourly traffic,
    (c) a 50-store monthly roll-up, each against the same query on the raw tables."""
    from footfall.bench.api import run_bench

    result = run_bench(
        load_settings(),
        stores=stores,
        days=days,
        runs=runs,
        keep=keep,
        dbname=dbname,
        console=err,
        quiet=as_json,
    )
    print(json.dumps(result))


@bench_app.command("dashboard")
def bench_dashboard(
    *,
    days: Annotated[int, typer.Option(min=7, max=1100, help="Days of history for the store.")] = 365,
    runs: Annotated[int, typer.Option(min=3, max=1000, help="Timed loads per page.")] = 10,
    keep: Annotated[bool, typer.Option(help="Keep the bench database afterwards.")] = False,
    dbname: Annotated[
        str, typer.Option(help="Bench database name (dropped and re-created).")
    ] = "footfall_bench_dashboard",
) -> None:
    """The store manager's page for a store-year: HTML + its API calls, and in headless Chromium when
    installed; against the one-day page in the same run. Target: under 1 s."""
    from footfall.bench.dashboard import run_bench

    result = run_bench(load_settings(), days=days, runs=runs, keep=keep, dbname=dbname, say=err.print)
    print(json.dumps(result))


@bench_app.command("merch")
def bench_merch(
    days: Annotated[int, typer.Option(min=1, max=92, help="Days of heatmap minutes to load.")] = 30,
    cells: Annotated[int, typer.Option(min=1, max=2000, help="Cells per camera per minute.")] = 60,
    runs: Annotated[int, typer.Option(min=1, max=100, help="Timed runs per query.")] = 5,
) -> None:
    """A month of one store's heatmap as JSON and as a PNG overlay, vs summing the raw minutes, in one run."""
    from footfall.bench.merch import run_bench

    print(json.dumps(run_bench(load_settings(), days=days, cells=cells, runs=runs)))


@bench_app.command("models")
def bench_models(
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON result line.")] = False,
    stores: Annotated[int, typer.Option(min=1, max=1000, help="Stores to generate.")] = 50,
    days: Annotated[int, typer.Option(min=28, max=730, help="Days of hourly history per store.")] = 365,
    keep: Annotated[bool, typer.Option(help="Keep the bench database afterwards.")] = False,
    dbname: Annotated[
        str, typer.Option(help="Bench database name (dropped and re-created).")
    ] = "footfall_bench_models",
) -> None:
    """Training time of every store's models (entries, transactions, revenue) for a year of hourly
    data, against the seasonal baseline's, with the held-out accuracy each buys."""
    from footfall.bench.models import run_bench
    from footfall.core.errors import FootfallError

    try:
        result = run_bench(load_settings(), stores=stores, days=days, keep=keep, dbname=dbname, console=err,
                           quiet=as_json)  # fmt: skip
    except FootfallError as exc:
        raise fail(str(exc)) from None
    print(json.dumps(result))


@bench_app.command("alerts")
def bench_alerts(
    *,
    stores: Annotated[int, typer.Option(min=1, max=1000, help="Stores.")] = 50,
    rules: Annotated[int, typer.Option(min=1, max=100_000, help="Rules, spread over the stores.")] = 500,
    crossings: Annotated[int, typer.Option(min=1, help="Border crossings timed (at most one per store).")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Only the JSON line on stdout.")] = False,
) -> None:
    """p95 from the commit of the reading that crosses a border to the signed webhook received, and the
    evaluation cost per cycle against a naive one-query-per-rule baseline (database footfall_bench_alerts)."""
    from footfall.bench.alerts import run_bench
    from footfall.core.errors import FootfallError

    try:
        result = run_bench(load_settings(), stores=stores, rules=rules, crossings=crossings, log=not as_json)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    if not as_json:
        console.print(result)
    print(json.dumps(result))
