"""KPIs and data quality from `Totals`, with the formulas (and null rules) of `footfall.core.kpi`."""

from dataclasses import dataclass
from enum import StrEnum

from footfall.api.kpis.store import StoreInfo
from footfall.api.kpis.totals import Totals
from footfall.core import kpi as formulas


class Kpi(StrEnum):
    """Every KPI the API reports."""

    VISITORS = "visitors"
    ENTRIES = "entries"
    EXITS = "exits"
    TRANSACTIONS = "transactions"
    REFUNDS = "refunds"
    VOIDS = "voids"
    REVENUE = "revenue"
    ITEMS = "items"
    CONVERSION = "conversion"
    ATV = "atv"
    UPT = "upt"
    REVENUE_PER_M2 = "revenue_per_m2"
    CAPTURE_RATE = "capture_rate"
    LOYALTY_ACTIVATION = "loyalty_activation"
    SHOPPER_TO_STAFF = "shopper_to_staff"


class Flag(StrEnum):
    """Why a number should be read with care."""

    NO_CUSTOMER_DOORS = "no_customer_doors"
    """The store has no customer door configured: no traffic, no conversion."""
    DOOR_DATA_INCOMPLETE = "door_data_incomplete"
    """Counters covered less of the opening hours than the threshold; conversion is withheld."""
    DOOR_DATA_INVALIDATED = "door_data_invalidated"
    """Some door data was flagged invalid by its device (sensor or camera fault)."""
    POS_FEED_GAP = "pos_feed_gap"
    """People came in but no receipt arrived for a while: the POS feed may be behind."""


@dataclass(frozen=True, slots=True)
class KpiOptions:
    """How KPIs are derived."""

    visitor_mode: formulas.VisitorMode = formulas.VisitorMode.ENTRIES
    min_door_coverage: float = 0.95
    """Below this share of open counter-time with valid data, conversion is withheld."""


DEFAULT_OPTIONS = KpiOptions()


@dataclass(frozen=True, slots=True)
class Quality:
    """How complete the inputs of a number were."""

    door_coverage: float | None
    """Share of open counter-time (customer doors × opening hours) with valid data; None when closed."""
    invalid_minutes: float
    """Counter-minutes inside opening hours that devices flagged invalid."""
    pos_gap_minutes: float
    """Open minutes with door traffic and not one receipt."""
    door_complete: bool
    flags: tuple[Flag, ...]


def quality(t: Totals, store: StoreInfo, options: KpiOptions = DEFAULT_OPTIONS) -> Quality:
    """Data quality of a bucket or period."""
    flags: list[Flag] = []
    coverage = None if t.expected_s <= 0 else min(1.0, t.valid_s / t.expected_s)
    if not store.customer_doors:
        flags.append(Flag.NO_CUSTOMER_DOORS)
    complete = bool(store.customer_doors) and (coverage is None or coverage >= options.min_door_coverage)
    if store.customer_doors and not complete:
        flags.append(Flag.DOOR_DATA_INCOMPLETE)
    if t.invalid_s > 0:
        flags.append(Flag.DOOR_DATA_INVALIDATED)
    if t.pos_gap_s > 0:
        flags.append(Flag.POS_FEED_GAP)
    return Quality(
        door_coverage=coverage,
        invalid_minutes=t.invalid_s / 60,
        pos_gap_minutes=t.pos_gap_s / 60,
        door_complete=complete,
        flags=tuple(flags),
    )


def kpis(
    t: Totals, store: StoreInfo, options: KpiOptions = DEFAULT_OPTIONS, q: Quality | None = None
) -> dict[Kpi, float | None]:
    """Every KPI of a bucket or period.

    Conversion is None (not a number computed from partial traffic) when the door data is
    incomplete; `quality` says so with `door_data_incomplete`.
    """
    q = q or quality(t, store, options)
    has_doors = bool(store.customer_doors)
    visitors = formulas.visitors(t.entries if has_doors else None, t.exits, options.visitor_mode)
    revenue = float(t.revenue)
    conversion = formulas.conversion(transactions=t.transactions, visitors=visitors) if q.door_complete else None
    capture = formulas.capture_rate(entries=t.outward_entries, passersby=t.passersby) if store.outward_doors else None
    staff = (
        formulas.shopper_to_staff(visitors_per_hour=visitors, staff_on_duty=t.staff_hours)
        if t.staff_hours is not None
        else None
    )
    return {
        Kpi.VISITORS: visitors,
        Kpi.ENTRIES: float(t.entries) if has_doors else None,
        Kpi.EXITS: float(t.exits) if has_doors else None,
        Kpi.TRANSACTIONS: float(t.transactions),
        Kpi.REFUNDS: float(t.refunds),
        Kpi.VOIDS: float(t.voids),
        Kpi.REVENUE: revenue,
        Kpi.ITEMS: float(t.items),
        Kpi.CONVERSION: conversion,
        Kpi.ATV: formulas.atv(net_revenue=t.revenue, transactions=t.transactions),
        Kpi.UPT: formulas.upt(items=t.items, transactions=t.transactions),
        Kpi.REVENUE_PER_M2: formulas.revenue_per_m2(net_revenue=t.revenue, area_m2=store.sales_area_m2),
        Kpi.CAPTURE_RATE: capture,
        Kpi.LOYALTY_ACTIVATION: formulas.loyalty_activation(
            loyalty_transactions=t.loyalty_transactions, transactions=t.transactions
        ),
        Kpi.SHOPPER_TO_STAFF: staff,
    }
