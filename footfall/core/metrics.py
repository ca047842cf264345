"""What every Footfall process shares about its Prometheus metrics (docs/metrics.md lists them).

Each process part (an ingest worker, an edge agent, the alerts engine, the API) keeps its
metrics in a `CollectorRegistry` of its own, so several of them (or several tests) in one
process never share counters. Names start with `footfall_<part>_`; counters end in
`_total`, durations are `_seconds` histograms, current state is a gauge. Labels hold
bounded sets only (a kind, a channel, a route template, a device id of the store's own
devices), never a person, a raw path or a free-text error.

Example:
    >>> from prometheus_client import CollectorRegistry, Counter
    >>> registry = CollectorRegistry()
    >>> _ = Counter("footfall_example_things", "Things.", registry=registry)
    >>> endpoint = MetricsEndpoint.serve(registry, port=0)  # 0: off
    >>> endpoint.port
    0
"""

import logging
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds, for request and round-trip durations (HTTP requests, MQTT publish → PUBACK, deliveries)."""

LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0, 86400.0)
"""Seconds, for how far a stage trails the data (consumer lag, evaluation lag)."""


@dataclass
class MetricsEndpoint:
    """A `/metrics` HTTP server (prometheus_client's, in a daemon thread) for one registry.

    `port` is the bound port, 0 when serving is off.
    """

    port: int
    _server: WSGIServer | None = None

    @classmethod
    def serve(
        cls,
        registry: CollectorRegistry,
        *,
        port: int,
        addr: str = "0.0.0.0",  # noqa: S104 - scraped from other hosts
        what: str = "metrics",
    ) -> "MetricsEndpoint":
        """Serve `registry` on `addr:port`; port 0 means off (nothing is opened).

        Raises:
            OSError: the port is taken or the address is not this host's (the caller names the setting).
        """
        if port == 0:
            return cls(port=0)
        server, _thread = start_http_server(port, addr=addr, registry=registry)
        bound = int(server.server_port)
        logger.info("%s on http://%s:%d/metrics", what, addr, bound)
        return cls(port=bound, _server=server)

    def close(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def status_class(status: int) -> str:
    """An HTTP status as its class label (`2xx` … `5xx`): five values, whatever the routes answer.

    Example:
        >>> status_class(404)
        '4xx'
    """
    return f"{max(1, min(5, status // 100))}xx"
