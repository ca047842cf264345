"""Prometheus metrics of `footfall alerts run` (engine and delivery worker), on `alerts.metrics_port`.

Engine: cycles and their duration, targets evaluated, evaluation failures, transitions by
kind, messages queued, and the evaluation lag: from the engine's receipt of the first
fresh-data notice after a committed write (PostgreSQL delivers the `NOTIFY` of migration
0030's triggers when the writing transaction commits) to the end of the cycle that
evaluated it, the debounce included — how long a committed reading waits before its rules
have judged it. A notice that arrives while a cycle runs is read when that cycle ends and
counted from that cycle's start: an upper bound, so the lag is never understated (by at
most one cycle's duration, which `footfall_alerts_cycle_seconds` shows).

Delivery: attempts by channel and outcome (`delivered`, `retry`: rescheduled,
`failed`: given up, `dropped`: deleted meanwhile), each attempt's duration by channel, and the outbox as the worker
last saw it (messages waiting per channel, age of the oldest).

Labels are channels, outcomes and transition kinds: fixed sets; never a target address,
a store or an error text.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from footfall.alerts.state import EventKind
from footfall.core.metrics import LAG_BUCKETS, LATENCY_BUCKETS, MetricsEndpoint

CHANNELS = ("webhook", "email", "telegram", "mqtt")
OUTCOMES = ("delivered", "retry", "failed", "dropped")


class AlertsMetrics:
    """The alerts process's metrics, shared by its engine and delivery threads.

    Example:
        >>> m = AlertsMetrics()
        >>> m.deliveries.labels(channel="webhook", outcome="delivered").inc()
        >>> m.registry.get_sample_value(
        ...     "footfall_alerts_deliveries_total", {"channel": "webhook", "outcome": "delivered"})
        1.0
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.cycles = Counter("footfall_alerts_cycles", "Evaluation cycles completed.", registry=r)
        self.cycle_seconds = Histogram(
            "footfall_alerts_cycle_seconds",
            "Duration of one evaluation cycle (every rule × scope, then the due digests).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.lag_seconds = Histogram(
            "footfall_alerts_evaluation_lag_seconds",
            "From the first fresh-data notice (sent at the writing transaction's commit) to the end of "
            "the cycle that evaluated it.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.evaluations = Counter(
            "footfall_alerts_evaluations", "Rule × scope evaluations applied (steady ones included).", registry=r
        )
        self.evaluation_failures = Counter(
            "footfall_alerts_evaluation_failures",
            "Evaluations that failed with a database error (the target is retried next cycle).",
            registry=r,
        )
        self.connection_losses = Counter(
            "footfall_alerts_connection_losses",
            "Times the engine or the delivery worker lost its database connection (and reconnected), by part.",
            ["part"],
            registry=r,
        )
        self.transitions = Counter(
            "footfall_alerts_transitions", "State transitions written as events, by kind.", ["kind"], registry=r
        )
        self.queued = Counter(
            "footfall_alerts_messages_queued", "Outbox messages written (events and digests).", registry=r
        )
        self.deliveries = Counter(
            "footfall_alerts_deliveries",
            "Delivery attempts by channel and outcome: delivered, retry (rescheduled), failed (given up), "
            "dropped (its rule or subscription was deleted meanwhile).",
            ["channel", "outcome"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "footfall_alerts_delivery_seconds",
            "Duration of one delivery attempt, by channel.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbox = Gauge(
            "footfall_alerts_outbox_messages",
            "Messages waiting for delivery (due or backing off), by channel, as the worker last saw them.",
            ["channel"],
            registry=r,
        )
        self.outbox_oldest = Gauge(
            "footfall_alerts_outbox_oldest_seconds",
            "Age of the oldest message waiting for delivery; 0 when none waits.",
            registry=r,
        )
        for c in CHANNELS:
            self.outbox.labels(channel=c)
            self.delivery_seconds.labels(channel=c)
            for o in OUTCOMES:
                self.deliveries.labels(channel=c, outcome=o)
        for part in ("engine", "delivery"):
            self.connection_losses.labels(part=part)
        for k in EventKind:
            self.transitions.labels(kind=k.value)
        self._endpoint = MetricsEndpoint(port=0)

    def serve(self, port: int, addr: str = "0.0.0.0") -> int:  # noqa: S104 - scraped from other hosts
        """Serve `/metrics` in a daemon thread; returns the port (0: off)."""
        self._endpoint = MetricsEndpoint.serve(self.registry, port=port, addr=addr, what="alerts metrics")
        return self._endpoint.port

    def close(self) -> None:
        """Stop serving."""
        self._endpoint.close()
