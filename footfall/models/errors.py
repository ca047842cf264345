"""Errors of the models package: bad input series, and models asked for what they cannot do."""

from footfall.core.errors import FootfallError


class ModelError(FootfallError):
    """Base of every error the models package raises."""


class SeriesError(ModelError, ValueError):
    """An input series or CSV cannot be used; the message names the line or field and the fix."""


class NotFitted(ModelError):
    """A model was asked to predict before `fit`."""
