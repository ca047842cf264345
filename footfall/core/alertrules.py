"""Alert rules as configuration: the strict model behind `/v1/alert-rules` and a store YAML's `alerts:`.

A rule says *what* is watched (a metric), *where* (a scope), *over what time* (a rolling
window or the day so far), *against what border* (a static threshold or a share of a
baseline), and *how it behaves* (minimum sample, schedule, hysteresis, minimum duration,
cooldown, escalation). The model lives in `core` because it is configuration shared by
the store YAML, the API and the engine; the engine that evaluates it is `footfall.alerts`.

Example:
    >>> r = RuleSpec.model_validate({
    ...     "name": "Conversion below 15 %", "metric": "conversion", "scope": {"store": "riga-01"},
    ...     "comparator": "<", "threshold": 0.15, "window": {"rolling_minutes": 60},
    ... })
    >>> r.effective_min_sample, r.breaches(0.12), r.clears(0.16)
    (30, True, True)
"""

from datetime import time
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from footfall.core.ids import Id

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # as footfall.core.storeconfig (which imports this)
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ALL_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(StrEnum):
    """What a rule watches."""

    # KPIs of the query layer (same names as its `Kpi`).
    VISITORS = "visitors"
    TRANSACTIONS = "transactions"
    REVENUE = "revenue"
    ITEMS = "items"
    CONVERSION = "conversion"
    ATV = "atv"
    UPT = "upt"
    REVENUE_PER_M2 = "revenue_per_m2"
    CAPTURE_RATE = "capture_rate"
    LOYALTY_ACTIVATION = "loyalty_activation"
    # Facts of devices and zones.
    ZONE_OCCUPANCY = "zone_occupancy"
    DEVICE_SILENCE = "device_silence"
    CAMERA_HEALTH = "camera_health"
    COUNTER_IMBALANCE = "counter_imbalance"
    TRAFFIC_WHILE_POS = "traffic_while_pos"
    # Checkout queues (the merchandiser analytics' queue zones) and the forecasting models.
    QUEUE_LENGTH = "queue_length"
    QUEUE_WAIT = "queue_wait"
    FORECAST_BAND = "forecast_band"


KPI_METRICS = frozenset(
    {
        Metric.VISITORS,
        Metric.TRANSACTIONS,
        Metric.REVENUE,
        Metric.ITEMS,
        Metric.CONVERSION,
        Metric.ATV,
        Metric.UPT,
        Metric.REVENUE_PER_M2,
        Metric.CAPTURE_RATE,
        Metric.LOYALTY_ACTIVATION,
    }
)
"""Metrics computed by the KPI query layer from the rollups."""

RESERVED_METRICS: dict[Metric, str] = {}
"""Metrics named but refused, with the reason (none today: queues and forecast bands have their data)."""

FORECAST_METRICS = {
    Metric.VISITORS: "entries",
    Metric.TRANSACTIONS: "transactions",
    Metric.REVENUE: "revenue",
    Metric.FORECAST_BAND: "entries",
}
"""Metrics a forecast band exists for, with the model's metric (`trained_models.metric`).
`forecast_band` itself is traffic (visitors) against its band."""

QUEUE_METRICS = frozenset({Metric.QUEUE_LENGTH, Metric.QUEUE_WAIT})
"""Metrics of a checkout queue zone (`kind: queue` with its `till`)."""

RATIO_METRICS = frozenset({Metric.CONVERSION, Metric.CAPTURE_RATE, Metric.LOYALTY_ACTIVATION})
"""Metrics between 0 and 1."""

UNITS = {
    Metric.VISITORS: "visitors",
    Metric.TRANSACTIONS: "receipts",
    Metric.ITEMS: "items",
    Metric.ZONE_OCCUPANCY: "people",
    Metric.DEVICE_SILENCE: "minutes",
    Metric.CAMERA_HEALTH: "faulty heartbeats",
    Metric.COUNTER_IMBALANCE: "share",
    Metric.TRAFFIC_WHILE_POS: "visitors",
    Metric.FORECAST_BAND: "visitors",
    Metric.QUEUE_LENGTH: "people",
    Metric.QUEUE_WAIT: "seconds",
}

SAMPLE_DEFAULTS = {
    Metric.CONVERSION: 30,
    Metric.ATV: 5,
    Metric.UPT: 5,
    Metric.LOYALTY_ACTIVATION: 5,
    Metric.CAPTURE_RATE: 30,
    Metric.COUNTER_IMBALANCE: 30,
    Metric.TRAFFIC_WHILE_POS: 3,
    Metric.QUEUE_WAIT: 3,
}
"""Default minimum sample before a metric is judged: visitors for conversion, capture rate and
imbalance, receipts for ATV, UPT, loyalty activation and "no traffic while the POS rings",
queue arrivals for the waiting time."""


class ScopeKind(StrEnum):
    """How wide a rule looks."""

    ALL = "all"
    STORE = "store"
    ZONE = "zone"
    DOOR = "door"
    DEVICE = "device"


class Scope(_Strict):
    """Where a rule looks: every store in the owner's scope, a store, or one zone, door or device of it."""

    store: Id | None = Field(default=None, description="A store; omit for every store in the owner's scope.")
    zone: Id | None = Field(default=None, description="One zone of the store.")
    door: Id | None = Field(default=None, description="One door of the store.")
    device: Id | None = Field(default=None, description="One device of the store.")

    @model_validator(mode="after")
    def _one_subject(self) -> Self:
        subjects = [n for n in ("zone", "door", "device") if getattr(self, n) is not None]
        if len(subjects) > 1:
            raise ValueError(f"scope names {' and '.join(subjects)}; a rule watches at most one of zone, door, device")
        if subjects and self.store is None:
            raise ValueError(f"scope names a {subjects[0]} but no store; add `store`")
        return self

    @property
    def kind(self) -> ScopeKind:
        """The scope's width."""
        for name in ("zone", "door", "device"):
            if getattr(self, name) is not None:
                return ScopeKind(name)
        return ScopeKind.STORE if self.store else ScopeKind.ALL

    @property
    def subject(self) -> str:
        """The zone, door or device id, or '' for a whole store."""
        return self.zone or self.door or self.device or ""


class Window(_Strict):
    """The time a value is computed over: a rolling window ending now, or the local day so far."""

    rolling_minutes: int | None = Field(
        default=None, ge=15, le=7 * 24 * 60, description="Rolling window in minutes (a multiple of 15)."
    )
    to_date: Literal["day"] | None = Field(default=None, description="`day`: from the store's local midnight.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.rolling_minutes is None) == (self.to_date is None):
            raise ValueError("set exactly one of `rolling_minutes` and `to_date`")
        if self.rolling_minutes is not None and self.rolling_minutes % 15:
            raise ValueError(
                f"rolling_minutes {self.rolling_minutes} is not a multiple of 15 (the rollups' grain); "
                f"use {max(15, self.rolling_minutes // 15 * 15)} or {(self.rolling_minutes // 15 + 1) * 15}"
            )
        return self


class Comparator(StrEnum):
    """How a value is compared with its border; the rule is breached when `value <comparator> border`."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    @property
    def below(self) -> bool:
        """True for `<` and `<=` (the red zone is under the border)."""
        return self in (Comparator.LT, Comparator.LE)

    def holds(self, value: float, border: float) -> bool:
        """Whether `value <comparator> border`."""
        match self:
            case Comparator.LT:
                return value < border
            case Comparator.LE:
                return value <= border
            case Comparator.GT:
                return value > border
        return value >= border


class BaselineKind(StrEnum):
    """What a relative border is relative to."""

    SAME_WEEKDAY_4W = "same_weekday_4w"
    """The mean of the same window on the same weekday of the last four weeks."""
    FORECAST_BAND = "forecast_band"
    """The store's trained forecast band over the window: its lower edge for `<`/`<=`, its upper
    edge for `>`/`>=` (hours weighted by how much of them the window has passed)."""


class Baseline(_Strict):
    """A border relative to a baseline: `ratio × baseline`."""

    kind: BaselineKind = Field(default=BaselineKind.SAME_WEEKDAY_4W)
    ratio: float = Field(gt=0, le=100, description="The border is this share of the baseline (0.8 = 80 %).")


class ScheduleWindow(_Strict):
    """One local time window on some weekdays."""

    days: list[Weekday] = Field(
        default_factory=lambda: list(ALL_DAYS), min_length=1, description="Weekdays (mon..sun); default every day."
    )
    start: time = Field(description="Local start time, included.")
    end: time = Field(description="Local end time, excluded; at or before `start` runs past midnight.")

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError(f"schedule window {self.start}–{self.end} is empty")
        return self

    def contains(self, weekday: int, at: time) -> bool:
        """Whether a local weekday (0 = Monday) and wall time fall in this window."""
        if self.start < self.end:
            return WEEKDAYS[weekday] in self.days and self.start <= at < self.end
        return (WEEKDAYS[weekday] in self.days and at >= self.start) or (
            WEEKDAYS[(weekday - 1) % 7] in self.days and at < self.end
        )


class Severity(StrEnum):
    """How urgent a rule's alerts are."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class RuleSpec(_Strict):
    """One alert rule.

    Units: ratios (conversion, capture rate, loyalty activation, imbalance) are 0..1;
    money is the store's currency; device silence is minutes; occupancy is people.
    """

    name: str = Field(min_length=1, max_length=200, description="Shown in every message.")
    metric: Metric = Field(description="What is watched.")
    scope: Scope = Field(default_factory=Scope, description="Where it is watched.")
    window: Window = Field(
        default_factory=lambda: Window(rolling_minutes=60), description="What time the value is computed over."
    )
    comparator: Comparator = Field(description="The red zone is `value <comparator> border`.")
    threshold: float | None = Field(default=None, description="A static border.")
    baseline: Baseline | None = Field(default=None, description="A border relative to a baseline.")
    min_sample: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Judge only after this many visitors (or receipts, for per-receipt metrics); default per metric.",
    )
    schedule: list[ScheduleWindow] | None = Field(
        default=None, max_length=50, description="Local time windows when the rule is judged; default opening hours."
    )
    severity: Severity = Severity.WARNING
    hysteresis: float = Field(
        default=0.0, ge=0, description="A firing alert resolves only once the value is this far back past the border."
    )
    for_minutes: int = Field(default=0, ge=0, le=24 * 60, description="The breach must last this long to fire.")
    cooldown_minutes: int = Field(
        default=0, ge=0, le=7 * 24 * 60, description="After it resolves, the rule does not fire again for this long."
    )
    escalate_after_minutes: int | None = Field(
        default=None, ge=1, le=7 * 24 * 60, description="Unacknowledged this long: notify the escalation group."
    )
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _band_by_default(cls, data: Any) -> Any:
        # `metric: forecast_band` with no border means "outside the band itself" (ratio 1)
        if (
            isinstance(data, dict)
            and data.get("metric") == Metric.FORECAST_BAND.value
            and data.get("threshold") is None
            and data.get("baseline") is None
        ):
            return {**data, "baseline": {"kind": BaselineKind.FORECAST_BAND.value, "ratio": 1.0}}
        return data

    @model_validator(mode="after")
    def _coherent(self) -> Self:  # noqa: PLR0912 - one check per rule of the table in docs/alerts.md
        if self.metric in RESERVED_METRICS:
            raise ValueError(f"metric {self.metric.value!r} is not available yet: {RESERVED_METRICS[self.metric]}")
        if self.metric is Metric.FORECAST_BAND and (
            self.threshold is not None or (self.baseline and self.baseline.kind is not BaselineKind.FORECAST_BAND)
        ):
            raise ValueError(
                "forecast_band judges traffic against the model's band: leave out `threshold`, or widen or "
                "narrow the band with `baseline: {kind: forecast_band, ratio: …}`"
            )
        if (self.threshold is None) == (self.baseline is None):
            raise ValueError("set exactly one of `threshold` (a static border) and `baseline` (a relative one)")
        if self.baseline is not None and self.metric not in KPI_METRICS | {Metric.FORECAST_BAND}:
            raise ValueError(f"metric {self.metric.value!r} takes a static `threshold`, not a `baseline`")
        if self.baseline is not None and self.baseline.kind is BaselineKind.FORECAST_BAND:
            if self.metric not in FORECAST_METRICS:
                raise ValueError(
                    f"the models forecast visitors, transactions and revenue; {self.metric.value} has no "
                    "forecast band (use `baseline: {kind: same_weekday_4w}` or a threshold)"
                )
            if self.scope.kind is ScopeKind.DOOR:
                raise ValueError("forecast bands are per store; scope a store, not a door")
        if self.threshold is not None and self.metric in RATIO_METRICS and not 0 <= self.threshold <= 1:
            raise ValueError(f"{self.metric.value} is a ratio between 0 and 1; threshold {self.threshold} is outside")
        if self.metric is Metric.COUNTER_IMBALANCE and self.threshold is not None and not 0 <= self.threshold <= 1:
            raise ValueError("counter_imbalance is |entries − exits| / entries, a share between 0 and 1")
        kind = self.scope.kind
        if self.metric is Metric.ZONE_OCCUPANCY and kind is not ScopeKind.ZONE:
            raise ValueError("zone_occupancy needs a zone: set scope.store and scope.zone")
        if self.metric in (Metric.DEVICE_SILENCE, Metric.CAMERA_HEALTH) and kind in (ScopeKind.ZONE, ScopeKind.DOOR):
            raise ValueError(f"{self.metric.value} watches devices: scope a store (all its devices) or one device")
        if self.metric not in (Metric.DEVICE_SILENCE, Metric.CAMERA_HEALTH) and kind is ScopeKind.DEVICE:
            raise ValueError(f"{self.metric.value} is not per device; scope a store, a zone or a door")
        if kind is ScopeKind.ZONE and self.metric not in QUEUE_METRICS | {Metric.ZONE_OCCUPANCY}:
            raise ValueError(
                f"{self.metric.value} is not per zone; only zone_occupancy, queue_length and queue_wait are "
                "(scope a store instead)"
            )
        if kind is ScopeKind.DOOR and self.metric not in (
            Metric.VISITORS,
            Metric.COUNTER_IMBALANCE,
            Metric.TRAFFIC_WHILE_POS,
        ):
            raise ValueError(f"{self.metric.value} is not per door; scope a store instead")
        return self

    @property
    def effective_min_sample(self) -> int:
        """The minimum sample actually applied."""
        return self.min_sample if self.min_sample is not None else SAMPLE_DEFAULTS.get(self.metric, 0)

    def breaches(self, value: float, border: float | None = None) -> bool:
        """Whether `value` is in the red zone (against `border`, default the static threshold)."""
        b = self.threshold if border is None else border
        assert b is not None, "a relative rule needs its computed border"
        return self.comparator.holds(value, b)

    def clears(self, value: float, border: float | None = None) -> bool:
        """Whether `value` is back past the border by the hysteresis (so a firing alert resolves)."""
        b = self.threshold if border is None else border
        assert b is not None, "a relative rule needs its computed border"
        if self.comparator.below:
            return value >= b + self.hysteresis and not self.comparator.holds(value, b)
        return value <= b - self.hysteresis and not self.comparator.holds(value, b)


class StoreRule(RuleSpec):
    """A rule in a store's YAML file: it has a key of its own and always the file's store."""

    id: Id = Field(description="Stable key within the store; `footfall alerts apply` upserts by it.")


def rule_from_data(data: object, *, source: str = "alert rule") -> RuleSpec:
    """Validate an alert rule.

    Raises:
        ConfigError: one line per broken rule, each naming the field.
    """
    from footfall.core.configfile import validate

    return validate(RuleSpec, data, source=source)
