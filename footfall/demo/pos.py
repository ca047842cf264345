"""A simulated point of sale: a store's tills posting receipts to `POST /v1/receipts`.

Receipts follow the store's day (a midday and an after-work peak, busier weekends), carry
lines from a small catalogue with categories (so zone revenue works) that sells unevenly
(best sellers, a long tail and a few planted slow movers), loyalty cards,
refunds, and voids (a receipt sent again later with `voided: true`, as real POS systems
do). Batches are posted every few seconds; a failed post is retried with backoff and the
batch kept, and since receipts are idempotent by id a resend never double-counts.

Example:
    >>> sim = PosSimulator(store_id="riga-01", seed=1)
    >>> batch = sim.receipts_between(datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 1, 10, tzinfo=UTC))
    >>> all(r["store_id"] == "riga-01" for r in batch)
    True
"""

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console

from footfall.core.storeconfig import is_open

logger = logging.getLogger(__name__)

# (sku, name, category, unit price, weight): sales are uneven on purpose — a few best
# sellers, a long tail, and planted slow movers (weight ≤ 0.05: a unit every few days) that
# the slow-mover ranking should put at the bottom.
CATALOGUE = [
    ("BR-RYE", "Rye loaf", "bread", "3.20", 6.0),
    ("BR-BAG", "Baguette", "bread", "2.10", 9.0),
    ("BR-SPE", "Spelt sourdough", "bread", "4.60", 1.2),
    ("PA-CRO", "Croissant", "pastry", "1.80", 12.0),
    ("PA-CIN", "Cinnamon bun", "pastry", "2.40", 7.0),
    ("PA-PIS", "Pistachio éclair", "pastry", "3.80", 0.8),
    ("CA-HON", "Honey cake slice", "cake", "3.60", 3.0),
    ("CA-FRU", "Whole fruit cake", "cake", "24.00", 0.03),
    ("CO-LAT", "Latte", "coffee", "3.90", 14.0),
    ("CO-ESP", "Espresso", "coffee", "2.20", 8.0),
    ("CO-BEA", "Coffee beans 1 kg", "coffee", "19.50", 0.05),
    ("TE-BLK", "Black tea", "tea", "2.00", 3.0),
    ("TE-MAT", "Matcha tin", "tea", "16.00", 0.02),
    ("HD-CHO", "Hot chocolate", "hot drinks", "3.40", 2.5),
    ("GR-JAM", "Lingonberry jam", "grocery", "5.50", 1.0),
    ("GR-MUS", "Birch syrup gift box", "grocery", "21.00", 0.02),
]
SLOW_MOVERS = frozenset(sku for sku, *_, w in CATALOGUE if w <= 0.05)
"""The planted slow movers."""
_WEIGHTS = [w for *_, w in CATALOGUE]
HOUR_SHAPE = {7: 0.2, 8: 0.6, 9: 0.8, 10: 0.9, 11: 1.1, 12: 1.5, 13: 1.4, 14: 1.0, 15: 0.9, 16: 1.0, 17: 1.4,
              18: 1.5, 19: 1.1, 20: 0.7, 21: 0.4}  # fmt: skip
WEEKDAY_SHAPE = [0.9, 0.85, 0.9, 1.0, 1.15, 1.4, 0.8]


@dataclass
class PosSimulator:
    """Receipts of one store, generated for any stretch of time (deterministic per seed)."""

    store_id: str
    timezone: str = "Europe/Riga"
    receipts_per_hour: float = 40.0
    registers: int = 3
    seed: int = 1
    loyalty_share: float = 0.3
    refund_share: float = 0.01
    void_share: float = 0.005
    opening_hours: dict[str, tuple[time, time] | None] = field(default_factory=dict)
    """The store's hours (`footfall.core.storeconfig`): no sale outside them; none configured is always open."""
    _voids: list[tuple[datetime, dict]] = field(default_factory=list, repr=False)

    def rate(self, t: datetime) -> float:
        """Expected receipts per minute at an instant (zero while the store is closed)."""
        local = t.astimezone(ZoneInfo(self.timezone))
        if not is_open(self.opening_hours, local):
            return 0.0
        shape = HOUR_SHAPE.get(local.hour, 0.0)
        return self.receipts_per_hour / 60 * shape * WEEKDAY_SHAPE[local.weekday()]

    def _receipt(self, rng: random.Random, ts: datetime, n: int) -> dict:
        lines = []
        for _ in range(1 + min(5, int(rng.expovariate(0.8)))):
            sku, name, category, price, _ = rng.choices(CATALOGUE, weights=_WEIGHTS)[0]
            lines.append(
                {
                    "sku": sku,
                    "description": name,
                    "category": category,
                    "quantity": rng.choice((1, 1, 1, 2)),
                    "unit_price": price,
                }
            )
        refund = rng.random() < self.refund_share
        if refund:
            lines = [{**lines[0], "quantity": 1, "is_return": True}]
        stamp = ts.strftime("%Y%m%d%H%M%S")
        return {
            "receipt_id": f"{self.store_id}-{stamp}-{n}",
            "store_id": self.store_id,
            "ts": ts.isoformat(),
            "register_id": str(1 + n % self.registers),
            "refund": refund,
            "loyalty": rng.random() < self.loyalty_share,
            "lines": lines,
        }

    def receipts_between(self, start: datetime, end: datetime) -> list[dict]:
        """Receipts closed in `[start, end)`, plus voids of earlier ones that fall due.

        The same minute always yields the same receipts (seeded by store and minute), so
        backfilling and replaying are idempotent end to end.
        """
        out: list[dict] = []
        t = start.replace(second=0, microsecond=0)
        while t < end:
            rng = random.Random(f"{self.seed}/{self.store_id}/{int(t.timestamp())}")
            lam = self.rate(t)
            n = 0
            # Poisson arrivals within the minute.
            at = rng.expovariate(lam) * 60 if lam > 0 else 61
            while at < 60:
                ts = t + timedelta(seconds=at)
                if start <= ts < end:
                    r = self._receipt(rng, ts.replace(microsecond=0), n)
                    out.append(r)
                    if rng.random() < self.void_share:
                        self._voids.append((ts + timedelta(minutes=rng.uniform(1, 10)), {**r, "voided": True}))
                n += 1
                at += rng.expovariate(lam) * 60
            t += timedelta(minutes=1)
        due = [v for when, v in self._voids if when < end]
        self._voids = [(when, v) for when, v in self._voids if when >= end]
        return out + due


@dataclass
class PosStats:
    """What the simulator has done."""

    posted: int = 0
    created: int = 0
    failures: int = 0
    last_error: str | None = None


class PosClient:
    """Posts batches to the API, keeping what failed to try again."""

    def __init__(self, *, url: str, api_key: str, timeout: float = 10.0, max_batch: int = 1000) -> None:
        self.http = httpx.Client(base_url=url, headers={"X-API-Key": api_key}, timeout=timeout)
        self.max_batch = max_batch
        self.pending: list[dict] = []
        self.stats = PosStats()

    def send(self, receipts: list[dict]) -> bool:
        """Queue receipts and try to post everything pending; False when the API did not take it."""
        self.pending.extend(receipts)
        while self.pending:
            batch = self.pending[: self.max_batch]
            try:
                r = self.http.post("/v1/receipts", json={"receipts": batch})
            except httpx.HTTPError as exc:
                self._failed(f"cannot reach the API: {exc}")
                return False
            if r.status_code >= 500 or r.status_code in (401, 403, 404, 429):
                self._failed(f"API answered {r.status_code}: {r.text[:200]}")
                return False
            if r.status_code >= 400:
                # A batch the API refuses as invalid would be refused forever: log it and move on.
                logger.error("POS batch refused (%s): %s", r.status_code, r.text[:500])
            else:
                self.stats.created += r.json().get("created", 0)
            self.stats.posted += len(batch)
            del self.pending[: len(batch)]
        return True

    def _failed(self, message: str) -> None:
        self.stats.failures += 1
        self.stats.last_error = message
        logger.warning("POS: %s; %d receipts kept to resend", message, len(self.pending))

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def run_pos(
    sim: PosSimulator,
    client: PosClient,
    *,
    stop: threading.Event,
    backfill_from: datetime | None = None,
    flush_s: float = 5.0,
    until: datetime | None = None,
) -> PosStats:
    """Post receipts as (simulated) time passes until `stop` is set or `until` is reached.

    Args:
        sim: the receipt generator.
        client: where to post.
        stop: set it to stop.
        backfill_from: first post everything from this instant up to now (a till catching up).
        flush_s: seconds between posts.
        until: stop at this instant (receipts are never from the future).
    """
    cursor = backfill_from or datetime.now(UTC)
    backoff = flush_s
    while not stop.is_set():
        sim_now = datetime.now(UTC)
        if until is not None:
            sim_now = min(sim_now, until)
        if sim_now > cursor:
            ok = client.send(sim.receipts_between(cursor, sim_now))
            cursor = sim_now
            backoff = flush_s if ok else min(backoff * 2, 30.0)
        elif client.pending:
            ok = client.send([])
            backoff = flush_s if ok else min(backoff * 2, 30.0)
        if until is not None and cursor >= until and not client.pending:
            break
        stop.wait(backoff)
    return client.stats


def run_pos_simulator(
    *, url: str, api_key: str, store_id: str, minutes: float, backfill_hours: float, seed: int, console: Console
) -> None:
    """`footfall pos simulate`: post a store's receipts until stopped (or for `minutes`)."""
    client = PosClient(url=url, api_key=api_key)
    r = client.http.get(f"/v1/stores/{store_id}")
    if r.status_code != 200:
        console.print(f"[bold red]error:[/] store {store_id} is not reachable with this key ({r.status_code})")
        raise SystemExit(1)
    store = r.json()
    hours = {
        day: None if h is None else (time.fromisoformat(h[0]), time.fromisoformat(h[1]))
        for day, h in (store.get("opening_hours") or {}).items()
    }
    sim = PosSimulator(store_id=store_id, timezone=store["timezone"], opening_hours=hours, seed=seed)
    stop = threading.Event()
    if minutes:
        threading.Timer(minutes * 60, stop.set).start()
    console.print(f"POS for {store_id} posting to {url} (Ctrl-C to stop)")
    try:
        since = datetime.now(UTC) - timedelta(hours=backfill_hours) if backfill_hours else None
        stats = run_pos(sim, client, stop=stop, backfill_from=since)
    except KeyboardInterrupt:
        stop.set()
        stats = client.stats
    finally:
        client.close()
    console.print(f"posted {stats.posted} receipts ({stats.created} new), {stats.failures} failed attempts")
