"""A simulated 3D/stereo sensor that pushes interval counts to the agent over HTTP.

The push format is in `footfall.edge.drivers.http`. Like the firmware, it counts in
fixed intervals of its own clock (`interval_s`), pushes every completed interval a
moment after it ends, keeps what the agent did not accept and re-sends it with the next
push. Its door line counts entries (forward) and exits (backward); an optional street
line counts people walking past. Faults from its `FaultPlan`: reboots (a push is
missed, the boot number goes up, stored intervals survive), dropped connections (a
push fails), duplicate sends (the last accepted push is sent again) and a blocked
sensor (nothing counted, intervals say `blocked`).
"""

import json
import logging
import math
import threading
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx

from footfall.core.clock import Clock
from footfall.firmware_stubs.firmware import CounterFirmware, FaultPlan, Timeline
from footfall.firmware_stubs.traffic import Crossing, Direction, TrafficScript

logger = logging.getLogger(__name__)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


class StereoSensorStub:
    """One simulated HTTP-push stereo sensor (see the module docstring)."""

    content_type = "application/json"

    def __init__(
        self,
        *,
        device_id: str,
        door: str,
        script: TrafficScript,
        plan: FaultPlan,
        clock: Clock,
        start: datetime,
        until: datetime,
        url: str,
        token: str | None = None,
        door_line: str = "entrance",
        street_line: str | None = None,
        interval_s: int = 60,
        push_delay_s: float = 1.0,
        retry_s: float = 5.0,
    ) -> None:
        self.device_id = device_id
        self.door = door
        self.clock = clock
        self.url = url
        self.token = token
        self.door_line = door_line
        self.street_line = street_line
        self.interval_ms = interval_s * 1000
        self.fw = CounterFirmware(plan=plan, start=start)
        self._bins: dict[tuple[str, int], list[int]] = {}  # (line, start ms) → [forward, backward, blocked]
        self._next_bin = self._bin_of(self.fw.device_ms(start))
        """First interval (device ms) the agent has not accepted yet."""
        self._last_push: dict | None = None
        self._fail_next = 0
        self._lock = threading.Lock()
        self.pushes = 0
        self.failures = 0
        self._http = httpx.Client(timeout=max(0.5, clock.real_seconds(10)))
        self.timeline = Timeline(clock, name=f"stereo-{device_id}")
        for c in script.for_doors([door]).crossings:
            if c.direction is Direction.PAST and street_line is None:
                continue
            self.timeline.at(c.at, partial(self._crossing, c))
        # A push a moment after each interval ends on the sensor's clock, and retries in between.
        t = start
        while t < until:
            self.timeline.at(t, self._push)
            t += timedelta(seconds=min(retry_s, interval_s))
        boundary = self._bin_of(self.fw.device_ms(start)) + self.interval_ms
        while True:
            true = self._true_time(boundary + push_delay_s * 1000)
            if true >= until:
                break
            self.timeline.at(true, self._push)
            boundary += self.interval_ms
        self.timeline.faults(plan, start, reboot=self._reboot, drop=self._drop, duplicate=self._duplicate)

    def _bin_of(self, ms: int) -> int:
        return math.floor(ms / self.interval_ms) * self.interval_ms

    def _true_time(self, device_ms: float) -> datetime:
        guess = datetime.fromtimestamp(device_ms / 1000, UTC)
        for _ in range(3):  # the device clock is monotonic: a few fixed-point steps suffice
            guess -= timedelta(milliseconds=self.fw.device_ms(guess) - device_ms)
        return guess

    def start(self) -> None:
        """Start counting and pushing."""
        self.timeline.start()

    def stop(self) -> None:
        """Stop."""
        self.timeline.stop()
        self._http.close()

    @property
    def pending(self) -> int:
        """Completed intervals the agent has not accepted yet."""
        now = self._bin_of(self.fw.device_ms(self.clock.now()))
        return max(0, (now - self._next_bin) // self.interval_ms)

    def _crossing(self, c: Crossing, _at: datetime | None = None) -> None:
        ms = self.fw.device_ms(c.at)
        counted = self.fw.register(c)
        with self._lock:
            if c.direction is Direction.PAST:
                row = self._bins.setdefault((self.street_line or "", self._bin_of(ms)), [0, 0, 0])
                if counted:
                    row[0 if int(ms) % 2 else 1] += 1  # walking either way along the street
            else:
                row = self._bins.setdefault((self.door_line, self._bin_of(ms)), [0, 0, 0])
                if counted:
                    row[0 if c.direction is Direction.IN else 1] += 1
            if not counted:
                row[2] = 1

    def _body(self, now: datetime) -> dict | None:
        now_ms = self.fw.device_ms(now)
        end = self._bin_of(now_ms)
        if end <= self._next_bin:
            return None
        lines = [self.door_line] + ([self.street_line] if self.street_line else [])
        out = []
        for line in lines:
            intervals: list[dict[str, object]] = []
            b = self._next_bin
            while b < end and len(intervals) < 1440:
                fwd, bwd, blocked = self._bins.get((line, b), [0, 0, 0])
                if not blocked and self.fw.blocked(self._true_time(b + self.interval_ms / 2)):
                    blocked = 1
                intervals.append(
                    {
                        "from": _iso(b),
                        "to": _iso(b + self.interval_ms),
                        "forward": fwd,
                        "backward": bwd,
                        "status": "blocked" if blocked else "ok",
                    }
                )
                b += self.interval_ms
            out.append({"id": line, "intervals": intervals})
        upto = self._next_bin + self.interval_ms * len(out[0]["intervals"])
        return {
            "sensor": {"serial": f"XS-{self.device_id}", "fw": "5.2.1", "boot": self.fw.boot, "time": _iso(now_ms)},
            "lines": out,
            "_upto": upto,
        }

    def _post(self, body: dict) -> bool:
        headers = {"Content-Type": self.content_type}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            answer = self._http.post(self.url, content=self.wire(body), headers=headers)
        except httpx.HTTPError as exc:
            logger.debug("%s: push failed: %s", self.device_id, exc)
            return False
        if answer.status_code != 200:
            logger.warning("%s: push refused (%d): %s", self.device_id, answer.status_code, answer.text[:200])
            return False
        return True

    def wire(self, body: dict) -> bytes:
        """The bytes of one push (a vendor format overrides this)."""
        return json.dumps({k: v for k, v in body.items() if not k.startswith("_")}).encode()

    def _push(self, at: datetime) -> None:
        with self._lock:
            body = self._body(self.clock.now())
        if body is None:
            return
        if self._fail_next:
            self._fail_next -= 1
            self.failures += 1
            return
        self.pushes += 1
        if self._post(body):
            with self._lock:
                self._next_bin = max(self._next_bin, body["_upto"])
                self._last_push = body
        else:
            self.failures += 1

    def _reboot(self, at: datetime) -> None:
        self.fw.reboot(at)
        self._fail_next = 1

    def _drop(self) -> None:
        self._fail_next = 1

    def _duplicate(self) -> None:
        if self._last_push is not None:
            self._post(self._last_push)
