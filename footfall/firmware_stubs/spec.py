"""The simulator's own description of the counters it plays, and where each one talks to.

`SimStore` runs one firmware stub per `StubSpec`. The specs say only what a stub needs
(its device id, door, address and counter width), so the simulators never read the edge
agent's configuration: callers that have an `edge.yaml` build the specs from it
(`footfall.demo.stubs.stub_specs`).
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from footfall.core.ids import Id


class _Stub(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: Id = Field(title="Device id", description="The counter's device id in store.yaml.")
    door: Id = Field(title="Door", description="The door whose crossings the counter sees.")
    counter_bits: Literal[16, 32] = Field(default=32, title="Counter width", description="Bits of its counters.")


class TcpStub(_Stub):
    """A beam counter (`BeamCounterStub`) listening where the agent connects."""

    kind: Literal["tcp"] = "tcp"
    host: str = Field(min_length=1, title="Listen address")
    port: int = Field(ge=1, le=65535, title="Listen port")


class HttpStub(_Stub):
    """A stereo sensor (`StereoSensorStub`) pushing interval counts to the agent's HTTP listener."""

    kind: Literal["http"] = "http"
    url: str = Field(min_length=1, title="Push URL", description="http://host:port/v1/push/{device}.")
    token: str | None = Field(default=None, title="Bearer token")
    door_line: str = Field(min_length=1, title="Door line id", description="The sensor's line over the door.")
    street_line: str | None = Field(default=None, title="Street line id", description="Passers-by, if it has one.")


class MqttStub(_Stub):
    """A counter (`MqttCounterStub`) publishing its cumulative counters to a local broker."""

    kind: Literal["mqtt"] = "mqtt"
    host: str = Field(min_length=1, title="Broker host")
    port: int = Field(ge=1, le=65535, title="Broker port")
    topic: str = Field(min_length=1, title="Topic")
    username: str | None = Field(default=None, title="Broker user")
    password: str | None = Field(default=None, title="Broker password")


class AxisAoaSpec(_Stub):
    """An Axis camera (`AxisAoaStub`) publishing AXIS Object Analytics crossline counting events to a local broker."""

    kind: Literal["axis_aoa"] = "axis_aoa"
    host: str = Field(min_length=1, title="Broker host")
    port: int = Field(ge=1, le=65535, title="Broker port")
    entry_topic: str = Field(min_length=1, title="Entry scenario topic")
    exit_topic: str = Field(min_length=1, title="Exit scenario topic")
    serial: str = Field(default="B8A44F000001", title="Camera serial number")
    username: str | None = Field(default=None, title="Broker user")
    password: str | None = Field(default=None, title="Broker password")


class XovisSpec(_Stub):
    """A Xovis sensor pushing line count data (`XovisPushStub`, JSON) or count data (`XovisXmlPushStub`, XML)."""

    kind: Literal["xovis"] = "xovis"
    url: str = Field(min_length=1, title="Push URL", description="http://host:port/v1/push/{device}.")
    token: str | None = Field(default=None, title="Bearer token")
    door_line: str = Field(min_length=1, title="Door line", description="The element name of the line over the door.")
    street_line: str | None = Field(default=None, title="Street line", description="JSON only: passers-by.")
    tz: str = Field(default="Europe/Zurich", title="Sensor time zone")
    xml: bool = Field(default=False, title="Push cumulative count-data XML instead of JSON intervals")


class AxisLiveSpec(_Stub):
    """An AXIS People Counter (`AxisLiveStub`) serving its live sum where the agent polls."""

    kind: Literal["axis_live"] = "axis_live"
    host: str = Field(min_length=1, title="Listen address")
    port: int = Field(ge=1, le=65535, title="Listen port")
    tz: str = Field(title="Camera time zone")


class A3dpcSpec(_Stub):
    """An AXIS 3D People Counter (`A3dpcStub`) serving its per-minute export where the agent polls."""

    kind: Literal["axis_a3dpc"] = "axis_a3dpc"
    host: str = Field(min_length=1, title="Listen address")
    port: int = Field(ge=1, le=65535, title="Listen port")
    tz: str = Field(title="Camera time zone")


StubSpec = Annotated[
    TcpStub | HttpStub | MqttStub | AxisAoaSpec | XovisSpec | AxisLiveSpec | A3dpcSpec, Field(discriminator="kind")
]
"""One simulated counter, by the way it reaches the agent."""
