"""Refresh TimescaleDB continuous aggregates for late door counts, off the hot path.

On TimescaleDB the door-count rollups are continuous aggregates with real-time
aggregation: readings newer than the materialisation watermark are read live, and the
refresh policy re-materialises what changed within its window (30 days) every few
minutes. Readings that arrive later than that — an edge box back after a long outage —
would stay invisible in the rollups until something refreshes their buckets. So, after a
commit, ingest notes the interval of every late reading; a background thread coalesces
the intervals into bucket-aligned windows and calls `refresh_continuous_aggregate` for
the 15-minute aggregate and then for the hourly one built on it, on its own autocommit
connection (the procedure cannot run inside a transaction block), at most once every
`min_interval_s`.

On the plain path the rollup tables are kept exact by triggers that see only the rows
really inserted, so there is nothing to refresh and `RollupRefresher` is not started.
"""

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from footfall.core.settings import DbSettings
from footfall.db.connect import connect
from footfall.db.queries import queries
from footfall.db.timescale import DOOR_AGGREGATES, align

__all__ = ["AGGREGATES", "RollupRefresher", "align", "coalesce"]

logger = logging.getLogger(__name__)

AGGREGATES = DOOR_AGGREGATES
"""Continuous aggregates to refresh, in dependency order, with their bucket width."""


def coalesce(windows: list[tuple[datetime, datetime]], *, gap: timedelta, most: int) -> list[tuple[datetime, datetime]]:
    """Merge windows that overlap or lie within `gap` of each other; at most `most` windows.

    Example:
        >>> t = datetime(2026, 1, 1, tzinfo=UTC)
        >>> h = timedelta(hours=1)
        >>> coalesce([(t, t + h), (t + 2 * h, t + 3 * h), (t + 30 * h, t + 31 * h)], gap=h, most=10)[0][1] == t + 3 * h
        True
    """
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(windows):
        if merged and lo <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    if len(merged) > most:
        # Too many scattered windows: one spanning refresh. TimescaleDB only re-materialises
        # the invalidated ranges inside it, so a wide window costs little more.
        merged = [(merged[0][0], max(hi for _, hi in merged))]
    return merged


class RollupRefresher:
    """Collects late intervals and refreshes the continuous aggregates in a background thread.

    Example:
        >>> # r = RollupRefresher(db_settings); r.start()
        >>> # r.note([(start, end)])          # after each commit, cheap
        >>> # r.stop()                        # flushes what is pending
    """

    def __init__(
        self,
        db: DbSettings,
        *,
        min_interval_s: float = 10.0,
        late_after: timedelta = timedelta(minutes=15),
        gap: timedelta = timedelta(hours=1),
        most_windows: int = 20,
        on_refresh: Callable[[str, datetime, datetime], None] | None = None,
    ) -> None:
        self.db = db
        self.min_interval_s = min_interval_s
        self.late_after = late_after
        self.gap = gap
        self.most_windows = most_windows
        self.on_refresh = on_refresh
        self._pending: list[tuple[datetime, datetime]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refreshed = 0

    @property
    def pending(self) -> list[tuple[datetime, datetime]]:
        """A copy of the windows noted but not yet refreshed (kept after a failed refresh)."""
        with self._lock:
            return list(self._pending)

    def cutoff(self) -> datetime:
        """Readings starting before this are late (below the materialisation watermark)."""
        return datetime.now(UTC) - self.late_after

    def note(self, intervals: list[tuple[datetime, datetime]]) -> None:
        """Record committed late intervals (the caller filters by `cutoff()`)."""
        if not intervals:
            return
        with self._lock:
            self._pending.extend(intervals)
            if len(self._pending) > 10 * self.most_windows:
                self._pending = coalesce(self._pending, gap=self.gap, most=self.most_windows)
        self._wake.set()

    def start(self) -> None:
        """Start the background thread (its first round catches up, see `catch_up`)."""
        self._thread = threading.Thread(target=self._loop, name="ingest-refresh", daemon=True)
        self._thread.start()

    def catch_up(self, horizon: timedelta = timedelta(days=3 * 366)) -> int:
        """Note every window the aggregates hold stale now, within `horizon` of now.

        A worker killed between a commit and its refresh loses the windows it had noted;
        the invalidations stay in TimescaleDB's logs (the KPI layer reads those buckets
        raw meanwhile, so answers are right) and, older than the policy's 30 days, would
        stay there. The next worker to start picks them up here.

        Returns:
            The number of windows noted.
        """
        with connect(self.db, autocommit=True) as conn:
            windows = self._stale(conn, horizon)
        if windows:
            logger.info("catching up: %d window(s) of the door rollups wait for a refresh", len(windows))
            self.note(windows)
        return len(windows)

    def stop(self, timeout: float = 30.0) -> None:
        """Flush what is pending (best effort) and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def flush(self) -> int:
        """Refresh every pending window now, on a new autocommit connection.

        Then, in the same round, whatever the aggregates still hold stale: a refresh moves
        the watermark to its window's end, over buckets real-time aggregation used to read
        raw and nobody materialised (rows written while the watermark was lower); those
        are refreshed too, so the aggregates do not keep holes the KPI layer must read raw.

        Returns:
            The number of refresh calls made.

        Raises:
            psycopg.Error, DatabaseUnavailable: the refresh failed; the windows stay pending.
        """
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return 0
        calls = 0
        try:
            with connect(self.db, autocommit=True) as conn:
                calls += self._refresh(conn, pending)
                left = self._stale(conn)
                if left:
                    calls += self._refresh(conn, left)
        except Exception:
            with self._lock:
                self._pending.extend(pending)
            raise
        self.refreshed += calls
        return calls

    def _refresh(self, conn: Any, windows: list[tuple[datetime, datetime]]) -> int:
        calls = 0
        for name, width in AGGREGATES:
            aligned = [align(lo, hi, width) for lo, hi in windows]
            for lo, hi in coalesce(aligned, gap=self.gap, most=self.most_windows):
                conn.execute(queries("ingest")["refresh_aggregate"], (name, lo, hi))
                calls += 1
                if self.on_refresh is not None:
                    self.on_refresh(name, lo, hi)
                logger.info("refreshed %s for late data in [%s, %s)", name, lo.isoformat(), hi.isoformat())
        return calls

    def _stale(self, conn: Any, horizon: timedelta = timedelta(days=3 * 366)) -> list[tuple[datetime, datetime]]:
        now = datetime.now(UTC)
        rows = conn.execute(queries("ingest")["stale_windows"], (now - horizon, now)).fetchall()
        return [(r["lo"], r["hi"]) for r in rows]

    def _loop(self) -> None:
        try:
            self.catch_up()
        except Exception as exc:  # e.g. a database migrated before 0016; late data still gets refreshed
            logger.warning("could not look for windows left pending by an earlier worker: %s", exc)
        backoff = self.min_interval_s
        while True:
            self._wake.wait()
            stopping = self._stop.is_set()
            self._wake.clear()
            try:
                self.flush()
                backoff = self.min_interval_s
            except Exception as exc:  # keep refreshing whatever failed; the windows stay pending
                logger.warning("continuous-aggregate refresh failed, will retry: %s", exc)
                backoff = min(backoff * 2, 300.0)
                self._wake.set()
            if stopping:
                return
            # Rate limit: late data arriving in a stream is refreshed in coalesced rounds.
            if self._stop.wait(backoff):
                self._wake.set()
