"""Property-based API testing from the OpenAPI document: schemathesis drives the app served by
uvicorn on a real socket, against a real database, and finds no server error (5xx) and no
response that breaks the schema (status codes, content types, bodies, headers)."""

import threading
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.api.security import issue_token
from footfall.api.users import create_user
from footfall.core.settings import DbSettings, Settings
from footfall.db.connect import connect, open_pool
from footfall.devtools.services import free_port
from tests.integration.api.conftest import add_door_minutes, add_receipts, add_store, receipt
from tests.integration.conftest import PgServer, clone_template

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 8}


class Served:
    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base = base
        self.headers = headers


@pytest.fixture(scope="module")
def served(settings: Settings, pg_server: PgServer, pg_template: str) -> Iterator[Served]:
    """The app on a free port, with a database holding a store, a day of data and an admin."""
    import secrets

    from psycopg import sql

    name = f"footfall_st_{secrets.token_hex(4)}"
    clone_template(pg_server.db, pg_template, name)
    db: DbSettings = pg_server.settings_for(name).model_copy(update={"pool_max": 4})
    with connect(db, autocommit=True) as conn:
        add_store(conn, "riga-01", opening_hours={"mon": ["09:00", "21:00"]})
        day = date(2026, 6, 1)
        start = datetime(2026, 6, 1, 9, tzinfo=ZoneInfo("Europe/Riga"))
        add_door_minutes(conn, "riga-01", start, 600, entries=2, exits=1)
        add_receipts(conn, *(receipt("riga-01", f"r{i}", start + timedelta(minutes=7 * i)) for i in range(60)))
        conn.execute("INSERT INTO plans (store_id, month, revenue_target) VALUES ('riga-01', %s, 5000)", (day,))
        user = create_user(conn, username="admin", password="correct horse", role=Role.ADMIN)
    s = settings.model_copy(update={"db": db, "environment": "test"})
    pool = open_pool(db)
    app = create_app(s, pool=pool)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    token = issue_token(user_id=user.user_id, secret=s.api.secret_key.get_secret_value(), minutes=60)
    try:
        yield Served(f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"})
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        pool.close()
        with connect(pg_server.db, dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _runner(op, mode: GenerationMode, served: Served):
    """A hypothesis test of one operation in one generation mode."""
    positive = mode is GenerationMode.POSITIVE

    @given(case=op.as_strategy(generation_mode=mode), real_store=st.booleans())
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case, real_store: bool) -> None:
        # Half the cases ask about the store that has data, so the KPI queries really run.
        if real_store and positive and "store_id" in (case.path_parameters or {}):
            case.path_parameters["store_id"] = "riga-01"
        case.call_and_validate(headers=served.headers, checks=CHECKS, timeout=30)

    return run


def test_api_conforms_to_its_openapi_document(served: Served) -> None:
    """Every operation, positive and negative examples, bounded so the run stays well under 90 s."""
    api = schemathesis.openapi.from_url(f"{served.base}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        op = result.ok()
        operations += 1
        if op.path == "/v1/alerts/stream":
            continue  # an endless text/event-stream; tests/integration/alerts/test_api.py reads it
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _runner(op, mode, served)()
            except Unsatisfiable:
                # No negative case exists for an operation without parameters or body.
                assert mode is GenerationMode.NEGATIVE, f"{op.method.upper()} {op.path}: no positive case"
            except Exception as exc:  # a check failed: note it, go on with the other operations
                failures.append(f"{op.method.upper()} {op.path} ({mode.value}): {exc}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
