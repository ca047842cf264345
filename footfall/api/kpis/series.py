"""KPIs and door traffic per store-local bucket (15 min, hour, day, week, month)."""

from dataclasses import dataclass
from datetime import date, datetime

from footfall.api.kpis.metrics import DEFAULT_OPTIONS, Kpi, KpiOptions, Quality, kpis, quality
from footfall.api.kpis.period import check_period, slot_floor
from footfall.api.kpis.store import StoreInfo, store_info
from footfall.api.kpis.totals import Totals, bucket_totals
from footfall.core.calendar import Bucket, Interval
from footfall.db.connect import DictConnection


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """KPIs of one bucket."""

    bucket: Bucket
    totals: Totals
    kpis: dict[Kpi, float | None]
    quality: Quality


def kpi_series(
    conn: DictConnection,
    *,
    store: StoreInfo,
    first: date,
    last: date,
    interval: Interval | str,
    options: KpiOptions = DEFAULT_OPTIONS,
    now: datetime | None = None,
) -> list[SeriesRow]:
    """Every KPI per store-local bucket over local dates `first`..`last` (empty buckets included).

    With `now`, opening time after it (floored to the quarter hour) has not happened yet:
    coverage of a running bucket is judged on its elapsed opening time only.

    Raises:
        UnanswerableQuery: the period or the number of buckets is out of bounds.
    """
    check_period(first, last, Interval(interval))
    buckets = store.calendar.buckets(first, last, interval)
    out = []
    as_of = slot_floor(now) if now is not None else None
    for b, t in zip(buckets, bucket_totals(conn, store, buckets, as_of=as_of), strict=True):
        q = quality(t, store, options)
        out.append(SeriesRow(bucket=b, totals=t, kpis=kpis(t, store, options, q), quality=q))
    return out


@dataclass(frozen=True, slots=True)
class TrafficRow:
    """Customer-door traffic in one store-local bucket."""

    start: datetime
    end: datetime
    local_start: datetime
    entries: int
    exits: int
    passersby: int | None
    valid_s: float
    invalid_s: float


def traffic_series(
    conn: DictConnection, *, store_id: str, first: date, last: date, interval: Interval | str
) -> list[TrafficRow]:
    """Customer-door traffic for local dates `first`..`last`, one row per bucket (empty buckets too).

    Raises:
        UnknownStore: no such store.
    """
    store = store_info(conn, store_id)
    buckets = store.calendar.buckets(first, last, interval)
    return [
        TrafficRow(
            start=b.start,
            end=b.end,
            local_start=b.local_start,
            entries=t.entries,
            exits=t.exits,
            passersby=t.passersby,
            valid_s=t.valid_s,
            invalid_s=t.invalid_s,
        )
        for b, t in zip(buckets, bucket_totals(conn, store, buckets), strict=True)
    ]
