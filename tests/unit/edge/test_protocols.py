"""Device protocols: FFBEAM/1 lines, the HTTP push endpoint, MQTT-native payloads."""

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack as DoesNotRaise
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from footfall.core.clock import ManualClock
from footfall.core.topics import Kind
from footfall.edge.config import HttpCounter, HttpListen
from footfall.edge.drivers.base import CounterCore
from footfall.edge.drivers.http import HttpPushServer
from footfall.edge.drivers.mqtt import CounterPayload
from footfall.edge.drivers.tcp import parse_hello, parse_record
from footfall.edge.errors import DeviceReportError
from footfall.edge.outbox import Outbox
from tests.helpers import write_locked

T0 = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)
MS = int(T0.timestamp() * 1000)


@pytest.mark.parametrize(
    ("line", "expectation"),
    [
        # a well-formed record
        (f"C 17 3 123456 {MS} 1042 1017 OK", DoesNotRaise()),
        # a blocked sensor
        (f"C 18 3 123457 {MS} 1042 1017 BLOCKED", DoesNotRaise()),
        # a field missing
        (f"C 17 3 123456 {MS} 1042 OK", pytest.raises(DeviceReportError, match="record must be")),
        # a counter that is not a number
        (f"C 17 3 123456 {MS} 10x2 1017 OK", pytest.raises(DeviceReportError, match="not an integer")),
        # a negative counter
        (f"C 17 3 123456 {MS} -4 1017 OK", pytest.raises(DeviceReportError, match="negative")),
        # an unknown status
        (f"C 17 3 123456 {MS} 4 5 MAYBE", pytest.raises(DeviceReportError, match="OK or BLOCKED")),
        # a clock that was never set (1970)
        ("C 17 3 123456 0 4 5 OK", pytest.raises(DeviceReportError, match="out of range")),
    ],
)
def test_ffbeam_record_parsing(line: str, expectation) -> None:
    with expectation:
        rec, report = parse_record(line)
        assert rec in (17, 18)
        assert report.device_ts == T0
        assert (report.entries, report.exits, report.boot, report.uptime_ms) == (1042, 1017, 3, 123456 + rec - 17)
        assert report.blocked is line.endswith("BLOCKED")


@pytest.mark.parametrize(
    ("line", "expectation"),
    [
        # the protocol this driver speaks
        (f"HELLO FFBEAM/1 serial=B-1 fw=2.4.1 bits=16 boot=3 time={MS}", DoesNotRaise()),
        # another protocol version
        ("HELLO FFBEAM/2 serial=B-1", pytest.raises(DeviceReportError, match="this agent speaks FFBEAM/1")),
        # not key=value
        ("HELLO FFBEAM/1 serial", pytest.raises(DeviceReportError, match="not key=value")),
    ],
)
def test_ffbeam_hello_parsing(line: str, expectation) -> None:
    with expectation:
        fields = parse_hello(line)
        assert fields["bits"] == "16"


@pytest.mark.parametrize(
    ("payload", "entries", "time"),
    [
        # ISO time with a zone
        ('{"boot":3,"uptime_ms":5,"time":"2026-03-29T12:00:00+02:00","in":7,"out":2}', 7, T0),
        # milliseconds since the epoch, no boot or uptime
        (f'{{"time":{MS},"in":7,"out":2,"status":"blocked"}}', 7, T0),
    ],
)
def test_mqtt_counter_payload(payload: str, entries: int, time: datetime) -> None:
    p = CounterPayload.model_validate_json(payload)
    assert (p.entries, p.time) == (entries, time)


@pytest.fixture
def push_server(tmp_path: Path):
    clock = ManualClock(T0 + timedelta(seconds=61))
    outbox = Outbox.open(tmp_path / "outbox.db", synchronous="normal", busy_timeout_s=0.05)
    cfg = HttpCounter(
        id="stereo",
        driver="http",
        token="tok-123456",
        lines=[{"line": "entrance", "door": "main"}, {"line": "street", "door": "main", "passersby": True}],
    )
    core = CounterCore(
        device_id="stereo",
        doors=["main"],
        outbox=outbox,
        clock=clock,
        passersby_doors=["main"],
        line_doors={"entrance": ("main", False), "street": ("main", True)},
    )
    server = HttpPushServer(HttpListen(host="127.0.0.1", port=0), clock)
    server.add(cfg, core)
    server.start()
    yield server, core, outbox, clock
    server.stop()
    outbox.close()


def push(minute: int, *, forward: int = 3, backward: int = 1, street: int = 0) -> dict:
    start = T0 + timedelta(minutes=minute)
    end = start + timedelta(minutes=1)
    iv = {"from": start.isoformat(), "to": end.isoformat()}
    return {
        "sensor": {"serial": "XS-1", "time": end.isoformat()},
        "lines": [
            {"id": "entrance", "intervals": [{**iv, "forward": forward, "backward": backward}]},
            {"id": "street", "intervals": [{**iv, "forward": street, "backward": 0}]},
        ],
    }


AUTH = {"Authorization": "Bearer tok-123456"}


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "answer"),
    [
        # a good push is stored
        ("/v1/push/stereo", AUTH, push(0), 200, {"accepted": 2, "duplicates": 0}),
        # no token
        ("/v1/push/stereo", {}, push(0), 401, {"error": "wrong or missing bearer token"}),
        # a device the agent does not know
        ("/v1/push/ghost", AUTH, push(0), 404, {"error": "unknown device 'ghost'; add it to edge.yaml"}),
        # a line the device config does not have
        (
            "/v1/push/stereo",
            AUTH,
            {**push(0), "lines": [{"id": "back-door", "intervals": []}]},
            400,
            {"error": "unknown line(s) back-door; configured: entrance, street"},
        ),
        # an interval that ends before it starts
        (
            "/v1/push/stereo",
            AUTH,
            {
                **push(0),
                "lines": [
                    {
                        "id": "entrance",
                        "intervals": [{"from": T0.isoformat(), "to": T0.isoformat(), "forward": 1, "backward": 0}],
                    }
                ],
            },
            400,
            None,
        ),
    ],
)
def test_http_push_answers(push_server, path, headers, body, status, answer) -> None:
    server, *_ = push_server
    r = httpx.post(f"http://127.0.0.1:{server.port}{path}", json=body, headers=headers)
    assert r.status_code == status
    if answer is not None:
        assert r.json() == answer
    else:
        assert "`to` must be after `from`" in r.json()["error"]


def test_http_push_repeated_is_counted_once_and_a_malformed_one_changes_nothing(push_server) -> None:
    server, core, outbox, clock = push_server
    url = f"http://127.0.0.1:{server.port}/v1/push/stereo"
    assert httpx.post(url, json=push(0, street=9), headers=AUTH).json() == {"accepted": 2, "duplicates": 0}
    assert httpx.post(url, json=push(0, street=9), headers=AUTH).json() == {"accepted": 0, "duplicates": 2}
    assert httpx.post(url, content=b"{not json", headers=AUTH).status_code == 400
    clock.advance(60)
    assert httpx.post(url, json=push(1, forward=0, backward=0), headers=AUTH).status_code == 200
    readings = outbox.readings("stereo", Kind.COUNTS)
    assert [(r.start, r.entries, r.exits, r.passersby) for r in readings] == [
        (T0, 3, 1, 9),
        (T0 + timedelta(minutes=1), 0, 0, 0),  # a quiet minute is a zero
    ]
    assert core.health.errors == 1
    assert core.health.duplicates == 2


def test_http_push_answered_503_while_the_queue_is_locked_is_stored_when_resent(push_server) -> None:
    server, core, outbox, clock = push_server
    url = f"http://127.0.0.1:{server.port}/v1/push/stereo"
    assert httpx.post(url, json=push(0, forward=4, street=2), headers=AUTH).status_code == 200
    clock.advance(60)
    with write_locked(outbox.path):  # another process holds the queue's write lock
        refused = httpx.post(url, json=push(1, forward=5, backward=2, street=7), headers=AUTH)
    assert refused.status_code == 503
    assert refused.json() == {"error": "the agent cannot store data right now; retry"}
    resent = httpx.post(url, json=push(1, forward=5, backward=2, street=7), headers=AUTH)
    assert resent.json() == {"accepted": 2, "duplicates": 0}
    clock.advance(60)
    assert httpx.post(url, json=push(2, forward=0, backward=0), headers=AUTH).status_code == 200
    readings = outbox.readings("stereo", Kind.COUNTS)
    assert [(r.start, r.entries, r.exits, r.passersby) for r in readings] == [
        (T0, 4, 1, 2),
        (T0 + timedelta(minutes=1), 5, 2, 7),
        (T0 + timedelta(minutes=2), 0, 0, 0),
    ]
    assert core.health.duplicates == 0


def test_concurrent_resends_of_a_refused_push_are_stored_exactly_once(push_server) -> None:
    server, core, outbox, clock = push_server
    url = f"http://127.0.0.1:{server.port}/v1/push/stereo"
    body = push(0, forward=6, backward=2, street=5)

    def send(_: int) -> httpx.Response:
        return httpx.post(url, json=body, headers=AUTH)

    with ThreadPoolExecutor(4) as pool:
        with write_locked(outbox.path):
            assert [r.status_code for r in pool.map(send, range(4))] == [503] * 4
        answers = [r.json() for r in pool.map(send, range(4))]
    assert sorted(a["accepted"] for a in answers) == [0, 0, 0, 2]
    assert sum(a["duplicates"] for a in answers) == core.health.duplicates == 6
    clock.advance(60)
    assert httpx.post(url, json=push(1, forward=0, backward=0), headers=AUTH).status_code == 200
    readings = outbox.readings("stereo", Kind.COUNTS)
    assert [(r.start, r.entries, r.exits, r.passersby) for r in readings] == [
        (T0, 6, 2, 5),
        (T0 + timedelta(minutes=1), 0, 0, 0),
    ]
