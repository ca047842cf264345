"""Hypothesis strategies for the message contract, shared by unit and fuzz tests."""

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from footfall.core import messages
from footfall.core.topics import Kind

ids = st.from_regex(r"\A[A-Za-z0-9]([A-Za-z0-9_\-]{0,10}[A-Za-z0-9])?\Z")
counts = st.integers(min_value=0, max_value=messages.MAX_COUNT)
instants = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
lengths = st.integers(min_value=1, max_value=int(messages.MAX_INTERVAL.total_seconds())).map(
    lambda s: timedelta(seconds=s)
)


@st.composite
def interval(draw: st.DrawFn) -> dict:
    start = draw(instants)
    return {"start": start, "end": start + draw(lengths)}


@st.composite
def counts_reading(draw: st.DrawFn) -> messages.CountsReading:
    return messages.CountsReading(
        **draw(interval()),
        door_id=draw(ids),
        entries=draw(counts),
        exits=draw(counts),
        passersby=draw(st.none() | counts),
        valid=draw(st.booleans()),
    )


@st.composite
def occupancy_reading(draw: st.DrawFn) -> messages.OccupancyReading:
    occ = draw(st.integers(0, messages.MAX_OCCUPANCY))
    peak = draw(st.none() | st.integers(occ, messages.MAX_OCCUPANCY))
    return messages.OccupancyReading(**draw(interval()), zone_id=draw(st.none() | ids), occupancy=occ, peak=peak)


@st.composite
def heatmap_reading(draw: st.DrawFn) -> messages.HeatmapReading:
    iv = draw(interval())
    seconds = (iv["end"] - iv["start"]).total_seconds()
    k = draw(st.integers(1, 5))
    coords = draw(st.sets(st.tuples(st.integers(0, 500), st.integers(0, 500)), max_size=20))
    cells = []
    for x, y in sorted(coords):
        tracks = draw(st.integers(k, 50))
        presence = draw(st.floats(0, seconds * tracks, allow_nan=False))
        cells.append(messages.HeatmapCell(x=x, y=y, presence_s=presence, tracks=tracks))
    return messages.HeatmapReading(
        **iv, floor_id=draw(ids), cell_m=draw(st.floats(0.05, 10)), min_tracks=k, cells=cells
    )


@st.composite
def tracks_reading(draw: st.DrawFn) -> messages.TracksReading:
    iv = draw(interval())
    seconds = (iv["end"] - iv["start"]).total_seconds()
    point = st.builds(messages.TrackPoint, t=st.floats(0, seconds), x=st.floats(-1000, 1000), y=st.floats(-1000, 1000))
    tracks = draw(st.lists(st.builds(messages.Track, points=st.lists(point, min_size=1, max_size=5)), max_size=5))
    return messages.TracksReading(**iv, floor_id=draw(ids), tracks=tracks)


@st.composite
def zones_reading(draw: st.DrawFn) -> messages.ZonesReading:
    return messages.ZonesReading(
        **draw(interval()),
        zone_id=draw(ids),
        entries=draw(counts),
        exits=draw(counts),
        dwell_s=draw(st.lists(st.floats(0, 86_400), max_size=10)),
        occupancy=draw(st.none() | st.integers(0, 1000)),
        valid=draw(st.booleans()),
    )


@st.composite
def heartbeat_reading(draw: st.DrawFn) -> messages.HeartbeatReading:
    sensor = st.builds(
        messages.SensorHealth,
        sensor_id=ids,
        last_seen=st.none() | instants,
        errors=st.integers(0, 10**6),
        clock_offset_s=st.none() | st.floats(-1e6, 1e6),
        faults=st.lists(st.sampled_from(list(messages.Fault)), max_size=3),
    )
    return messages.HeartbeatReading(
        **draw(interval()),
        uptime_s=draw(st.floats(0, 1e9)),
        queue_depth=draw(st.integers(0, 10**7)),
        queue_bytes=draw(st.integers(0, 10**12)),
        queue_oldest=draw(st.none() | instants),
        merged_intervals=draw(st.integers(0, 10**6)),
        sensors=draw(st.lists(sensor, max_size=4)),
    )


READINGS = {
    Kind.COUNTS: counts_reading(),
    Kind.OCCUPANCY: occupancy_reading(),
    Kind.HEATMAP: heatmap_reading(),
    Kind.TRACKS: tracks_reading(),
    Kind.ZONES: zones_reading(),
    Kind.HEARTBEAT: heartbeat_reading(),
}


@st.composite
def message(draw: st.DrawFn, kind: Kind) -> messages.AnyMessage:
    model = messages.MESSAGE_TYPES[kind]
    device = draw(ids)
    seq = draw(st.integers(0, 2**63 - 1))
    if kind is Kind.STATUS:
        return model(
            device_id=device, seq=seq, sent_at=draw(instants), state=draw(st.sampled_from(["online", "offline"]))
        )
    readings = draw(st.lists(READINGS[kind], min_size=1, max_size=4))
    latest = max(r.end for r in readings)
    sent = latest + timedelta(seconds=draw(st.integers(0, 3600)))
    return model(device_id=device, seq=seq, sent_at=sent, readings=readings)


any_message = st.sampled_from(list(Kind)).flatmap(message)
