"""Errors of the merchandising layer, grouped by what the caller can do about them.

The layer knows nothing of HTTP: `footfall.api.problems` maps these to problem documents
in one place.
"""

from footfall.core.errors import FootfallError


class MerchError(FootfallError):
    """Base of every error the merchandising layer raises on purpose."""


class BadPlan(MerchError):
    """A floor plan picture or its placement is unusable; upload a PNG or JPEG with a positive scale."""


class UnknownFloor(MerchError):
    """No such floor in the store: name one of the store's floors (`floor=`)."""


class UnknownZone(MerchError):
    """No such zone in the store (or not of the kind asked for): check the zone id and its `kind`."""


class UnknownChange(MerchError):
    """No such layout change in the store."""


class UnanswerablePeriod(MerchError):
    """The period cannot be answered as asked (reversed, too short or too long); fix `first`/`last`."""
