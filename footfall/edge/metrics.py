"""Prometheus metrics of one edge agent, served on `metrics.port` of edge.yaml (0 = off, the default).

Counted as they happen: messages and readings published (PUBACKed) by kind, publish
failures by reason, and the publish → PUBACK round trip. Read at scrape time from the
agent itself (nothing is copied or cached): the outbox (depth per device, bytes, age of
the oldest reading, merged and dropped readings), the broker connection, and the health
of every counter and camera — the same `SensorHealth` the heartbeat sends, looked at
without clearing the faults it remembers for the next heartbeat.

Labels are the agent's own device ids, message kinds, fault names and failure reasons:
bounded by edge.yaml, and nothing about a person.
"""

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from footfall.core.messages import Fault, SensorHealth
from footfall.core.metrics import LATENCY_BUCKETS, MetricsEndpoint
from footfall.core.topics import Kind
from footfall.edge.publisher import AGENT_VERSION

if TYPE_CHECKING:
    from footfall.edge.agent import Agent

logger = logging.getLogger(__name__)

FAILURE_REASONS = ("refused", "unrouted", "error")
"""Why a publish failed: the broker refused it (PUBACK ≥ 0x80), no subscriber matched (0x10,
kept queued), or it could not be sent at all (kept queued)."""


class EdgeMetrics:
    """The agent's event metrics; `watch(agent)` adds the state read at scrape time.

    Example:
        >>> m = EdgeMetrics()
        >>> m.published.labels(kind="counts").inc()
        >>> m.registry.get_sample_value("footfall_edge_messages_published_total", {"kind": "counts"})
        1.0
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.published = Counter(
            "footfall_edge_messages_published",
            "Messages the broker acknowledged (PUBACK), by kind.",
            ["kind"],
            registry=r,
        )
        self.readings = Counter(
            "footfall_edge_readings_published",
            "Readings in acknowledged messages, by kind (deleted from the queue).",
            ["kind"],
            registry=r,
        )
        self.failures = Counter(
            "footfall_edge_publish_failures",
            "Publishes that did not deliver, by reason: refused (PUBACK >= 0x80), unrouted (no subscriber, "
            "kept queued), error (not sent, kept queued).",
            ["reason"],
            registry=r,
        )
        self.publish_seconds = Histogram(
            "footfall_edge_publish_seconds",
            "Round trip of one QoS 1 readings message: publish to PUBACK, whatever the PUBACK says "
            "(reconnect waits included).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        for kind in Kind:
            if kind is not Kind.STATUS:
                self.published.labels(kind=kind.value)
                self.readings.labels(kind=kind.value)
        for reason in FAILURE_REASONS:
            self.failures.labels(reason=reason)
        self._endpoint = MetricsEndpoint(port=0)

    def watch(self, agent: "Agent") -> None:
        """Report `agent`'s queue, connection and device health at every scrape."""
        self.registry.register(_AgentState(agent))

    def serve(self, *, host: str, port: int) -> int:
        """Serve `/metrics` in a daemon thread; returns the port (0: off)."""
        self._endpoint = MetricsEndpoint.serve(self.registry, port=port, addr=host, what="edge agent metrics")
        return self._endpoint.port

    def close(self) -> None:
        """Stop serving."""
        self._endpoint.close()


class _AgentState(Collector):
    """Gauges read from the agent when scraped."""

    def __init__(self, agent: "Agent") -> None:
        self.agent = agent

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | InfoMetricFamily]:
        a = self.agent
        info = InfoMetricFamily("footfall_edge_agent", "The agent: store, own device id and version.")
        info.add_metric([], {"store_id": a.cfg.store_id, "device_id": a.cfg.device_id, "version": AGENT_VERSION})
        yield info
        yield from self._queue()
        pub = a.publisher
        yield GaugeMetricFamily(
            "footfall_edge_broker_connected", "1 while connected to the broker.", value=1.0 if pub.connected else 0.0
        )
        yield GaugeMetricFamily(
            "footfall_edge_broker_unreachable_seconds",
            "Seconds since the broker connection was lost (or never made); 0 while connected.",
            value=pub.unreachable_s,
        )
        yield GaugeMetricFamily(
            "footfall_edge_inflight_messages", "Messages published and not yet acknowledged.", value=pub.inflight
        )
        yield from self._devices()

    def _queue(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        try:
            s = self.agent.outbox.stats()
        except Exception:  # closing: a scrape during stop reports no queue rather than failing
            logger.debug("queue stats unavailable for a scrape", exc_info=True)
            return
        depth = GaugeMetricFamily(
            "footfall_edge_queue_readings", "Readings waiting in the durable queue, by device.", labels=["device_id"]
        )
        for device_id, n in sorted(s.per_device.items()):
            depth.add_metric([device_id], n)
        yield depth
        yield GaugeMetricFamily(
            "footfall_edge_queue_bytes", "Bytes of queued readings (the budget's measure).", s.bytes
        )
        yield GaugeMetricFamily("footfall_edge_queue_max_bytes", "The queue's disk budget.", s.max_bytes)
        now = self.agent.clock.now()
        oldest = 0.0 if s.oldest is None else max(0.0, (now - s.oldest).total_seconds())
        yield GaugeMetricFamily(
            "footfall_edge_queue_oldest_seconds", "Age of the oldest queued reading's start; 0 when empty.", oldest
        )
        yield CounterMetricFamily(
            "footfall_edge_queue_merged_readings",
            "Readings merged into coarser intervals to stay within the disk budget (since the agent started).",
            value=s.merged,
        )
        yield CounterMetricFamily(
            "footfall_edge_queue_dropped_readings",
            "Readings dropped because merging could not keep the queue within its budget (since start).",
            value=s.dropped,
        )

    def _devices(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        a = self.agent
        m = a.cfg.minutes
        sensors: list[tuple[str, SensorHealth]] = []
        for core in a.cores.values():
            h = core.sensor_health(silent_after_s=m.silent_after_s, clock_tolerance_s=m.clock_tolerance_s, clear=False)
            sensors.append(("counter", h))
        for p in a.producers:
            try:
                sensors.extend(("camera", h) for h in p.sensor_health())
            except Exception:
                logger.debug("a producer could not report its health for a scrape", exc_info=True)
        labels = ["device_id", "kind"]
        up = GaugeMetricFamily(
            "footfall_edge_device_up", "1 while a counter or camera has no fault, 0 otherwise.", labels=labels
        )
        age = GaugeMetricFamily(
            "footfall_edge_device_last_reading_age_seconds",
            "Seconds since the device last reported (absent until it has).",
            labels=labels,
        )
        fault = GaugeMetricFamily(
            "footfall_edge_device_fault",
            "1 for each fault a device has now (or had since the last heartbeat), 0 for the others.",
            labels=[*labels, "fault"],
        )
        errors = CounterMetricFamily(
            "footfall_edge_device_errors", "Errors of a device since the agent started.", labels=labels
        )
        offset = GaugeMetricFamily(
            "footfall_edge_device_clock_offset_seconds",
            "Device clock minus agent clock (devices that send their own time).",
            labels=labels,
        )
        now = a.clock.now()
        for kind, h in sensors:
            key = [h.sensor_id, kind]
            up.add_metric(key, 0.0 if h.faults else 1.0)
            if h.last_seen is not None:
                age.add_metric(key, max(0.0, (now - h.last_seen).total_seconds()))
            for f in Fault:
                if f is not Fault.QUEUE_FULL:  # the agent's own fault, reported by the queue gauges
                    fault.add_metric([*key, f.value], 1.0 if f in h.faults else 0.0)
            errors.add_metric(key, h.errors)
            if h.clock_offset_s is not None:
                offset.add_metric(key, h.clock_offset_s)
        yield from (up, age, fault, errors, offset)
