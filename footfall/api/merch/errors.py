"""Errors of the merchandising layer, grouped by what the caller can do about them.

They extend the KPI layer's errors (the merchandising queries are KPI queries about the
floor), so `footfall.api.problems` maps both to problem documents in one table.
"""

from footfall.api.kpis.errors import KpiError, UnanswerableQuery


class MerchError(KpiError):
    """Base of every error the merchandising layer raises on purpose."""


class BadPlan(MerchError):
    """A floor plan picture or its placement is unusable; upload a PNG or JPEG with a positive scale."""


class UnknownFloor(MerchError):
    """No such floor in the store: name one of the store's floors (`floor=`)."""


class UnknownZone(MerchError):
    """No such zone in the store (or not of the kind asked for): check the zone id and its `kind`."""


class UnknownChange(MerchError):
    """No such layout change in the store."""


class UnanswerablePeriod(MerchError, UnanswerableQuery):
    """The period cannot be answered as asked (reversed, too short or too long); fix `first`/`last`."""
