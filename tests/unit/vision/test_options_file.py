"""Pipeline options read from YAML through core.configfile: errors name the file and the field."""

from pathlib import Path

import pytest

from footfall.core.errors import ConfigError
from footfall.edge.vision.config import PipelineOptions


@pytest.mark.parametrize(
    ("text", "detector", "kind", "says"),
    [
        # no file: the defaults
        (None, None, "bgsub", None),
        # an empty file is the defaults too
        ("", None, "bgsub", None),
        # the file's detector
        ("detector: {kind: hog}\n", None, "hog", None),
        # --detector wins over the file
        ("detector: {kind: hog}\n", "bgsub", "bgsub", None),
        # an unknown --detector is named
        ("", "yolo", None, "--detector must be bgsub or hog, not 'yolo'"),
        # a field that does not exist is named with its path
        ("tracker: {speed: 3}\n", None, None, "tracker.speed: Extra inputs are not permitted"),
        # not a mapping
        ("- 1\n- 2\n", None, None, "must be a YAML mapping"),
        # not YAML at all
        ("detector: [\n", None, None, "not valid YAML"),
        # k-anonymity switched off: refused, not published
        ("privacy: {k: 1}\n", None, None, "privacy.k: k=1 would publish heatmap cells"),
        # k = 0 alike
        ("privacy: {k: 0}\n", None, None, "k must be at least 2"),
        # the smallest k accepted
        ("privacy: {k: 2}\n", None, "bgsub", None),
    ],
)
def test_pipeline_options_from_yaml(
    tmp_path: Path, text: str | None, detector: str | None, kind: str | None, says: str | None
) -> None:
    path = None
    if text is not None:
        path = tmp_path / "opts.yaml"
        path.write_text(text, encoding="utf-8")
    if says is None:
        assert PipelineOptions.from_yaml(path, detector=detector).detector.kind == kind
        return
    with pytest.raises(ConfigError) as info:
        PipelineOptions.from_yaml(path, detector=detector)
    assert says in str(info.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read"):
        PipelineOptions.from_yaml(tmp_path / "missing.yaml")
