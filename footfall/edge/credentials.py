"""Broker credentials for edge agents: a Mosquitto password file and ACL, kept per user.

Each edge agent gets its own broker user (its device id) that may publish only under
`{prefix}/v1/{its store}/#` (but never its store's `alerts` topic) and read nothing; an
ingest user may read `{prefix}/v1/#` and publish nothing; an in-store screen may read
its store's alerts topic `{prefix}/v1/{store}/alerts` and nothing else, and publish
nothing; the alerts engine may publish every store's alerts topic and read nothing.
`add_credentials` writes both files (replacing the user's earlier entry), atomically;
Mosquitto applies them on SIGHUP.

Password hashes use Mosquitto's own `$7$` format (PBKDF2-HMAC-SHA512, as
`mosquitto_passwd` writes them), so no Mosquitto tool is needed where the command runs,
and the same hash can be kept on the device row (`devices.credential_hash`, written by
`footfall.db.devices.store_credential_hash`) to rebuild the broker's file from the database.

Example:
    >>> h = mosquitto_hash("s3cret", salt=b"0123456789ab", iterations=101)
    >>> h.startswith("$7$101$") and verify_password("s3cret", h)
    True
"""

import base64
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from footfall.core.ids import id_problem
from footfall.core.topics import VERSION, check_prefix
from footfall.edge.errors import CredentialsError

ITERATIONS = 1000
"""PBKDF2 rounds. mosquitto_passwd uses 101; more resists offline guessing, and a broker
verifies a password once per connection, so 1000 costs a few ms per connect."""

_USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


def generate_password() -> str:
    """A random password (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


def mosquitto_hash(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """Hash a password the way Mosquitto 2 stores it: `$7$iterations$salt$hash` (base64)."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """Check a password against a `$7$` hash."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    try:
        iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    except ValueError:
        return False
    return hmac.compare_digest(hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations), digest)


class BrokerRole(StrEnum):
    """What a broker user is for."""

    EDGE = "edge"
    """An edge agent: writes its own store's device topics."""
    INGEST = "ingest"
    """Ingest: reads every store."""
    SCREEN = "screen"
    """An in-store screen: reads its own store's alerts topic, writes nothing."""
    ALERTS = "alerts"
    """The alerts delivery worker: writes every store's alerts topic, reads nothing."""


ROLE_LABELS = {
    BrokerRole.EDGE: "edge agent of store {store}: writes only there",
    BrokerRole.INGEST: "ingest: reads every store",
    BrokerRole.SCREEN: "in-store screen of store {store}: reads only its alerts",
    BrokerRole.ALERTS: "alerts engine: writes every store's alerts topic",
}


def acl_rules(*, store_id: str | None, ingest: bool = False, prefix: str, role: BrokerRole | None = None) -> list[str]:
    """The ACL lines of one user.

    Args:
        store_id: the user's store (edge agents and screens).
        ingest: an ingest user (the same as `role=BrokerRole.INGEST`).
        prefix: the deployment's topic prefix.
        role: what the user is for; default an edge agent (or ingest, with `ingest`).

    Raises:
        CredentialsError: a store given to a role without one or missing from a role with one,
            or an invalid id.
    """
    check_prefix(prefix)
    role = role or (BrokerRole.INGEST if ingest else BrokerRole.EDGE)
    if ingest and role is not BrokerRole.INGEST:
        raise CredentialsError(f"a user is either an ingest user or a {role.value} user, not both")
    per_store = role in (BrokerRole.EDGE, BrokerRole.SCREEN)
    if per_store != (store_id is not None):
        if role is BrokerRole.EDGE:
            raise CredentialsError("a user is either an edge agent of one store or an ingest user")
        raise CredentialsError(
            f"a {role.value} user " + ("belongs to one store: give its store" if per_store else "takes no store")
        )
    base = f"{prefix}/{VERSION}"
    match role:
        case BrokerRole.INGEST:
            return [f"topic read {base}/#"]
        case BrokerRole.ALERTS:
            return [f"topic write {base}/+/alerts"]
    problem = id_problem(store_id or "")
    if problem:
        raise CredentialsError(f"store id {store_id!r} {problem}")
    if role is BrokerRole.SCREEN:
        return [f"topic read {base}/{store_id}/alerts"]
    # the store's alerts topic is the engine's: an edge agent must not fake what screens show
    return [f"topic deny {base}/{store_id}/alerts", f"topic write {base}/{store_id}/#"]


def _check_user(user: str) -> None:
    if not _USER_RE.match(user):
        raise CredentialsError(f"user name {user!r} must be letters, digits, '_', '-' or '.' (at most 128)")


def _write_atomic(path: Path, text: str, *, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keep = path.stat().st_mode & 0o777 if path.exists() else mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, keep)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    except OSError as exc:
        raise CredentialsError(f"cannot read {path}: {exc.strerror}") from None


def _without_user_block(lines: list[str], user: str) -> tuple[list[str], bool]:
    out: list[str] = []
    skipping = found = False
    for line in lines:
        word = line.strip().split(" ", 1)
        if word[0] in ("user", "pattern"):
            skipping = word[0] == "user" and len(word) == 2 and word[1].strip() == user
            found = found or skipping
        if not skipping:
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return out, found


@dataclass(frozen=True)
class CredentialEntry:
    """What `add_credentials` wrote."""

    user: str
    password_hash: str
    rules: list[str]
    created: bool


def add_credentials(
    *,
    user: str,
    password: str,
    store_id: str | None,
    ingest: bool = False,
    password_file: Path,
    acl_file: Path,
    prefix: str = "footfall",
    iterations: int = ITERATIONS,
    role: BrokerRole | None = None,
) -> CredentialEntry:
    """Add or replace a broker user in a Mosquitto password file and ACL file.

    Raises:
        CredentialsError: an invalid user name, store id or prefix, or a file that cannot be written.
    """
    _check_user(user)
    if len(password) < 12:
        raise CredentialsError("use a password of at least 12 characters (or let the command generate one)")
    rules = acl_rules(store_id=store_id, ingest=ingest, prefix=prefix, role=role)
    hashed = mosquitto_hash(password, iterations=iterations)
    lines = [ln for ln in _read(password_file) if ln.strip()]
    created = not any(ln.split(":", 1)[0] == user for ln in lines)
    lines = [ln for ln in lines if ln.split(":", 1)[0] != user] + [f"{user}:{hashed}"]
    acl, _ = _without_user_block(_read(acl_file), user)
    label = ROLE_LABELS[role or (BrokerRole.INGEST if ingest else BrokerRole.EDGE)].format(store=store_id)
    block = ["", f"user {user}", f"# {label} (footfall edge credentials)", *rules]
    try:
        _write_atomic(password_file, "\n".join(lines) + "\n")
        _write_atomic(acl_file, "\n".join(acl + block) + "\n", mode=0o644)
    except OSError as exc:
        raise CredentialsError(f"cannot write the broker files: {exc}") from None
    return CredentialEntry(user=user, password_hash=hashed, rules=rules, created=created)


def remove_credentials(*, user: str, password_file: Path, acl_file: Path) -> bool:
    """Remove a user from both files; returns whether it was there.

    Raises:
        CredentialsError: a file cannot be written.
    """
    _check_user(user)
    lines = _read(password_file)
    kept = [ln for ln in lines if ln.strip() and ln.split(":", 1)[0] != user]
    acl, found = _without_user_block(_read(acl_file), user)
    try:
        if password_file.exists():
            _write_atomic(password_file, "\n".join(kept) + ("\n" if kept else ""))
        if acl_file.exists():
            _write_atomic(acl_file, "\n".join(acl) + "\n")
    except OSError as exc:
        raise CredentialsError(f"cannot write the broker files: {exc}") from None
    return found or len(kept) != len([ln for ln in lines if ln.strip()])
