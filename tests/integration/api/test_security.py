"""API security (issue 10): forged tokens, log-in throttling, revocation, the audit log,
body sizes, security headers — against the app on a real database."""

import logging

import pytest

from footfall.api.access import Role
from footfall.db import audit
from tests.integration.api.conftest import Api, add_store


def _audit(api: Api, headers: dict[str, str], **params: str) -> list[dict]:
    r = api.client.get("/v1/audit", headers=headers, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_record_writes_an_entry_and_a_log_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="footfall.db.audit"), api.conn.transaction():
        audit_id = audit.record(
            api.conn, actor="ann", action="alert_ack", target="alert:17", detail={"note": "on it"}, client="10.0.0.7"
        )
    rows, total = audit.entries(api.conn, action="alert_ack")
    assert total == 1
    assert rows[0]["audit_id"] == audit_id
    assert (rows[0]["actor"], rows[0]["target"], rows[0]["client"], rows[0]["detail"]) == (
        "ann",
        "alert:17",
        "10.0.0.7",
        {"note": "on it"},
    )
    assert f"audit {audit_id}: alert_ack by ann on alert:17 from 10.0.0.7" in caplog.text


def _failed_change(api: Api) -> None:
    with api.conn.transaction():
        audit.record(api.conn, actor="ann", action="alert_ack", target="alert:17")
        raise RuntimeError("the change failed")


def test_record_rolls_back_with_the_change_it_describes(api: Api) -> None:
    with pytest.raises(RuntimeError):
        _failed_change(api)
    assert audit.entries(api.conn, action="alert_ack")[1] == 0


def test_failed_logins_and_user_role_scope_and_key_changes_are_audited(api: Api) -> None:
    add_store(api.conn, "riga-01")
    add_store(api.conn, "riga-02")
    admin = api.as_role(Role.ADMIN, name="boss")
    r = api.client.post(
        "/v1/users",
        headers=admin,
        json={"username": "ann", "role": "manager", "stores": ["riga-01"], "password": "correct horse"},
    )
    assert r.status_code == 201, r.text
    ann_id = r.json()["user_id"]
    r = api.client.patch(
        f"/v1/users/{ann_id}",
        headers=admin,
        json={"role": "merchandiser", "stores": ["riga-02"], "password": "another horse"},
    )
    assert r.status_code == 200, r.text
    ann = api.login("ann", "another horse")
    r = api.client.post("/v1/users/me/api-keys", headers=ann, json={"name": "pos"})
    assert r.status_code == 201, r.text
    key_id = r.json()["key_id"]
    assert api.client.delete(f"/v1/users/me/api-keys/{key_id}", headers=ann).status_code == 204
    assert api.client.post("/v1/auth/token", data={"username": "ann", "password": "wrong!"}).status_code == 401
    assert api.client.post("/v1/auth/token", data={"username": "nobody", "password": "x"}).status_code == 401
    assert api.client.delete(f"/v1/users/{ann_id}", headers=admin).status_code == 204

    entries = _audit(api, admin)
    seen = [(e["action"], e["actor"], e["target"]) for e in reversed(entries) if e["actor"] != "system"]
    assert seen == [
        ("user_create", "boss", "user:ann"),
        ("user_update", "boss", "user:ann"),
        ("api_key_create", "ann", f"api_key:{key_id}"),
        ("api_key_revoke", "ann", f"api_key:{key_id}"),
        ("login_failed", "anonymous", "user:ann"),
        ("login_failed", "anonymous", "user:nobody"),
        ("user_delete", "boss", "user:ann"),
    ]
    update = next(e for e in entries if e["action"] == "user_update")
    assert update["detail"] == {
        "user_id": ann_id,
        "role": ["manager", "merchandiser"],
        "stores": {"added": ["riga-02"], "removed": ["riga-01"]},
        "password": "changed",
    }
    assert update["client"] == "testclient"
    failed = [e["detail"]["reason"] for e in entries if e["action"] == "login_failed"]
    assert failed == ["unknown user", "wrong password"]
    assert all("horse" not in str(e) for e in entries)  # never a password
    # Filters.
    assert [e["target"] for e in _audit(api, admin, action="login_failed", target="user:nobody")] == ["user:nobody"]


@pytest.mark.parametrize(
    "role",
    [
        Role.MANAGER,  # may manage plans and receipts, not read the audit log
        Role.MERCHANDISER,
        Role.ALERT_SUBSCRIBER,
    ],
)
def test_only_admins_read_the_audit_log(api: Api, role: Role) -> None:
    add_store(api.conn, "riga-01")
    headers = api.as_role(role, ["riga-01"])
    r = api.client.get("/v1/audit", headers=headers)
    assert r.status_code == 403, r.text
