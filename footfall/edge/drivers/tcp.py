"""Driver for beam counters that speak FFBEAM/1, a text line protocol over TCP.

The protocol (the counter is the TCP server, the agent connects to it):

    every line is ASCII, fields separated by one space, ended by "\\n"; at most 512 bytes.

    counter → agent
      HELLO FFBEAM/1 serial=<id> fw=<version> bits=<16|32> boot=<n> time=<ms>
          first line after a connection; `boot` counts restarts (kept in flash),
          `time` is the counter's clock in milliseconds since 1970-01-01 UTC.
      C <rec> <boot> <uptime_ms> <time_ms> <in> <out> <status>
          a record: cumulative IN and OUT counters (wrap at 2^bits, restart at 0 on
          boot), uptime and clock when they were read, status OK or BLOCKED. `rec`
          numbers records in the counter's flash log and increases across boots.
          The counter writes a record whenever a counter changes and every 10 s
          without change. After a connection it first re-sends every record not yet
          acknowledged, oldest first, then live ones.
      PONG <token> <time_ms>
          answer to PING with the counter's clock.
      ERR <text>
          the counter did not understand a command.

    agent → counter
      ACK <rec>      every record up to `rec` is stored; the counter may forget them.
      PING <token>   asks for the counter's clock (round-trip clock sync).

The agent acknowledges a record only after its deltas and the driver state are
committed to the outbox, so a connection dropped or an agent killed at any point
loses nothing: the counter re-sends, and re-sent records are recognised by
`(boot, uptime)` and ignored.
"""

import logging
import secrets
import socket
import threading
from datetime import UTC, datetime

from footfall.core.clock import Clock
from footfall.edge.config import TcpCounter
from footfall.edge.drivers.base import CounterCore, CumulativeReport
from footfall.edge.errors import DeviceReportError, OutboxError

logger = logging.getLogger(__name__)

PROTOCOL = "FFBEAM/1"
MAX_LINE = 512


def parse_time_ms(value: str) -> datetime:
    """A protocol timestamp (ms since the epoch, UTC).

    Raises:
        DeviceReportError: not a plausible timestamp.
    """
    try:
        ms = int(value)
    except ValueError:
        raise DeviceReportError(f"time {value!r} is not an integer of milliseconds") from None
    if not 0 < ms < 10**14:
        raise DeviceReportError(f"time {ms} is out of range")
    return datetime.fromtimestamp(ms / 1000, UTC)


def parse_hello(line: str) -> dict[str, str]:
    """Parse a HELLO line into its key=value fields (plus `protocol`).

    Raises:
        DeviceReportError: not a HELLO line of a protocol this driver speaks.
    """
    parts = line.split(" ")
    if len(parts) < 2 or parts[0] != "HELLO":
        raise DeviceReportError(f"expected HELLO, got {line[:80]!r}")
    if parts[1] != PROTOCOL:
        raise DeviceReportError(f"counter speaks {parts[1]!r}, this agent speaks {PROTOCOL}")
    fields = {"protocol": parts[1]}
    for part in parts[2:]:
        key, sep, value = part.partition("=")
        if not sep:
            raise DeviceReportError(f"HELLO field {part!r} is not key=value")
        fields[key] = value
    return fields


def parse_record(line: str) -> tuple[int, CumulativeReport]:
    """Parse a `C` record line into (record number, report).

    Raises:
        DeviceReportError: the line is not a well-formed record.
    """
    parts = line.split(" ")
    if len(parts) != 8 or parts[0] != "C":
        raise DeviceReportError(f"record must be 'C rec boot uptime_ms time_ms in out status', got {line[:80]!r}")
    try:
        rec, boot, uptime, _, entries, exits = (int(p) for p in parts[1:7])
    except ValueError:
        raise DeviceReportError(f"record has a field that is not an integer: {line[:80]!r}") from None
    if min(rec, boot, uptime, entries, exits) < 0:
        raise DeviceReportError(f"record has a negative field: {line[:80]!r}")
    status = parts[7]
    if status not in ("OK", "BLOCKED"):
        raise DeviceReportError(f"record status must be OK or BLOCKED, not {status!r}")
    return rec, CumulativeReport(
        device_ts=parse_time_ms(parts[4]),
        entries=entries,
        exits=exits,
        boot=boot,
        uptime_ms=uptime,
        blocked=status == "BLOCKED",
    )


class TcpBeamDriver:
    """Keeps a connection to one FFBEAM/1 counter and feeds its records to a `CounterCore`."""

    def __init__(self, cfg: TcpCounter, core: CounterCore, clock: Clock) -> None:
        self.cfg = cfg
        self.core = core
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pings: dict[str, datetime] = {}

    @property
    def device_id(self) -> str:
        """The counter's device id."""
        return self.cfg.id

    def start(self) -> None:
        """Connect and read in a background thread."""
        self._thread = threading.Thread(target=self._run, name=f"tcp-{self.cfg.id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and join the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with socket.create_connection(
                    (self.cfg.host, self.cfg.port), timeout=max(0.5, self.clock.real_seconds(10))
                ) as sock:
                    backoff = 0.5
                    self._session(sock)
            except (OSError, DeviceReportError) as exc:
                if self.core.health.connected:
                    logger.warning(
                        "%s: connection to %s:%d lost: %s",
                        self.cfg.id,
                        self.cfg.host,
                        self.cfg.port,
                        exc,
                        extra={"device_id": self.cfg.id},
                    )
                else:
                    logger.debug("%s: cannot connect: %s", self.cfg.id, exc, extra={"device_id": self.cfg.id})
            except OutboxError:
                logger.exception("%s: queue write failed; reconnecting", self.cfg.id, extra={"device_id": self.cfg.id})
            self.core.health.connected = False
            if self._stop.is_set():
                break
            self.clock.wait(self._stop, backoff)
            backoff = min(backoff * 2, self.cfg.reconnect_max_s)

    def _session(self, sock: socket.socket) -> None:
        sock.settimeout(max(0.02, min(0.25, self.clock.real_seconds(1.0))))
        buf = b""
        hello = False
        last_data = self.clock.monotonic()
        next_ping = self.clock.monotonic()
        while not self._stop.is_set():
            now_m = self.clock.monotonic()
            if hello and now_m >= next_ping:
                token = secrets.token_hex(4)
                while len(self._pings) >= 16:  # unanswered pings: forget the oldest
                    self._pings.pop(next(iter(self._pings)))
                self._pings[token] = self.clock.now()
                sock.sendall(f"PING {token}\n".encode())
                next_ping = now_m + self.cfg.ping_s
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if self.clock.monotonic() - last_data > self.cfg.timeout_s:
                    raise DeviceReportError(f"nothing received for {self.cfg.timeout_s:.0f} s") from None
                continue
            if not chunk:
                raise ConnectionResetError("the counter closed the connection")
            last_data = self.clock.monotonic()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            if len(buf) > MAX_LINE:
                raise DeviceReportError(f"line longer than {MAX_LINE} bytes")
            hello = self._lines(sock, lines, self.clock.now()) or hello

    def _lines(self, sock: socket.socket, lines: list[bytes], received: datetime) -> bool:
        """Handle complete lines; store their records, then acknowledge them. True when a HELLO came."""
        hello = False
        records: list[CumulativeReport] = []
        last_rec = None
        for raw in lines:
            line = raw.decode("ascii", errors="replace").strip()
            if not line:
                continue
            try:
                if line.startswith("HELLO"):
                    self._hello(parse_hello(line), received)
                    hello = True
                elif line.startswith("C "):
                    rec, report = parse_record(line)
                    records.append(report)
                    last_rec = rec if last_rec is None else max(last_rec, rec)
                elif line.startswith("PONG "):
                    self._pong(line, received)
                elif line.startswith("ERR"):
                    logger.warning("%s says: %s", self.cfg.id, line, extra={"device_id": self.cfg.id})
                else:
                    raise DeviceReportError(f"unknown line {line[:80]!r}")
            except DeviceReportError as exc:
                self.core.health.errors += 1
                logger.warning("%s: %s", self.cfg.id, exc, extra={"device_id": self.cfg.id})
        if records:
            self.core.ingest(records)
        if last_rec is not None:
            sock.sendall(f"ACK {last_rec}\n".encode())
        return hello

    def _hello(self, fields: dict[str, str], received: datetime) -> None:
        if "time" in fields:
            self.core.observe_clock(device_ts=parse_time_ms(fields["time"]), received=received)
        bits = fields.get("bits")
        if bits in ("16", "32", "64") and int(bits) != self.core.counter.bits:
            logger.warning(
                "%s: counter says its counters have %s bits, the config says %d; using %s",
                self.cfg.id,
                bits,
                self.core.counter.bits,
                bits,
                extra={"device_id": self.cfg.id},
            )
            self.core.counter.bits = int(bits)
        self.core.health.connected = True
        logger.info(
            "%s: connected (serial %s, firmware %s, boot %s)",
            self.cfg.id,
            fields.get("serial", "?"),
            fields.get("fw", "?"),
            fields.get("boot", "?"),
            extra={"device_id": self.cfg.id},
        )

    def _pong(self, line: str, received: datetime) -> None:
        parts = line.split(" ")
        if len(parts) != 3:
            raise DeviceReportError(f"PONG must be 'PONG token time_ms', got {line[:80]!r}")
        sent = self._pings.pop(parts[1], None)
        if sent is None:
            return
        self.core.observe_round_trip(sent=sent, device_ts=parse_time_ms(parts[2]), received=received)
