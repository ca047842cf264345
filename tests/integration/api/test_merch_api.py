"""The merchandising routes over HTTP: content negotiation (JSON, PNG, CSV), uploads, problem documents,
and receipt listings with their lines."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from footfall.api.access import Role
from footfall.api.receipts import Receipt
from footfall.core.storeconfig import StoreConfig
from footfall.db.stores import apply_store
from tests.integration.api.conftest import Api, add_receipts

pytestmark = pytest.mark.integration

STORE = {
    "store": {"id": "s1", "name": "Shop", "timezone": "UTC"},
    "floors": [{"id": "ground", "width_m": 10, "height_m": 8}],
    "doors": [{"id": "main"}],
    "zones": [
        {"id": "bakery", "floor": "ground", "polygon": [[1, 1], [5, 1], [5, 4], [1, 4]], "categories": ["bread"]}
    ],
    "devices": [{"id": "cam1", "kind": "camera", "floor": "ground", "zones": ["bakery"]}],
}
T0 = datetime(2026, 6, 1, 10, tzinfo=UTC)


@pytest.fixture
def shop(api: Api) -> Api:
    apply_store(api.conn, StoreConfig.from_data(STORE))
    for minute in range(30):
        t = T0 + timedelta(minutes=minute)
        for x, y in ((2, 2), (3, 2), (8, 6)):
            api.conn.execute(
                "INSERT INTO heatmap_cells (store_id, device_id, floor_id, start_ts, end_ts, cell_m, x, y, presence_s,"
                " tracks, seq) VALUES ('s1', 'cam1', 'ground', %s, %s, 0.5, %s, %s, 12.5, 3, 1)",
                (t, t + timedelta(minutes=1), x, y),
            )
    add_receipts(
        api.conn,
        Receipt.model_validate(
            {
                "receipt_id": "r1",
                "store_id": "s1",
                "ts": (T0 + timedelta(minutes=3)).isoformat(),
                "lines": [
                    {"sku": "BR-RYE", "description": "Rye loaf", "category": "bread", "unit_price": "3.20"},
                    {"sku": "BR-BAG", "category": "bread", "quantity": 2, "unit_price": "2.10"},
                ],
            }
        ),
    )
    return api


def test_heatmap_is_json_or_a_png_on_the_plan(shop: Api) -> None:
    headers = shop.as_role(Role.MERCHANDISER, ["s1"])
    url = "/v1/stores/s1/heatmap?first=2026-06-01T10:00&last=2026-06-01T10:00"
    body = shop.client.get(url, headers=headers).json()
    assert (body["cell_m"], body["cols"], body["rows"], body["count"]) == (0.5, 20, 16, 3)
    assert {(c["x"], c["y"], c["presence_s"], c["visits"], c["owner"]) for c in body["data"]} == {
        (2, 2, 375.0, 90, "cam1"),
        (3, 2, 375.0, 90, "cam1"),
        (8, 6, 375.0, 90, "cam1"),
    }
    # the same minutes read through the daily rollup (whole days) and the hourly one (edge hours) agree
    for period in ("first=2026-05-31&last=2026-06-02", "first=2026-05-31T22:00&last=2026-06-01T10:00"):
        other = shop.client.get(f"/v1/stores/s1/heatmap?{period}", headers=headers).json()
        assert {(c["x"], c["y"], c["presence_s"], c["visits"]) for c in other["data"]} == {
            (c["x"], c["y"], c["presence_s"], c["visits"]) for c in body["data"]
        }
    png = shop.client.get(url, headers={**headers, "Accept": "image/png"})
    assert png.headers["content-type"] == "image/png"
    img = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    assert img.shape[0] > img.shape[1] * 8 / 10  # the plan (10 × 8 m) plus the legend band
    # dwell: 375 s over 90 visit-minutes
    dwell = shop.client.get(url + "&metric=dwell", headers=headers).json()
    assert dwell["data"][0]["value"] == pytest.approx(375 / 90, abs=1e-3)


@pytest.mark.parametrize(
    ("query", "status", "detail"),
    [
        ("first=2026-06-02&last=2026-06-01", 400, "swap"),  # reversed
        ("first=2026-01-01&last=2026-06-01", 400, "quarter"),  # more than a quarter
        ("first=2026-06-01T10:30&last=2026-06-01", 400, "whole hour"),
        ("first=June-first&last=2026-06-01", 400, "YYYY-MM-DD"),
        ("first=2026-06-01&last=2026-06-01&floor=roof", 404, "no floor 'roof'"),
        ("first=2026-06-01&last=2026-06-01&k=1", 422, "k"),  # below the privacy floor
    ],
)
def test_heatmap_refuses_bad_questions_with_the_fix_named(shop: Api, query: str, status: int, detail: str) -> None:
    r = shop.client.get(f"/v1/stores/s1/heatmap?{query}", headers=shop.as_role(Role.MERCHANDISER, ["s1"]))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.text


def test_plan_upload_is_checked_and_used(shop: Api) -> None:
    headers = shop.as_role(Role.MERCHANDISER, ["s1"])
    bad = shop.client.put(
        "/v1/stores/s1/floors/ground/plan?px_per_m=20",
        content=b"GIF89a",
        headers={**headers, "Content-Type": "image/png"},
    )
    assert bad.status_code == 400
    assert "PNG or JPEG" in bad.json()["detail"]
    picture = cv2.imencode(".png", np.full((160, 200, 3), 220, np.uint8))[1].tobytes()
    ok = shop.client.put(
        "/v1/stores/s1/floors/ground/plan?px_per_m=20",
        content=picture,
        headers={**headers, "Content-Type": "image/png"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["has_plan"] is True
    plan = shop.client.get("/v1/stores/s1/floors/ground/plan", headers=headers)
    assert cv2.imdecode(np.frombuffer(plan.content, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (160, 200)


def test_receipt_listings_include_their_lines_in_json_and_csv(shop: Api) -> None:
    headers = shop.as_role(Role.MANAGER, ["s1"])
    body = shop.client.get("/v1/stores/s1/receipts?first=2026-06-01&last=2026-06-01", headers=headers).json()
    lines = body["data"][0]["lines"]
    assert [(ln["sku"], ln["quantity"], ln["amount"]) for ln in lines] == [
        ("BR-RYE", "1.000", "3.20"),
        ("BR-BAG", "2.000", "4.20"),
    ]
    text = shop.client.get(
        "/v1/stores/s1/receipts?first=2026-06-01&last=2026-06-01", headers={**headers, "Accept": "text/csv"}
    ).text
    row = next(csv.DictReader(io.StringIO(text)))
    assert [ln["sku"] for ln in json.loads(row["lines"])] == ["BR-RYE", "BR-BAG"]


def test_product_sales_as_csv(shop: Api) -> None:
    r = shop.client.get(
        "/v1/stores/s1/sales/products?first=2026-06-01&last=2026-06-01",
        headers={**shop.as_role(Role.MERCHANDISER, ["s1"]), "Accept": "text/csv"},
    )
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["sku"], row["rank"], row["zones"]) for row in rows] == [
        ("BR-RYE", "1", "bakery"),
        ("BR-BAG", "2", "bakery"),
    ]
