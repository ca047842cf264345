"""A checkout queue's minutes from the database, before they become the API's response models.

`footfall.api.merch.queries.queue_between` (the `/v1/merch/…/queue` answers) and the
alerts engine's queue rules both read a queue zone through here, so a rule judges the
length and waiting time the API shows for the same minutes. Nothing here imports the
API's schemas (the alerts import contract in pyproject.toml forbids them).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from footfall.api.merch.errors import UnknownZone
from footfall.api.merch.queues import QueueMinute, QueueSlot, queue_slots
from footfall.db.connect import DictConnection
from footfall.db.queries import queries


def _sql(name: str) -> str:
    return queries("merch")[name]


def zone_row(conn: DictConnection, store_id: str, zone_id: str) -> dict:
    """One zone of a store.

    Raises:
        UnknownZone: the store has no such zone.
    """
    for z in conn.execute(_sql("zones"), {"store_id": store_id}):
        if z["zone_id"] == zone_id:
            return z
    raise UnknownZone(f"store {store_id} has no zone {zone_id!r}")


@dataclass(frozen=True)
class QueueMinutes:
    """A queue zone, its till, and its minutes from the camera that owns it."""

    zone: dict
    till: dict
    minutes: list[QueueMinute]


def queue_minutes(conn: DictConnection, *, store_id: str, zone_id: str, lo: datetime, hi: datetime) -> QueueMinutes:
    """The minutes starting in `[lo, hi)` of a queue zone, from one camera: the one that counted
    the most arrivals (as for zone visits).

    Raises:
        UnknownZone: no such zone, or it is not a queue.
    """
    z = zone_row(conn, store_id, zone_id)
    if z["kind"] != "queue":
        raise UnknownZone(f"zone {zone_id} is not a queue; mark it `kind: queue` with its `till` in the store YAML")
    till = zone_row(conn, store_id, z["till_zone"])
    rows = conn.execute(_sql("zone_minutes"), {"store_id": store_id, "zone_id": zone_id, "lo": lo, "hi": hi}).fetchall()
    per_device: dict[str, int] = {}
    for r in rows:
        per_device[r["device_id"]] = per_device.get(r["device_id"], 0) + r["entries"]
    device = max(sorted(per_device), key=lambda d: per_device[d]) if per_device else None
    minutes = [
        QueueMinute(
            start=r["start_ts"],
            entries=r["entries"],
            exits=r["exits"],
            dwell_s=list(r["dwell_s"]),
            occupancy=r["occupancy"],
            peak=r["peak"],
        )
        for r in rows
        if r["device_id"] == device
    ]
    return QueueMinutes(z, till, minutes)


def queue_over(conn: DictConnection, *, store_id: str, zone_id: str, lo: datetime, hi: datetime) -> QueueSlot | None:
    """The queue over `[lo, hi)` as one slot (what `queue_now` answers for the same minutes), or
    None when the zone reported no minute in it.

    Raises:
        UnknownZone: no such zone, or it is not a queue.
    """
    q = queue_minutes(conn, store_id=store_id, zone_id=zone_id, lo=lo, hi=hi)
    slots = queue_slots(q.minutes, slot=max(hi - lo, timedelta(minutes=1)), origin=lo)
    return slots[0] if slots else None
