"""Zone performance: one camera per zone, reach, dwell, crowding, revenue; dead zones and hot spots.

**Which camera counts a zone.** A zone watched by two cameras would count its visitors
twice if the cameras' entries were added. As for heatmap cells, the zone is owned by
the camera that counted the most visits in it over the period, and its visits, dwell
and occupancy are that camera's.

**Dead zone**: reach below `DEAD_REACH` (a twentieth of visitors) or below half the
median reach of the store's sales zones, *and* revenue per m² below half the median of
the zones that sell something. Only sales zones are judged (kind `area` with
categories): a till, a queue or an entrance sells nothing by design.
**Hot spot**: occupancy went above the zone's comfort limit for at least
`HOT_MINUTES` minutes in the period.
"""

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEAD_REACH = 0.05
HOT_MINUTES = 1


@dataclass(frozen=True, slots=True)
class ZoneFigures:
    """A zone's figures from its owning camera and the receipts."""

    zone_id: str
    visits: int
    reach: float | None
    dwell_median_s: float | None
    dwell_p90_s: float | None
    peak: int | None
    minutes_over: int | None
    revenue: float
    revenue_per_m2: float | None
    sells: bool


def owners(rows: Iterable[dict[str, Any]], *, key: str = "entries") -> dict[str, dict[str, Any]]:
    """Per zone, the row of the camera with the largest `key` (ties: the first device id)."""
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["zone_id"], r["device_id"])):
        best = out.get(r["zone_id"])
        if best is None or (r[key] or 0) > (best[key] or 0):
            out[r["zone_id"]] = r
    return out


def classify(zones: list[ZoneFigures]) -> tuple[set[str], set[str]]:
    """The dead zones and the hot spots (see the module doc)."""
    reaches = [z.reach for z in zones if z.reach is not None and z.sells]
    rpm = [z.revenue_per_m2 for z in zones if z.revenue_per_m2 is not None and z.sells]
    med_reach = statistics.median(reaches) if reaches else None
    med_rpm = statistics.median(rpm) if rpm else None
    dead = set()
    for z in zones:
        if z.reach is None or not z.sells:
            continue
        low_reach = z.reach < DEAD_REACH or (med_reach is not None and z.reach < 0.5 * med_reach)
        low_sales = med_rpm is not None and (z.revenue_per_m2 or 0.0) < 0.5 * med_rpm
        if low_reach and low_sales:
            dead.add(z.zone_id)
    hot = {z.zone_id for z in zones if (z.minutes_over or 0) >= HOT_MINUTES}
    return dead, hot
