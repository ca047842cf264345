"""The shared metrics helper: status classes, the HTTP endpoint, the API's token check."""

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families

from footfall.api.metrics import ApiMetrics, token_matches
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


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret-token", True),  # the token
        ("bearer s3cret-token", True),  # scheme is case-insensitive
        ("Bearer s3cret-token-and-more", False),  # a longer one
        ("Bearer s3cret", False),  # a prefix
        ("Basic s3cret-token", False),  # another scheme
        ("s3cret-token", False),  # no scheme
        ("", False),  # empty
        (None, False),  # absent
    ],
)
def test_token_matches(header: str | None, ok: bool) -> None:
    assert token_matches(header, "s3cret-token") is ok


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


def test_api_methods_outside_the_standard_set_share_one_label() -> None:
    m = ApiMetrics()
    m.observe(method="BREW", route="unmatched", status=418, seconds=0.001)
    m.observe(method="PROPFIND", route="unmatched", status=405, seconds=0.001)
    labels = {"method": "other", "route": "unmatched", "status": "4xx"}
    assert m.registry.get_sample_value("footfall_api_requests_total", labels) == 2
