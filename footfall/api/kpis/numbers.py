"""KPI values as Footfall sends them anywhere (API, CSV, alert digests): money as `Decimal`
in the currency's minor unit, counts as integers, ratios as floats."""

from decimal import Decimal

from footfall.api.kpis.metrics import Kpi
from footfall.core.money import optional_money

Number = Decimal | int | float

MONEY_KPIS = frozenset({Kpi.REVENUE, Kpi.ATV, Kpi.REVENUE_PER_M2})
COUNT_KPIS = frozenset({Kpi.ENTRIES, Kpi.EXITS, Kpi.TRANSACTIONS, Kpi.REFUNDS, Kpi.VOIDS})


def count(value: float | int | None) -> int | float | None:
    """A count as an integer when it is whole (visitors in (entries+exits)/2 mode may end in .5)."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def kpi_number(kpi: Kpi, value: float | None, currency: str) -> Number | None:
    """A KPI value as Footfall sends it (money rounded half-to-even to the minor unit)."""
    if value is None:
        return None
    if kpi in MONEY_KPIS:
        return optional_money(value, currency)
    if kpi in COUNT_KPIS or kpi in (Kpi.VISITORS, Kpi.ITEMS):
        return count(value)
    return value
