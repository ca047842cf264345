"""Device health for the operator: one query, one rule per health state.

Example:
    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    >>> health_of({"active": True, "state": "offline", "faults": []}, last_seen=now, now=now, silence_limit_s=600)
    (<Health.OFFLINE: 'offline'>, 'its agent said offline (Last Will)')
"""

from datetime import datetime, timedelta
from typing import Any

from footfall.api.schemas.devices import DevicePublic, DevicesPublic, Health
from footfall.db.connect import DictConnection
from footfall.db.queries import queries

SILENCE_LIMIT_S = 600.0
"""A device not heard from for this long is stale."""
LOOK_BACK = timedelta(days=2)


def health_of(
    row: dict[str, Any], *, last_seen: datetime | None, now: datetime, silence_limit_s: float
) -> tuple[Health, str]:
    """A device's health and the reason, from its row of `store_devices` (the first rule that holds)."""
    silent = (now - last_seen).total_seconds() if last_seen else None
    faults = [str(f) for f in row.get("faults") or []]
    rules: list[tuple[bool, Health, str]] = [
        (not row["active"], Health.INACTIVE, "switched off in the store configuration"),
        (row.get("state") == "offline", Health.OFFLINE, "its agent said offline (Last Will)"),
        (silent is None, Health.NEVER_SEEN, "nothing heard from it in the last two days"),
        (silent is not None and silent > silence_limit_s, Health.STALE, f"silent for {_duration(silent or 0)}"),
        (bool(faults), Health.FAULT, "its agent reports " + ", ".join(faults)),
        (row.get("all_valid") is False, Health.FAULT, "some recent counts were flagged invalid"),
    ]
    for holds, health, reason in rules:
        if holds:
            return health, reason
    return Health.OK, "reporting"


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def store_devices(
    conn: DictConnection, *, store_id: str, now: datetime, silence_limit_s: float = SILENCE_LIMIT_S
) -> DevicesPublic:
    """Every device of a store with its health (the store has been scope-checked)."""
    rows = conn.execute(queries("devices")["store_devices"], {"store_id": store_id, "since": now - LOOK_BACK})
    out: list[DevicePublic] = []
    for r in rows.fetchall():
        seen = [t for t in (r["heartbeat_at"], r["sensor_last_seen"], r["last_count_end"]) if t is not None]
        last_seen = max(seen) if seen else None
        health, reason = health_of(r, last_seen=last_seen, now=now, silence_limit_s=silence_limit_s)
        queue = r["queue_depth"] if r["queue_depth"] is not None else r["agent_queue_depth"]
        out.append(
            DevicePublic(
                device_id=r["device_id"],
                kind=r["kind"],
                name=r["name"],
                health=health,
                reason=reason,
                last_seen=last_seen,
                silent_s=(now - last_seen).total_seconds() if last_seen else None,
                status=r["state"],
                queue_depth=queue,
                uptime_s=r["uptime_s"],
                errors=r["errors"],
                faults=[str(f) for f in (r["faults"] or [])],
                last_count_end=r["last_count_end"],
                invalid_counts=r["all_valid"] is False,
            )
        )
    return DevicesPublic(store_id=store_id, as_of=now, silence_limit_s=silence_limit_s, data=out, count=len(out))
