"""Device rows beyond what the store file sets: the broker credential hash."""

from footfall.db.connect import DictConnection
from footfall.db.errors import UnknownDevice
from footfall.db.queries import queries


def store_credential_hash(conn: DictConnection, *, device_id: str, password_hash: str) -> None:
    """Keep a device's broker hash on its row (`devices.credential_hash`).

    The hash is the `$7$` one `footfall edge credentials add` writes to the broker's
    password file, so the file can be rebuilt from the database.

    Raises:
        UnknownDevice: no such device (apply the store file first: footfall stores apply).
    """
    with conn.transaction():
        n = conn.execute(
            queries("devices")["set_credential_hash"], {"device_id": device_id, "password_hash": password_hash}
        ).rowcount
    if n == 0:
        raise UnknownDevice(f"no device {device_id!r} in the database; run `footfall stores apply store.yaml` first")
