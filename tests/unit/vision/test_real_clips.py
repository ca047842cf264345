"""The pipeline on real pedestrian clips (MOTChallenge TUD) with ground truth.

The clips live in ../shared/data/video, outside the repository (no redistribution
licence); these tests skip when it is absent. The clips are 3 and 7 seconds long: a
sanity check, not a benchmark. docs/vision.md has the full table.
"""

import pytest

from footfall.edge.vision.config import PipelineOptions
from footfall.edge.vision.evaluate import Line, accuracy, count_video, gt_counts, read_mot

from .conftest import need_data


@pytest.mark.parametrize(
    ("clip", "line", "expected"),
    [
        ("tud-campus", "320,0,320,480", (1, 4)),  # 4 left→right (out), 1 right→left (in)
        ("tud-stadtmitte", "320,0,320,480", (1, 1)),
        # the shared README says "top→bottom", but the foot points go from y≈300.3 to y≈299.8,
        # i.e. up the picture: on A=(0,300)→B=(640,300) that ends on the negative side, `out`
        ("tud-stadtmitte", "0,300,640,300", (0, 3)),
    ],
)
def test_ground_truth_crossings_match_the_reference_table(clip, line, expected) -> None:
    gt = read_mot(need_data(clip, "gt.txt"))
    assert gt_counts(gt, Line.parse(line)) == expected


def test_hog_counts_tud_campus_exactly() -> None:
    video = need_data("tud-campus", "TUD-Campus.mp4")
    line = Line.parse("320,0,320,480")
    truth = gt_counts(read_mot(need_data("tud-campus", "gt.txt")), line)
    result = count_video(video, line, PipelineOptions.model_validate({"detector": {"kind": "hog"}}))
    assert result["frames"] == 71
    assert accuracy(result["in"], result["out"], *truth) == 1.0
