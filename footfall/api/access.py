"""Who may do what, and on which stores.

A `Principal` is the caller of one request: a user (logged in with a bearer token or an
API key), their role and the stores in their scope. Scope is checked before any query
runs, and a store outside it is reported exactly like a store that does not exist
(404), so nobody learns which store ids exist elsewhere.

Example:
    >>> p = Principal(user_id=1, username="ann", role=Role.MANAGER, all_stores=False, stores=frozenset({"a"}))
    >>> p.sees("a"), p.sees("b"), p.can(Permission.MANAGE_USERS)
    (True, False, False)
"""

from dataclasses import dataclass
from enum import StrEnum

from footfall.api.errors import Forbidden, NotFound


class Role(StrEnum):
    """A user's role (the `users.role` column)."""

    ADMIN = "admin"
    MANAGER = "manager"
    MERCHANDISER = "merchandiser"
    ALERT_SUBSCRIBER = "alert_subscriber"


class Permission(StrEnum):
    """Something a route may require."""

    READ_KPIS = "read_kpis"
    READ_RECEIPTS = "read_receipts"
    WRITE_RECEIPTS = "write_receipts"
    MANAGE_PLANS = "manage_plans"
    MANAGE_SHIFTS = "manage_shifts"
    MANAGE_LAYOUT = "manage_layout"
    """Upload floor plans and record layout changes."""
    MANAGE_USERS = "manage_users"
    MANAGE_ALERTS = "manage_alerts"
    """Create, change and delete alert rules; acknowledge and mute alerts."""
    SUBSCRIBE_ALERTS = "subscribe_alerts"
    """Read alerts in scope, subscribe to them, acknowledge them."""


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset(
        {
            Permission.READ_KPIS,
            Permission.READ_RECEIPTS,
            Permission.WRITE_RECEIPTS,
            Permission.MANAGE_PLANS,
            Permission.MANAGE_SHIFTS,
            Permission.MANAGE_LAYOUT,
            Permission.MANAGE_ALERTS,
            Permission.SUBSCRIBE_ALERTS,
        }
    ),
    Role.MERCHANDISER: frozenset(
        {Permission.READ_KPIS, Permission.READ_RECEIPTS, Permission.MANAGE_LAYOUT, Permission.SUBSCRIBE_ALERTS}
    ),
    Role.ALERT_SUBSCRIBER: frozenset({Permission.READ_KPIS, Permission.SUBSCRIBE_ALERTS}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request."""

    user_id: int
    username: str
    role: Role
    all_stores: bool
    stores: frozenset[str]
    via: str = "token"
    """`token` or `api_key`."""

    def can(self, permission: Permission) -> bool:
        """Whether the role grants a permission."""
        return permission in ROLE_PERMISSIONS[self.role]

    def sees(self, store_id: str) -> bool:
        """Whether a store is in scope."""
        return self.role is Role.ADMIN or self.all_stores or store_id in self.stores

    def require(self, permission: Permission) -> None:
        """Raise unless the role grants `permission`.

        Raises:
            Forbidden: the role lacks it.
        """
        if not self.can(permission):
            raise Forbidden(f"role {self.role.value!r} may not {permission.value.replace('_', ' ')}")

    def require_store(self, store_id: str) -> None:
        """Raise unless the store is in scope.

        Raises:
            NotFound: out of scope (said the same way as a store that does not exist).
        """
        if not self.sees(store_id):
            raise NotFound(f"store {store_id!r} not found")

    def filter_stores(self, store_ids: list[str]) -> list[str]:
        """The given stores that are in scope, in the same order."""
        return [s for s in store_ids if self.sees(s)]
