"""The API's metrics: the scraper's token check, bounded method labels, route templates."""

import pytest

from footfall.api.metrics import UNMATCHED, ApiMetrics, route_template, token_matches


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


def test_api_methods_outside_the_standard_set_share_one_label() -> None:
    m = ApiMetrics()
    m.observe(method="BREW", route="unmatched", status=418, seconds=0.001)
    m.observe(method="PROPFIND", route="unmatched", status=405, seconds=0.001)
    labels = {"method": "other", "route": "unmatched", "status": "4xx"}
    assert m.registry.get_sample_value("footfall_api_requests_total", labels) == 2


class _Route:
    path = "/v1/stores/{store_id}"


@pytest.mark.parametrize(
    ("scope", "label"),
    [
        ({"route": _Route(), "path": "/v1/stores/riga-01"}, "/v1/stores/{store_id}"),  # the template, not the path
        ({"path": "/v1/nowhere/riga-01"}, UNMATCHED),  # no route answered
        ({"route": object(), "path": "/x"}, UNMATCHED),  # a route without a path
    ],
)
def test_route_template(scope: dict, label: str) -> None:
    assert route_template(scope) == label
