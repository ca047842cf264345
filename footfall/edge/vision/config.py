"""Pipeline options: a strict model, one section per stage, every field with bounds.

The store YAML (`footfall.core.storeconfig.Device`, kind `camera`) says *what* a camera
looks at (floor, calibration, counting lines, zones); these options say *how* the
pipeline processes it. An agent's YAML can carry them per camera; the defaults fit a
ceiling camera over a shop door at 640×480.

Example:
    >>> opts = PipelineOptions.model_validate({"detector": {"kind": "hog"}, "privacy": {"k": 5}})
    >>> opts.privacy.k, opts.detector.kind
    (5, 'hog')
"""

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from footfall.core.configfile import load_yaml, validate
from footfall.core.errors import ConfigError

MIN_K = 2
"""The smallest k the edge accepts: below it a heatmap cell can describe one person."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectorOptions(_Strict):
    """Which detector finds people in a frame, and its knobs."""

    kind: Literal["bgsub", "hog"] = Field(
        default="bgsub",
        title="Detector",
        description="`bgsub`: foreground blobs from MOG2 background subtraction (overhead cameras); "
        "`hog`: OpenCV's HOG+SVM people detector (angled views, slower).",
    )
    scale: float = Field(
        default=1.0,
        gt=0.1,
        le=1.0,
        title="Processing scale",
        description="Frames are shrunk by this factor before detection; boxes are scaled back to full pixels.",
    )
    background: Literal["selective", "mog2"] = Field(
        default="selective",
        description="bgsub: `selective` — a running-average background updated only where nobody is, so a "
        "shopper standing still stays foreground for minutes (dwell); `mog2` — OpenCV's Gaussian mixture, "
        "which absorbs anyone still for about history/10 frames but copes with flickering backgrounds.",
    )
    fg_threshold: float = Field(
        default=24.0, gt=0, le=255, description="bgsub selective: grey-level difference that is foreground."
    )
    bg_alpha: float = Field(
        default=0.02, gt=0, le=1, description="bgsub selective: per-frame update rate of the empty background."
    )
    fg_alpha: float = Field(
        default=0.0002,
        ge=0,
        le=1,
        description="bgsub selective: update rate under foreground; things left for ~10 minutes become background.",
    )
    history: int = Field(default=500, ge=10, le=100_000, description="bgsub: frames the background model remembers.")
    var_threshold: float = Field(default=24.0, gt=0, le=1000, description="bgsub: MOG2 variance threshold.")
    learning_rate: float = Field(
        default=-1.0, ge=-1.0, le=1.0, description="bgsub: MOG2 learning rate; -1 lets MOG2 choose from `history`."
    )
    min_area_px: int = Field(
        default=600, ge=1, le=1_000_000, description="bgsub: smallest blob, in full-frame pixels, that is a person."
    )
    max_area_frac: float = Field(
        default=0.5, gt=0, le=1, description="bgsub: blobs larger than this share of the frame are a light change."
    )
    open_px: int = Field(default=3, ge=0, le=31, description="bgsub: opening kernel (removes speckle noise).")
    close_px: int = Field(default=9, ge=0, le=63, description="bgsub: closing kernel (joins one person's parts).")
    hog_stride: int = Field(default=8, ge=4, le=32, description="hog: window stride in pixels.")
    hog_scale: float = Field(default=1.05, gt=1.0, le=2.0, description="hog: pyramid scale step.")
    hog_threshold: float = Field(
        default=0.6, ge=-5, le=5, description="hog: SVM score below which a window is dropped."
    )
    nms_iou: float = Field(default=0.4, gt=0, le=1, description="hog: overlap above which boxes are merged.")


class TrackerOptions(_Strict):
    """Multi-object tracking (ByteTrack-style association on Kalman-predicted boxes)."""

    high_score: float = Field(default=0.5, ge=0, le=1, description="Detections at or above this start tracks.")
    match_iou: float = Field(default=0.2, gt=0, le=1, description="Smallest IoU for a detection to continue a track.")
    match_distance: float = Field(
        default=0.75,
        ge=0,
        le=5,
        description="Fallback gate: centre distance, in box heights, for detections no box overlaps.",
    )
    min_hits: int = Field(default=3, ge=1, le=100, description="Matches before a track is confirmed and gets an id.")
    tentative_lost_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Seconds a not-yet-confirmed track waits for its next match (two people merged into one "
        "blob for a moment do not lose the second one's start).",
    )
    group_containment: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="A detection holding at least this share of two or more tracks' predicted boxes is a group "
        "of people merged into one blob: those tracks follow their predictions until the group splits. 0 turns "
        "group handling off.",
    )
    lost_s: float = Field(
        default=1.0, gt=0, le=60, description="Seconds a confirmed track survives without detections (occlusions)."
    )


class AnchorOptions(_Strict):
    """Which point of a box stands for the person's floor position."""

    point: Literal["foot", "centre"] = Field(
        default="foot",
        description="`foot`: bottom-centre of the box (angled views; the MOT convention); "
        "`centre`: box centre (a camera looking straight down).",
    )


class LineOptions(_Strict):
    """Counting-line behaviour."""

    dead_band_px: float = Field(
        default=6.0,
        ge=0,
        le=200,
        description="A track's side of a line changes only once it is this far past the line, so a box "
        "flickering on the line counts once.",
    )
    dead_band_frac: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="The dead band grows to this share of the box height when that is larger (people near an "
        "angled camera are big, and so is their boxes' jitter).",
    )


class ZoneOptions(_Strict):
    """Zone visit behaviour."""

    exit_grace_s: float = Field(
        default=0.5, ge=0, le=60, description="A visit ends only after the track stays outside this long."
    )
    min_dwell_s: float = Field(default=0.0, ge=0, le=3600, description="Shorter visits are not reported.")


class HeatmapOptions(_Strict):
    """Floor-plan heatmap."""

    cell_m: float = Field(default=0.5, ge=0.05, le=10, description="Cell edge in metres.")


class PrivacyOptions(_Strict):
    """What may leave the device."""

    k: int = Field(
        default=3,
        le=1000,
        title="k",
        description="Heatmap cells visited by fewer distinct tracks in a bucket are suppressed; at least 2.",
    )
    tracks: bool = Field(
        default=False, description="Publish anonymous floor-plan polylines (the store must enable this on purpose)."
    )
    track_step_s: float = Field(default=0.5, gt=0, le=60, description="Time between published polyline points.")

    @field_validator("k")
    @classmethod
    def _k_anonymous(cls, value: int) -> int:
        # k = 1 publishes cells one person alone walked through: k-anonymity off, silently.
        if value < MIN_K:
            raise ValueError(
                f"k={value} would publish heatmap cells that single people walked through; "
                f"k must be at least {MIN_K} (3 is the default)"
            )
        return value


class HealthOptions(_Strict):
    """Camera health: blocked lens, moved view, frozen stream."""

    check_every_s: float = Field(default=0.5, gt=0, le=60, description="How often the checks run.")
    blocked_std: float = Field(
        default=8.0, ge=0, le=128, description="Grey-level spread below which the view is blank (covered lens)."
    )
    blocked_edges: float = Field(
        default=0.004, ge=0, le=1, description="Share of edge pixels below which the view shows no structure."
    )
    blocked_after_s: float = Field(default=2.0, ge=0, le=3600, description="How long before a blank view is blocked.")
    moved_shift_px: float = Field(
        default=12.0, gt=0, le=1000, description="Shift of the view, in full-frame pixels, that counts as moved."
    )
    moved_similarity: float = Field(
        default=0.35,
        ge=0,
        le=1,
        description="Edge similarity to the reference view below which the camera looks at another scene.",
    )
    moved_after_s: float = Field(default=3.0, ge=0, le=3600, description="How long a changed view lasts to be moved.")
    frozen_after_s: float = Field(
        default=5.0, gt=0, le=3600, description="How long bit-identical frames last before the stream is frozen."
    )
    reference_frames: int = Field(
        default=25, ge=1, le=10_000, description="Frames averaged into the reference view when none is stored."
    )


class PipelineOptions(_Strict):
    """Everything the camera pipeline can be told, per camera."""

    detector: DetectorOptions = Field(default_factory=DetectorOptions)
    tracker: TrackerOptions = Field(default_factory=TrackerOptions)
    anchor: AnchorOptions = Field(default_factory=AnchorOptions)
    line: LineOptions = Field(default_factory=LineOptions)
    zone: ZoneOptions = Field(default_factory=ZoneOptions)
    heatmap: HeatmapOptions = Field(default_factory=HeatmapOptions)
    privacy: PrivacyOptions = Field(default_factory=PrivacyOptions)
    health: HealthOptions = Field(default_factory=HealthOptions)
    bucket_s: int = Field(default=60, ge=1, le=3600, description="Aggregation interval in seconds (one minute).")
    fps_hint: float = Field(
        default=0.0, ge=0, le=240, description="Frames per second when the source does not say; 0 uses its clock."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.privacy.track_step_s > self.bucket_s:
            raise ValueError("privacy.track_step_s is longer than bucket_s; no polyline would have two points")
        return self

    @classmethod
    def from_yaml(cls, path: Path | None, *, detector: str | None = None) -> "PipelineOptions":
        """Read pipeline options from a YAML file (the defaults when `path` is None).

        Args:
            path: the options file, or None for the defaults.
            detector: `bgsub` or `hog`, overriding the file's `detector.kind`.

        Raises:
            ConfigError: the file cannot be read, is not a mapping, breaks a rule, or the
                detector is unknown; the message names the file and the field.
        """
        data = {} if path is None else load_yaml(path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: pipeline options must be a YAML mapping (see docs/vision.md)")
        if detector is not None:
            if detector not in ("bgsub", "hog"):
                raise ConfigError(f"--detector must be bgsub or hog, not {detector!r}")
            data.setdefault("detector", {})["kind"] = detector
        return validate(cls, data, source=f"pipeline options{f' in {path}' if path else ''}")
