"""The edge agent: counter drivers → durable outbox → MQTT publisher, plus heartbeats.

`Agent.start()` opens the queue, resumes every driver from its saved state, connects to
the broker (with a retained `online` status and an `offline` Last Will) and starts the
drivers; `Agent.run(stop)` also sends a heartbeat every `heartbeat_s` of agent time
until `stop` is set. Readings reach the broker only through the outbox, so the agent can
be killed at any moment and loses nothing.

Example:
    >>> agent = Agent(EdgeConfig.from_yaml(Path("edge.yaml")))  # doctest: +SKIP
    >>> agent.run(threading.Event())  # doctest: +SKIP
"""

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from footfall.core.clock import Clock, SystemClock
from footfall.core.errors import ConfigError, FootfallError
from footfall.core.messages import Fault, HeartbeatReading, SensorHealth
from footfall.core.settings import Settings
from footfall.core.topics import Kind
from footfall.edge.config import (
    A3dpcCounter,
    AxisAoaCounter,
    AxisLiveCounter,
    CameraOptions,
    Counter,
    EdgeConfig,
    HttpCounter,
    MqttCounter,
    TcpCounter,
)
from footfall.edge.drivers.base import CounterCore
from footfall.edge.drivers.http import HttpPushServer
from footfall.edge.drivers.mqtt import AxisAoaDriver, MqttCounterDriver
from footfall.edge.drivers.poll import A3dpcDriver, AxisLiveDriver
from footfall.edge.drivers.tcp import TcpBeamDriver
from footfall.edge.drivers.vendors import A3DPC_LINE
from footfall.edge.identity import install_id
from footfall.edge.metrics import EdgeMetrics
from footfall.edge.outbox import Outbox
from footfall.edge.publisher import AGENT_VERSION, Publisher
from footfall.edge.sink import ReadingSink

if TYPE_CHECKING:  # the camera stack (OpenCV) loads only on boxes that have cameras
    from footfall.core.storeconfig import StoreConfig
    from footfall.edge.vision.worker import CameraWorker

logger = logging.getLogger(__name__)


class Producer(Protocol):
    """Something else that produces readings on the edge box (the camera pipeline).

    It writes into `Agent.sink` (the outbox) itself; the agent starts and stops it with
    the drivers and puts its sensors' health into each heartbeat.
    """

    def start(self) -> None:
        """Begin producing."""
        ...

    def stop(self) -> None:
        """Stop and release devices."""
        ...

    def sensor_health(self) -> list[SensorHealth]:
        """One entry per sensor (camera) for the heartbeat."""
        ...


class Agent:
    """One store's edge agent (see the module docstring).

    Args:
        cfg: the agent's configuration.
        settings: process settings (defaults for the broker and the queue).
        clock: the time reference; a simulated clock in tests.
    """

    def __init__(self, cfg: EdgeConfig, *, settings: Settings | None = None, clock: Clock | None = None) -> None:
        settings = settings or Settings()
        self.cfg = cfg
        self.clock = clock or SystemClock()
        self.data_dir = cfg.resolved_data_dir(settings.edge)
        self.install_id = install_id(self.data_dir)
        self.target = cfg.broker(settings.mqtt, install_id=self.install_id)
        self.heartbeat_s = cfg.heartbeat_period(settings.edge)
        self.outbox = Outbox.open(
            self.data_dir / "outbox.db",
            max_bytes=cfg.queue_max_bytes(settings.edge),
            synchronous=cfg.queue.synchronous,
        )
        q = cfg.queue
        self.metrics = EdgeMetrics()
        self.metrics_host, self._metrics_port = cfg.metrics_listen(settings.edge)
        self.metrics_port = 0
        """The port `/metrics` is served on once started (0: off)."""
        self.publisher = Publisher(
            outbox=self.outbox,
            target=self.target,
            store_id=cfg.store_id,
            agent_id=cfg.device_id,
            clock=self.clock,
            batch_readings=q.batch_readings,
            batch_bytes=q.batch_bytes,
            max_inflight=q.max_inflight,
            replay_readings_per_s=q.replay_readings_per_s,
            require_subscriber=q.require_subscriber,
            metrics=self.metrics,
        )
        self.outbox.on_commit = self.publisher.notify
        self.cores: dict[str, CounterCore] = {}
        self.drivers: list[TcpBeamDriver | MqttCounterDriver | AxisLiveDriver | A3dpcDriver] = []
        self.http: HttpPushServer | None = None
        self.producers: list[Producer] = []
        self._store: StoreConfig | None = None
        for dev in cfg.devices:
            core = self._core(dev)
            self.cores[dev.id] = core
            if isinstance(dev, TcpCounter):
                self.drivers.append(TcpBeamDriver(dev, core, self.clock))
            elif isinstance(dev, MqttCounter):
                self.drivers.append(MqttCounterDriver(dev, core, self.clock, agent_id=self.target.client_id))
            elif isinstance(dev, AxisAoaCounter):
                self.drivers.append(AxisAoaDriver(dev, core, self.clock, agent_id=self.target.client_id))
            elif isinstance(dev, AxisLiveCounter):
                self.drivers.append(AxisLiveDriver(dev, core, self.clock))
            elif isinstance(dev, A3dpcCounter):
                self.drivers.append(A3dpcDriver(dev, core, self.clock))
            else:  # http and xovis: pushes to the one listener
                if self.http is None:
                    self.http = HttpPushServer(cfg.http, self.clock)
                self.http.add(dev, core)
        for cam in cfg.cameras:
            self.attach(self._camera(cam))
        self._started_at = self.clock.monotonic()
        self._last_heartbeat: datetime | None = None
        self._merged_reported = 0
        self.metrics.watch(self)

    def _camera(self, cam: CameraOptions) -> Producer:
        # OpenCV and the pipeline load only on boxes that have cameras.
        from footfall.core.storeconfig import StoreConfig
        from footfall.edge.vision.config import PipelineOptions
        from footfall.edge.vision.pipeline import CameraSpec
        from footfall.edge.vision.worker import CameraWorker

        if self._store is None:
            assert self.cfg.store_file is not None  # the config refuses cameras without one
            self._store = StoreConfig.from_yaml(self.cfg.store_file)
        try:
            worker = CameraWorker(
                CameraSpec.from_store(self._store, cam.id),
                PipelineOptions.from_yaml(cam.options_file),
                self.outbox,
                source=cam.source,
                state_dir=self.data_dir / "vision",
                realtime=cam.realtime,
            )
        except (ValueError, FootfallError) as exc:
            raise ConfigError(f"camera {cam.id}: {exc}") from None
        return _CameraProducer(worker)

    def _core(self, dev: Counter) -> CounterCore:
        m = self.cfg.minutes
        line_doors = None
        passersby: list[str] = []
        if isinstance(dev, HttpCounter):  # and XovisCounter
            line_doors = {ln.line: (ln.door, ln.passersby) for ln in dev.lines}
            passersby = [ln.door for ln in dev.lines if ln.passersby]
        elif isinstance(dev, A3dpcCounter):
            line_doors = {A3DPC_LINE: (dev.door, False)}
        return CounterCore(
            device_id=dev.id,
            doors=self.cfg.doors_of(dev),
            outbox=self.outbox,
            clock=self.clock,
            passersby_doors=passersby,
            line_doors=line_doors,
            bits=dev.counter_bits,
            max_step=dev.max_step,
            settle_s=m.settle_s,
            gap_s=m.gap_s,
        )

    @property
    def sink(self) -> ReadingSink:
        """Where other producers put readings: the durable outbox."""
        return self.outbox

    def attach(self, producer: Producer) -> None:
        """Run another producer (e.g. the camera pipeline) with this agent; call before `start`."""
        self.producers.append(producer)

    def start(self) -> None:
        """Connect to the broker and start every driver."""
        self._started_at = self.clock.monotonic()
        self._last_heartbeat = self.clock.now()
        try:
            self.metrics_port = self.metrics.serve(host=self.metrics_host, port=self._metrics_port)
        except OSError as exc:
            raise ConfigError(
                f"cannot serve metrics on {self.metrics_host}:{self._metrics_port}: {exc.strerror}; "
                "set metrics.port in edge.yaml (or FOOTFALL_EDGE__METRICS_PORT) to a free port, or 0 to turn it off"
            ) from None
        self.publisher.start()
        if self.http is not None:
            self.http.start()
        for d in self.drivers:
            d.start()
        for p in self.producers:
            p.start()
        stats = self.outbox.stats()
        logger.info(
            "edge agent %s for store %s started: %d counters, %d readings queued",
            self.cfg.device_id,
            self.cfg.store_id,
            len(self.cores),
            stats.depth,
            extra={"device_id": self.cfg.device_id, "store_id": self.cfg.store_id},
        )

    def stop(self, *, graceful: bool = True) -> None:
        """Stop drivers, then the publisher (publishing `offline` when graceful), then close the queue."""
        self.metrics.close()
        for p in self.producers:
            p.stop()
        for d in self.drivers:
            d.stop()
        if self.http is not None:
            self.http.stop()
        self.publisher.stop(graceful=graceful)
        depth = self.outbox.depth
        self.outbox.close()
        logger.info(
            "edge agent %s stopped; %d readings stay queued for the next start",
            self.cfg.device_id,
            depth,
            extra={"device_id": self.cfg.device_id},
        )

    def heartbeat(self) -> HeartbeatReading:
        """Build this period's heartbeat and queue it (it is published like any reading)."""
        now = self.clock.now()
        start = self._last_heartbeat or now
        if start >= now:  # a heartbeat asked for twice in one instant still needs an interval
            start = now - timedelta(seconds=1)
        stats = self.outbox.stats()
        m = self.cfg.minutes
        sensors = [
            core.sensor_health(silent_after_s=m.silent_after_s, clock_tolerance_s=m.clock_tolerance_s)
            for core in self.cores.values()
        ]
        for p in self.producers:
            try:
                sensors.extend(p.sensor_health())
            except Exception:
                logger.exception("a producer could not report its health")
        own: list[Fault] = []
        if stats.over_budget or stats.merged > self._merged_reported or stats.dropped:
            own.append(Fault.QUEUE_FULL)
        if not self.publisher.connected:
            own.append(Fault.DISCONNECTED)
        sensors.append(SensorHealth(sensor_id=self.cfg.device_id, last_seen=now, errors=0, faults=own))
        self._merged_reported = stats.merged
        reading = HeartbeatReading(
            start=start,
            end=now,
            uptime_s=max(0.0, self.clock.monotonic() - self._started_at),
            queue_depth=stats.depth,
            queue_bytes=stats.bytes,
            queue_oldest=stats.oldest,
            merged_intervals=stats.merged,
            broker_unreachable_s=round(self.publisher.unreachable_s, 1),
            session_takeovers=self.publisher.transport.takeovers,
            sensors=sensors,
            agent_version=AGENT_VERSION,
        )
        self.outbox.put(Kind.HEARTBEAT, self.cfg.device_id, [reading])
        self._last_heartbeat = now
        if stats.merged > 0 and Fault.QUEUE_FULL in own:
            logger.warning(
                "queue full: %d readings merged into coarser intervals so far (%d bytes of %d)",
                stats.merged,
                stats.bytes,
                stats.max_bytes,
                extra={"device_id": self.cfg.device_id},
            )
        return reading

    def run(self, stop: threading.Event) -> None:
        """Start, send heartbeats until `stop` is set, then stop gracefully."""
        self.start()
        try:
            next_beat = self.clock.monotonic() + self.heartbeat_s
            while not stop.is_set():
                wait = next_beat - self.clock.monotonic()
                if wait > 0 and self.clock.wait(stop, min(wait, 5.0)):
                    break
                if self.clock.monotonic() >= next_beat:
                    try:
                        self.heartbeat()
                    except Exception:
                        logger.exception("could not queue a heartbeat")
                    next_beat += self.heartbeat_s
                    if next_beat < self.clock.monotonic():  # fell behind (suspended machine)
                        next_beat = self.clock.monotonic() + self.heartbeat_s
        finally:
            self.stop(graceful=True)


class _CameraProducer:
    """A `CameraWorker` as an agent producer."""

    def __init__(self, worker: "CameraWorker") -> None:
        self.worker = worker

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def sensor_health(self) -> list[SensorHealth]:
        return [self.worker.health()]
