"""`footfall alerts run`: the engine and the delivery worker as threads of one process."""

import logging
import signal
import threading

from footfall.alerts.delivery import DeliveryWorker
from footfall.alerts.engine import Engine
from footfall.alerts.metrics import AlertsMetrics
from footfall.core.clock import Clock
from footfall.core.errors import ConfigError
from footfall.core.settings import Settings

logger = logging.getLogger(__name__)


def run_process(settings: Settings, *, clock: Clock, engine: bool, deliver: bool, name: str) -> None:
    """Run until SIGTERM/SIGINT; threads finish their current transaction and stop."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    wake = threading.Event()
    metrics = AlertsMetrics()
    port = settings.alerts.metrics_port
    try:
        metrics.serve(port)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve metrics on port {port}: {exc.strerror}; set FOOTFALL_ALERTS__METRICS_PORT to a free "
            "port (each replica on a host needs its own), or 0 to turn it off"
        ) from None
    threads: list[threading.Thread] = []
    if engine:
        e = Engine(settings, clock=clock, name=name, metrics=metrics)
        e.wake_delivery = wake
        threads.append(threading.Thread(target=e.run, args=(stop,), name=f"{name}-engine", daemon=True))
    if deliver:
        w = DeliveryWorker(settings, wake=wake, metrics=metrics)
        threads.append(threading.Thread(target=w.run, args=(stop,), name=f"{name}-delivery", daemon=True))
    for t in threads:
        t.start()
    logger.info("alerts %s running (engine: %s, delivery: %s)", name, engine, deliver)
    while not stop.is_set():
        stop.wait(0.5)
    for t in threads:
        t.join(timeout=10)
    metrics.close()
