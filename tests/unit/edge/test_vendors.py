"""Vendor counter formats: sample payloads from public documentation, malformed ones, counter semantics."""

import copy
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from footfall.core.clock import ManualClock
from footfall.core.errors import ConfigError
from footfall.core.messages import Fault
from footfall.core.topics import Kind
from footfall.edge.config import A3dpcCounter, AxisLiveCounter, EdgeConfig, HttpListen, XovisCounter
from footfall.edge.drivers.base import CounterCore, CumulativeReport
from footfall.edge.drivers.http import HttpPushServer
from footfall.edge.drivers.poll import A3dpcDriver, AxisLiveDriver
from footfall.edge.drivers.vendors import (
    A3DPC_LINE,
    parse_a3dpc_export,
    parse_axis_live_sum,
    parse_xovis_json,
    parse_xovis_xml,
)
from footfall.edge.errors import DeviceReportError
from footfall.edge.outbox import Outbox

PAYLOADS = Path(__file__).parent / "vendor_payloads"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def sample(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def mutated(name: str, change: Callable[[dict], object]) -> bytes:
    doc = json.loads(sample(name))
    change(doc)
    return json.dumps(doc).encode()


# -- Xovis line count data (JSON) -----------------------------------------------------------


def test_xovis_line_count_sample_gives_interval_counts_per_element_in_utc() -> None:
    push = parse_xovis_json(sample("xovis_line_count.json"))
    assert push.serial == "80:1F:12:73:2F:A4"
    assert push.sensor_time == datetime(2026, 3, 29, 10, 2, 1, tzinfo=UTC)
    assert push.lines == ["Entrance", "Street"]
    got = [(iv.line, iv.start.astimezone(UTC).strftime("%H:%M"), iv.forward, iv.backward) for iv in push.intervals]
    assert got == [
        ("Entrance", "10:00", 4, 1),
        ("Entrance", "10:01", 0, 2),
        ("Street", "10:00", 7, 5),
        ("Street", "10:01", 3, 6),
    ]


def _xv(path: str, value: object) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        *parents, last = path.split("/")
        node: object = doc
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]  # type: ignore[index]
        if value is KeyError:
            del node[int(last) if isinstance(node, list) else last]  # type: ignore[union-attr, arg-type]
        else:
            node[int(last) if isinstance(node, list) else last] = value  # type: ignore[index]

    return change


M0 = "content/element/0/measurement/0"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # the sensor's clock is missing
        (_xv("sensor-time", KeyError), r"sensor-time: Field required"),
        # a time without a UTC offset
        (_xv("sensor-time/time", "2026-03-29T12:02:01"), r"sensor-time\.time: .*timezone"),
        # a count that is negative
        (
            _xv(f"{M0}/value/0/value", -1),
            r"content\.element\.0\.measurement\.0\.value\.0\.value: .*greater than or equal to 0",
        ),
        # a count sent as a string
        (_xv(f"{M0}/value/0/value", "4"), r"value\.0\.value: Input should be a valid integer"),
        # a count wider than 32 bits
        (_xv(f"{M0}/value/1/value", 2**40), r"value\.1\.value: .*less than or equal to 4294967295"),
        # no backward count
        (_xv(f"{M0}/value", [{"value": 4, "label": "fw"}]), r"measurement\.0: .*exactly one value labelled 'bw'"),
        # an interval that ends before it starts
        (_xv(f"{M0}/to", "2026-03-29T11:59:00+02:00"), r"measurement\.0: .*`to` must be after `from`"),
        # no element name
        (_xv("content/element/1/element-name", KeyError), r"content\.element\.1\.element-name: Field required"),
        # two elements with one name
        (_xv("content/element/1/element-name", "Entrance"), r"element-name Entrance appears twice"),
        # content is not an object
        (_xv("content", [1, 2]), r"content: Input should be a valid dictionary"),
    ],
)
def test_malformed_xovis_json_is_refused_naming_the_field(change: Callable[[dict], None], reason: str) -> None:
    with pytest.raises(DeviceReportError, match=reason):
        parse_xovis_json(mutated("xovis_line_count.json", change))


@pytest.mark.parametrize(
    ("body", "reason"), [(b"", "not JSON"), (b'{"sensor-time": ', "not JSON"), (b"\xff\xfe", "not JSON")]
)
def test_xovis_body_that_is_not_json_is_refused(body: bytes, reason: str) -> None:
    with pytest.raises(DeviceReportError, match=reason):
        parse_xovis_json(body)


# -- Xovis count data (XML) -----------------------------------------------------------------


def test_xovis_count_data_sample_gives_cumulative_totals_per_line() -> None:
    data = parse_xovis_xml(sample("xovis_count_data.xml"))
    assert data.device_ts == datetime(2020, 5, 5, 9, 20, 47, tzinfo=UTC)
    assert data.totals == {"Line 0": (1042, 1017), "Street": (5120, 4999)}


XML = sample("xovis_count_data.xml").decode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # cut off mid-document
        (XML[:200], "not well-formed XML"),
        # an entity expansion (billion laughs) is refused, not expanded
        ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><count-data>&a;</count-data>', "refused XML feature"),
        # another document
        (XML.replace("count-data", "sensor-status"), r"root element is <sensor-status>"),
        # a count that is not a number
        (XML.replace("<fw-count>1042<", "<fw-count>10x2<"), r"line 1 \('Line 0'\): <fw-count> is '10x2'"),
        # a negative count
        (XML.replace("<bw-count>4999<", "<bw-count>-3<"), r"line 2 \('Street'\): <bw-count> is '-3'"),
        # a count missing
        (XML.replace("<bw-count>1017</bw-count>", ""), r"line 1 \('Line 0'\): <bw-count> missing"),
        # a time without offset
        (XML.replace("11:20:47+02:00", "11:20:47"), "has no UTC offset"),
        # no time
        (XML.replace("2020-05-05T11:20:47+02:00", ""), "<sensor-time> missing"),
        # a line without a name
        (XML.replace('name="Street" ', ""), "line 2: attribute name missing"),
        # the sensor says the request failed
        (XML.replace(">OK<", ">ERROR<"), "request-status is 'ERROR'"),
    ],
)
def test_malformed_xovis_xml_is_refused_naming_the_element(body: str, reason: str) -> None:
    with pytest.raises(DeviceReportError, match=reason):
        parse_xovis_xml(body.encode())


# -- AXIS People Counter live sum -----------------------------------------------------------


def test_axis_live_sum_sample_is_read_in_the_cameras_time_zone() -> None:
    live = parse_axis_live_sum(sample("axis_live_sum.json"), STOCKHOLM)
    assert (live.serial, live.name, live.entries, live.exits) == ("00408CAC512B", "Exit south", 12, 318)
    assert live.device_ts.astimezone(UTC) == datetime(2017, 5, 3, 9, 27, 56, tzinfo=UTC)  # CEST = UTC+2
    assert live.day.isoformat() == "2017-05-03"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_xv("in", KeyError), r"in: Field required"),
        (_xv("out", -2), r"out: .*greater than or equal to 0"),
        (_xv("in", 12.5), r"in: Input should be a valid integer"),
        (_xv("in", True), r"in: Input should be a valid integer"),
        (_xv("timestamp", "2017-05-03 11:27:56"), r"timestamp: String should match pattern"),
        (_xv("timestamp", "20171303112756"), r"timestamp '20171303112756' is not in the format"),
        (_xv("serial", KeyError), r"serial: Field required"),
    ],
)
def test_malformed_axis_live_sum_is_refused_naming_the_field(change: Callable[[dict], None], reason: str) -> None:
    with pytest.raises(DeviceReportError, match=reason):
        parse_axis_live_sum(mutated("axis_live_sum.json", change), STOCKHOLM)


# -- AXIS 3D People Counter export ----------------------------------------------------------


def test_a3dpc_export_sample_gives_sorted_minutes_in_utc() -> None:
    rows = parse_a3dpc_export(sample("a3dpc_export.json"), STOCKHOLM)
    assert [(iv.line, iv.start.strftime("%H:%M"), iv.forward, iv.backward) for iv in rows] == [
        (A3DPC_LINE, "22:00", 0, 1),  # 00:00 CEST on the 23rd is 22:00 UTC on the 22nd
        (A3DPC_LINE, "22:01", 2, 0),
        (A3DPC_LINE, "22:02", 5, 3),
    ]
    assert all(iv.end - iv.start == timedelta(minutes=1) for iv in rows)


def test_a3dpc_export_across_the_spring_dst_gap_keeps_minutes_one_minute_long() -> None:
    body = json.dumps(
        {"data": [{"start": "2026-03-29 01:59:00", "end": "2026-03-29 03:00:00", "in": 1, "out": 0}]}
    ).encode()  # 02:00 local does not exist that night: 01:59 CET → 03:00 CEST is one minute
    (iv,) = parse_a3dpc_export(body, STOCKHOLM)
    assert iv.end - iv.start == timedelta(minutes=1)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_xv("data", KeyError), r"A3DPC export: data: Field required"),
        (_xv("data/1/in", KeyError), r"data\.1\.in: Field required"),
        (_xv("data/2/out", "3"), r"data\.2\.out: Input should be a valid integer"),
        (
            _xv("data/0/start", "23.09.2020 00:01"),
            r"data\.0 \(row 1\): start '23\.09\.2020 00:01' is not in the format",
        ),
        (_xv("data/2/end", "2020-09-23 00:02:00"), r"data\.2 \(row 3\): end 2020-09-23 00:02:00 is not after start"),
        (_xv("data/0", "0,0"), r"data\.0: Input should be a valid dictionary"),
    ],
)
def test_malformed_a3dpc_export_is_refused_naming_the_row(change: Callable[[dict], None], reason: str) -> None:
    with pytest.raises(DeviceReportError, match=reason):
        parse_a3dpc_export(mutated("a3dpc_export.json", change), STOCKHOLM)


# -- counter semantics in the core ----------------------------------------------------------

T0 = datetime(2026, 3, 29, 21, 58, tzinfo=UTC)  # 23:58 in Stockholm (CEST)


@pytest.fixture
def live_rig(tmp_path: Path) -> Iterator[tuple[CounterCore, Outbox, ManualClock]]:
    clock = ManualClock(T0)
    outbox = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    core = CounterCore(device_id="axis", doors=["side"], outbox=outbox, clock=clock)
    core.health.connected = True
    yield core, outbox, clock
    outbox.close()


def live(seconds: float, entries: int, exits: int = 0, *, new_day: bool = False) -> CumulativeReport:
    return CumulativeReport(
        device_ts=T0 + timedelta(seconds=seconds),
        entries=entries,
        exits=exits,
        ordered_by_time=True,
        period_reset=new_day,
    )


def counted(outbox: Outbox, device: str) -> dict[str, tuple[int, int, int | None]]:
    return {
        r.start.strftime("%H:%M"): (r.entries, r.exits, r.passersby)
        for r in outbox.readings(device, Kind.COUNTS)
        if r.entries or r.exits or r.passersby
    }


def test_live_sum_restarting_at_midnight_counts_the_new_days_people_without_a_fault(live_rig) -> None:
    core, outbox, _ = live_rig
    core.observe_clock(device_ts=T0, received=T0)
    core.ingest([live(5, 300, 280), live(65, 304, 281)])  # 23:59:05: 4 in, 1 out
    # 00:00:35 local: a new day; the live sum restarted at zero and counted 2 in, 1 out since
    # midnight. The day change decides, not whether the values went down.
    core.ingest([live(125 + 30, 2, 1, new_day=True), live(185 + 30, 5, 1)])
    core.ingest([live(300, 5, 1)])
    assert counted(outbox, "axis") == {"21:59": (4, 1, None), "22:00": (2, 1, None), "22:01": (3, 0, None)}
    assert core.health.period_resets == 1
    assert Fault.COUNTER_RESET not in core.sensor_health(silent_after_s=120, clock_tolerance_s=5).faults


def test_live_sum_snapshots_are_ordered_by_time_a_stale_one_is_a_duplicate_not_a_reset(live_rig) -> None:
    core, outbox, _ = live_rig
    core.observe_clock(device_ts=T0, received=T0)
    core.ingest([live(5, 100), live(20, 103), live(20, 103), live(15, 101), live(70, 104)])
    core.ingest([live(130, 104)])
    assert counted(outbox, "axis") == {"21:58": (3, 0, None), "21:59": (1, 0, None)}
    assert core.health.duplicates == 2
    assert core.health.resets == 0


def test_live_sum_going_down_without_a_new_day_is_taken_as_cleared_by_hand(live_rig) -> None:
    core, outbox, _ = live_rig
    core.ingest([live(5, 100), live(20, 3), live(130, 3)])
    assert counted(outbox, "axis") == {"21:58": (3, 0, None)}
    assert Fault.COUNTER_RESET in core.sensor_health(silent_after_s=120, clock_tolerance_s=5).faults


# -- the Xovis push endpoint ----------------------------------------------------------------


@pytest.fixture
def xovis(tmp_path: Path) -> Iterator[tuple[str, CounterCore, Outbox, ManualClock]]:
    clock = ManualClock(datetime(2026, 3, 29, 10, 2, 1, tzinfo=UTC))
    outbox = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    cfg = XovisCounter(
        id="xovis",
        driver="xovis",
        token="tok-123456",
        lines=[
            {"line": "Entrance", "door": "main"},
            {"line": "Street", "door": "main", "passersby": True},
        ],
    )
    core = CounterCore(
        device_id="xovis",
        doors=["main"],
        outbox=outbox,
        clock=clock,
        passersby_doors=["main"],
        line_doors={"Entrance": ("main", False), "Street": ("main", True)},
    )
    server = HttpPushServer(HttpListen(host="127.0.0.1", port=0), clock)
    server.add(cfg, core)
    server.start()
    yield f"http://127.0.0.1:{server.port}/v1/push/xovis", core, outbox, clock
    server.stop()
    outbox.close()


AUTH = {"Authorization": "Bearer tok-123456"}


def test_xovis_json_push_is_stored_and_its_resend_is_a_duplicate(xovis) -> None:
    url, core, outbox, _ = xovis
    body = sample("xovis_line_count.json")
    first = httpx.post(url, content=body, headers=AUTH)
    assert first.status_code == HTTPStatus.OK, first.text
    assert first.json() == {"accepted": 4, "duplicates": 0, "ignored_lines": []}
    again = httpx.post(url, content=body, headers=AUTH)  # the sensor did not see the answer
    assert again.json() == {"accepted": 0, "duplicates": 4, "ignored_lines": []}
    # 10:01 is emitted once a later interval moves the sensor's watermark past it
    assert counted(outbox, "xovis") == {"10:00": (4, 1, 12)}
    assert core.book.pending == {"entries": 0, "exits": 2}


def test_xovis_malformed_push_is_refused_with_the_reason_and_counted(xovis) -> None:
    url, core, outbox, _ = xovis
    bad = mutated("xovis_line_count.json", _xv(f"{M0}/value/0/value", -1))
    answer = httpx.post(url, content=bad, headers=AUTH)
    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert "measurement.0.value.0.value" in answer.json()["error"]
    assert core.health.errors == 1
    assert outbox.readings("xovis", Kind.COUNTS) == []
    assert httpx.post(url, content=sample("xovis_line_count.json")).status_code == HTTPStatus.UNAUTHORIZED


def test_xovis_elements_not_configured_are_ignored_and_named(xovis) -> None:
    url, _, outbox, _ = xovis
    body = mutated("xovis_line_count.json", _xv("content/element/1/element-name", "Zone 3"))
    answer = httpx.post(url, content=body, headers=AUTH)
    assert answer.json() == {"accepted": 2, "duplicates": 0, "ignored_lines": ["Zone 3"]}
    assert counted(outbox, "xovis") == {"10:00": (4, 1, 0)}


def test_xovis_xml_count_data_push_is_cumulative_per_line(xovis) -> None:
    url, core, outbox, clock = xovis

    def xml(at: datetime, entrance: tuple[int, int], street: tuple[int, int]) -> bytes:
        return (
            XML.replace('name="Line 0"', 'name="Entrance"')
            .replace("<fw-count>1042<", f"<fw-count>{entrance[0]}<")
            .replace("<bw-count>1017<", f"<bw-count>{entrance[1]}<")
            .replace("<fw-count>5120<", f"<fw-count>{street[0]}<")
            .replace("<bw-count>4999<", f"<bw-count>{street[1]}<")
            .replace("2020-05-05T11:20:47+02:00", at.astimezone(STOCKHOLM).isoformat())
        ).encode()

    t = clock.now()
    for seconds, entrance, street in [(0, (10, 5), (50, 40)), (30, (13, 6), (52, 40)), (90, (14, 6), (52, 41))]:
        clock.set(t + timedelta(seconds=seconds))
        answer = httpx.post(url, content=xml(clock.now(), entrance, street), headers=AUTH)
        assert answer.status_code == HTTPStatus.OK, answer.text
    stale = httpx.post(url, content=xml(t + timedelta(seconds=30), (13, 6), (52, 40)), headers=AUTH)
    assert stale.status_code == HTTPStatus.OK
    clock.set(t + timedelta(seconds=130))
    httpx.post(url, content=xml(clock.now(), (14, 6), (52, 41)), headers=AUTH)
    assert counted(outbox, "xovis") == {"10:02": (3, 1, 2), "10:03": (1, 0, 1)}
    assert core.health.duplicates >= 1
    missing = httpx.post(url, content=XML.encode(), headers=AUTH)  # "Line 0", no "Entrance"
    assert missing.status_code == HTTPStatus.BAD_REQUEST
    assert "configured line(s) Entrance missing" in missing.json()["error"]


# -- configuration --------------------------------------------------------------------------


BASE = {"store_id": "riga-01", "device_id": "riga-01-edge"}


def test_vendor_devices_in_edge_yaml_are_checked_naming_the_field() -> None:
    cfg = EdgeConfig.from_data(
        {
            **BASE,
            "devices": [
                {"id": "x", "driver": "xovis", "lines": [{"line": "Entrance", "door": "main"}]},
                {"id": "a", "driver": "axis_live", "url": "http://10.0.0.5", "door": "side", "timezone": "Europe/Riga"},
                {"id": "b", "driver": "axis_a3dpc", "url": "http://10.0.0.6:8080", "door": "staff", "timezone": "UTC"},
            ],
        }
    )
    assert [d.driver for d in cfg.devices] == ["xovis", "axis_live", "axis_a3dpc"]
    bad = copy.deepcopy(BASE) | {
        "devices": [
            {"id": "a", "driver": "axis_live", "url": "http://10.0.0.5/x", "door": "side", "timezone": "Mars/Olympus"}
        ]
    }
    with pytest.raises(ConfigError) as err:
        EdgeConfig.from_data(bad)
    assert "devices.0.axis_live.url" in str(err.value)
    bad["devices"][0]["url"] = "http://10.0.0.5"
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        EdgeConfig.from_data(bad)


# -- the pollers' answers to a refusing or absent camera -------------------------------------


class _Refusing(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="AXIS"')
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def refusing_camera() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_camera_refusing_the_credentials_is_counted_logged_with_the_fix_and_disconnected(
    refusing_camera: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(T0)
    outbox = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    core = CounterCore(device_id="axis", doors=["side"], outbox=outbox, clock=clock)
    cfg = AxisLiveCounter(id="axis", driver="axis_live", url=refusing_camera, door="side", timezone="Europe/Riga")
    driver = AxisLiveDriver(cfg, core, clock)
    try:
        driver.poll_once()
    finally:
        driver.stop()
        outbox.close()
    assert core.health.errors == 1
    assert "set username and password_file" in caplog.text
    assert Fault.DISCONNECTED in core.sensor_health(silent_after_s=120, clock_tolerance_s=5).faults


def test_an_unreachable_camera_is_disconnected_and_the_driver_carries_on(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    outbox = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    core = CounterCore(
        device_id="a3dpc", doors=["staff"], outbox=outbox, clock=clock, line_doors={A3DPC_LINE: ("staff", False)}
    )
    cfg = A3dpcCounter(
        id="a3dpc", driver="axis_a3dpc", url="http://127.0.0.1:9", door="staff", timezone="UTC", timeout_s=2
    )
    driver = A3dpcDriver(cfg, core, clock)
    try:
        driver.poll_once()
        driver.poll_once()
    finally:
        driver.stop()
        outbox.close()
    assert driver.polls == 0
    assert core.health.connected is False
    assert core.health.errors == 0  # nothing malformed was received
