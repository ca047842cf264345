"""Driver for 3D/stereo sensors that push interval counts over HTTP (Xovis/Axis style).

The sensor POSTs JSON to `http://{agent}:{port}/v1/push/{device_id}` every interval
(typically each minute), with `Authorization: Bearer <token>` when a token is
configured. One push may carry several intervals per line: a sensor that could not
reach the agent re-sends its backlog from its own storage.

    {
      "sensor": {"serial": "XS-0042", "fw": "5.2.1", "boot": 7,
                 "time": "2026-03-29T10:01:00.120Z"},          # the sensor's clock now
      "lines": [
        {"id": "entrance", "intervals": [
            {"from": "2026-03-29T10:00:00Z", "to": "2026-03-29T10:01:00Z",
             "forward": 3, "backward": 1, "status": "ok"}]},
        {"id": "street", "intervals": [
            {"from": "2026-03-29T10:00:00Z", "to": "2026-03-29T10:01:00Z",
             "forward": 12, "backward": 9}]}
      ]
    }

`forward` is into the store (an entry) on a door line, and one walking direction on a
passers-by line (both directions count as passers-by). `status` is `ok` or `blocked`.
Times are the sensor's clock (ISO 8601 with an offset); the agent corrects them with
the offset it measures from `sensor.time`, places each interval in the agent minute
that holds its corrected middle (configure the sensor for 1-minute intervals for
per-minute accuracy), and drops an interval it already stored (same line, same
`from`): re-sent pushes are harmless.

Answers: 200 `{"accepted": n, "duplicates": m}` once stored (the sensor may forget
the intervals), 400 with a reason for a malformed push, 401 for a wrong token, 404
for an unknown device, 413 for a body over the limit, 503 when the queue cannot be
written (the sensor retries).

Devices with `driver: xovis` POST to the same path in Xovis's own formats (line count
data JSON, or count-data XML; see `footfall.edge.drivers.vendors`); count lines not in
the device's `lines` are ignored with one warning each, and the answer lists them.
"""

import hmac
import json
import logging
import threading
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from footfall.core.clock import Clock
from footfall.core.configfile import format_errors
from footfall.edge.config import HttpCounter, HttpListen, XovisCounter
from footfall.edge.drivers.base import CounterCore, IntervalCount
from footfall.edge.drivers.vendors import LineTotals, XovisIntervals, parse_xovis_json, parse_xovis_xml
from footfall.edge.errors import DeviceReportError, OutboxError

logger = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class PushInterval(_Strict):
    """Counts on one line for `[from, to)` of the sensor's clock."""

    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    forward: int = Field(ge=0, le=1_000_000)
    backward: int = Field(ge=0, le=1_000_000)
    status: Literal["ok", "blocked"] = "ok"

    @model_validator(mode="after")
    def _order(self) -> "PushInterval":
        if self.end <= self.start:
            raise ValueError("`to` must be after `from`")
        if (self.end - self.start).total_seconds() > 24 * 3600:
            raise ValueError("an interval may be at most one day long")
        return self


class PushLine(_Strict):
    """One count line and its intervals."""

    id: str = Field(min_length=1, max_length=128)
    intervals: list[PushInterval] = Field(max_length=10_000)


class PushSensor(_Strict):
    """Who pushes, and its clock."""

    serial: str = Field(default="", max_length=128)
    fw: str = Field(default="", max_length=64)
    boot: int | None = Field(default=None, ge=0)
    time: AwareDatetime


class Push(_Strict):
    """One HTTP push."""

    sensor: PushSensor
    lines: list[PushLine] = Field(max_length=64)


class HttpPushServer:
    """Accepts pushes for every configured HTTP counter on one listening socket."""

    def __init__(self, listen: HttpListen, clock: Clock) -> None:
        self.listen = listen
        self.clock = clock
        self._devices: dict[str, tuple[HttpCounter, CounterCore, str | None]] = {}
        self._ignored: dict[str, set[str]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def add(self, cfg: HttpCounter, core: CounterCore) -> None:
        """Serve pushes for one device."""
        self._devices[cfg.id] = (cfg, core, cfg.bearer())

    @property
    def port(self) -> int:
        """The port actually listened on (useful with port 0)."""
        if self._server is None:
            raise RuntimeError("the push server is not started")
        return self._server.server_address[1]

    def start(self) -> None:
        """Listen and serve in a background thread."""
        owner = self

        class Handler(_PushHandler):
            server_owner = owner

        self._server = ThreadingHTTPServer((self.listen.host, self.listen.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-push", daemon=True)
        self._thread.start()
        logger.info("accepting counter pushes on %s:%d", self.listen.host, self.port)

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def handle(self, device_id: str, token: str | None, body: bytes) -> tuple[int, dict]:  # noqa: PLR0911 - one answer per outcome
        """Process one push; returns the HTTP status and the JSON answer."""
        entry = self._devices.get(device_id)
        if entry is None:
            return HTTPStatus.NOT_FOUND, {"error": f"unknown device {device_id!r}; add it to edge.yaml"}
        cfg, core, expected = entry
        if expected is not None and (token is None or not hmac.compare_digest(token, expected)):
            core.health.errors += 1
            logger.warning("%s: push with a wrong or missing token refused", device_id, extra={"device_id": device_id})
            return HTTPStatus.UNAUTHORIZED, {"error": "wrong or missing bearer token"}
        received = self.clock.now()
        if isinstance(cfg, XovisCounter):
            return self._xovis(cfg, core, body, received)
        try:
            push = Push.model_validate_json(body)
        except ValidationError as exc:
            core.health.errors += 1
            reason = format_errors(exc, empty="body")[0]
            logger.warning("%s: malformed push refused: %s", device_id, reason, extra={"device_id": device_id})
            return HTTPStatus.BAD_REQUEST, {"error": reason}
        known = {ln.line for ln in cfg.lines}
        unknown = [ln.id for ln in push.lines if ln.id not in known]
        if unknown:
            core.health.errors += 1
            reason = f"unknown line(s) {', '.join(unknown)}; configured: {', '.join(sorted(known))}"
            logger.warning("%s: %s", device_id, reason, extra={"device_id": device_id})
            return HTTPStatus.BAD_REQUEST, {"error": reason}
        core.observe_clock(device_ts=push.sensor.time, received=received)
        core.health.connected = True
        intervals = [
            IntervalCount(
                line=ln.id,
                start=iv.start,
                end=iv.end,
                forward=iv.forward,
                backward=iv.backward,
                blocked=iv.status == "blocked",
            )
            for ln in push.lines
            for iv in ln.intervals
        ]
        try:
            accepted, duplicates = core.ingest_intervals(intervals)
        except OutboxError as exc:
            logger.error("%s: could not store a push: %s", device_id, exc, extra={"device_id": device_id})
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the agent cannot store data right now; retry"}
        return HTTPStatus.OK, {"accepted": accepted, "duplicates": duplicates}

    def _xovis(self, cfg: XovisCounter, core: CounterCore, body: bytes, received: datetime) -> tuple[int, dict]:
        """A Xovis push: line count data (JSON, interval counts) or count data (XML, cumulative)."""
        device_id = cfg.id
        known = {ln.line for ln in cfg.lines}
        try:
            if body.lstrip()[:1] == b"<":
                totals = parse_xovis_xml(body)
                missing = sorted(known - set(totals.totals))
                if missing:
                    raise DeviceReportError(
                        f"Xovis count data: configured line(s) {', '.join(missing)} missing; "
                        f"the sensor sent: {', '.join(totals.totals) or 'none'}"
                    )
                pushed: XovisIntervals | LineTotals = totals
            else:
                pushed = parse_xovis_json(body)
        except DeviceReportError as exc:
            core.health.errors += 1
            logger.warning("%s: malformed push refused: %s", device_id, exc, extra={"device_id": device_id})
            return HTTPStatus.BAD_REQUEST, {"error": str(exc)}
        ignored = sorted(
            {ln for ln in (pushed.lines if isinstance(pushed, XovisIntervals) else pushed.totals) if ln not in known}
        )
        for name in ignored:
            if name not in self._ignored.setdefault(device_id, set()):
                self._ignored[device_id].add(name)
                logger.warning(
                    "%s: count line %r is not in edge.yaml; its counts are ignored (add it under lines to keep them)",
                    device_id,
                    name,
                    extra={"device_id": device_id},
                )
        device_ts = pushed.sensor_time if isinstance(pushed, XovisIntervals) else pushed.device_ts
        core.observe_clock(device_ts=device_ts, received=received)
        core.health.connected = True
        try:
            if isinstance(pushed, XovisIntervals):
                accepted, duplicates = core.ingest_intervals([iv for iv in pushed.intervals if iv.line in known])
            else:
                accepted, duplicates = 1, 0
                core.ingest_line_totals(pushed.device_ts, pushed.totals)
        except OutboxError as exc:
            logger.error("%s: could not store a push: %s", device_id, exc, extra={"device_id": device_id})
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the agent cannot store data right now; retry"}
        return HTTPStatus.OK, {"accepted": accepted, "duplicates": duplicates, "ignored_lines": ignored}


class _PushHandler(BaseHTTPRequestHandler):
    server_owner: HttpPushServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("http push: " + format, *args)

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        owner = self.server_owner
        prefix = "/v1/push/"
        if not self.path.startswith(prefix):
            self._answer(HTTPStatus.NOT_FOUND, {"error": f"POST to {prefix}<device_id>"})
            return
        device_id = self.path[len(prefix) :].strip("/")
        try:
            length = int(self.headers.get("Content-Length", "-1"))
        except ValueError:
            length = -1
        if length < 0:
            self._answer(HTTPStatus.LENGTH_REQUIRED, {"error": "Content-Length required"})
            return
        if length > owner.listen.max_body_bytes:
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": f"at most {owner.listen.max_body_bytes} bytes"})
            self.close_connection = True
            return
        body = self.rfile.read(length)
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        status, answer = owner.handle(device_id, token, body)
        self._answer(status, answer)
