from collections.abc import Callable
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from footfall.api import problems
from footfall.api.kpis import KpiError, UnanswerableQuery, UnknownStore, check_period
from footfall.api.kpis.errors import KpiError as KpiErrorFromModule


class TooFewStores(UnanswerableQuery):
    """A subclass the mapping does not list: it inherits its parent's status."""


def reversed_period() -> None:
    check_period(date(2026, 6, 2), date(2026, 6, 1))


def too_long_period() -> None:
    check_period(date(2020, 1, 1), date(2026, 1, 1))


def unknown_store() -> None:
    raise UnknownStore("store 'nowhere' not found")


def subclass() -> None:
    raise TooFewStores("a ranking needs two stores")


def bare() -> None:
    raise KpiError("something the mapping has no status for")


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    problems.install(app)
    raisers: dict[str, Callable[[], None]] = {
        "reversed": reversed_period,
        "too-long": too_long_period,
        "unknown-store": unknown_store,
        "subclass": subclass,
        "bare": bare,
    }

    @app.get("/raise/{case}")
    def _raise(case: str) -> None:
        raisers[case]()

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("case", "status", "slug", "title", "detail"),
    [
        ("reversed", 400, "bad-request", "Bad request", "swap `first` and `last`"),  # the KPI layer's own check
        ("too-long", 400, "bad-request", "Bad request", "ask for at most"),  # period longer than MAX_DAYS
        ("unknown-store", 404, "not-found", "Not found", "store 'nowhere' not found"),
        ("subclass", 400, "bad-request", "Bad request", "a ranking needs two stores"),  # inherits the parent's 400
        ("bare", 500, "internal", "Internal error", "something the mapping has no status for"),  # unlisted: 500
    ],
)
def test_kpi_errors_become_problem_documents(
    client: TestClient, case: str, status: int, slug: str, title: str, detail: str
) -> None:
    r = client.get(f"/raise/{case}")
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (body["type"], body["title"], body["status"]) == (problems.PROBLEM_BASE + slug, title, status)
    assert detail in body["detail"]
    assert body["instance"] == f"/raise/{case}"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UnanswerableQuery("x"), 400),
        (UnknownStore("x"), 404),
        (TooFewStores("x"), 400),  # most specific listed ancestor
        (KpiError("x"), 500),  # the base alone has no status
    ],
)
def test_kpi_status_table(error: KpiError, status: int) -> None:
    assert problems.kpi_status(error)[0] == status


def test_every_kpi_error_class_is_mapped_or_is_the_base() -> None:
    # A new error class in footfall.api.kpis.errors (or the merchandising errors that extend them)
    # must get a status here, not fall through to 500; only the bases have none.
    from footfall.api.merch.errors import MerchError

    assert KpiError is KpiErrorFromModule
    pending = list(KpiError.__subclasses__())
    seen = set()
    while pending:
        cls = pending.pop()
        seen.add(cls)
        pending += cls.__subclasses__()
    leaves = seen - {MerchError}
    assert {cls for cls in leaves if problems.kpi_status(cls("x"))[0] == 500} == set()
    assert set(problems.KPI_STATUS) <= seen
