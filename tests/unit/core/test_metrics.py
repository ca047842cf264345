"""The shared metrics helper: status classes and the HTTP endpoint."""

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

from footfall.core.metrics import MetricsEndpoint, status_class
from footfall.devtools.services import free_port


@pytest.mark.parametrize(
    ("status", "label"),
    [
        (200, "2xx"),  # ok
        (204, "2xx"),  # no content
        (307, "3xx"),  # redirect
        (401, "4xx"),  # refused
        (422, "4xx"),  # invalid
        (503, "5xx"),  # database down
        (101, "1xx"),  # switching protocols
        (999, "5xx"),  # nonsense is clamped, never a new label
    ],
)
def test_status_class(status: int, label: str) -> None:
    assert status_class(status) == label


def test_endpoint_off_on_port_zero_and_serves_its_own_registry_only() -> None:
    assert MetricsEndpoint.serve(CollectorRegistry(), port=0).port == 0
    mine, other = CollectorRegistry(), CollectorRegistry()
    Counter("footfall_test_mine", "Mine.", registry=mine).inc(3)
    Counter("footfall_test_other", "Other.", registry=other).inc()
    port = free_port()
    endpoint = MetricsEndpoint.serve(mine, port=port, addr="127.0.0.1")
    try:
        assert endpoint.port == port
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        samples = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
        assert samples["footfall_test_mine_total"] == 3
        assert "footfall_test_other_total" not in samples
    finally:
        endpoint.close()
        endpoint.close()  # idempotent
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
