"""Simulated commercial counters, speaking their vendors' own formats to the edge agent.

- `XovisPushStub`: a Xovis PC-series sensor with a "Line count data" push agent (HTTP,
  JSON, 1-minute granularity): a `StereoSensorStub` whose pushes are in Xovis's format,
  times in the sensor's own time zone with their UTC offset.
- `XovisXmlPushStub`: a Xovis sensor pushing its cumulative `count-data` XML every
  `push_s` (forward/backward totals per line since its last reset; a reboot restarts them).
- `AxisLiveStub`: an Axis camera running AXIS People Counter; answers
  `GET /local/tvpc/.api?live-sum.json` with its cumulative IN/OUT and its local time
  (`YYYYMMDDhhmmss`, no offset); the counts restart at the camera's local midnight.
- `A3dpcStub`: an AXIS P8815-2 3D People Counter; answers
  `GET /a3dpc/api/export/json?start=…&end=…&resolution=minute` with per-minute rows in
  local time, including the minute still being counted.

The formats are written from the vendors' public documentation (see
`footfall.edge.drivers.vendors` and docs/edge.md), never from the agent's parsers: this
package does not import the agent. `FaultPlan.garbled_at` makes a stub send one malformed
payload (the agent must refuse it and lose nothing); `drops_at` makes a server answer
503 once or a pusher miss one push.
"""

import json
import logging
import math
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import SplitResult, parse_qs, urlsplit
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

import httpx

from footfall.core.clock import Clock
from footfall.firmware_stubs.firmware import CounterFirmware, FaultPlan, Timeline
from footfall.firmware_stubs.stereo import StereoSensorStub
from footfall.firmware_stubs.traffic import Crossing, Direction, GroundTruth, TrafficScript

logger = logging.getLogger(__name__)


class XovisPushStub(StereoSensorStub):
    """A Xovis sensor pushing line count data (JSON) every minute; `tz` is its configured zone."""

    def __init__(self, *, tz: str = "Europe/Zurich", **kwargs: object) -> None:
        self.tz = ZoneInfo(tz)
        self._garble = 0
        super().__init__(**kwargs)  # type: ignore[arg-type]
        for s in self.fw.plan.garbled_at:
            self.timeline.at(self.fw.start + timedelta(seconds=s), self._garble_next)

    def _garble_next(self, _at: datetime) -> None:
        self._garble += 1

    def _local(self, iso: str) -> str:
        return datetime.fromisoformat(iso).astimezone(self.tz).isoformat()

    def wire(self, body: dict) -> bytes:
        elements = []
        for i, line in enumerate(body["lines"]):
            ms = line["intervals"]
            elements.append(
                {
                    "element-id": i,
                    "element-name": line["id"],
                    "sensor-type": "SINGLE_SENSOR",
                    "data-type": "LINE",
                    "from": self._local(ms[0]["from"]) if ms else None,
                    "to": self._local(ms[-1]["to"]) if ms else None,
                    "resolution": "ONE_MINUTE",
                    "measurement": [
                        {
                            "from": self._local(m["from"]),
                            "to": self._local(m["to"]),
                            "value": [{"value": m["forward"], "label": "fw"}, {"value": m["backward"], "label": "bw"}],
                        }
                        for m in ms
                    ],
                }
            )
        doc = {
            "sensor-time": {"timezone": str(self.tz), "time": self._local(body["sensor"]["time"])},
            "status": {"code": "OK"},
            "content": {"element": elements},
            "sensor-info": {
                "serial-number": "80:1F:12:73:2F:A4",
                "ip-address": "192.168.1.115",
                "name": self.device_id,
                "group": "",
                "device-type": "PC2S",
            },
        }
        if self._garble:
            self._garble -= 1
            doc["content"]["element"][0]["measurement"][0]["value"] = [{"value": -1, "label": "fw"}]  # type: ignore[index]
        return json.dumps(doc).encode()


class XovisXmlPushStub:
    """A Xovis sensor pushing cumulative count-data XML every `push_s` of its clock."""

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
        door_line: str = "Line 0",
        tz: str = "Europe/Zurich",
        push_s: float = 1.0,
    ) -> None:
        self.device_id = device_id
        self.clock = clock
        self.url = url
        self.token = token
        self.door_line = door_line
        self.tz = ZoneInfo(tz)
        self.fw = CounterFirmware(plan=plan, start=start)
        self.pushes = 0
        self.failures = 0
        self._skip = 0
        self._garble = 0
        self._http = httpx.Client(timeout=max(0.5, clock.real_seconds(10)))
        self.timeline = Timeline(clock, name=f"xovis-xml-{device_id}")
        for c in script.for_doors([door]).crossings:
            if c.direction is not Direction.PAST:
                self.timeline.at(c.at, partial(self._crossing, c))
        self.timeline.every(start, push_s, until, self._push)
        self.timeline.faults(plan, start, reboot=self._reboot, drop=self._drop, duplicate=lambda: None)
        for s in plan.garbled_at:
            self.timeline.at(start + timedelta(seconds=s), self._garble_next)

    def _crossing(self, c: Crossing, _at: datetime) -> None:
        self.fw.register(c)

    def _reboot(self, at: datetime) -> None:
        self.fw.reboot(at)

    def _drop(self) -> None:
        self._skip += 1

    def _garble_next(self, _at: datetime) -> None:
        self._garble += 1

    def document(self, now: datetime) -> bytes:
        """The count-data XML at true instant `now`."""
        t = self.fw.device_time(now).astimezone(self.tz).isoformat(timespec="seconds")
        fw_count = "x1" if self._garble else str(self.fw.entries)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ns2:count-data xmlns:ns2="http://www.xovis.com/count-data" xmlns:ns3="http://www.xovis.com/common-types">'
            "<ns2:count-items><ns2:lines>"
            f'<ns2:line name={quoteattr(self.door_line)} id="0" sensor-type="SINGLE_SENSOR">'
            f"<fw-count>{fw_count}</fw-count><bw-count>{self.fw.exits}</bw-count></ns2:line>"
            f"</ns2:lines></ns2:count-items><ns2:sensor-time>{t}</ns2:sensor-time>"
            "<ns2:request-status><ns3:status>OK</ns3:status></ns2:request-status></ns2:count-data>"
        ).encode()

    def _push(self, _at: datetime) -> None:
        if self._skip:
            self._skip -= 1
            self.failures += 1
            return
        body = self.document(self.clock.now())
        self._garble = max(0, self._garble - 1)
        headers = {"Content-Type": "application/xml"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.pushes += 1
        try:
            answer = self._http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError:
            self.failures += 1
            return
        if answer.status_code != 200:
            self.failures += 1

    def start(self) -> None:
        """Start counting and pushing."""
        self.timeline.start()

    def stop(self) -> None:
        """Stop."""
        self.timeline.stop()
        self._http.close()


class _HttpDevice:
    """A simulated camera's web server: a `Timeline` of crossings and faults, and GET answers."""

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
        tz: str,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str,
    ) -> None:
        self.device_id = device_id
        self.clock = clock
        self.tz = ZoneInfo(tz)
        self.fw = CounterFirmware(plan=plan, start=start)
        self.requests = 0
        self._lock = threading.Lock()
        self._refuse = 0
        self._garble = 0
        self.first_read: GroundTruth | None = None
        """What the device had counted when it first answered intact (a cumulative counter's
        first reading is the agent's baseline: those crossings are not the agent's to count)."""
        self.timeline = Timeline(clock, name=f"{name}-{device_id}")
        for c in script.for_doors([door]).crossings:
            if c.direction is not Direction.PAST:
                self.timeline.at(c.at, partial(self._crossing, c))
        self.timeline.faults(plan, start, reboot=self._reboot, drop=self._drop, duplicate=lambda: None)
        for s in plan.garbled_at:
            self.timeline.at(start + timedelta(seconds=s), self._garble_next)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                logger.debug(format, *args)

            def do_GET(self) -> None:
                status, body = owner._answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """Where the camera listens."""
        return self._server.server_address[1]

    def local_now(self) -> datetime:
        """The camera's clock, in its time zone."""
        return self.fw.device_time(self.clock.now()).astimezone(self.tz)

    def _crossing(self, c: Crossing, _at: datetime) -> None:
        with self._lock:
            self.count(c)

    def count(self, c: Crossing) -> None:
        """Register one crossing (under the lock)."""
        self.fw.register(c)

    def _reboot(self, at: datetime) -> None:
        with self._lock:
            self.fw.reboot(at)

    def _drop(self) -> None:
        self._refuse += 1

    def _garble_next(self, _at: datetime) -> None:
        self._garble += 1

    def _answer(self, path: str) -> tuple[int, bytes]:
        with self._lock:
            self.requests += 1
            if self._refuse:
                self._refuse -= 1
                return 503, b'{"error": "busy"}'
            status, doc = self.respond(urlsplit(path))
            if self._garble and status == 200:
                self._garble -= 1
                return status, json.dumps(doc)[:-7].encode()  # cut off mid-document
            if status == 200 and self.first_read is None:
                self.first_read = GroundTruth().merge(self.fw.truth)  # a copy
            return status, json.dumps(doc).encode()

    def respond(self, url: SplitResult) -> tuple[int, object]:
        """The status and JSON document for one GET (under the lock)."""
        raise NotImplementedError

    def start(self) -> None:
        """Count and serve."""
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"http-{self.device_id}", daemon=True)
        self._thread.start()
        self.timeline.start()

    def stop(self) -> None:
        """Stop serving."""
        self.timeline.stop()
        self._server.shutdown()
        self._server.server_close()


class AxisLiveStub(_HttpDevice):
    """AXIS People Counter's live sum (see the module docstring)."""

    def __init__(self, *, tz: str = "Europe/Stockholm", **kwargs: object) -> None:
        super().__init__(tz=tz, name="axis-live", **kwargs)  # type: ignore[arg-type]
        self._day = self.local_now().date()
        self.day_resets = 0

    def _roll_day(self) -> None:
        today = self.local_now().date()
        if today != self._day:
            self._day = today
            self.fw.entries = self.fw.exits = 0  # the live sum restarts at local midnight
            self.day_resets += 1

    def count(self, c: Crossing) -> None:
        self._roll_day()
        super().count(c)

    def respond(self, url: SplitResult) -> tuple[int, object]:
        if url.path != "/local/tvpc/.api" or url.query != "live-sum.json":
            return 404, {"error": "not found"}
        self._roll_day()
        return 200, {
            "serial": "00408CAC512B",
            "name": self.device_id,
            "timestamp": self.local_now().strftime("%Y%m%d%H%M%S"),
            "in": self.fw.entries,
            "out": self.fw.exits,
        }


class A3dpcStub(_HttpDevice):
    """AXIS 3D People Counter's per-minute export (see the module docstring)."""

    def __init__(self, *, tz: str = "Europe/Stockholm", **kwargs: object) -> None:
        super().__init__(tz=tz, name="a3dpc", **kwargs)  # type: ignore[arg-type]
        self._bins: dict[int, list[int]] = {}  # device-local minute start (epoch s) → [in, out]
        self._first = math.floor(self.fw.device_time(self.fw.start).timestamp() / 60) * 60

    def count(self, c: Crossing) -> None:
        if self.fw.register(c) and c.direction is not Direction.PAST:
            m = math.floor(self.fw.device_time(c.at).timestamp() / 60) * 60
            self._bins.setdefault(m, [0, 0])[0 if c.direction is Direction.IN else 1] += 1

    def _day(self, word: str, now: datetime) -> datetime | None:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if word == "today":
            return midnight
        if word == "yesterday":
            return midnight - timedelta(days=1)
        if word == "now":
            return now
        try:
            return datetime.strptime(word, "%Y%m%d").replace(tzinfo=self.tz)
        except ValueError:
            return None

    def respond(self, url: SplitResult) -> tuple[int, object]:
        if url.path != "/a3dpc/api/export/json":
            return 404, {"error": {"message": "Not found"}}
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        now = self.local_now()
        start, end = self._day(q.get("start", ""), now), self._day(q.get("end", ""), now)
        bad = [f for f, v in (("start", start), ("end", end)) if v is None]
        if q.get("resolution") != "minute":
            bad.append("resolution")
        if bad or start is None or end is None:
            errors = [{"field": f, "reason": "invalid value"} for f in bad]
            return 400, {"error": {"message": "Validation failed", "errors": errors}}
        rows = []
        m = max(self._first, math.floor(start.timestamp() / 60) * 60)
        while m < end.timestamp():  # includes the minute still being counted
            a, b = self._bins.get(m, [0, 0])
            fmt = "%Y-%m-%d %H:%M:%S"
            rows.append(
                {
                    "start": datetime.fromtimestamp(m, UTC).astimezone(self.tz).strftime(fmt),
                    "end": datetime.fromtimestamp(m + 60, UTC).astimezone(self.tz).strftime(fmt),
                    "in": a,
                    "out": b,
                }
            )
            m += 60
        return 200, {"data": rows}
