"""`footfall eval counting`, `footfall bench vision` and `footfall vision …` as a user runs them."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footfall.cli import app
from footfall.edge.vision.evaluate import Line, gt_counts, read_mot
from footfall.firmware_stubs.scenes import door_scene

runner = CliRunner()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> tuple[Path, Path, str]:
    """A 40-second synthetic door clip as MP4, its MOT ground truth and its counting line."""
    folder = tmp_path_factory.mktemp("clip")
    scene = door_scene(seed=1, duration_s=40)
    video = scene.write(folder / "door.mp4")
    gt = folder / "gt.txt"
    gt.write_text(scene.mot_ground_truth())
    (ax, ay), (bx, by) = scene.line_px
    return video, gt, f"{ax:g},{ay:g},{bx:g},{by:g}"


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_eval_counting_prints_counts_truth_and_accuracy(clip) -> None:
    video, gt, line = clip
    result = runner.invoke(app, ["eval", "counting", "--video", str(video), "--line", line, "--gt", str(gt), "--json"])
    assert result.exit_code == 0, result.output
    out = last_json(result.output)
    assert {"in", "out", "gt_in", "gt_out", "accuracy"} <= set(out)
    assert (out["gt_in"], out["gt_out"]) == gt_counts(read_mot(gt), Line.parse(line))
    assert (out["in"], out["out"]) == (out["gt_in"], out["gt_out"])
    assert out["accuracy"] == 1.0


def test_eval_counting_without_gt_has_no_accuracy(clip) -> None:
    video, _, line = clip
    result = runner.invoke(app, ["eval", "counting", "--video", str(video), "--line", line, "--json"])
    assert result.exit_code == 0, result.output
    out = last_json(result.output)
    assert "accuracy" not in out
    assert out["frames"] == 400


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--line", "1,2,3"], "four numbers"),  # malformed line
        (["--line", "5,5,5,5"], "same"),  # A == B
        (["--line", "0,0,10,10", "--detector", "yolo"], "bgsub or hog"),  # unknown detector
        (["--line", "0,0,10,10", "--gt", "/nonexistent/gt.txt"], "cannot read"),  # missing ground truth
    ],
)
def test_eval_counting_errors_name_the_fix(clip, args, message) -> None:
    result = runner.invoke(app, ["eval", "counting", "--video", str(clip[0]), *args])
    assert result.exit_code == 1
    assert message in result.output


def test_eval_counting_on_a_missing_video() -> None:
    result = runner.invoke(app, ["eval", "counting", "--video", "/nonexistent.mp4", "--line", "0,0,10,10"])
    assert result.exit_code == 1
    assert "cannot open video" in result.output


@pytest.mark.slow  # runs the vision benchmark
def test_bench_vision_prints_the_issue_keys(clip) -> None:
    result = runner.invoke(app, ["bench", "vision", "--video", str(clip[0]), "--passes", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = last_json(result.output)
    assert {"fps", "decode_fps", "bgsub_fps", "ratio_to_bgsub"} <= set(out)
    assert out["decode_fps"] > out["bgsub_fps"] > 0
    assert out["ratio_to_bgsub"] == pytest.approx(out["fps"] / out["bgsub_fps"], rel=0.01)


def test_vision_scene_writes_video_truth_and_store(tmp_path) -> None:
    out = tmp_path / "s.mp4"
    result = runner.invoke(app, ["vision", "scene", str(out), "--duration", "10"])
    assert result.exit_code == 0, result.output
    truth = json.loads(out.with_suffix(".truth.json").read_text())
    assert {"entries", "exits", "crossings", "visits"} <= set(truth)
    store = runner.invoke(app, ["stores", "apply", str(out.with_suffix(".store.yaml")), "--check"])
    assert store.exit_code == 0, store.output


def test_vision_run_prints_readings_as_json_lines(clip, tmp_path) -> None:
    video, _, _ = clip
    store = tmp_path / "store.yaml"
    import yaml

    store.write_text(yaml.safe_dump(door_scene(seed=1).store_config().model_dump(mode="json")))
    result = runner.invoke(
        app,
        [
            "vision",
            "run",
            "--store",
            str(store),
            "--camera",
            "cam1",
            "--source",
            str(video),
            "--state-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(ln) for ln in result.output.splitlines() if ln.startswith("{")]
    kinds = {ln["kind"] for ln in lines}
    assert kinds == {"counts", "zones", "occupancy", "heatmap"}
    entries = sum(ln["reading"]["entries"] for ln in lines if ln["kind"] == "counts")
    assert entries == door_scene(seed=1, duration_s=40).truth().entries


def test_snapshot_blurs_people(clip, tmp_path) -> None:
    import cv2

    out = tmp_path / "snap.png"
    result = runner.invoke(app, ["vision", "snapshot", "--source", str(clip[0]), "--out", str(out), "--seconds", "12"])
    assert result.exit_code == 0, result.output
    assert "detected people and" in result.output
    assert "region(s) of motion pixelated" in result.output
    assert cv2.imread(str(out)) is not None
