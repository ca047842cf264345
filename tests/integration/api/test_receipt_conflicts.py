"""Issue 10, point 13: one receipt id twice in a batch, and totals that disagree with their lines."""

from typing import Any

import pytest

from footfall.api.access import Role
from tests.integration.api.conftest import Api, add_store

TS = "2026-06-01T10:00:00+03:00"


def r(receipt_id: str, total: str | None = "10.00", **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"receipt_id": receipt_id, "store_id": "a", "ts": TS, **kw}
    if total is not None:
        body["total"] = total
    return body


def stored(api: Api) -> dict[str, str]:
    rows = api.conn.execute("SELECT receipt_id, total::text AS total FROM receipts ORDER BY receipt_id").fetchall()
    return {row["receipt_id"]: row["total"] for row in rows}


def test_one_receipt_twice_in_a_batch_with_other_content_is_reported_and_not_saved(api: Api) -> None:
    add_store(api.conn, "a")
    headers = api.as_role(Role.MANAGER, ["a"])
    batch = {"receipts": [r("1", "10.00"), r("2", "5.00"), r("1", "12.00"), r("3"), r("3")]}
    body = api.client.post("/v1/receipts", json=batch, headers=headers).json()
    assert (body["created"], body["updated"], body["unchanged"], body["duplicates"]) == (2, 0, 0, 1)
    assert [(c["receipt_id"], c["positions"]) for c in body["conflicts"]] == [("1", [1, 3])]
    assert "appears 2 times" in body["conflicts"][0]["message"]
    assert stored(api) == {"2": "5.00", "3": "10.00"}  # neither copy of 1, one copy of 3
    # resend policy: a later batch with other content replaces, counted as updated
    body = api.client.post("/v1/receipts", json={"receipts": [r("2", "6.00")]}, headers=headers).json()
    assert (body["created"], body["updated"], body["conflicts"]) == (0, 1, [])
    assert stored(api)["2"] == "6.00"


@pytest.mark.parametrize(
    ("total", "lines", "status"),
    [
        ("1.00", [{"amount": "100.00"}], 422),  # the case: 1.00 against a line of 100.00
        ("10.00", [{"amount": "4.00"}, {"amount": "5.00"}], 422),  # a euro missing (no discount line)
        ("9.01", [{"amount": "4.00"}, {"amount": "5.00"}], 200),  # a cent of rounding per line
        ("9.00", [{"amount": "4.00"}, {"amount": "6.00"}, {"amount": "-1.00"}], 200),  # a discount as a line
        ("-4.00", [{"amount": "4.00", "is_return": True}], 200),  # a refund
        (None, [{"amount": "4.00"}], 200),  # no total: the lines' sum
    ],
)
def test_totals_that_disagree_with_their_lines_are_refused(
    api: Api, total: str | None, lines: list[dict[str, Any]], status: int
) -> None:
    add_store(api.conn, "a")
    headers = api.as_role(Role.MANAGER, ["a"])
    resp = api.client.post("/v1/receipts", json={"receipts": [r("1", total, lines=lines)]}, headers=headers)
    assert resp.status_code == status, resp.text
    if status == 422:
        assert "disagrees with the sum of its lines" in resp.text
        assert stored(api) == {}
