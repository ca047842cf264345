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
        "tokens_revoked": True,
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


# --- Sizes: bodies over the limit are refused with 413 before they are read -----------------

MB = 1024 * 1024


async def _post_raw(
    app, path: str, *, size: int, declared: bool, auth: dict[str, str], chunk: int = MB
) -> tuple[int, int, dict]:
    """POST `size` bytes to the app as an ASGI server would; returns status, bytes the app pulled, headers."""
    headers = [(b"content-type", b"application/json" if "poslog" not in path else b"application/xml")]
    headers += [(k.lower().encode(), v.encode()) for k, v in auth.items()]
    if declared:
        headers.append((b"content-length", str(size).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    sent = 0
    out: dict = {}

    async def receive() -> dict:
        nonlocal sent
        n = min(chunk, size - sent)
        sent += n
        return {"type": "http.request", "body": b" " * n, "more_body": sent < size}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}

    await app(scope, receive, send)
    return out["status"], sent, out["headers"]


@pytest.mark.parametrize(
    ("path", "size", "declared", "limit_setting"),
    [
        ("/v1/receipts", 50 * MB, True, "max_body_bytes"),  # 50 MB JSON with Content-Length: nothing read
        ("/v1/receipts", 50 * MB, False, "max_body_bytes"),  # 50 MB JSON, chunked: reading stops at the limit
        ("/v1/receipts/poslog", 25 * MB, True, "max_upload_bytes"),  # 25 MB POSLog with Content-Length
        ("/v1/receipts/poslog", 25 * MB, False, "max_upload_bytes"),  # 25 MB POSLog, chunked
    ],
)
def test_bodies_over_the_limit_get_413_before_they_are_read(
    api: Api, path: str, size: int, declared: bool, limit_setting: str
) -> None:
    import anyio

    limit = getattr(api.settings.api, limit_setting)
    auth = api.as_role(Role.ADMIN, name="boss")  # the POSLog route reads its body after checking the caller
    status, read, headers = anyio.run(lambda: _post_raw(api.client.app, path, size=size, declared=declared, auth=auth))
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert read <= (0 if declared else limit + MB)


def test_the_limit_is_a_setting(api: Api) -> None:
    from footfall.api.app import create_app

    small = api.settings.model_copy(update={"api": api.settings.api.model_copy(update={"max_body_bytes": 4096})})
    from fastapi.testclient import TestClient

    with TestClient(create_app(small, pool=api.client.app.state.pool)) as client:
        r = client.post("/v1/receipts", content=b"{" + b" " * 5000 + b"}", headers={"Content-Type": "application/json"})
        assert r.status_code == 413, r.text
        assert "FOOTFALL_API__MAX_BODY_BYTES" in r.json()["detail"]
        # Under the limit, the request goes on as before (here: no credentials).
        r = client.post("/v1/receipts", content=b"{}", headers={"Content-Type": "application/json"})
        assert r.status_code == 401


# --- Headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("POST", "/v1/auth/token", False),  # the token itself
        ("GET", "/v1/users/me", True),  # a caller's data
        ("GET", "/v1/stores/nowhere", True),  # a problem document
        ("GET", "/healthz", False),
        ("GET", "/openapi.json", False),
    ],
)
def test_every_response_carries_the_security_headers(api: Api, method: str, path: str, auth: bool) -> None:
    headers = api.as_role(Role.MANAGER, name="ann") if auth else {}
    data = {"username": "ann", "password": "correct horse"} if path == "/v1/auth/token" else None
    if path == "/v1/auth/token":
        api.user("ann", Role.MANAGER)
    r = api.client.request(method, path, headers=headers, data=data)
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "strict-transport-security" not in r.headers  # plain HTTP


def test_https_responses_carry_hsts_and_the_docs_may_load_their_cdn(api: Api) -> None:
    from fastapi.testclient import TestClient

    with TestClient(api.client.app, base_url="https://testserver") as client:
        r = client.get("/healthz")
        assert r.headers["strict-transport-security"].startswith("max-age=")
        docs = client.get("/docs")
        assert docs.status_code == 200
        assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


# --- Forged tokens: no secret written in the source is ever accepted --------------------------


def _forged(user_id: int, secret: str) -> dict[str, str]:
    from datetime import UTC, datetime, timedelta

    import jwt

    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iss": "footfall", "iat": now, "exp": now + timedelta(minutes=5)}
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


@pytest.mark.parametrize(
    "secret",
    [
        "change-me-local-development-only",  # the default secret main shipped in core/settings.py
        "x" * 40,  # the key the unit tests sign with
    ],
)
def test_a_token_signed_with_a_secret_from_the_source_is_refused(api: Api, secret: str) -> None:
    admin_id = api.user("root", Role.ADMIN, all_stores=True)
    r = api.client.get("/v1/users", headers=_forged(admin_id, secret))
    assert r.status_code == 401, r.text
    assert api.settings.api.secret_key is None  # the default: nothing configured, a key made at start
    assert api.client.get("/v1/users", headers=api.login("root")).status_code == 200


def test_the_secret_made_on_first_start_is_random_kept_and_yields_to_configuration(api: Api) -> None:
    from pydantic import SecretStr

    from footfall.api.security import signing_secret

    first = signing_secret(api.conn, api.settings.api)
    assert len(first) >= 48
    assert signing_secret(api.conn, api.settings.api) == first  # every worker and restart: the same key
    stored = api.conn.execute("SELECT value FROM app_secrets WHERE name = 'api_token_key'").fetchone()["value"]
    assert stored == first
    configured = api.settings.api.model_copy(update={"secret_key": SecretStr("k" * 40)})
    assert signing_secret(api.conn, configured) == "k" * 40  # a configured key wins
    api.conn.execute("DELETE FROM app_secrets")
    assert signing_secret(api.conn, api.settings.api) != first  # made at random, not derived


# --- Revocation: a change to password, role or scope ends the tokens issued before it ---------


@pytest.mark.parametrize(
    ("change", "token_works", "key_status"),
    [
        ({"password": "another horse"}, False, 401),  # password: tokens end, API keys are revoked
        ({"role": "alert_subscriber"}, False, 403),  # role: tokens end, keys act with the new role
        ({"stores": ["riga-02"]}, False, 404),  # scope: tokens end, keys see the new scope only
        ({"all_stores": True}, False, 200),  # scope widened: tokens end too (re-issued at the new scope)
        ({"disabled": True}, False, 401),  # disabled: nothing works
        ({"email": "ann@example.com"}, True, 200),  # an e-mail address changes nothing of access
    ],
)
def test_password_role_and_scope_changes_revoke_tokens_and_keys_follow_the_docs(
    api: Api, change: dict, token_works: bool, key_status: int
) -> None:
    add_store(api.conn, "riga-01")
    add_store(api.conn, "riga-02")
    admin = api.as_role(Role.ADMIN, name="boss")
    ann_id = api.user("ann", Role.MANAGER, ["riga-01"])
    token = api.login("ann")
    key = {"X-API-Key": api.api_key("ann")}
    receipts = "/v1/stores/riga-01/receipts?first=2026-06-01&last=2026-06-01"
    assert api.client.get(receipts, headers=token).status_code == 200
    assert api.client.get(receipts, headers=key).status_code == 200

    r = api.client.patch(f"/v1/users/{ann_id}", headers=admin, json=change)
    assert r.status_code == 200, r.text

    r = api.client.get("/v1/users/me", headers=token)
    assert r.status_code == (200 if token_works else 401), r.text
    assert api.client.get(receipts, headers=key).status_code == key_status
    if not token_works and not change.get("disabled"):
        fresh = api.login("ann", change.get("password", "correct horse"))
        assert api.client.get("/v1/users/me", headers=fresh).status_code == 200  # logging in again works
    audited = _audit(api, admin, action="user_update")[0]["detail"]
    assert audited.get("tokens_revoked", False) is not token_works
    if "password" in change:
        assert len(audited["api_keys_revoked"]) == 1


# --- Log-in throttling -------------------------------------------------------------------------


@pytest.fixture
def strict(api: Api):
    """The app with small log-in limits: 3 failures per user name, 5 per address, a 30 s first lock."""
    from fastapi.testclient import TestClient

    from footfall.api.app import create_app

    limits = {"login_user_failures": 3, "login_address_failures": 5, "login_lockout_s": 30}
    s = api.settings.model_copy(update={"api": api.settings.api.model_copy(update=limits)})
    app = create_app(s, pool=api.client.app.state.pool)
    with TestClient(app) as client, TestClient(app, client=("10.9.9.9", 4000)) as elsewhere:
        yield api, client, elsewhere


def _try(client, username: str, password: str = "wrong horse"):
    return client.post("/v1/auth/token", data={"username": username, "password": password})


@pytest.mark.parametrize(
    "username",
    [
        "ann",  # a real user
        "nobody",  # an unknown name is throttled exactly alike (names cannot be probed)
    ],
)
def test_failed_logins_are_throttled_per_user_name_with_retry_after(strict, username: str) -> None:
    api, client, elsewhere = strict
    api.user("ann", Role.MANAGER)
    statuses = [_try(client, username).status_code for _ in range(10)]
    assert statuses == [401] * 3 + [429] * 7
    r = _try(client, username, "correct horse")  # even the right password waits out the lock
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    assert 1 <= int(r.headers["retry-after"]) <= 30
    assert _try(elsewhere, username).status_code == 429  # the name is locked from any address
    # Only the attempts let through cost a password check; each is audited, and so is the lock.
    failed = api.conn.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'login_failed'").fetchone()["n"]
    assert failed == 3
    locks = api.conn.execute("SELECT target FROM audit_log WHERE action = 'login_locked'").fetchall()
    assert [row["target"] for row in locks] == [f"user:{username}"]


def test_failed_logins_are_throttled_per_client_address(strict) -> None:
    api, client, elsewhere = strict
    api.user("ann", Role.MANAGER)
    statuses = [_try(client, f"user{i}").status_code for i in range(7)]  # a new name each time
    assert statuses == [401] * 5 + [429] * 2
    assert _try(client, "ann", "correct horse").status_code == 429  # this address waits …
    assert _try(elsewhere, "ann", "correct horse").status_code == 200  # … another does not


def test_a_good_login_starts_the_user_name_afresh(strict) -> None:
    api, client, _ = strict
    api.user("ann", Role.MANAGER)
    assert [_try(client, "ann").status_code for _ in range(2)] == [401, 401]
    assert _try(client, "ann", "correct horse").status_code == 200
    assert [_try(client, "ann").status_code for _ in range(2)] == [401, 401]


def test_each_failure_after_a_lock_doubles_it(strict) -> None:
    api, client, _ = strict
    api.user("ann", Role.MANAGER)
    assert [_try(client, "ann").status_code for _ in range(4)] == [401, 401, 401, 429]
    api.conn.execute("UPDATE login_throttle SET locked_until = now() - interval '1 second'")  # the lock ran out
    assert _try(client, "ann").status_code == 401  # one more try is let through …
    r = _try(client, "ann")
    assert r.status_code == 429
    assert 30 < int(r.headers["retry-after"]) <= 60  # … and the next lock is twice as long


def test_concurrent_attempts_cannot_slip_past_the_count(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from footfall.api import throttle
    from footfall.api.errors import TooManyRequests
    from footfall.db.connect import connect

    limits = api.settings.api.model_copy(update={"login_user_failures": 3})
    db = api.settings.db

    def attempt(_: int) -> str:
        with connect(db, autocommit=True) as conn:
            try:
                throttle.begin(conn, username="ann", client=None, settings=limits)
            except TooManyRequests:
                return "refused"
            return "let through"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(attempt, range(16)))
    assert outcomes.count("let through") == 3


# --- CLI: passwords from a file or standard input, never the command line ----------------------


def test_users_create_reads_the_password_from_stdin_and_audits_the_command(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from footfall.cli import app
    from footfall.core.settings import get_settings

    monkeypatch.setenv("FOOTFALL_DB__URL", api.settings.db.url)
    monkeypatch.delenv("FOOTFALL_NEW_PASSWORD", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["users", "create", "root", "--role", "admin", "--password-from", "-"], input="a stdin password\n"
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    token = api.login("root", "a stdin password")
    entries = _audit(api, token, action="user_create")
    assert entries[0]["actor"].startswith("cli:")
    assert entries[0]["target"] == "user:root"


@pytest.mark.parametrize(
    ("since", "status"),
    [
        ("2026-06-01T00:00:00Z", 200),  # an instant with an offset
        ("2026-06-01T00:00:00+03:00", 200),
        ("123523656", 422),  # a bare number is not taken as Unix time
        ("2026-13-01T00:00:00Z", 422),  # the right shape, no such month
        ("2026-06-01", 422),  # a day is not an instant
    ],
)
def test_the_audit_log_filters_by_instant(api: Api, since: str, status: int) -> None:
    admin = api.as_role(Role.ADMIN, name="boss")
    r = api.client.get("/v1/audit", headers=admin, params={"since": since})
    assert r.status_code == status, r.text
