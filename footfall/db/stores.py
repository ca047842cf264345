"""Store configuration as code: upsert a `StoreConfig` into the database idempotently.

The YAML file is the desired state. Applying it creates what is new, updates what
changed, removes floors, doors and zones that are gone (their facts stay: fact tables
keep no foreign keys) and deactivates devices that are gone (their credentials stop
working, their history stays). Applying the same file twice changes nothing.
"""

from dataclasses import dataclass, field
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from footfall.core.errors import ConfigError
from footfall.core.storeconfig import PNG_MAGIC, DeviceKind, Floor, StoreConfig
from footfall.db.connect import DictConnection
from footfall.db.errors import Conflict


@dataclass
class ApplyResult:
    """What `apply_store` changed, per table: created, updated, removed."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether anything changed."""
        return any(self.created.values()) or any(self.updated.values()) or any(self.removed.values())


def _upsert(conn: DictConnection, table: str, keys: list[str], rows: list[dict[str, Any]], result: ApplyResult) -> None:
    """Insert or update rows; only rows whose values differ are touched."""
    if not rows:
        return
    cols = list(rows[0])
    others = [c for c in cols if c not in keys]
    query = sql.SQL(
        "INSERT INTO {table} AS t ({cols}) VALUES ({vals}) ON CONFLICT ({keys}) DO UPDATE SET ({others}) = "
        "ROW({excluded}) WHERE ({current}) IS DISTINCT FROM ({excluded}) RETURNING (xmax = 0) AS inserted"
    ).format(
        table=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
        vals=sql.SQL(", ").join(sql.Placeholder(c) for c in cols),
        keys=sql.SQL(", ").join(map(sql.Identifier, keys)),
        others=sql.SQL(", ").join(map(sql.Identifier, others)),
        excluded=sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in others),
        current=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in others),
    )
    for row in rows:
        out = conn.execute(query, row).fetchone()
        if out is None:
            continue
        bucket = result.created if out["inserted"] else result.updated
        bucket[table] = bucket.get(table, 0) + 1


def _prune(conn: DictConnection, table: str, *, key: str, store_id: str, keep: list[str], result: ApplyResult) -> None:
    query = sql.SQL("DELETE FROM {t} WHERE store_id = %s AND NOT ({k} = ANY(%s))").format(
        t=sql.Identifier(table), k=sql.Identifier(key)
    )
    n = conn.execute(query, (store_id, keep)).rowcount
    if n:
        result.removed[table] = result.removed.get(table, 0) + n


def _plan_columns(f: Floor) -> dict[str, Any]:
    """The floor-plan columns of a floor: the picture's bytes when the YAML names one.

    Raises:
        ConfigError: the picture cannot be read or is neither PNG nor JPEG.
    """
    if f.plan is None:
        return {}
    try:
        data = f.plan.read()
    except ValueError as exc:
        raise ConfigError(f"floor {f.id}: {exc}") from None
    return {
        "plan_image": data,
        "plan_mime": "image/png" if data.startswith(PNG_MAGIC) else "image/jpeg",
        "plan_px_per_m": f.plan.px_per_m,
        "plan_origin_x": f.plan.origin_m[0],
        "plan_origin_y": f.plan.origin_m[1],
    }


def apply_store(conn: DictConnection, cfg: StoreConfig) -> ApplyResult:
    """Upsert a store and everything in it, in one transaction.

    Raises:
        Conflict: a device id in the file belongs to another store.
        ConfigError: a floor plan picture named in the file cannot be read.
    """
    result = ApplyResult()
    s = cfg.store
    with conn.transaction():
        taken = conn.execute(
            "SELECT device_id, store_id FROM devices WHERE device_id = ANY(%s) AND store_id <> %s",
            ([d.id for d in cfg.devices], s.id),
        ).fetchall()
        if taken:
            names = ", ".join(f"{r['device_id']} (store {r['store_id']})" for r in taken)
            raise Conflict(f"device ids already belong to another store: {names}; device ids are global")
        hours = {day: None if h is None else [h[0].isoformat(), h[1].isoformat()] for day, h in s.opening_hours.items()}
        _upsert(
            conn,
            "stores",
            ["store_id"],
            [
                {
                    "store_id": s.id,
                    "name": s.name,
                    "timezone": s.timezone,
                    "sales_area_m2": s.sales_area_m2,
                    "currency": s.currency,
                    "opening_hours": Jsonb(hours),
                }
            ],
            result,
        )
        # Children go before the prune of their parents' siblings so foreign keys hold.
        # A floor without `plan` in the file keeps the picture it has (uploaded through the API).
        for with_plan in (False, True):
            _upsert(
                conn,
                "floors",
                ["store_id", "floor_id"],
                [
                    {
                        "store_id": s.id,
                        "floor_id": f.id,
                        "name": f.name,
                        "width_m": f.width_m,
                        "height_m": f.height_m,
                        **_plan_columns(f),
                    }
                    for f in cfg.floors
                    if (f.plan is not None) is with_plan
                ],
                result,
            )
        _upsert(
            conn,
            "doors",
            ["store_id", "door_id"],
            [
                {
                    "store_id": s.id,
                    "door_id": d.id,
                    "name": d.name,
                    "kind": d.kind.value,
                    "outward_counter": d.outward_counter,
                }
                for d in cfg.doors
            ],
            result,
        )
        _upsert(
            conn,
            "zones",
            ["store_id", "zone_id"],
            [
                {
                    "store_id": s.id,
                    "zone_id": z.id,
                    "floor_id": z.floor,
                    "name": z.name,
                    "polygon": Jsonb(z.polygon),
                    "area_m2": z.area,
                    "categories": z.categories,
                    "kind": z.kind.value,
                    "comfort_limit": z.comfort_limit,
                    "till_zone": z.till,
                }
                for z in cfg.zones
            ],
            result,
        )
        _upsert(
            conn,
            "devices",
            ["device_id"],
            [
                {"device_id": d.id, "store_id": s.id, "kind": d.kind.value, "name": d.name, "active": True}
                for d in cfg.devices
            ],
            result,
        )
        cams = [d for d in cfg.devices if d.kind is DeviceKind.CAMERA]
        _upsert(
            conn,
            "cameras",
            ["device_id"],
            [
                {
                    "device_id": d.id,
                    "store_id": s.id,
                    "floor_id": d.floor,
                    "homography": [v for row in d.homography() for v in row] if d.calibration else None,
                    "calibration": Jsonb([p.model_dump() for p in d.calibration]),
                    "lines": Jsonb([ln.model_dump() for ln in d.lines]),
                    "zones": d.zones,
                }
                for d in cams
            ],
            result,
        )
        pairs = [(d.id, door) for d in cfg.devices for door in dict.fromkeys(d.doors + [ln.door for ln in d.lines])]
        _upsert(
            conn,
            "device_doors",
            ["device_id", "door_id"],
            [{"device_id": dev, "store_id": s.id, "door_id": door} for dev, door in pairs],
            result,
        )
        n = conn.execute(
            "DELETE FROM device_doors WHERE store_id = %s AND NOT ((device_id || '/' || door_id) = ANY(%s))",
            (s.id, [f"{dev}/{door}" for dev, door in pairs]),
        ).rowcount
        if n:
            result.removed["device_doors"] = n
        _prune(conn, "cameras", key="device_id", store_id=s.id, keep=[d.id for d in cams], result=result)
        n = conn.execute(
            "UPDATE devices SET active = false, updated_at = now() "
            "WHERE store_id = %s AND active AND NOT (device_id = ANY(%s))",
            (s.id, [d.id for d in cfg.devices]),
        ).rowcount
        if n:
            result.removed["devices"] = n
        _prune(conn, "zones", key="zone_id", store_id=s.id, keep=[z.id for z in cfg.zones], result=result)
        _prune(conn, "doors", key="door_id", store_id=s.id, keep=[d.id for d in cfg.doors], result=result)
        _prune(conn, "floors", key="floor_id", store_id=s.id, keep=[f.id for f in cfg.floors], result=result)
    return result
