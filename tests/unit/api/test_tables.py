from datetime import UTC, datetime

import pytest
from starlette.requests import Request

from footfall.api.tables import to_csv, wants_csv


def request(accept: str | None, query: bytes = b"") -> Request:
    headers = [(b"accept", accept.encode())] if accept is not None else []
    return Request({"type": "http", "headers": headers, "query_string": query})


@pytest.mark.parametrize(
    ("accept", "csv"),
    [
        (None, False),  # no preference: JSON
        ("text/csv", True),
        ("application/json", False),
        ("application/json, text/csv", False),  # JSON listed first
        ("text/csv;q=0.9, application/json;q=0.5", True),  # CSV preferred by weight
        ("application/json;q=0.1, text/csv", True),
        ("*/*", False),
        ("text/html", False),
    ],
)
def test_accept_negotiation(accept: str | None, csv: bool) -> None:
    assert wants_csv(request(accept)) is csv


@pytest.mark.parametrize(
    ("query", "csv"),
    [
        (b"format=csv", True),  # what a plain link (the dashboard's CSV links) can send
        (b"first=2026-01-01&format=csv", True),  # among other parameters
        (b"format=json", False),  # anything else: the Accept header decides
    ],
)
def test_format_query_asks_for_csv(query: bytes, csv: bool) -> None:
    assert wants_csv(request("application/json", query)) is csv


def test_csv_flattens_nested_fields_and_writes_empty_for_null() -> None:
    rows = [
        {"start": datetime(2026, 6, 1, tzinfo=UTC), "conversion": None, "quality": {"flags": ["a", "b"], "ok": True}},
        {"start": datetime(2026, 6, 2, tzinfo=UTC), "conversion": 0.25, "quality": {"flags": [], "ok": False}},
    ]
    assert to_csv(rows).splitlines() == [
        "start,conversion,quality.flags,quality.ok",
        "2026-06-01T00:00:00+00:00,,a;b,True",
        "2026-06-02T00:00:00+00:00,0.25,,False",
    ]
