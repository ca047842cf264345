"""Fixtures for the API tests: stores, door counts and receipts written the way ingest and
the POS write them, and an app bound to the test's own database."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from footfall.api.access import Role
from footfall.api.app import create_app
from footfall.api.receipts import Receipt, save_receipts
from footfall.api.users import create_api_key, create_user
from footfall.core.settings import DbSettings, Settings
from footfall.db.connect import connect, open_pool


@pytest.fixture
def aconn(db: DbSettings) -> Iterator[psycopg.Connection]:
    """An autocommit connection to this test's database (as the API uses)."""
    with connect(db, autocommit=True) as c:
        yield c


def add_store(
    conn: psycopg.Connection,
    store_id: str,
    tz: str = "Europe/Riga",
    *,
    area: float | None = 100.0,
    currency: str = "EUR",
    opening_hours: dict[str, list[str] | None] | None = None,
    doors: tuple[tuple[str, str, bool], ...] = (("main", "customer", False), ("staff", "staff", False)),
) -> None:
    """A store with doors: (door id, kind, outward counter)."""
    import json

    conn.execute(
        "INSERT INTO stores (store_id, name, timezone, sales_area_m2, currency, opening_hours) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (store_id, f"Store {store_id}", tz, area, currency, json.dumps(opening_hours or {})),
    )
    for door_id, kind, outward in doors:
        conn.execute(
            "INSERT INTO doors (store_id, door_id, kind, outward_counter) VALUES (%s, %s, %s, %s)",
            (store_id, door_id, kind, outward),
        )


def add_door_minutes(
    conn: psycopg.Connection,
    store_id: str,
    start: datetime,
    minutes: int,
    *,
    door: str = "main",
    entries: int | Callable[[int], int] = 1,
    exits: int = 0,
    passersby: int | None = None,
    valid: bool = True,
    device: str | None = None,
) -> None:
    """Per-minute door counts, COPYed the way ingest writes them (one statement: one trigger run)."""
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY door_counts (store_id, device_id, door_id, start_ts, end_ts, entries, exits, passersby, valid, seq) "
            "FROM STDIN"
        ) as copy,
    ):
        for i in range(minutes):
            t = start + timedelta(minutes=i)
            n = entries(i) if callable(entries) else entries
            copy.write_row(
                (
                    store_id,
                    device or f"{store_id}-{door}",
                    door,
                    t,
                    t + timedelta(minutes=1),
                    n,
                    exits,
                    passersby,
                    valid,
                    int(t.timestamp()),
                )
            )


def receipt(
    store_id: str,
    receipt_id: str,
    ts: datetime,
    total: str | Decimal = "10.00",
    *,
    items: str | None = "1",
    refund: bool = False,
    voided: bool = False,
    loyalty: bool = False,
    lines: list[dict[str, Any]] | None = None,
) -> Receipt:
    return Receipt(
        receipt_id=receipt_id,
        store_id=store_id,
        ts=ts,
        total=Decimal(total) if total is not None else None,
        items=Decimal(items) if items is not None else None,
        refund=refund,
        voided=voided,
        loyalty=loyalty,
        lines=lines or [],
    )


def add_receipts(conn: psycopg.Connection, *receipts: Receipt) -> None:
    save_receipts(conn, list(receipts), source="test")


@dataclass
class Api:
    """The app on this test's database, and ways to log in as someone."""

    client: TestClient
    conn: psycopg.Connection
    settings: Settings
    users: dict[str, int] = field(default_factory=dict)

    def user(self, username: str, role: Role, stores: list[str] | None = None, *, all_stores: bool = False) -> int:
        u = create_user(
            self.conn,
            username=username,
            password="correct horse",
            role=role,
            stores=stores or [],
            all_stores=all_stores,
        )
        self.users[username] = u.user_id
        return u.user_id

    def login(self, username: str, password: str = "correct horse") -> dict[str, str]:
        r = self.client.post("/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def as_role(self, role: Role, stores: list[str] | None = None, *, name: str | None = None) -> dict[str, str]:
        name = name or f"{role.value}-{'-'.join(stores or ['all'])}"
        self.user(name, role, stores, all_stores=role is Role.ADMIN)
        return self.login(name)

    def api_key(self, username: str) -> str:
        _, plaintext = create_api_key(self.conn, user_id=self.users[username], name="test")
        return plaintext


@pytest.fixture
def pool(db: DbSettings) -> Iterator[ConnectionPool]:
    p = open_pool(db.model_copy(update={"pool_min": 1, "pool_max": 4}), name="test-api")
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def api(settings: Settings, db: DbSettings, pool: ConnectionPool, aconn: psycopg.Connection) -> Iterator[Api]:
    s = settings.model_copy(update={"db": db})
    app = create_app(s, pool=pool)
    with TestClient(app) as client:
        yield Api(client=client, conn=aconn, settings=s)
