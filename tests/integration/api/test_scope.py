"""Scoped access: for every endpoint, another store's manager gets 404 (or 403) and never data;
roles limit what a caller may do; tokens and API keys are checked on every request."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from footfall.api.access import Role
from tests.integration.api.conftest import Api, add_door_minutes, add_receipts, add_store, receipt

SECRET_REVENUE = "4242.42"
DAY = "2026-06-01"
PERIOD = f"first={DAY}&last={DAY}"
POSLOG = (
    b"<POSLog><Transaction><RetailStoreID>{s}</RetailStoreID><SequenceNumber>1</SequenceNumber>"
    b"<EndDateTime>2026-06-01T10:00:00+03:00</EndDateTime><RetailTransaction>"
    b"<Total TotalType='TransactionNetAmount'>1.00</Total></RetailTransaction></Transaction></POSLog>"
)


def receipt_body(store: str) -> dict:
    return {"receipts": [{"receipt_id": "x1", "store_id": store, "ts": "2026-06-01T10:00:00+03:00", "total": "1"}]}


# Every route that names a store, and how to call it for store `{s}`.
STORE_ROUTES = [
    ("GET", "/v1/stores/{s}", None),
    ("GET", "/v1/stores/{s}/receipts?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/kpis/series?" + PERIOD + "&interval=hour", None),
    ("GET", "/v1/stores/{s}/kpis/summary?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/kpis/traffic-by-hour?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/kpis/occupancy?day=" + DAY, None),
    ("GET", "/v1/stores/{s}/kpis/zones?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/kpis/revenue-change?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/plans", None),
    ("PUT", "/v1/stores/{s}/plans/2026-06", {"revenue_target": "1"}),
    ("DELETE", "/v1/stores/{s}/plans/2026-06", None),
    ("GET", "/v1/stores/{s}/plan-vs-fact?month=2026-06", None),
    ("GET", "/v1/stores/{s}/devices", None),
    ("GET", "/v1/stores/{s}/shifts?" + PERIOD, None),
    (
        "PUT",
        "/v1/stores/{s}/shifts",
        {"shifts": [{"shift_id": "z", "starts_at": "2026-06-01T10:00:00Z", "ends_at": "2026-06-01T12:00:00Z"}]},
    ),
    ("DELETE", "/v1/stores/{s}/shifts/s1", None),
    ("GET", "/v1/stores/{s}/forecast?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/staffing?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/anomalies?" + PERIOD, None),
    ("POST", "/v1/receipts", "receipts"),
    ("POST", "/v1/receipts/poslog", "poslog"),
    ("POST", "/v1/alert-rules", "alert_rule"),  # the store is in the body's scope
    ("POST", "/v1/alert-subscriptions", "alert_subscription"),
]
# The merchandiser's routes (issue 13): listed apart so they are also run with a merchandiser.
MERCH_ROUTES = [
    ("GET", "/v1/stores/{s}/floors", None),
    ("GET", "/v1/stores/{s}/floors/ground/plan", None),
    ("PUT", "/v1/stores/{s}/floors/ground/plan?px_per_m=10", "png"),
    ("GET", "/v1/stores/{s}/heatmap?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/zones?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/sales/products?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/sales/categories?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/queues/q?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/paths?" + PERIOD, None),
    ("GET", "/v1/stores/{s}/layout-changes", None),
    ("POST", "/v1/stores/{s}/layout-changes", {"changed_on": DAY, "zones": ["q"]}),
    ("GET", "/v1/stores/{s}/layout-changes/1/effect", None),
]
STORE_ROUTES += MERCH_ROUTES
# Routes that name no store: they answer with the caller's stores only, or are the caller's own.
OWN_ROUTES = [
    ("GET", "/v1/stores"),
    ("GET", "/v1/kpis/stores?" + PERIOD),
    ("GET", "/v1/kpis/ranking?" + PERIOD),
    ("GET", "/v1/plan-vs-fact?month=2026-06"),
    ("GET", "/v1/users/me"),
    ("GET", "/v1/users/me/api-keys"),
    ("POST", "/v1/users/me/api-keys"),
    ("DELETE", "/v1/users/me/api-keys/{key}"),
    # Alerts: rules, alerts and events are looked up and filtered by the caller's scope
    # (tests/integration/alerts/test_api.py covers each against another store's data).
    ("GET", "/v1/alert-rules"),
    ("GET", "/v1/alert-rules/{rule_id}"),
    ("PUT", "/v1/alert-rules/{rule_id}"),
    ("DELETE", "/v1/alert-rules/{rule_id}"),
    ("POST", "/v1/alert-rules/{rule_id}/mute"),
    ("DELETE", "/v1/alert-rules/{rule_id}/mute"),
    ("GET", "/v1/alerts"),
    ("GET", "/v1/alerts/stream"),
    ("GET", "/v1/alerts/act"),
    ("POST", "/v1/alerts/act"),
    ("GET", "/v1/alerts/{state_id}"),
    ("POST", "/v1/alerts/{state_id}/ack"),
    ("GET", "/v1/alert-audit"),
    ("GET", "/v1/alert-subscriptions"),
    ("DELETE", "/v1/alert-subscriptions/{subscription_id}"),
]
ADMIN_ROUTES = [
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("GET", "/v1/users/{user}"),
    ("PATCH", "/v1/users/{user}"),
    ("DELETE", "/v1/users/{user}"),
    ("GET", "/v1/audit"),
]
PUBLIC_ROUTES = [("POST", "/v1/auth/token"), ("GET", "/healthz")]


def _template(path: str) -> str:
    return (
        path.split("?", maxsplit=1)[0]
        .replace("{s}", "{store_id}")
        .replace("2026-06", "{month}")
        .replace("/s1", "/{shift_id}")
        .replace("{key}", "{key_id}")
        .replace("{user}", "{user_id}")
        .replace("/ground/", "/{floor_id}/")
        .replace("/queues/q", "/queues/{zone_id}")
        .replace("/layout-changes/1/", "/layout-changes/{change_id}/")
    )


def test_the_tables_cover_every_route_of_the_app(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    listed = {(m, _template(p)) for m, p, _ in STORE_ROUTES} | {
        (m, _template(p)) for group in (OWN_ROUTES, ADMIN_ROUTES, PUBLIC_ROUTES) for m, p in group
    }
    assert routes == listed


@pytest.fixture
def two_stores(api: Api) -> Api:
    """Store `a` (ours) and store `b` (someone else's), b with data worth stealing."""
    add_store(api.conn, "a")
    add_store(api.conn, "b")
    # an hour of door counts each, so forecasts and staffing have something to answer from
    for store in ("a", "b"):
        add_door_minutes(api.conn, store, datetime(2026, 6, 1, 10, tzinfo=ZoneInfo("Europe/Riga")), 60)
    add_receipts(
        api.conn, receipt("b", "secret", datetime(2026, 6, 1, 12, tzinfo=ZoneInfo("Europe/Riga")), SECRET_REVENUE)
    )
    api.conn.execute("INSERT INTO plans (store_id, month, revenue_target) VALUES ('b', '2026-06-01', 777777)")
    api.conn.execute(
        "INSERT INTO staff_shifts (store_id, shift_id, starts_at, ends_at) VALUES "
        "('b', 's1', '2026-06-01T08:00Z', '2026-06-01T16:00Z')"
    )
    for store in ("a", "b"):  # a floor with a queue and its till, and a recorded layout change
        api.conn.execute(
            "INSERT INTO floors (store_id, floor_id, width_m, height_m) VALUES (%s, 'ground', 10, 8)", (store,)
        )
        for zone, kind, till in (("t", "area", None), ("q", "queue", "t")):
            api.conn.execute(
                "INSERT INTO zones (store_id, zone_id, floor_id, polygon, area_m2, kind, till_zone) VALUES "
                "(%s, %s, 'ground', '[[1, 1], [3, 1], [3, 3]]', 2, %s, %s)",
                (store, zone, kind, till),
            )
        api.conn.execute(
            "INSERT INTO layout_changes (store_id, change_id, changed_on, zones) VALUES (%s, 1, '2026-05-01', '{q}')",
            (store,),
        )
    api.conn.execute("SELECT setval('layout_changes_change_id_seq', 10)")  # past the ids set by hand
    return api


PNG_BODY = cv2.imencode(".png", np.full((8, 10, 3), 200, np.uint8))[1].tobytes()


def _call(api: Api, method: str, path: str, body, headers: dict[str, str], store: str):
    url = path.replace("{s}", store)
    if body == "receipts":
        return api.client.post(url, json=receipt_body(store), headers=headers)
    if body == "alert_rule":
        rule = {"name": "r", "metric": "visitors", "comparator": "<", "threshold": 1, "scope": {"store": store}}
        return api.client.post(url, json=rule, headers=headers)
    if body == "alert_subscription":
        sub = {"channel": "email", "target": "m@example.test", "store_id": store}
        return api.client.post(url, json=sub, headers=headers)
    if body == "poslog":
        return api.client.post(
            url, content=POSLOG.replace(b"{s}", store.encode()), headers={**headers, "Content-Type": "application/xml"}
        )
    if body == "png":
        return api.client.put(url, content=PNG_BODY, headers={**headers, "Content-Type": "image/png"})
    return api.client.request(method, url, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), STORE_ROUTES, ids=[f"{m} {p}" for m, p, _ in STORE_ROUTES])
def test_another_stores_manager_gets_404_and_never_data(two_stores: Api, method: str, path: str, body) -> None:
    api = two_stores
    headers = api.as_role(Role.MANAGER, ["a"])
    r = _call(api, method, path, body, headers, "b")
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert SECRET_REVENUE not in r.text
    assert "777777" not in r.text
    # The same question about a store that does not exist gets the same answer.
    r2 = _call(api, method, path, body, headers, "nowhere")
    assert (r2.status_code, r2.json()["title"]) == (404, r.json()["title"])
    # Nothing of b changed.
    assert api.conn.execute("SELECT count(*) AS n FROM receipts WHERE store_id = 'b'").fetchone()["n"] == 1
    assert api.conn.execute("SELECT count(*) AS n FROM plans WHERE store_id = 'b'").fetchone()["n"] == 1
    assert api.conn.execute("SELECT count(*) AS n FROM staff_shifts WHERE store_id = 'b'").fetchone()["n"] == 1
    assert api.conn.execute("SELECT count(*) AS n FROM layout_changes WHERE store_id = 'b'").fetchone()["n"] == 1
    assert (
        api.conn.execute("SELECT count(*) AS n FROM floors WHERE store_id = 'b' AND plan_image IS NOT NULL").fetchone()[
            "n"
        ]
        == 0
    )


@pytest.mark.parametrize(("method", "path", "body"), MERCH_ROUTES, ids=[f"{m} {p}" for m, p, _ in MERCH_ROUTES])
def test_another_stores_merchandiser_gets_404_on_every_merchandising_route(
    two_stores: Api, method: str, path: str, body
) -> None:
    api = two_stores
    headers = api.as_role(Role.MERCHANDISER, ["a"])
    r = _call(api, method, path, body, headers, "b")
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "'b'" in r.json()["detail"]  # said like a store that does not exist, and nothing more
    mine = _call(api, method, path, body, headers, "a")
    assert mine.status_code in (200, 201), mine.text
    assert api.conn.execute("SELECT count(*) AS n FROM layout_changes WHERE store_id = 'b'").fetchone()["n"] == 1


@pytest.mark.parametrize(("method", "path", "body"), STORE_ROUTES, ids=[f"{m} {p}" for m, p, _ in STORE_ROUTES])
def test_the_stores_own_manager_is_let_through(two_stores: Api, method: str, path: str, body) -> None:
    api = two_stores
    api.conn.execute("INSERT INTO plans (store_id, month, revenue_target) VALUES ('a', '2026-06-01', 1)")
    api.conn.execute(
        "INSERT INTO staff_shifts (store_id, shift_id, starts_at, ends_at) VALUES "
        "('a', 's1', '2026-06-01T08:00Z', '2026-06-01T16:00Z')"
    )
    r = _call(api, method, path, body, api.as_role(Role.MANAGER, ["a"]), "a")
    assert r.status_code in (200, 201, 204), r.text


@pytest.mark.parametrize(("method", "path"), OWN_ROUTES[:4])
def test_multi_store_answers_hold_only_the_callers_stores(two_stores: Api, method: str, path: str) -> None:
    api = two_stores
    r = api.client.request(method, path, headers=api.as_role(Role.MANAGER, ["a"]))
    assert r.status_code == 200, r.text
    assert '"a"' in r.text
    assert '"b"' not in r.text
    assert SECRET_REVENUE not in r.text


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        (Role.MERCHANDISER, "GET", "/v1/users", None, 403),  # a merchandiser cannot manage users
        (Role.MERCHANDISER, "POST", "/v1/users", {"username": "eve", "role": "admin", "password": "12345678"}, 403),
        (Role.MERCHANDISER, "PATCH", "/v1/users/1", {"role": "admin"}, 403),
        (Role.MERCHANDISER, "DELETE", "/v1/users/1", None, 403),
        (Role.MANAGER, "POST", "/v1/users", {"username": "eve", "role": "admin", "password": "12345678"}, 403),
        (Role.MERCHANDISER, "PUT", "/v1/stores/a/plans/2026-06", {"revenue_target": "1"}, 403),  # read-only
        (Role.MERCHANDISER, "POST", "/v1/receipts", "receipts", 403),
        (Role.MERCHANDISER, "GET", "/v1/stores/a/kpis/zones?" + PERIOD, None, 200),  # their job
        (Role.MERCHANDISER, "POST", "/v1/stores/a/layout-changes", {"changed_on": DAY, "zones": ["q"]}, 201),
        (Role.ALERT_SUBSCRIBER, "POST", "/v1/stores/a/layout-changes", {"changed_on": DAY, "zones": ["q"]}, 403),
        (Role.ALERT_SUBSCRIBER, "GET", "/v1/stores/a/sales/products?" + PERIOD, None, 403),  # receipt data
        (Role.ALERT_SUBSCRIBER, "GET", "/v1/stores/a/kpis/summary?" + PERIOD, None, 200),
        (Role.ALERT_SUBSCRIBER, "GET", "/v1/stores/a/receipts?" + PERIOD, None, 403),
        (Role.ALERT_SUBSCRIBER, "PUT", "/v1/stores/a/shifts", {"shifts": []}, 403),
        (Role.ADMIN, "GET", "/v1/stores/b/kpis/summary?" + PERIOD, None, 200),  # admins see every store
    ],
)
def test_roles_limit_what_a_caller_may_do(
    two_stores: Api, role: Role, method: str, path: str, body, status: int
) -> None:
    api = two_stores
    headers = api.as_role(role, ["a"])
    if body == "receipts":
        r = api.client.post(path, json=receipt_body("a"), headers=headers)
    else:
        r = api.client.request(method, path, json=body, headers=headers)
    assert r.status_code == status, r.text
    if status == 403:
        assert r.headers["content-type"] == "application/problem+json"
        assert role.value in r.json()["detail"]


def test_api_keys_act_as_their_user_and_stop_when_revoked(two_stores: Api) -> None:
    api = two_stores
    headers = api.as_role(Role.MANAGER, ["a"], name="pos-a")
    created = api.client.post("/v1/users/me/api-keys", json={"name": "till 1"}, headers=headers)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("ff_")
    stored = api.conn.execute("SELECT key_hash FROM api_keys").fetchone()["key_hash"]
    assert key not in stored  # hashed at rest
    listed = api.client.get("/v1/users/me/api-keys", headers=headers).json()
    assert "key" not in listed["data"][0]  # shown once
    for h in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        assert api.client.post("/v1/receipts", json=receipt_body("a"), headers=h).status_code == 200
        assert api.client.post("/v1/receipts", json=receipt_body("b"), headers=h).status_code == 404
    api.client.delete(f"/v1/users/me/api-keys/{created.json()['key_id']}", headers=headers)
    r = api.client.get("/v1/stores", headers={"X-API-Key": key})
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "log in"),  # no credentials
        ({"Authorization": "Bearer not-a-jwt"}, "not valid"),
        ({"X-API-Key": "ff_deadbeef_nope"}, "not valid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "log in"),
    ],
)
def test_bad_credentials_get_401_problems(api: Api, headers: dict[str, str], detail: str) -> None:
    r = api.client.get("/v1/stores", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert detail in r.json()["detail"]


def test_a_disabled_user_is_locked_out_at_once_and_wrong_passwords_fail(api: Api) -> None:
    admin = api.as_role(Role.ADMIN)
    user_id = api.user("ann", Role.MANAGER)
    token = api.login("ann")
    assert api.client.get("/v1/users/me", headers=token).status_code == 200
    assert api.client.patch(f"/v1/users/{user_id}", json={"disabled": True}, headers=admin).status_code == 200
    assert api.client.get("/v1/users/me", headers=token).status_code == 401  # the token is still unexpired
    r = api.client.post("/v1/auth/token", data={"username": "ann", "password": "correct horse"})
    assert r.status_code == 401
    r = api.client.post("/v1/auth/token", data={"username": "nobody", "password": "whatever1"})
    assert (r.status_code, r.json()["detail"]) == (401, "wrong user name or password")


def test_admin_manages_users_and_scope(api: Api) -> None:
    add_store(api.conn, "a")
    admin = api.as_role(Role.ADMIN)
    r = api.client.post(
        "/v1/users",
        json={"username": "bob", "role": "manager", "stores": ["a"], "password": "secret-42"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["stores"] == ["a"]
    assert (
        api.client.post(
            "/v1/users", json={"username": "bob", "role": "manager", "password": "secret-42"}, headers=admin
        ).status_code
        == 409
    )
    assert (
        api.client.post(
            "/v1/users", json={"username": "cyd", "role": "manager", "stores": ["zz"]}, headers=admin
        ).status_code
        == 400
    )
    bob = api.client.post("/v1/auth/token", data={"username": "bob", "password": "secret-42"}).json()["access_token"]
    assert [
        s["store_id"] for s in api.client.get("/v1/stores", headers={"Authorization": f"Bearer {bob}"}).json()["data"]
    ] == ["a"]
    uid = r.json()["user_id"]
    assert api.client.patch(f"/v1/users/{uid}", json={"stores": []}, headers=admin).json()["stores"] == []
    # A scope change ends the tokens issued before it (issue 10); logged in again, bob sees nothing.
    assert api.client.get("/v1/stores/a", headers={"Authorization": f"Bearer {bob}"}).status_code == 401
    assert api.client.get("/v1/stores/a", headers=api.login("bob", "secret-42")).status_code == 404
    assert api.client.delete(f"/v1/users/{uid}", headers=admin).status_code == 204
    assert api.client.get(f"/v1/users/{uid}", headers=admin).status_code == 404


def test_csv_is_served_on_accept_text_csv(two_stores: Api) -> None:
    api = two_stores
    headers = api.as_role(Role.ADMIN)
    r = api.client.get(f"/v1/stores/b/kpis/series?{PERIOD}&interval=day", headers={**headers, "Accept": "text/csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    header, row = r.text.splitlines()
    cols = dict(zip(header.split(","), row.split(","), strict=True))
    assert float(cols["revenue"]) == float(SECRET_REVENUE)
    assert cols["date"] == "2026-06-01"  # a day bucket is named by its local date, not a timestamp
    assert date.fromisoformat(cols["date"]) == date(2026, 6, 1)
