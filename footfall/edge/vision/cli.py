"""Command-line entry points of `footfall.edge.vision`, registered on the root `footfall` command.

- `footfall eval counting --video FILE --line X1,Y1,X2,Y2 [--gt GT] --json`
- `footfall bench vision --video FILE --json`
- `footfall vision run --store STORE.yaml --camera ID --source URI` (readings as JSON lines)
- `footfall vision scene OUT.mp4` (a synthetic scene and its ground truth)
- `footfall vision snapshot --source URI --out FILE.jpg` (local, people blurred)
"""

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

vision_app = typer.Typer(help="Camera pipeline tools: run a camera, render synthetic scenes, debug snapshots.")


def _fail(message: str) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message}")
    return typer.Exit(1)


def _options(path: Path | None, detector: str | None):
    import yaml
    from pydantic import ValidationError

    from footfall.edge.vision.config import PipelineOptions

    data: dict = {}
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise _fail(f"{path}: cannot read pipeline options: {exc}") from None
    if detector is not None:
        if detector not in ("bgsub", "hog"):
            raise _fail(f"--detector must be bgsub or hog, not {detector!r}")
        data.setdefault("detector", {})["kind"] = detector
    try:
        return PipelineOptions.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)]
        raise _fail(f"invalid pipeline options{f' in {path}' if path else ''}:\n" + "\n".join(lines)) from None


def _progress():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def register(app: typer.Typer, *, bench: typer.Typer, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `bench` and `eval` groups.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    app.add_typer(vision_app, name="vision")
    evaluate.command("counting")(eval_counting)
    bench.command("vision")(bench_vision)


def eval_counting(  # noqa: PLR0917 - typer options are parameters
    video: Annotated[Path, typer.Option(help="Video file to count people in.")],
    line: Annotated[str, typer.Option(help="Counting line X1,Y1,X2,Y2 in pixels (A→B; see docs/vision.md).")],
    gt: Annotated[Path | None, typer.Option(help="MOT ground truth (frame,id,x,y,w,h,…) for accuracy.")] = None,
    detector: Annotated[str | None, typer.Option(help="bgsub or hog (default: from --options, else bgsub).")] = None,
    options: Annotated[Path | None, typer.Option(help="Pipeline options YAML (see docs/vision.md).")] = None,
    prime: Annotated[bool, typer.Option(help="bgsub: start from the clip's median frame (short clips).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")] = False,
) -> None:
    """Count line crossings in a video; with --gt, compare with ground truth.

    `in` is a crossing that ends where (B−A)×(P−A) > 0 in image coordinates: for the
    line 320,0,320,480 that is the side x < 320, so walking right→left is `in`.
    """
    from footfall.edge.vision.errors import VisionError
    from footfall.edge.vision.evaluate import Line, accuracy, count_video, gt_counts, read_mot

    try:
        ln = Line.parse(line)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    opts = _options(options, detector)
    try:
        truth = gt_counts(read_mot(gt), ln) if gt is not None else None
        with _progress() as progress:
            task = progress.add_task(f"counting {video.name}", total=None)
            result = count_video(
                video,
                ln,
                opts,
                prime=prime,
                on_frame=lambda done, total: progress.update(task, completed=done, total=total or None),
            )
    except VisionError as exc:
        raise _fail(str(exc)) from None
    out = {
        "in": result["in"],
        "out": result["out"],
        "video": str(video),
        "line": str(ln),
        "detector": opts.detector.kind,
        "frames": result["frames"],
        "fps": result["fps"],
    }
    if truth is not None:
        out.update(gt_in=truth[0], gt_out=truth[1], accuracy=accuracy(result["in"], result["out"], *truth))
    if not as_json:
        from rich.console import Console

        con = Console()
        con.print(f"{video}: in {out['in']}, out {out['out']} over {out['frames']} frames ({out['fps']} fps)")
        if truth is not None:
            con.print(f"ground truth: in {truth[0]}, out {truth[1]}; accuracy {out['accuracy']}")
    print(json.dumps(out))


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
    from footfall.edge.vision.errors import VisionError

    opts = _options(options, detector)
    with tempfile.TemporaryDirectory() as tmp:
        if video is None:
            from footfall.firmware_stubs.scenes import door_scene

            video = door_scene(duration_s=30).write(Path(tmp) / "door-scene.mp4")
        try:
            with _progress() as progress:
                task = progress.add_task(f"benchmarking {video.name}", total=passes)
                result = bench_video(
                    video, options=opts, passes=passes, on_pass=lambda i: progress.update(task, completed=i)
                )
        except VisionError as exc:
            raise _fail(str(exc)) from None
    result["video"] = str(video)
    if not as_json:
        from rich.console import Console

        Console().print(
            f"pipeline {result['fps']} fps, decode {result['decode_fps']} fps, decode+MOG2 "
            f"{result['bgsub_fps']} fps: {result['ratio_to_bgsub']:.0%} of background subtraction"
        )
    print(json.dumps(result))


@vision_app.command("run")
def vision_run(  # noqa: PLR0917 - typer options are parameters
    store: Annotated[Path, typer.Option(help="Store YAML with the camera's calibration, lines and zones.")],
    camera: Annotated[str, typer.Option(help="The camera's device id in the store YAML.")],
    source: Annotated[str, typer.Option(help="Video file, stream URL (rtsp://…) or device index.")],
    options: Annotated[Path | None, typer.Option(help="Pipeline options YAML.")] = None,
    detector: Annotated[str | None, typer.Option(help="bgsub or hog.")] = None,
    state_dir: Annotated[Path, typer.Option(help="Where the camera's reference view is kept.")] = Path(".local/vision"),
) -> None:
    """Run one camera and print each bucket's readings as JSON lines (kind, device, reading)."""
    from footfall.core.errors import FootfallError
    from footfall.core.storeconfig import StoreConfig
    from footfall.edge.vision.pipeline import CameraPipeline, CameraSpec
    from footfall.edge.vision.source import VideoSource

    class _PrintSink:
        def put(self, kind, device_id, readings) -> None:
            for r in readings:
                sys.stdout.write(
                    json.dumps({"kind": kind.value, "device_id": device_id, "reading": r.model_dump(mode="json")})
                    + "\n"
                )
            sys.stdout.flush()

    opts = _options(options, detector)
    try:
        spec = CameraSpec.from_store(StoreConfig.from_yaml(store), camera)
        src = VideoSource(source, fps_hint=opts.fps_hint)
    except FootfallError as exc:
        raise _fail(str(exc)) from None
    pipe = CameraPipeline(spec, opts, _PrintSink(), state_dir=state_dir)
    with src, contextlib.suppress(KeyboardInterrupt):
        pipe.run(src)  # flushes the open bucket on the way out, Ctrl-C included


@vision_app.command("scene")
def vision_scene(
    out: Annotated[Path, typer.Argument(help="Video file to write (.mp4).")],
    seed: Annotated[int, typer.Option(help="Random seed of the scene.")] = 0,
    duration: Annotated[float, typer.Option(min=5, max=3600, help="Seconds.")] = 80.0,
    fps: Annotated[float, typer.Option(min=1, max=60, help="Frames per second.")] = 10.0,
) -> None:
    """Render a synthetic door scene; writes OUT, OUT.truth.json and OUT.store.yaml beside it."""
    import yaml

    from footfall.firmware_stubs.scenes import door_scene

    scene = door_scene(seed=seed, duration_s=duration, fps=fps)
    scene.write(out)
    truth = scene.truth()
    (out.with_suffix(".truth.json")).write_text(
        json.dumps(
            {
                "entries": truth.entries,
                "exits": truth.exits,
                "crossings": truth.crossings,
                "visits": [
                    {"zone": v.zone_id, "enter_s": v.enter_t, "exit_s": v.exit_t, "dwell_s": v.dwell_s}
                    for v in truth.visits
                ],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    store = scene.store_config().model_dump(mode="json")
    (out.with_suffix(".store.yaml")).write_text(yaml.safe_dump(store, sort_keys=False), encoding="utf-8")
    typer.echo(f"wrote {out} ({scene.frame_count} frames), its ground truth and store YAML")


@vision_app.command("snapshot")
def vision_snapshot(  # noqa: PLR0917 - typer options are parameters
    source: Annotated[str, typer.Option(help="Video file, stream URL or device index.")],
    out: Annotated[Path, typer.Option(help="Local image file to write (.jpg/.png); it never leaves the box.")],
    seconds: Annotated[float, typer.Option(min=0, max=600, help="Let the detector learn this long first.")] = 3.0,
    store: Annotated[Path | None, typer.Option(help="Store YAML, to draw the camera's lines.")] = None,
    camera: Annotated[str | None, typer.Option(help="Camera id in the store YAML.")] = None,
    detector: Annotated[str | None, typer.Option(help="bgsub or hog.")] = None,
) -> None:
    """Write a local debug snapshot with every detected person blurred and the counting lines drawn."""
    import cv2

    from footfall.core.errors import FootfallError
    from footfall.core.storeconfig import StoreConfig
    from footfall.edge.vision.detect import make_detector
    from footfall.edge.vision.pipeline import CameraSpec
    from footfall.edge.vision.snapshot import annotate, blur_people
    from footfall.edge.vision.source import VideoSource

    opts = _options(None, detector)
    try:
        lines = CameraSpec.from_store(StoreConfig.from_yaml(store), camera).lines if store and camera else []
        det = make_detector(opts.detector)
        last = None
        with VideoSource(source) as src:
            first_at = None
            for frame, at in src:
                first_at = first_at or at
                last = (frame, det.detect(frame))
                if (at - first_at).total_seconds() >= seconds:
                    break
    except FootfallError as exc:
        raise _fail(str(exc)) from None
    if last is None:
        raise _fail(f"{source}: no frame")
    picture = annotate(blur_people(*last), lines)
    if not cv2.imwrite(str(out), picture):
        raise _fail(f"cannot write {out}: use a .jpg or .png name in a folder that exists")
    typer.echo(f"wrote {out} ({len(last[1])} people blurred)")
