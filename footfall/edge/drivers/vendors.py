"""Parsers of commercial people counters' own formats: Xovis and Axis, strictly validated.

Pure functions from the bytes a device sent (or answered) to the driver's report types;
each raises `DeviceReportError` naming the field (or XML element, or CSV-like row) and
what is wrong with it, so a malformed payload is refused with a reason and counted,
never half-applied. The drivers that receive or fetch these payloads are in
`footfall.edge.drivers.http` (Xovis pushes) and `footfall.edge.drivers.poll` (Axis).

Where each format comes from (public sources; see docs/edge.md, "Vendor counters"):

- **Xovis line count data push, JSON** (PC-series firmware 3.x/4.x "Line count data",
  push format JSON): `sensor-time`, `sensor-info`, `content.element[]` with
  `element-name`, `element-id` and `measurement[]` of `from`/`to` and `value[]` of
  `{label, value}`. Interval counts per count line. Field names as used by
  github.com/hennedo/xovis-prometheus-exporter (line_count.go) and
  github.com/sdu-cfei/xovis-driver (src/xovis-driver); the labels `fw`/`bw` are
  Xovis's forward/backward names (also in the XML `fw-count`/`bw-count` below).
- **Xovis count data, XML** (`<count-data xmlns="http://www.xovis.com/count-data">`):
  cumulative `fw-count`/`bw-count` per `<line name id>` since the last reset, with
  `sensor-time`; sample in github.com/PlaceOS/drivers
  (drivers/xovis/sensor_api_spec.cr). No public sample of the "XML v2" *push* was
  found; the agent accepts this document pushed to the same endpoint.
- **AXIS People Counter live sum** (`/local/tvpc/.api?live-sum.json`):
  `{"serial", "name", "timestamp": "YYYYMMDDhhmmss", "in", "out"}` — cumulative,
  camera local time without an offset (developer.axis.com/vapix/applications/people-counter-api).
- **AXIS P8815-2 3D People Counter export** (`/a3dpc/api/export/json?start&end&resolution`):
  `{"data": [{"start": "YYYY-MM-DD hh:mm:ss", "end": …, "in", "out"}]}` — interval
  counts in local time (AXIS P8815-2 API specification, manualmachine.com/axis/p88152/26760032-api).
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from footfall.core.configfile import format_errors
from footfall.edge.drivers.base import IntervalCount
from footfall.edge.errors import DeviceReportError

MAX_COUNT = 2**32 - 1
"""No vendor counter here is wider than 32 bits; a larger value is a broken payload."""

MAX_INTERVAL_S = 24 * 3600


def _validation(exc: ValidationError, what: str) -> DeviceReportError:
    return DeviceReportError(f"{what}: {format_errors(exc, empty='body')[0]}")


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeviceReportError(f"{what}: not JSON ({exc})") from None


# -- Xovis line count data push (JSON) ------------------------------------------------------


class _Loose(BaseModel):
    # Vendors add fields between firmware versions: unknown fields are ignored, the ones
    # the agent uses are strictly typed.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _XovisValue(_Loose):
    label: str = Field(min_length=1, max_length=64)
    value: int = Field(ge=0, le=MAX_COUNT, strict=True)


class _XovisMeasurement(_Loose):
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")
    value: list[_XovisValue] = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _check(self) -> "_XovisMeasurement":
        if self.end <= self.start:
            raise ValueError("`to` must be after `from`")
        if (self.end - self.start).total_seconds() > MAX_INTERVAL_S:
            raise ValueError("a measurement may span at most one day")
        labels = [v.label.lower() for v in self.value]
        for needed in ("fw", "bw"):
            if labels.count(needed) != 1:
                raise ValueError(f"needs exactly one value labelled {needed!r}; labels: {', '.join(labels)}")
        return self

    def count(self, label: str) -> int:
        return next(v.value for v in self.value if v.label.lower() == label)


class _XovisElement(_Loose):
    element_id: int | str | None = Field(default=None, alias="element-id")
    element_name: str = Field(alias="element-name", min_length=1, max_length=128)
    measurement: list[_XovisMeasurement] = Field(max_length=10_000)


class _XovisContent(_Loose):
    element: list[_XovisElement] = Field(max_length=64)


class _XovisSensorTime(_Loose):
    time: AwareDatetime
    timezone: str | None = Field(default=None, max_length=64)


class _XovisSensorInfo(_Loose):
    serial_number: str = Field(default="", alias="serial-number", max_length=64)
    name: str = Field(default="", max_length=128)


class _XovisPush(_Loose):
    sensor_time: _XovisSensorTime = Field(alias="sensor-time")
    sensor_info: _XovisSensorInfo = Field(default_factory=_XovisSensorInfo, alias="sensor-info")
    content: _XovisContent


@dataclass(frozen=True, slots=True)
class XovisIntervals:
    """A Xovis line count push: the sensor's clock now, and interval counts per element name."""

    sensor_time: datetime
    serial: str
    intervals: list[IntervalCount]

    @property
    def lines(self) -> list[str]:
        """Element names in the push, in order."""
        return list(dict.fromkeys(iv.line for iv in self.intervals))


def parse_xovis_json(body: bytes) -> XovisIntervals:
    """Parse a Xovis line count data push (JSON); lines are named by their `element-name`.

    Raises:
        DeviceReportError: not JSON, or a field is missing or wrong; the message names it.
    """
    try:
        push = _XovisPush.model_validate(_json(body, "Xovis push"))
    except ValidationError as exc:
        raise _validation(exc, "Xovis push") from None
    names = [el.element_name for el in push.content.element]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DeviceReportError(f"Xovis push: content.element: element-name {', '.join(dup)} appears twice")
    intervals = [
        IntervalCount(line=el.element_name, start=m.start, end=m.end, forward=m.count("fw"), backward=m.count("bw"))
        for el in push.content.element
        for m in el.measurement
    ]
    return XovisIntervals(push.sensor_time.time, push.sensor_info.serial_number, intervals)


# -- Xovis count data (XML) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineTotals:
    """Cumulative forward/backward counts per count line at the device's `device_ts`."""

    device_ts: datetime
    totals: dict[str, tuple[int, int]]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el: Element, name: str) -> Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _xml_int(el: Element, name: str, where: str) -> int:
    c = _child(el, name)
    if c is None:
        raise DeviceReportError(f"Xovis count data: {where}: <{name}> missing")
    text = (c.text or "").strip()
    if not re.fullmatch(r"\d{1,10}", text):
        raise DeviceReportError(f"Xovis count data: {where}: <{name}> is {text!r}, not a whole number ≥ 0")
    value = int(text)
    if value > MAX_COUNT:
        raise DeviceReportError(f"Xovis count data: {where}: <{name}> {value} is wider than 32 bits")
    return value


def parse_xovis_xml(body: bytes) -> LineTotals:
    """Parse a Xovis `count-data` XML document (cumulative counts per line).

    Raises:
        DeviceReportError: not well-formed XML, entities (refused), or an element is
            missing or wrong; the message names it.
    """
    try:
        root = SafeET.fromstring(body)
    except DefusedXmlException as exc:
        raise DeviceReportError(f"Xovis count data: refused XML feature ({type(exc).__name__})") from None
    except SafeET.ParseError as exc:
        raise DeviceReportError(f"Xovis count data: not well-formed XML ({exc})") from None
    if _local(root.tag) != "count-data":
        raise DeviceReportError(f"Xovis count data: root element is <{_local(root.tag)}>, not <count-data>")
    status = next((e for e in root.iter() if _local(e.tag) == "status"), None)
    if status is not None and (status.text or "").strip() not in ("", "OK"):
        raise DeviceReportError(f"Xovis count data: request-status is {(status.text or '').strip()!r}, not OK")
    st = _child(root, "sensor-time")
    if st is None or not (st.text or "").strip():
        raise DeviceReportError("Xovis count data: <sensor-time> missing")
    try:
        device_ts = datetime.fromisoformat((st.text or "").strip())
    except ValueError:
        raise DeviceReportError(f"Xovis count data: <sensor-time> {st.text!r} is not an ISO 8601 time") from None
    if device_ts.tzinfo is None:
        raise DeviceReportError(f"Xovis count data: <sensor-time> {st.text!r} has no UTC offset")
    items = _child(root, "count-items")
    lines = _child(items, "lines") if items is not None else None
    if lines is None:
        raise DeviceReportError("Xovis count data: <count-items><lines> missing")
    totals: dict[str, tuple[int, int]] = {}
    for i, line in enumerate(c for c in lines if _local(c.tag) == "line"):
        name = line.get("name") or ""
        where = f"line {i + 1}" + (f" ({name!r})" if name else "")
        if not name:
            raise DeviceReportError(f"Xovis count data: {where}: attribute name missing")
        if name in totals:
            raise DeviceReportError(f"Xovis count data: {where}: a line of that name appears twice")
        totals[name] = (_xml_int(line, "fw-count", where), _xml_int(line, "bw-count", where))
    return LineTotals(device_ts, totals)


# -- AXIS People Counter live sum -----------------------------------------------------------


def _local_time(text: str, fmt: str, tz: ZoneInfo, what: str) -> datetime:
    try:
        naive = datetime.strptime(text, fmt)
    except (TypeError, ValueError):
        raise DeviceReportError(f"{what} {text!r} is not in the format {fmt}") from None
    return naive.replace(tzinfo=tz)


class _LiveSum(_Loose):
    serial: str = Field(max_length=64)
    name: str = Field(default="", max_length=128)
    timestamp: str = Field(pattern=r"^\d{14}$")
    entries: int = Field(alias="in", ge=0, le=MAX_COUNT, strict=True)
    exits: int = Field(alias="out", ge=0, le=MAX_COUNT, strict=True)


@dataclass(frozen=True, slots=True)
class LiveSum:
    """One live-sum answer: cumulative counts at the camera's local time `device_ts`."""

    serial: str
    name: str
    device_ts: datetime
    entries: int
    exits: int

    @property
    def day(self) -> date:
        """The camera's local date."""
        return self.device_ts.date()


def parse_axis_live_sum(body: bytes, tz: ZoneInfo) -> LiveSum:
    """Parse an AXIS People Counter `live-sum.json` answer; `tz` is the camera's time zone.

    Raises:
        DeviceReportError: not JSON, or a field is missing or wrong; the message names it.
    """
    try:
        m = _LiveSum.model_validate(_json(body, "AXIS live sum"))
    except ValidationError as exc:
        raise _validation(exc, "AXIS live sum") from None
    ts = _local_time(m.timestamp, "%Y%m%d%H%M%S", tz, "AXIS live sum: timestamp")
    return LiveSum(m.serial, m.name, ts, m.entries, m.exits)


# -- AXIS 3D People Counter export ----------------------------------------------------------

A3DPC_LINE = "a3dpc"
"""The one counting line of a 3D People Counter, as a line id for the interval path."""


class _ExportRow(_Loose):
    start: str = Field(max_length=32)
    end: str = Field(max_length=32)
    entries: int = Field(alias="in", ge=0, le=MAX_COUNT, strict=True)
    exits: int = Field(alias="out", ge=0, le=MAX_COUNT, strict=True)


class _Export(_Loose):
    data: list[_ExportRow] = Field(max_length=100_000)


def parse_a3dpc_export(body: bytes, tz: ZoneInfo) -> list[IntervalCount]:
    """Parse an AXIS 3D People Counter JSON export; `tz` is the camera's time zone.

    Rows are returned in time order. In the hour a DST change repeats, local times are
    ambiguous; they are read as the first occurrence (documented in docs/edge.md).

    Raises:
        DeviceReportError: not JSON, a field missing or wrong, a row whose end is not
            after its start; the message names the row (1-based).
    """
    try:
        export = _Export.model_validate(_json(body, "A3DPC export"))
    except ValidationError as exc:
        raise _validation(exc, "A3DPC export") from None
    out = []
    for i, row in enumerate(export.data, start=1):
        what = f"A3DPC export: data.{i - 1} (row {i})"
        start = _local_time(row.start, "%Y-%m-%d %H:%M:%S", tz, f"{what}: start")
        end = _local_time(row.end, "%Y-%m-%d %H:%M:%S", tz, f"{what}: end")
        s_utc, e_utc = start.astimezone(UTC), end.astimezone(UTC)
        if e_utc <= s_utc:
            raise DeviceReportError(f"{what}: end {row.end} is not after start {row.start}")
        if e_utc - s_utc > timedelta(seconds=MAX_INTERVAL_S + 3600):
            raise DeviceReportError(f"{what}: spans more than a day")
        out.append(IntervalCount(line=A3DPC_LINE, start=s_utc, end=e_utc, forward=row.entries, backward=row.exits))
    return sorted(out, key=lambda iv: iv.start)


# -- AXIS Object Analytics crossline counting event (MQTT) -----------------------------------

AOA_TOPIC_PREFIX = "axis:CameraApplicationPlatform/ObjectAnalytics/"
"""The event topic (inside the payload) of every AXIS Object Analytics scenario."""

_EPOCH_MS_MIN = 946_684_800_000  # 2000-01-01T00:00:00Z
_EPOCH_MS_MAX = 4_102_444_800_000  # 2100-01-01T00:00:00Z
_COUNT = re.compile(r"\d{1,10}")


def _aoa_count(value: Any, field: str) -> int:
    # The published sample carries counts as strings of digits; a JSON integer is taken too.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DeviceReportError(f"AXIS AOA event: message.data.{field} is {value!r}, not a count")
    if isinstance(value, str) and not _COUNT.fullmatch(value):
        raise DeviceReportError(f"AXIS AOA event: message.data.{field} is {value!r}, not a whole number ≥ 0")
    n = int(value)
    if not 0 <= n <= MAX_COUNT:
        raise DeviceReportError(f"AXIS AOA event: message.data.{field} {n} is outside 0…{MAX_COUNT}")
    return n


@dataclass(frozen=True, slots=True)
class AoaCount:
    """One crossline counting event: humans counted by the scenario since its last reset."""

    topic: str
    serial: str
    device_ts: datetime
    humans: int


def parse_axis_aoa(body: bytes) -> AoaCount:
    """Parse an AXIS Object Analytics crossline counting event as the camera publishes it over MQTT.

    The envelope is `{"topic", "timestamp", "serial", "message": {"source", "key",
    "data"}}`; `timestamp` is milliseconds since the epoch (UTC, whatever the camera's time
    zone), `message.data.totalHuman` the humans counted since the scenario's last reset.
    Other classes (`total`, `totalCar`, …) are not counted.

    Raises:
        DeviceReportError: not JSON, not an Object Analytics event, or a field missing or
            wrong; the message names it and, where it helps, the fix on the camera.
    """
    doc = _json(body, "AXIS AOA event")
    if not isinstance(doc, dict):
        raise DeviceReportError("AXIS AOA event: not a JSON object")
    topic = doc.get("topic")
    if not isinstance(topic, str) or not topic.startswith(AOA_TOPIC_PREFIX):
        raise DeviceReportError(
            f"AXIS AOA event: topic {topic!r} is not an Object Analytics scenario ({AOA_TOPIC_PREFIX}…)"
        )
    ts = doc.get("timestamp")
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise DeviceReportError(f"AXIS AOA event: timestamp {ts!r} is not milliseconds since the epoch")
    if not _EPOCH_MS_MIN <= ts < _EPOCH_MS_MAX:
        hint = " (seconds, not milliseconds?)" if _EPOCH_MS_MIN // 1000 <= ts < _EPOCH_MS_MAX // 1000 else ""
        raise DeviceReportError(f"AXIS AOA event: timestamp {ts} is not between 2000 and 2100{hint}")
    serial = doc.get("serial", "")
    if not isinstance(serial, str) or len(serial) > 64:
        raise DeviceReportError(f"AXIS AOA event: serial {serial!r} is not a serial number")
    message = doc.get("message")
    data = message.get("data") if isinstance(message, dict) else None
    if not isinstance(data, dict):
        raise DeviceReportError("AXIS AOA event: message.data missing or not an object")
    if "totalHuman" not in data:
        raise DeviceReportError(
            "AXIS AOA event: message.data.totalHuman missing; it is sent by a crossline counting scenario"
            " that counts humans (fields: " + (", ".join(sorted(map(str, data))) or "none") + ")"
        )
    humans = _aoa_count(data["totalHuman"], "totalHuman")
    return AoaCount(topic, serial, datetime.fromtimestamp(ts / 1000, UTC), humans)
