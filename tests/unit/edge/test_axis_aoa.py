"""AXIS Object Analytics crossline counting: the documented sample, malformed events, "total since reset"."""

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from footfall.core.clock import ManualClock
from footfall.core.messages import Fault
from footfall.core.mqtt import MQTTMessage
from footfall.core.topics import Kind
from footfall.edge.config import AxisAoaCounter
from footfall.edge.drivers.base import CounterCore
from footfall.edge.drivers.mqtt import AxisAoaDriver
from footfall.edge.drivers.vendors import parse_axis_aoa
from footfall.edge.errors import DeviceReportError
from footfall.edge.outbox import Outbox

SAMPLE = (Path(__file__).parent / "vendor_payloads" / "axis_aoa_crossline.json").read_bytes()
T0 = datetime(2026, 3, 29, 10, 0, 5, tzinfo=UTC)


def mutated(change: Callable[[dict], object]) -> bytes:
    doc = json.loads(SAMPLE)
    change(doc)
    return json.dumps(doc).encode()


def test_sample_event_gives_the_humans_since_reset_at_a_utc_instant() -> None:
    ev = parse_axis_aoa(SAMPLE)
    assert ev.topic == "axis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario2"
    assert ev.serial == "B8A44F941234"
    assert ev.device_ts == datetime(2026, 3, 29, 10, 0, 41, 250_000, tzinfo=UTC)
    assert ev.humans == 42  # totalHuman; total (57) and totalCar are not people


def test_integer_counts_are_taken_like_strings() -> None:
    ev = parse_axis_aoa(mutated(lambda d: d["message"]["data"].update(totalHuman=42)))
    assert ev.humans == 42


def _set(path: str, value: object) -> Callable[[dict], object]:
    def change(doc: dict) -> None:
        *head, last = path.split(".")
        node = doc
        for key in head:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value

    return change


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (mutated(_set("topic", "axis:Device/IO/VirtualPort")), "not an Object Analytics scenario"),
        (mutated(_set("topic", KeyError)), "topic None"),
        (mutated(_set("timestamp", "2026-03-29T10:00:41Z")), "not milliseconds since the epoch"),
        (mutated(_set("timestamp", 1774778441)), "seconds, not milliseconds?"),
        (mutated(_set("timestamp", True)), "not milliseconds since the epoch"),
        (mutated(_set("timestamp", 17747784412500000)), "not between 2000 and 2100"),
        (mutated(_set("serial", 42)), "serial 42"),
        (mutated(_set("message", KeyError)), "message.data missing"),
        (mutated(_set("message.data", "42")), "message.data missing or not an object"),
        (mutated(_set("message.data.totalHuman", KeyError)), "totalHuman missing; it is sent by a crossline"),
        (mutated(_set("message.data.totalHuman", "-3")), "'-3', not a whole number"),
        (mutated(_set("message.data.totalHuman", "4.5")), "'4.5', not a whole number"),
        (mutated(_set("message.data.totalHuman", str(2**32))), "outside 0…4294967295"),
        (mutated(_set("message.data.totalHuman", None)), "None, not a count"),
        (mutated(_set("message.data.totalHuman", False)), "False, not a count"),
    ],
)
def test_malformed_events_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(DeviceReportError) as err:
        parse_axis_aoa(body)
    assert reason in str(err.value)
    assert str(err.value).startswith("AXIS AOA event")


def test_an_occupancy_event_is_refused_naming_the_fields_it_has() -> None:
    # Occupancy in area publishes the objects present (`total`, `human`), not totals since reset.
    occupancy = mutated(_set("message.data", {"scenario": "Occupancy", "total": "3", "human": "3"}))
    with pytest.raises(DeviceReportError, match=r"fields: human, scenario, total"):
        parse_axis_aoa(occupancy)


# -- "total since reset", one direction per scenario ----------------------------------------


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[CounterCore, Outbox, ManualClock, Path]]:
    clock = ManualClock(T0)
    outbox = Outbox.open(tmp_path / "outbox.db", synchronous="normal")
    core = CounterCore(device_id="cam", doors=["main"], outbox=outbox, clock=clock)
    yield core, outbox, clock, tmp_path
    outbox.close()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def counted(outbox: Outbox) -> dict[str, tuple[int, int]]:
    return {
        r.start.strftime("%H:%M"): (r.entries, r.exits)
        for r in outbox.readings("cam", Kind.COUNTS)
        if r.entries or r.exits
    }


def test_entry_and_exit_scenarios_count_apart_each_first_event_is_its_baseline(rig) -> None:
    core, outbox, _, _ = rig
    core.ingest_direction_total(at(0), "in", 40)  # baseline of the entry scenario
    core.ingest_direction_total(at(10), "in", 41)
    core.ingest_direction_total(at(20), "out", 17)  # baseline of the exit scenario: the entries stay
    core.ingest_direction_total(at(30), "in", 43)
    core.ingest_direction_total(at(70), "out", 19)
    core.ingest_direction_total(at(130), "in", 43)  # a car: humans unchanged, the minutes move on
    assert counted(outbox) == {"10:00": (3, 0), "10:01": (0, 2)}
    assert core.health.resets == 0


def test_resends_and_stale_events_are_duplicates_per_direction(rig) -> None:
    core, outbox, _, _ = rig
    core.ingest_direction_total(at(0), "in", 5)
    core.ingest_direction_total(at(1), "out", 2)
    core.ingest_direction_total(at(10), "in", 6)
    core.ingest_direction_total(at(10), "in", 6)  # QoS 1 re-delivery: same timestamp
    core.ingest_direction_total(at(8), "in", 5)  # an older event arriving late
    # An exit event older than the last entry event is not stale: directions are ordered apart.
    core.ingest_direction_total(at(9), "out", 3)
    core.ingest_direction_total(at(130), "in", 6)
    assert counted(outbox) == {"10:00": (1, 1)}
    assert core.health.duplicates == 2
    assert core.health.resets == 0


def test_a_reset_of_the_accumulated_counts_counts_the_new_total_and_is_a_fault(rig) -> None:
    core, outbox, _, _ = rig
    core.ingest_direction_total(at(0), "in", 500)
    core.ingest_direction_total(at(10), "in", 502)
    core.ingest_direction_total(at(20), "in", 1)  # reset (or camera restart) then one human
    core.ingest_direction_total(at(130), "in", 1)
    assert counted(outbox) == {"10:00": (3, 0)}
    assert Fault.COUNTER_RESET in core.sensor_health(silent_after_s=120, clock_tolerance_s=5).faults


def test_an_agent_restart_keeps_baselines_and_per_direction_order(rig) -> None:
    core, outbox, clock, _ = rig
    core.ingest_direction_total(at(0), "in", 10)
    core.ingest_direction_total(at(1), "out", 4)
    core.ingest_direction_total(at(10), "in", 12)
    again = CounterCore(device_id="cam", doors=["main"], outbox=outbox, clock=clock)
    again.ingest_direction_total(at(10), "in", 12)  # re-delivered after the restart
    again.ingest_direction_total(at(20), "out", 5)
    again.ingest_direction_total(at(130), "in", 12)
    assert counted(outbox) == {"10:00": (2, 1)}
    assert again.health.duplicates == 1


# -- configuration and the driver's refusals -------------------------------------------------


def cfg(**kw: object) -> AxisAoaCounter:
    base: dict[str, object] = {
        "id": "cam",
        "driver": "axis_aoa",
        "door": "main",
        "entry_topic": "axis/B8A44F941234/event/CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1",
        "exit_topic": "axis/B8A44F941234/event/CameraApplicationPlatform/ObjectAnalytics/Device1Scenario2",
    }
    return AxisAoaCounter.model_validate(base | kw)


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"entry_topic": "axis/+/event/#"}, "must not contain wildcards"),
        ({"exit_topic": "axis/B8A44F941234/event/CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1"}, "same"),
        ({"serial": "B8-A4-4F"}, "serial"),
        ({"entry_topic": ""}, "entry_topic"),
    ],
)
def test_bad_configuration_is_refused(kw: dict, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        cfg(**kw)


def _msg(topic: str, payload: bytes) -> MQTTMessage:
    m = MQTTMessage(mid=1, topic=topic.encode())
    m.payload = payload
    m.qos = 0  # nothing to acknowledge on an unconnected client
    return m


def test_driver_counts_malformed_and_foreign_events_as_errors_and_carries_on(rig) -> None:
    core, outbox, clock, _ = rig
    dev = cfg(serial="B8A44F941234")
    driver = AxisAoaDriver(dev, core, clock, agent_id="edge-test")

    def event(ms: int, humans: int, serial: str = "B8A44F941234") -> bytes:
        doc = json.loads(SAMPLE)
        doc.update(timestamp=ms, serial=serial)
        doc["message"]["data"]["totalHuman"] = str(humans)
        return json.dumps(doc).encode()

    ms0 = int(T0.timestamp() * 1000)
    exit_topic = dev.exit_topic or ""

    def deliver(ms: int, topic: str, payload: bytes) -> None:
        clock.set(datetime.fromtimestamp(ms / 1000, UTC))  # the camera's clock is right
        driver._on_message(_msg(topic, payload))

    deliver(ms0, dev.entry_topic, event(ms0, 7))
    deliver(ms0 + 1000, dev.entry_topic, b'{"topic": "axis:CameraApplicationPlatform/ObjectAnalytics/x"}')
    deliver(ms0 + 2000, dev.entry_topic, event(ms0 + 2000, 99, serial="ACCC8E000000"))  # another camera
    deliver(ms0 + 3000, dev.entry_topic, event(ms0 + 3000, 9))
    deliver(ms0 + 4000, exit_topic, event(ms0 + 4000, 3))
    deliver(ms0 + 5000, exit_topic, event(ms0 + 5000, 4))
    deliver(ms0 + 130_000, dev.entry_topic, event(ms0 + 130_000, 9))
    assert counted(outbox) == {"10:00": (2, 1)}
    assert core.health.errors == 2


def test_quiet_minutes_close_once_subscribed_long_enough_and_not_while_away(rig) -> None:
    core, outbox, clock, _ = rig
    driver = AxisAoaDriver(cfg(quiet_s=30), core, clock, agent_id="edge-test")
    driver.tick()  # never subscribed, no baseline: nothing
    core.health.connected = True
    driver._subscribed_at = clock.monotonic()
    core.ingest_direction_total(at(0), "in", 10)
    core.ingest_direction_total(at(20), "in", 12)
    clock.set(at(70))
    driver.tick()  # 70 - 30 = 40 s past T0: 10:00 not over yet
    assert counted(outbox) == {}
    clock.set(at(90))
    driver.tick()  # observed up to 10:01:05
    assert counted(outbox) == {"10:00": (2, 0)}
    core.ingest_direction_total(at(100), "in", 13)
    driver._subscribed_at = None  # disconnected: silence says nothing
    clock.set(at(200))
    driver.tick()
    assert counted(outbox) == {"10:00": (2, 0)}
    driver._subscribed_at = clock.monotonic()  # back: events kept by the broker come first
    driver.tick()
    assert counted(outbox) == {"10:00": (2, 0)}
    clock.set(at(240))
    driver.tick()
    assert counted(outbox) == {"10:00": (2, 0), "10:01": (1, 0)}
