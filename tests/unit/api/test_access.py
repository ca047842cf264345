import pytest

from footfall.api.access import Permission, Principal, Role
from footfall.api.errors import Forbidden, NotFound


def who(role: Role, stores: set[str] = frozenset({"a"}), *, all_stores: bool = False) -> Principal:
    return Principal(user_id=1, username="u", role=role, all_stores=all_stores, stores=frozenset(stores))


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.ADMIN, Permission.MANAGE_USERS, True),
        (Role.MANAGER, Permission.MANAGE_USERS, False),  # managers run stores, not accounts
        (Role.MANAGER, Permission.WRITE_RECEIPTS, True),
        (Role.MANAGER, Permission.MANAGE_PLANS, True),
        (Role.MERCHANDISER, Permission.READ_KPIS, True),
        (Role.MERCHANDISER, Permission.MANAGE_PLANS, False),
        (Role.MERCHANDISER, Permission.MANAGE_USERS, False),
        (Role.ALERT_SUBSCRIBER, Permission.READ_KPIS, True),
        (Role.ALERT_SUBSCRIBER, Permission.READ_RECEIPTS, False),
        (Role.ALERT_SUBSCRIBER, Permission.SUBSCRIBE_ALERTS, True),  # what the role is for
        (Role.ALERT_SUBSCRIBER, Permission.MANAGE_ALERTS, False),  # borders are set by managers
        (Role.MANAGER, Permission.MANAGE_ALERTS, True),
        (Role.MERCHANDISER, Permission.MANAGE_ALERTS, False),
    ],
)
def test_role_permissions(role: Role, permission: Permission, allowed: bool) -> None:
    p = who(role)
    assert p.can(permission) is allowed
    if allowed:
        p.require(permission)
    else:
        with pytest.raises(Forbidden, match=role.value):
            p.require(permission)


@pytest.mark.parametrize(
    ("principal", "store", "sees"),
    [
        (who(Role.MANAGER, {"a"}), "a", True),  # in scope
        (who(Role.MANAGER, {"a"}), "b", False),  # another store
        (who(Role.MANAGER, set(), all_stores=True), "b", True),  # all-stores scope
        (who(Role.ADMIN, set()), "b", True),  # admins see everything
    ],
)
def test_store_scope(principal: Principal, store: str, sees: bool) -> None:
    assert principal.sees(store) is sees
    if not sees:
        with pytest.raises(NotFound, match="not found"):
            principal.require_store(store)
    assert principal.filter_stores(["a", "b"]) == [s for s in ["a", "b"] if principal.sees(s)]
