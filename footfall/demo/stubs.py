"""The simulated counters of an edge agent's configuration: `edge.yaml` → `StubSpec`s.

The simulators (`footfall.firmware_stubs`) never read the agent's configuration; this
module, which may import both, tells them where each counter of an `edge.yaml` listens,
pushes or publishes.
"""

from typing import Literal
from urllib.parse import urlsplit

from footfall.edge.config import (
    A3dpcCounter,
    AxisAoaCounter,
    AxisLiveCounter,
    EdgeConfig,
    HttpCounter,
    MqttCounter,
    TcpCounter,
    XovisCounter,
)
from footfall.firmware_stubs.spec import (
    A3dpcSpec,
    AxisAoaSpec,
    AxisLiveSpec,
    HttpStub,
    MqttStub,
    StubSpec,
    TcpStub,
    XovisSpec,
)


def stub_specs(edge: EdgeConfig) -> list[StubSpec]:
    """One stub spec per counter of the agent, aimed where the agent expects it.

    Args:
        edge: the agent's configuration.

    Returns:
        The specs in the order of `edge.devices`.
    """
    http_host = "127.0.0.1" if edge.http.host in ("0.0.0.0", "") else edge.http.host  # noqa: S104
    out: list[StubSpec] = []
    for dev in edge.devices:
        bits: Literal[16, 32] = 16 if dev.counter_bits == 16 else 32  # the stubs play 16- or 32-bit counters
        if isinstance(dev, XovisCounter | HttpCounter):
            # both push to the agent's listener, one door line and at most one street line
            door_lines = [ln for ln in dev.lines if not ln.passersby]
            push = XovisSpec if isinstance(dev, XovisCounter) else HttpStub
            out.append(
                push(
                    device_id=dev.id,
                    door=door_lines[0].door,
                    counter_bits=bits,
                    url=f"http://{http_host}:{edge.http.port}/v1/push/{dev.id}",
                    token=dev.bearer(),
                    door_line=door_lines[0].line,
                    street_line=next((ln.line for ln in dev.lines if ln.passersby), None),
                )
            )
        elif isinstance(dev, AxisLiveCounter | A3dpcCounter):
            where = urlsplit(dev.url)
            spec = AxisLiveSpec if isinstance(dev, AxisLiveCounter) else A3dpcSpec
            out.append(
                spec(
                    device_id=dev.id,
                    door=dev.door,
                    counter_bits=bits,
                    host=where.hostname or "127.0.0.1",
                    port=where.port or 80,
                    tz=dev.timezone,
                )
            )
        elif isinstance(dev, TcpCounter):
            out.append(TcpStub(device_id=dev.id, door=dev.door, counter_bits=bits, host=dev.host, port=dev.port))
        elif isinstance(dev, MqttCounter):
            out.append(
                MqttStub(
                    device_id=dev.id,
                    door=dev.door,
                    counter_bits=bits,
                    host=dev.host,
                    port=dev.port,
                    topic=dev.topic,
                    username=dev.username,
                    password=None if dev.password is None else dev.password.get_secret_value(),
                )
            )
        elif isinstance(dev, AxisAoaCounter):
            out.append(
                AxisAoaSpec(
                    device_id=dev.id,
                    door=dev.door,
                    counter_bits=bits,
                    host=dev.host,
                    port=dev.port,
                    entry_topic=dev.entry_topic,
                    exit_topic=dev.exit_topic or f"{dev.entry_topic}/exit-unused",
                    serial=dev.serial or "B8A44F000001",
                    username=dev.username,
                    password=None if dev.password is None else dev.password.get_secret_value(),
                )
            )
    return out


def stub_margin_s(edge: EdgeConfig) -> float:
    """How far simulated crossings keep from minute boundaries for this agent's counters.

    A polled live sum (`axis_live`) places counts at the poll's time, so its crossings
    must stay a poll period plus slack (one-second timestamps, scheduling) from a
    boundary for the per-minute ground truth to be exact.
    """
    polls = [d.poll_s for d in edge.devices if isinstance(d, AxisLiveCounter)]
    return min(20.0, max([2.0, *(p + 4.0 for p in polls)]))
