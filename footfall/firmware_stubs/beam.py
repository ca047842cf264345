"""A simulated beam counter speaking FFBEAM/1 over TCP (the protocol is in `footfall.edge.drivers.tcp`).

It behaves like the firmware: a record on every counter change and every
`keepalive_s`, a flash log of records the agent has not acknowledged (re-sent after
every new connection), a HELLO with its boot number and clock, PONG answers to PING.
Faults from its `FaultPlan`: reboots (the connection drops, counters restart at zero,
the log survives), dropped connections, duplicate sends and a blocked sensor.

Example:
    >>> stub = BeamCounterStub(device_id="riga-01-beam", door="side", script=script,
    ...                        plan=FaultPlan(counter_bits=16), clock=clock,
    ...                        start=t0, until=t0 + timedelta(minutes=10))  # doctest: +SKIP
    >>> stub.start(); stub.port  # doctest: +SKIP
"""

import contextlib
import logging
import socket
import threading
from collections import deque
from datetime import datetime
from functools import partial

from footfall.core.clock import Clock
from footfall.firmware_stubs.firmware import CounterFirmware, FaultPlan, Timeline
from footfall.firmware_stubs.traffic import Crossing, TrafficScript

logger = logging.getLogger(__name__)


class BeamCounterStub:
    """One simulated FFBEAM/1 beam counter (see the module docstring)."""

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
        host: str = "127.0.0.1",
        port: int = 0,
        keepalive_s: float = 10.0,
        serial: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.door = door
        self.clock = clock
        self.serial = serial or f"BEAM-{device_id}"
        self.fw = CounterFirmware(plan=plan, start=start)
        self.log: deque[tuple[int, str]] = deque()
        self.rec = 0
        self.sent_lines = 0
        self.connections = 0
        self._lock = threading.RLock()
        self._conn: socket.socket | None = None
        self._stop = threading.Event()
        self._listener = socket.create_server((host, port), reuse_port=False)
        self._listener.settimeout(0.2)
        self.timeline = Timeline(clock, name=f"beam-{device_id}")
        for c in script.for_doors([door]).crossings:
            self.timeline.at(c.at, partial(self._crossing, c))
        self.timeline.every(start, keepalive_s, until, self._record)
        self.timeline.faults(plan, start, reboot=self._reboot, drop=self._drop, duplicate=self._duplicate)
        self._accept_thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the counter listens on."""
        return self._listener.getsockname()[1]

    def start(self) -> None:
        """Listen for the agent and start counting."""
        self._accept_thread = threading.Thread(target=self._accept, name=f"beam-accept-{self.device_id}", daemon=True)
        self._accept_thread.start()
        self.timeline.start()

    def stop(self) -> None:
        """Stop counting and close every socket."""
        self._stop.set()
        self.timeline.stop()
        self._drop()
        self._listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join(5)

    # -- firmware behaviour (timeline thread) ---------------------------------------------

    def _line(self, at: datetime) -> str:
        fw = self.fw
        status = "BLOCKED" if fw.blocked(at) else "OK"
        return f"C {self.rec} {fw.boot} {fw.uptime_ms(at)} {fw.device_ms(at)} {fw.entries} {fw.exits} {status}\n"

    def _record(self, at: datetime) -> None:
        with self._lock:
            self.rec += 1
            line = self._line(at)
            self.log.append((self.rec, line))
            self._send(line)

    def _crossing(self, crossing: Crossing, _at: datetime | None = None) -> None:
        self.fw.register(crossing)  # a blocked sensor counts nothing but still reports its status
        self._record(crossing.at)

    def _reboot(self, at: datetime) -> None:
        logger.info("%s reboots", self.device_id)
        self._drop()
        with self._lock:
            self.fw.reboot(at)
        self._record(at)

    def _duplicate(self) -> None:
        with self._lock:
            if self.log:
                self._send(self.log[-1][1])

    def _drop(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.shutdown(socket.SHUT_RDWR)
                self._conn.close()
                self._conn = None

    def _send(self, line: str) -> None:
        if self._conn is None:
            return
        try:
            self._conn.sendall(line.encode())
            self.sent_lines += 1
        except OSError:
            self._drop()

    # -- the agent's side (accept and reader threads) -------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._drop()
                self._conn = conn
                self.connections += 1
                now = self.clock.now()
                fw = self.fw
                self._send(
                    f"HELLO FFBEAM/1 serial={self.serial} fw=2.4.1 bits={fw.bits} boot={fw.boot} "
                    f"time={fw.device_ms(now)}\n"
                )
                for _, line in list(self.log):
                    self._send(line)
            threading.Thread(target=self._read, args=(conn,), name=f"beam-read-{self.device_id}", daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buf = b""
        conn.settimeout(0.5)
        while not self._stop.is_set():
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                self._command(raw.decode("ascii", errors="replace").strip(), conn)

    def _command(self, line: str, conn: socket.socket) -> None:
        parts = line.split(" ")
        with self._lock:
            if parts[0] == "ACK" and len(parts) == 2 and parts[1].isdigit():
                upto = int(parts[1])
                while self.log and self.log[0][0] <= upto:
                    self.log.popleft()
            elif parts[0] == "PING" and len(parts) == 2:
                if conn is self._conn:
                    self._send(f"PONG {parts[1]} {self.fw.device_ms(self.clock.now())}\n")
            elif line and conn is self._conn:
                self._send(f"ERR unknown command {parts[0][:20]}\n")
