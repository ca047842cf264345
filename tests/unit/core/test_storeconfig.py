from pathlib import Path

import numpy as np
import pytest
import yaml

from footfall.core.errors import ConfigError
from footfall.core.geometry import apply_homography, homography_from_pairs, point_in_polygon, polygon_area
from footfall.core.storeconfig import StoreConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "store.yaml"


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_example_store_loads() -> None:
    cfg = StoreConfig.from_yaml(EXAMPLE)
    assert cfg.store.timezone == "Europe/Riga"
    assert {d.kind.value for d in cfg.devices} >= {"counter_tcp", "counter_http", "counter_mqtt", "camera"}
    assert cfg.zones[0].area == 48.0


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d["store"].update(timezone="Mars/Base"), "IANA"),  # unknown time zone
        (lambda d: d["zones"][0].update(floor="roof"), "unknown floor"),  # dangling reference
        (lambda d: d["devices"][1].update(doors=["back"]), "unknown door"),
        (lambda d: d["zones"][0].update(polygon=[[0, 0], [4, 4], [4, 0], [0, 4]]), "cross"),  # bow tie
        (lambda d: d["doors"].append(dict(d["doors"][0])), "appear twice"),
        (lambda d: d["store"].update(colour="red"), "colour"),  # unknown field
        (lambda d: d["devices"][4].update(calibration=d["devices"][4]["calibration"][:3]), "at least 4"),
        (
            lambda d: d["devices"][4].update(calibration=[{"image": [i, i], "floor": [i, 2 * i]} for i in range(4)]),
            "collinear",
        ),
        (lambda d: d["store"].update(sales_area_m2=-3), "greater than 0"),
        (lambda d: d["store"]["opening_hours"].update(funday=["09:00", "10:00"]), "unknown weekday"),
        # a zone drawn in centimetres lands outside the 30 × 20 m floor
        (lambda d: d["zones"][0].update(polygon=[[200, 200], [1000, 200], [1000, 800]]), "outside floor"),
        (lambda d: d["zones"][2].update(kind="queue"), "needs `till`"),  # a queue without its till
        (lambda d: d["zones"][2].update(kind="queue", till="nowhere"), "unknown till zone"),
        (lambda d: d["zones"][0].update(till="checkout"), "only queue zones"),  # a till on a sales area
        (lambda d: d["zones"][0].update(comfort_limit=0), "greater than or equal to 1"),
        # calibration floor points typed in pixels instead of metres
        (
            lambda d: d["devices"][4].update(
                calibration=[{"image": p["image"], "floor": p["image"]} for p in d["devices"][4]["calibration"]]
            ),
            "far outside floor",
        ),
        (lambda d: d["floors"][0].update(plan={"image": "plan.png", "px_per_m": 0}), "greater than 0"),
    ],
)
def test_invalid_configs_name_the_field(mutate, match: str) -> None:
    data = example()
    mutate(data)
    with pytest.raises(ConfigError, match=match):
        StoreConfig.from_data(data)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        StoreConfig.from_yaml(tmp_path / "nope.yaml")


def test_homography_maps_calibration_points() -> None:
    image = [(64, 412), (590, 420), (520, 70), (120, 64), (300, 240)]
    true_h = np.array([[0.05, 0.002, -1.0], [0.001, -0.045, 20.0], [0.0, 0.0004, 1.0]])
    floor = [tuple(p) for p in apply_homography(true_h, np.array(image))]
    h = homography_from_pairs(image, floor)
    assert np.allclose(apply_homography(h, np.array(image)), np.array(floor), atol=1e-6)


def test_geometry_helpers() -> None:
    square = [(0, 0), (2, 0), (2, 2), (0, 2)]
    assert polygon_area(square) == 4
    assert point_in_polygon(1, 1, square)
    assert not point_in_polygon(3, 1, square)


def test_plan_image_path_is_relative_to_the_yaml_and_checked(tmp_path: Path) -> None:
    data = example()
    data["floors"][0]["plan"] = {"image": "plans/ground.png", "px_per_m": 20, "origin_m": [0, 0]}
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(data))
    cfg = StoreConfig.from_yaml(path)
    plan = cfg.floors[0].plan
    assert plan is not None
    assert plan.image == tmp_path / "plans" / "ground.png"
    with pytest.raises(ValueError, match=r"fix the `plan\.image` path"):
        plan.read()  # missing file
    (tmp_path / "plans").mkdir()
    plan.image.write_bytes(b"GIF89a")
    with pytest.raises(ValueError, match="neither PNG nor JPEG"):
        plan.read()


def test_stores_apply_check_reads_the_plan_picture(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from footfall.cli import app

    data = example()
    data["floors"][0]["plan"]["image"] = "missing.png"
    path = tmp_path / "store.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["stores", "apply", str(path), "--check"])
    assert result.exit_code != 0
    text = " ".join(result.output.split())  # the console wraps long lines
    assert "floor ground: floor plan image" in text
    assert "fix the `plan.image` path" in text
    ok = CliRunner().invoke(app, ["stores", "apply", str(EXAMPLE), "--check"])
    assert ok.exit_code == 0, ok.output
