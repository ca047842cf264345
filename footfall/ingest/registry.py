"""Which device may publish what, cached so authorisation costs a dict look-up per message.

The registry holds every device (store, kind, active flag, the doors it counts) and every
store's zones and floors. It is loaded whole at start and again every `ttl_s` seconds (so
a deactivated device is refused within that time); a device, door, zone or floor that is
not in the cache is looked up in the database at once (a device registered a second ago
is accepted), at most once per `miss_retry_s` per id, so a stream from an unknown device
costs one query every few seconds, not one per message.
"""

import logging
import time
from dataclasses import dataclass, field

from footfall.db.connect import DictConnection
from footfall.db.queries import queries

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """A registered device as ingest needs it."""

    device_id: str
    store_id: str
    kind: str
    active: bool
    doors: frozenset[str]


@dataclass(frozen=True, slots=True)
class StorePlaces:
    """The zones and floors of one store."""

    zones: frozenset[str] = frozenset()
    floors: frozenset[str] = frozenset()


@dataclass
class DeviceRegistry:
    """Cache of `devices`, `device_doors`, `zones` and `floors`.

    Example:
        >>> reg = DeviceRegistry()
        >>> reg.device("door-a") is None
        True
    """

    ttl_s: float = 60.0
    miss_retry_s: float = 5.0
    _devices: dict[str, DeviceEntry] = field(default_factory=dict)
    _places: dict[str, StorePlaces] = field(default_factory=dict)
    _loaded_at: float = float("-inf")
    _missed: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_entries(
        cls,
        devices: list[DeviceEntry],
        places: dict[str, StorePlaces] | None = None,
        *,
        ttl_s: float = 60.0,
        miss_retry_s: float = 5.0,
    ) -> "DeviceRegistry":
        """A registry filled from memory (tests, tools); it still looks up misses when given a connection."""
        reg = cls(ttl_s=ttl_s, miss_retry_s=miss_retry_s)
        reg._devices = {d.device_id: d for d in devices}
        reg._places = dict(places or {})
        reg._loaded_at = time.monotonic()
        return reg

    def __len__(self) -> int:
        return len(self._devices)

    def device(self, device_id: str) -> DeviceEntry | None:
        """The cached device, or None."""
        return self._devices.get(device_id)

    def places(self, store_id: str) -> StorePlaces:
        """The cached zones and floors of a store (empty when unknown)."""
        return self._places.get(store_id) or StorePlaces()

    @property
    def stale(self) -> bool:
        """Whether the whole cache is due for a reload."""
        return time.monotonic() - self._loaded_at >= self.ttl_s

    def load(self, conn: DictConnection) -> None:
        """Reload everything (one query for devices, one for places)."""
        devices = self._fetch_devices(conn, everything=True, device_ids=[])
        places = self._fetch_places(conn, everything=True, store_ids=[])
        self._devices = devices
        self._places = places
        self._loaded_at = time.monotonic()
        self._missed.clear()
        logger.debug("device registry loaded: %d devices, %d stores", len(devices), len(places))

    def retry_misses(self, conn: DictConnection, *, device_ids: set[str], store_ids: set[str]) -> bool:
        """Look up ids that were not in the cache, unless they were looked up moments ago.

        Args:
            conn: a connection (the caller owns its transaction).
            device_ids: devices not found (or whose doors did not match).
            store_ids: stores whose zones or floors did not match.

        Returns:
            True when anything was looked up (the caller should authorise again).
        """
        now = time.monotonic()
        due_devices = [d for d in device_ids if now - self._missed.get("d:" + d, float("-inf")) >= self.miss_retry_s]
        due_stores = [s for s in store_ids if now - self._missed.get("s:" + s, float("-inf")) >= self.miss_retry_s]
        if not due_devices and not due_stores:
            return False
        if due_devices:
            found = self._fetch_devices(conn, everything=False, device_ids=due_devices)
            self._devices.update(found)
            due_stores.extend({e.store_id for e in found.values()} - set(due_stores))
            for d in due_devices:
                self._missed["d:" + d] = now
        if due_stores:
            self._places.update(self._fetch_places(conn, everything=False, store_ids=due_stores))
            for s in due_stores:
                self._missed["s:" + s] = now
        if len(self._missed) > 100_000:  # a flood of random ids: forget, the TTL bounds the cost anyway
            self._missed.clear()
        return True

    @staticmethod
    def _fetch_devices(conn: DictConnection, *, everything: bool, device_ids: list[str]) -> dict[str, DeviceEntry]:
        rows = conn.execute(
            queries("ingest")["load_devices"], {"everything": everything, "device_ids": device_ids}
        ).fetchall()
        return {
            r["device_id"]: DeviceEntry(r["device_id"], r["store_id"], r["kind"], r["active"], frozenset(r["doors"]))
            for r in rows
        }

    @staticmethod
    def _fetch_places(conn: DictConnection, *, everything: bool, store_ids: list[str]) -> dict[str, StorePlaces]:
        rows = conn.execute(
            queries("ingest")["load_places"], {"everything": everything, "store_ids": store_ids}
        ).fetchall()
        return {r["store_id"]: StorePlaces(frozenset(r["zones"]), frozenset(r["floors"])) for r in rows}
