"""The example store's floor plan picture (`examples/plan-ground.png`), drawn from its YAML geometry.

Regenerate after changing the example's floors or zones:
`python -m footfall.demo.plan examples/store.yaml examples/plan-ground.png`.
"""

import sys
from pathlib import Path

import cv2

from footfall.api.merch.heatmap import ZoneOutline, draw_plan
from footfall.core.storeconfig import StoreConfig

DOORS = {"main": (5.0, 9.0), "garden": (10.5, 13.5)}
"""Where the example's doors sit on the floor's bottom edge (metres)."""
PX = 600


def example_plan(cfg: StoreConfig) -> bytes:
    """A PNG of the first floor: 1 m grid, zones shaded, doors marked (20 px per metre for 30 × 20 m)."""
    floor = cfg.floors[0]
    zones = [ZoneOutline(z.id, z.name, [(p[0], p[1]) for p in z.polygon]) for z in cfg.zones if z.floor == floor.id]
    plan = draw_plan(width_m=floor.width_m, height_m=floor.height_m, zones=zones, px=PX)
    img = plan.image.copy()
    ppm = plan.px_per_m
    h = img.shape[0]
    for door, (x0, x1) in DOORS.items():
        cv2.line(img, (round(x0 * ppm), h - 2), (round(x1 * ppm), h - 2), (250, 250, 250), 5)
        cv2.putText(
            img, f"{door} door", (round(x0 * ppm) + 4, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1,
            cv2.LINE_AA,
        )  # fmt: skip
    ok, png = cv2.imencode(".png", img)
    if not ok:  # pragma: no cover
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()


if __name__ == "__main__":
    store, out = Path(sys.argv[1]), Path(sys.argv[2])
    data = StoreConfig.from_yaml(store)
    Path(out).write_bytes(example_plan(data))
