"""Command-line entry points of `footfall.edge.vision`, registered on the root `footfall` command.

- `footfall eval counting --video FILE --line X1,Y1,X2,Y2 [--gt GT] --json`
- `footfall vision run --store STORE.yaml --camera ID --source URI` (readings as JSON lines)
- `footfall vision snapshot --source URI --out FILE.jpg` (local, people blurred)

`footfall vision scene` (synthetic scenes) lives with the simulators in
`footfall.firmware_stubs.cli`, and `footfall bench vision` in `footfall.bench.cli`.
"""

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from footfall.core.cli import fail, progress

if TYPE_CHECKING:
    from collections.abc import Sequence

    from footfall.core.messages import Reading
    from footfall.core.topics import Kind

if TYPE_CHECKING:
    from footfall.edge.vision.config import PipelineOptions

vision_app = typer.Typer(help="Camera pipeline tools: run a camera, render synthetic scenes, debug snapshots.")


def pipeline_options(path: Path | None, detector: str | None) -> "PipelineOptions":
    """Pipeline options from `--options FILE` and `--detector`, or a clear error and exit 1."""
    from footfall.core.errors import ConfigError
    from footfall.edge.vision.config import PipelineOptions

    try:
        return PipelineOptions.from_yaml(path, detector=detector)
    except ConfigError as exc:
        raise fail(str(exc)) from None


def register(app: typer.Typer, *, evaluate: typer.Typer) -> None:
    """Add this package's commands to the root app and to the `eval` group.

    Keep imports of heavy modules inside the commands: `footfall --help` loads every
    package's `cli` module.
    """
    app.add_typer(vision_app, name="vision")
    evaluate.command("counting")(eval_counting)


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
        raise fail(str(exc)) from None
    opts = pipeline_options(options, detector)
    try:
        truth = gt_counts(read_mot(gt), ln) if gt is not None else None
        with progress() as bar:
            task = bar.add_task(f"counting {video.name}", total=None)
            result = count_video(
                video,
                ln,
                opts,
                prime=prime,
                on_frame=lambda done, total: bar.update(task, completed=done, total=total or None),
            )
    except VisionError as exc:
        raise fail(str(exc)) from None
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
        def put(self, kind: "Kind", device_id: str, readings: "Sequence[Reading]") -> None:
            for r in readings:
                sys.stdout.write(
                    json.dumps({"kind": kind.value, "device_id": device_id, "reading": r.model_dump(mode="json")})
                    + "\n"
                )
            sys.stdout.flush()

    opts = pipeline_options(options, detector)
    try:
        spec = CameraSpec.from_store(StoreConfig.from_yaml(store), camera)
        src = VideoSource(source, fps_hint=opts.fps_hint)
    except FootfallError as exc:
        raise fail(str(exc)) from None
    pipe = CameraPipeline(spec, opts, _PrintSink(), state_dir=state_dir)
    with src, contextlib.suppress(KeyboardInterrupt):
        pipe.run(src)  # flushes the open bucket on the way out, Ctrl-C included


@vision_app.command("snapshot")
def vision_snapshot(  # noqa: PLR0917 - typer options are parameters
    source: Annotated[str, typer.Option(help="Video file, stream URL or device index.")],
    out: Annotated[Path, typer.Option(help="Local image file to write (.jpg/.png); it never leaves the box.")],
    seconds: Annotated[float, typer.Option(min=0, max=600, help="Let the detector learn this long first.")] = 3.0,
    store: Annotated[Path | None, typer.Option(help="Store YAML, to draw the camera's lines.")] = None,
    camera: Annotated[str | None, typer.Option(help="Camera id in the store YAML.")] = None,
    detector: Annotated[str | None, typer.Option(help="bgsub or hog.")] = None,
) -> None:
    """Write a local debug snapshot, every person pixelated (detections and all motion), lines drawn."""
    import cv2

    from footfall.core.errors import FootfallError
    from footfall.core.storeconfig import StoreConfig
    from footfall.edge.vision.detect import make_detector
    from footfall.edge.vision.pipeline import CameraSpec
    from footfall.edge.vision.snapshot import SnapshotCamera, annotate
    from footfall.edge.vision.source import VideoSource

    opts = pipeline_options(None, detector)
    try:
        lines = CameraSpec.from_store(StoreConfig.from_yaml(store), camera).lines if store and camera else []
        det = make_detector(opts.detector)
        cam = SnapshotCamera()
        detected = 0
        with VideoSource(source) as src:
            first_at = None
            for frame, at in src:
                first_at = first_at or at
                found = det.detect(frame)
                cam.feed(frame, found)
                detected = len(found)
                if (at - first_at).total_seconds() >= seconds:
                    break
    except FootfallError as exc:
        raise fail(str(exc)) from None
    if cam.frames == 0:
        raise fail(f"{source}: no frame")
    blurred, boxes = cam.picture()
    if not cv2.imwrite(str(out), annotate(blurred, lines)):
        raise fail(f"cannot write {out}: use a .jpg or .png name in a folder that exists")
    motion = len(boxes) - detected
    typer.echo(
        f"wrote {out} ({detected} detected people and {motion} region(s) of motion pixelated"
        + (f"; the whole picture: fewer than {cam.warmup_frames} frames read" if cam.frames < cam.warmup_frames else "")
        + ")"
    )
