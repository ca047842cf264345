"""Slow movers: products ranked by sales velocity, days since their last sale and share of zone revenue.

A product is anything with a SKU (or, without one, a description) sold in the store in
the look-back window (`LOOKBACK_DAYS` before the period's end), so dead stock — sold
before, not in the period — ranks with zero velocity. The ranking puts the slowest
first: lowest velocity (units per day of the period), then the longest since the last
sale, then the smallest share of its zone's revenue.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

LOOKBACK_DAYS = 180


@dataclass(frozen=True, slots=True)
class ProductRow:
    """A product's sales in a period and its last sale."""

    sku: str
    description: str | None
    category: str
    units: float
    revenue: float
    sale_days: int
    last_sale: date | None


@dataclass(frozen=True, slots=True)
class RankedProduct:
    """A product with its velocity and rank (1 = slowest)."""

    row: ProductRow
    zones: list[str]
    velocity: float
    days_since_last_sale: int | None
    zone_revenue_share: float | None
    rank: int


def rank_slow_movers(
    rows: Iterable[ProductRow],
    *,
    days: int,
    last: date,
    category_zones: Mapping[str, list[str]],
    zone_revenue: Mapping[str, float],
) -> list[RankedProduct]:
    """Rank products slowest first.

    Args:
        rows: every product sold in the look-back window, with its sales in the period.
        days: days in the period.
        last: the period's last day (days since the last sale count up to it).
        category_zones: the zones that sell each category.
        zone_revenue: each zone's revenue in the period.
    """
    scored = []
    for r in rows:
        zones = category_zones.get(r.category, [])
        zrev = zone_revenue.get(zones[0]) if zones else None
        share = r.revenue / zrev if zrev else None
        since = (last - r.last_sale).days if r.last_sale is not None else None
        velocity = r.units / max(days, 1)
        scored.append((r, zones, velocity, since, share))
    scored.sort(
        key=lambda s: (
            round(s[2], 9),
            -(s[3] if s[3] is not None else math.inf),
            s[4] if s[4] is not None else 0.0,
            s[0].sku,
        )
    )
    return [
        RankedProduct(row=r, zones=z, velocity=v, days_since_last_sale=d, zone_revenue_share=s, rank=i + 1)
        for i, (r, z, v, d, s) in enumerate(scored)
    ]


def category_zone_map(zones: Iterable[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """category → the zones that sell it, from (zone_id, categories) pairs."""
    out: dict[str, list[str]] = {}
    for zone_id, cats in zones:
        for c in cats:
            out.setdefault(c, []).append(zone_id)
    return out
