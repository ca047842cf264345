#!/usr/bin/env python3
"""Container health checks for Footfall's images (installed as `footfall-healthcheck`).

Standard library only, so a check costs one small interpreter start and imports none of
Footfall. Exit 0 when healthy, 1 with one line on standard error saying why not:

    footfall-healthcheck http URL
        the URL answers 2xx within the timeout (the API's /healthz: its database answers);
    footfall-healthcheck metrics URL NAME=VALUE [NAME=VALUE ...]
        the Prometheus text at URL has each sample NAME (labels included, as exposed)
        equal to VALUE — ingest: `footfall_ingest_broker_connected=1
        footfall_ingest_database_up=1`;
    footfall-healthcheck queue MAX_AGE_S -- COMMAND ...
        COMMAND (`footfall edge queue --config … --json`) succeeds and its JSON says the
        oldest reading waiting in the edge agent's durable queue is younger than MAX_AGE_S
        (an empty queue is healthy).
"""

import json
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime

TIMEOUT_S = 4.0


class Unhealthy(Exception):
    """The check failed; the message says why."""


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:  # noqa: S310 - our own service's URL
            return resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise Unhealthy(f"{url}: HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unhealthy(f"{url}: {getattr(exc, 'reason', exc)}") from None


def check_http(url: str) -> str:
    """The URL answers 2xx (urllib raises on anything else)."""
    _get(url)
    return f"{url}: ok"


def parse_samples(text: str) -> dict[str, float]:
    """Sample name (with its labels as exposed) → value, from Prometheus text format."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if "}" in line:  # label values may hold spaces: the name ends at the last brace
            cut = line.rindex("}") + 1
            name, rest = line[:cut], line[cut:].split()
        else:
            name, *rest = line.split()
        try:
            out[name] = float(rest[0])  # `name value [timestamp]`
        except (IndexError, ValueError):
            continue
    return out


def check_metrics(url: str, wanted: list[str]) -> str:
    """Every NAME=VALUE in `wanted` holds in the metrics at `url`."""
    samples = parse_samples(_get(url))
    problems = []
    for item in wanted:
        name, sep, value = item.partition("=")
        if not sep:
            raise Unhealthy(f"{item!r}: write NAME=VALUE")
        if name not in samples:
            problems.append(f"{name} missing")
        elif samples[name] != float(value):
            problems.append(f"{name} is {samples[name]:g}, want {value}")
    if problems:
        raise Unhealthy(f"{url}: " + "; ".join(problems))
    return f"{url}: " + ", ".join(wanted)


def check_queue(max_age_s: float, command: list[str], *, now: datetime | None = None) -> str:
    """The edge agent's queue (`footfall edge queue --json`) holds nothing older than `max_age_s`."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S * 3, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unhealthy(f"{command[0]}: {exc}") from None
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).split())  # one line, however the CLI wrapped it
        raise Unhealthy(said or f"{' '.join(command)} exited {done.returncode}")
    try:
        stats = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise Unhealthy(f"not JSON from {' '.join(command)}: {done.stdout[:200]!r}") from None
    oldest = stats.get("oldest")
    if oldest is None:
        return f"queue empty ({stats.get('path')})"
    age = ((now or datetime.now(UTC)) - datetime.fromisoformat(oldest)).total_seconds()
    if age > max_age_s:
        raise Unhealthy(
            f"{stats.get('depth')} readings waiting, the oldest {age:.0f} s old (limit {max_age_s:g} s): "
            "the agent is not getting its readings to the broker"
        )
    return f"{stats.get('depth')} readings waiting, the oldest {age:.0f} s old"


def main(argv: list[str]) -> int:
    """Run one check; 0 healthy, 1 unhealthy, 2 usage."""
    try:
        if len(argv) == 2 and argv[0] == "http":
            line = check_http(argv[1])
        elif len(argv) >= 3 and argv[0] == "metrics":
            line = check_metrics(argv[1], argv[2:])
        elif len(argv) >= 4 and argv[0] == "queue" and argv[2] == "--":
            line = check_queue(float(argv[1]), argv[3:])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except Unhealthy as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
