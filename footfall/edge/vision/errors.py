"""Errors of the camera pipeline: one base, grouped by what the caller can do."""

from footfall.core.errors import FootfallError


class VisionError(FootfallError):
    """Base of every error the camera pipeline raises on purpose."""


class SourceError(VisionError):
    """A video source cannot be opened or read; the message names the source and the fix."""


class CameraConfigError(VisionError, ValueError):
    """A camera's store config or pipeline options cannot drive the pipeline (missing calibration, bad line)."""


class GroundTruthError(VisionError, ValueError):
    """A ground-truth file is unreadable; the message names the file and the line."""
