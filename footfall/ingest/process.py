"""Run one or several ingest workers as processes, with clean shutdown on SIGTERM/SIGINT."""

import logging
import multiprocessing
import signal
import threading
from types import FrameType

from footfall.core.settings import Settings
from footfall.ingest.worker import IngestWorker, worker_client_id, worker_suffix

logger = logging.getLogger(__name__)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        logger.info("signal %s: finishing the batch in hand and stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _child(settings: Settings, index: int, count: int, log_level: str, log_format: str) -> None:
    from footfall.core.logs import configure

    configure(log_level, log_format)  # type: ignore[arg-type]
    port = settings.ingest.metrics_port
    settings = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"metrics_port": port + index if port else 0})}
    )
    stop = threading.Event()
    _stop_on_signals(stop)
    IngestWorker(
        settings,
        client_id=worker_client_id(settings.ingest.client_id, index, count),
        client_suffix=worker_suffix(index, count),
    ).run(stop)


def run_workers(settings: Settings, *, workers: int = 1) -> int:
    """Run `workers` consumers until SIGTERM/SIGINT; returns the exit code.

    One worker runs in this process. Several run as child processes (one Python
    interpreter each, so they use several cores), each with its own client id
    (`<client_id>-<n>`) and metrics port (`<metrics_port> + n`).
    """
    stop = threading.Event()
    _stop_on_signals(stop)
    if workers == 1:
        IngestWorker(settings).run(stop)
        return 0
    root = logging.getLogger()
    level = logging.getLevelName(root.level)
    fmt = "json" if any(type(h.formatter).__name__ == "JsonFormatter" for h in root.handlers) else "text"
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(
            target=_child,
            args=(settings, i, workers, level, fmt),  # pickled: secrets survive, unlike a JSON dump
            name=f"ingest-{i}",
        )
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    while not stop.wait(1.0):
        if any(not p.is_alive() for p in procs):
            logger.error("an ingest worker exited; stopping the others")
            break
    for p in procs:
        if p.is_alive() and p.pid is not None:
            p.terminate()  # SIGTERM: the child finishes its batch and disconnects
    for p in procs:
        p.join(60)
    return max((p.exitcode or 0) for p in procs)
