"""`GET /metrics` of the API on a real uvicorn socket: requests counted by route template and
status class, exactly as many as were made; only a scraper with the metrics token reads them,
and what it reads names no store, user or raw path. With two worker processes, any worker
answers for both."""

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.api.users import create_user
from footfall.core.settings import DbSettings, Settings
from footfall.db.connect import open_pool
from footfall.devtools.services import free_port
from tests.helpers import wait_until
from tests.integration.api.conftest import add_store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
TOKEN = secrets.token_urlsafe(36)
PASSWORD = "correct horse"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def serve(settings: Settings) -> Iterator[str]:
    pool = open_pool(settings.db.model_copy(update={"pool_min": 1, "pool_max": 4}), name="test-api-metrics")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, pool=pool), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.started, timeout=20), "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        pool.close()


@pytest.fixture
def base(settings: Settings, db: DbSettings, aconn: psycopg.Connection) -> Iterator[str]:
    add_store(aconn, "riga-01")
    add_store(aconn, "tallinn-02")
    add_store(aconn, "secret-store-zz")
    create_user(aconn, username="mia-manager", password=PASSWORD, role=Role.MANAGER, stores=["riga-01", "tallinn-02"])
    s = settings.model_copy(
        update={"db": db, "api": settings.api.model_copy(update={"metrics_token": SecretStr(TOKEN)})}
    )
    yield from serve(s)


def test_requests_are_counted_by_route_template_and_status_class_for_the_token_holder_only(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as c:
        r = c.post("/v1/auth/token", data={"username": "mia-manager", "password": PASSWORD})
        assert r.status_code == 200, r.text
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        for store in ("riga-01", "riga-01", "riga-01", "tallinn-02", "tallinn-02"):
            assert c.get(f"/v1/stores/{store}", headers=auth).status_code == 200
        assert c.get("/v1/stores/secret-store-zz", headers=auth).status_code == 404  # outside mia's scope
        assert c.get("/v1/stores").status_code == 401  # no credentials
        assert c.get("/v1/hidden-riga-01-path/xyz?user=mia-manager").status_code == 404  # no such route

        # Anonymous callers and wrong tokens get nothing, not even counts.
        for headers in ({}, {"Authorization": "Bearer not-the-token"}, auth):
            r = c.get("/metrics", headers=headers)
            assert r.status_code == 401, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "footfall_api" not in r.text

        r = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/plain")
        s = parse(r.text)

    def count(method: str, route: str, status: str) -> float | None:
        return sample(s, "footfall_api_requests_total", method=method, route=route, status=status)

    assert count("POST", "/v1/auth/token", "2xx") == 1
    assert count("GET", "/v1/stores/{store_id}", "2xx") == 5
    assert count("GET", "/v1/stores/{store_id}", "4xx") == 1
    assert count("GET", "/v1/stores", "4xx") == 1
    assert count("GET", "unmatched", "4xx") == 1
    assert count("GET", "/metrics", "4xx") == 3  # the refused scrapes; this one is counted once answered
    assert sample(s, "footfall_api_request_seconds_count", method="GET", route="/v1/stores/{store_id}") == 6
    total_s = sample(s, "footfall_api_request_seconds_sum", method="GET", route="/v1/stores/{store_id}")
    assert total_s is not None
    assert 0 < total_s < 60
    # Counts and durations per template only: no store, user, raw path or query string anywhere.
    for secret in ("riga-01", "tallinn-02", "secret-store-zz", "mia-manager", "hidden"):
        assert secret not in r.text
    assert {k for _, labels in s for k, _ in labels} <= {"method", "route", "status", "le"}


def test_metrics_answer_404_when_no_token_is_configured(settings: Settings, db: DbSettings) -> None:
    s = settings.model_copy(update={"db": db, "api": settings.api.model_copy(update={"metrics_token": None})})
    for base in serve(s):
        r = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert r.status_code == 404
        assert "FOOTFALL_API__METRICS_TOKEN" in r.json()["detail"]
        assert "footfall_api" not in r.text


def test_a_short_metrics_token_is_refused_naming_the_fix() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(api={"metrics_token": "short"})


def test_any_of_two_workers_answers_for_both(db: DbSettings) -> None:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "FOOTFALL_DB__URL": db.url,
            "FOOTFALL_API__METRICS_TOKEN": TOKEN,
            "FOOTFALL_ENVIRONMENT": "test",
        }
    )
    if db.password is not None:
        env["FOOTFALL_DB__PASSWORD"] = db.password.get_secret_value()
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "footfall.cli",
            "api",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        assert wait_until(up, timeout=60), "the API did not start"
        time.sleep(1.0)  # both workers listening
        n = 20
        for _ in range(n):  # a new connection each, so the kernel spreads them over the workers
            assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        seen = set()
        for _ in range(8):
            r = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            assert r.status_code == 200, r.text
            s = parse(r.text)
            seen.add(sample(s, "footfall_api_requests_total", method="GET", route="/healthz", status="2xx"))
        assert seen == {float(n + 1)}  # the readiness probe above, and the n requests
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        assert proc.returncode is not None, err
