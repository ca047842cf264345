"""Drivers that poll an Axis camera's people-counting application over HTTP.

- `AxisLiveDriver` (`driver: axis_live`): AXIS People Counter, `GET
  {url}/local/tvpc/.api?live-sum.json` every `poll_s`. The answer is cumulative IN/OUT
  at the camera's local time; counts between two polls land at the later poll's time.
  With `daily_reset` (default) a report whose local date differs from the previous
  one's is the first of a new day: its values are that day's counts so far.
- `A3dpcDriver` (`driver: axis_a3dpc`): AXIS P8815-2 3D People Counter, `GET
  {url}/a3dpc/api/export/json?start=…&end=now&resolution=minute` every `poll_s`.
  Interval counts per minute; minutes already stored are dropped (same start), and a
  minute is taken only `settle_s` after it ended.

A malformed answer is refused with its reason (logged, counted in the device's
`errors`), an unreachable or refusing camera marks it `disconnected`; neither stops
the driver. Readings reach the queue through the device's `CounterCore`, exactly like
the other drivers' (see `footfall.edge.drivers.base`).
"""

import logging
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from footfall.core.clock import Clock
from footfall.edge.config import A3dpcCounter, AxisLiveCounter
from footfall.edge.drivers.base import CounterCore, CumulativeReport
from footfall.edge.drivers.vendors import parse_a3dpc_export, parse_axis_live_sum
from footfall.edge.errors import DeviceReportError, OutboxError

logger = logging.getLogger(__name__)

WARN_EVERY_S = 60.0


class _Poller:
    """Polls one camera every `poll_s` of agent time on its own thread."""

    path = ""

    def __init__(self, cfg: AxisLiveCounter | A3dpcCounter, core: CounterCore, clock: Clock) -> None:
        self.cfg = cfg
        self.core = core
        self.clock = clock
        self.tz = ZoneInfo(cfg.timezone)
        self.polls = 0
        self.rejected = 0
        """Answers refused as malformed."""
        secret = cfg.secret()
        auth: httpx.Auth | None = None
        if cfg.username is not None:
            password = secret or ""
            auth = (
                httpx.DigestAuth(cfg.username, password)
                if cfg.auth == "digest"
                else httpx.BasicAuth(cfg.username, password)
            )
        self._http = httpx.Client(base_url=cfg.url, auth=auth, timeout=cfg.timeout_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_warning = -WARN_EVERY_S

    def start(self) -> None:
        """Poll in a background thread."""
        self._thread = threading.Thread(target=self._run, name=f"poll-{self.cfg.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.cfg.timeout_s + 5)
        self._http.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # a bug must not end the loop: the next poll carries on
                logger.exception("%s: poll failed", self.cfg.id, extra={"device_id": self.cfg.id})
            if self.clock.wait(self._stop, self.cfg.poll_s):
                break

    def _warn(self, text: str, *args: object) -> None:
        now = self.clock.monotonic()
        if now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            logger.warning(text, *args, extra={"device_id": self.cfg.id})

    def fetch(self) -> bytes | None:
        """GET this driver's path; None (device marked disconnected) when it cannot be read."""
        url = self.path_now()
        try:
            answer = self._http.get(url)
        except httpx.HTTPError as exc:
            self.core.health.connected = False
            self._warn(
                "%s: cannot reach %s%s: %s; check the address and the camera", self.cfg.id, self.cfg.url, url, exc
            )
            return None
        if answer.status_code in (401, 403):
            self.core.health.connected = False
            self.core.health.errors += 1
            self._warn(
                "%s: the camera refused %s (%d); set username and password_file of a viewer account",
                self.cfg.id,
                url,
                answer.status_code,
            )
            return None
        if answer.status_code != 200:
            self.core.health.connected = False
            self._warn("%s: %s answered %d: %s", self.cfg.id, url, answer.status_code, answer.text[:200])
            return None
        self.core.health.connected = True
        return answer.content

    def refuse(self, exc: DeviceReportError) -> None:
        """Count and log a malformed answer."""
        self.rejected += 1
        self.core.health.errors += 1
        logger.warning("%s: malformed answer ignored: %s", self.cfg.id, exc, extra={"device_id": self.cfg.id})

    def path_now(self) -> str:
        """The request path for this poll."""
        return self.path

    def poll_once(self) -> None:
        """One poll: fetch, parse, feed the core."""
        raise NotImplementedError


class AxisLiveDriver(_Poller):
    """AXIS People Counter live sum (see the module docstring)."""

    path = "/local/tvpc/.api?live-sum.json"

    def __init__(self, cfg: AxisLiveCounter, core: CounterCore, clock: Clock) -> None:
        super().__init__(cfg, core, clock)
        self.daily_reset = cfg.daily_reset
        self._day: date | None = None

    def poll_once(self) -> None:
        body = self.fetch()
        if body is None:
            return
        received = self.clock.now()
        self.polls += 1
        try:
            live = parse_axis_live_sum(body, self.tz)
        except DeviceReportError as exc:
            self.refuse(exc)
            return
        new_day = self.daily_reset and self._day is not None and live.day != self._day
        self.core.observe_clock(device_ts=live.device_ts, received=received)
        report = CumulativeReport(
            device_ts=live.device_ts,
            entries=live.entries,
            exits=live.exits,
            ordered_by_time=True,
            period_reset=new_day,
        )
        try:
            self.core.ingest([report])
        except OutboxError as exc:
            logger.error("%s: could not store a poll: %s", self.cfg.id, exc, extra={"device_id": self.cfg.id})
            return
        self._day = live.day if self._day is None else max(self._day, live.day)


class A3dpcDriver(_Poller):
    """AXIS 3D People Counter per-minute export (see the module docstring)."""

    def __init__(self, cfg: A3dpcCounter, core: CounterCore, clock: Clock) -> None:
        super().__init__(cfg, core, clock)
        self.settle = timedelta(seconds=cfg.settle_s)
        self._first = True
        self._upto: datetime | None = None
        """End of the newest minute handed to the core (older rows are not even offered again)."""

    def path_now(self) -> str:
        # From yesterday on the first poll (the camera's history since the agent last ran)
        # and in the first quarter hour of a day (yesterday's last minutes); today otherwise.
        local = self.clock.now().astimezone(self.tz)
        early = local - local.replace(hour=0, minute=0, second=0, microsecond=0) < timedelta(minutes=15)
        start = "yesterday" if self._first or early else "today"
        return f"/a3dpc/api/export/json?start={start}&end=now&resolution=minute"

    def poll_once(self) -> None:
        body = self.fetch()
        if body is None:
            return
        self.polls += 1
        try:
            rows = parse_a3dpc_export(body, self.tz)
        except DeviceReportError as exc:
            self.refuse(exc)
            return
        horizon = self.clock.now() - self.settle
        done = [iv for iv in rows if iv.end <= horizon and (self._upto is None or iv.start >= self._upto)]
        try:
            self.core.ingest_intervals(done)
        except OutboxError as exc:
            logger.error("%s: could not store a poll: %s", self.cfg.id, exc, extra={"device_id": self.cfg.id})
            return
        self._first = False
        if done:
            self._upto = max(iv.end for iv in done) if self._upto is None else max(self._upto, *(iv.end for iv in done))
