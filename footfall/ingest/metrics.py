"""Prometheus metrics of one ingest worker, served on `ingest.metrics_port` (0 = off).

Each worker has its own registry, so several workers (or tests) in one process never
share counters. Names follow Prometheus conventions: `_total` counters, `_seconds`
histograms, gauges for current state.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from footfall.core.metrics import LAG_BUCKETS, MetricsEndpoint


class IngestMetrics:
    """The worker's metrics.

    Example:
        >>> m = IngestMetrics()
        >>> m.received.inc()
        >>> m.registry.get_sample_value("footfall_ingest_messages_received_total")
        1.0
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "footfall_ingest_messages_received",
            "Messages received from the broker (redeliveries included).",
            registry=r,
        )
        self.written = Counter(
            "footfall_ingest_messages_written", "Valid messages committed, by kind.", ["kind"], registry=r
        )
        self.rows = Counter("footfall_ingest_rows_inserted", "Rows inserted, by table.", ["table"], registry=r)
        self.duplicates = Counter(
            "footfall_ingest_duplicate_rows",
            "Rows dropped as already stored (natural key), by table.",
            ["table"],
            registry=r,
        )
        self.dead_letters = Counter(
            "footfall_ingest_dead_letters", "Messages dead-lettered, by reason.", ["reason"], registry=r
        )
        self.conflicts = Counter(
            "footfall_ingest_conflicting_rows",
            "Rows received again under a stored natural key with other values (kept as stored, dead-lettered).",
            ["table"],
            registry=r,
        )
        self.suppressed_cells = Counter(
            "footfall_ingest_heatmap_cells_suppressed",
            "Heatmap cells dropped for fewer distinct tracks than ingest.min_heatmap_k.",
            registry=r,
        )
        self.takeovers = Counter(
            "footfall_ingest_session_takeovers",
            "Times the broker ended our connection because another client connected with our client id.",
            registry=r,
        )
        self.foreign = Counter(
            "footfall_ingest_foreign_messages",
            "Messages of another deployment's subscription found in our session (left unacknowledged).",
            registry=r,
        )
        self.acked = Counter("footfall_ingest_messages_acked", "Messages acknowledged to the broker.", registry=r)
        self.batch_size = Histogram(
            "footfall_ingest_batch_messages",
            "Messages per committed batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000),
            registry=r,
        )
        self.commit_seconds = Histogram(
            "footfall_ingest_commit_seconds",
            "Time to write and commit one batch.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.lag_seconds = Histogram(
            "footfall_ingest_lag_seconds",
            "Consumer lag: from a message's sent_at to its commit (edge backlog included).",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.pending = Gauge(
            "footfall_ingest_pending_messages", "Messages received and not yet committed and acknowledged.", registry=r
        )
        self.oldest_pending = Gauge(
            "footfall_ingest_oldest_pending_seconds", "Age of the oldest message not yet committed.", registry=r
        )
        self.db_up = Gauge("footfall_ingest_database_up", "1 while the database accepts writes.", registry=r)
        self.broker_up = Gauge("footfall_ingest_broker_connected", "1 while connected to the broker.", registry=r)
        self.broker_unreachable = Gauge(
            "footfall_ingest_broker_unreachable_seconds",
            "Seconds since the broker connection was lost (or never made); 0 while connected.",
            registry=r,
        )
        self.db_retries = Counter(
            "footfall_ingest_database_retries", "Batch writes retried after a database failure.", registry=r
        )
        self.refreshes = Counter(
            "footfall_ingest_rollup_refreshes",
            "Continuous-aggregate refreshes for late data (TimescaleDB).",
            registry=r,
        )
        self._endpoint = MetricsEndpoint(port=0)

    def serve(self, port: int, addr: str = "0.0.0.0") -> int:  # noqa: S104 - scraped from other hosts
        """Serve `/metrics` over HTTP in a daemon thread; returns the port (0: off)."""
        self._endpoint = MetricsEndpoint.serve(self.registry, port=port, addr=addr, what="ingest metrics")
        return self._endpoint.port

    def close(self) -> None:
        """Stop serving."""
        self._endpoint.close()
