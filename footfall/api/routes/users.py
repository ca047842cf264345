"""Users (admins manage them) and each user's own API keys."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from footfall.api import users
from footfall.api.deps import CallerDep, ConnDep, UserManager
from footfall.api.errors import ConflictingChange
from footfall.api.problems import responses
from footfall.api.routes.common import Limit, Offset
from footfall.api.schemas.users import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeysPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
    UserUpdate,
)

router = APIRouter(prefix="/v1/users", tags=["users"], responses=responses(400, 401, 403, 404, 409, 422))

UserId = Annotated[int, Path(ge=1, le=2**63 - 1, description="A user id.")]
KeyId = Annotated[int, Path(ge=1, le=2**63 - 1, description="An API key id.")]


@router.get("/me", summary="Who am I")
def read_me(conn: ConnDep, caller: CallerDep) -> UserPublic:
    """The caller's own user record."""
    return users.get_user(conn, user_id=caller.user_id)


@router.get("/me/api-keys", summary="My API keys")
def read_my_keys(conn: ConnDep, caller: CallerDep) -> ApiKeysPublic:
    """The caller's API keys (never their secrets)."""
    keys = users.list_api_keys(conn, user_id=caller.user_id)
    return ApiKeysPublic(data=keys, count=len(keys))


@router.post("/me/api-keys", status_code=status.HTTP_201_CREATED, summary="Create an API key")
def create_my_key(conn: ConnDep, caller: CallerDep, body: ApiKeyCreate) -> ApiKeyCreated:
    """A new API key with the caller's role and scope. The key is shown only in this answer."""
    key, plaintext = users.create_api_key(conn, user_id=caller.user_id, name=body.name)
    return ApiKeyCreated(**key.model_dump(), key=plaintext)


@router.delete("/me/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API key")
def revoke_my_key(conn: ConnDep, caller: CallerDep, key_id: KeyId) -> None:
    """Revoke one of the caller's keys; it stops working at once."""
    users.revoke_api_key(conn, user_id=caller.user_id, key_id=key_id)


@router.get("", summary="List users")
def read_users(conn: ConnDep, caller: UserManager, limit: Limit = 100, offset: Offset = 0) -> UsersPublic:
    """Every user (admins only)."""
    page, total = users.list_users(conn, limit=limit, offset=offset)
    return UsersPublic(data=page, count=total)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a user")
def create_user(conn: ConnDep, caller: UserManager, body: UserCreate) -> UserPublic:
    """A new user with a role and a store scope (admins only)."""
    return users.create_user(conn, **body.model_dump())


@router.get("/{user_id}", summary="Read a user")
def read_user(conn: ConnDep, caller: UserManager, user_id: UserId) -> UserPublic:
    """One user (admins only)."""
    return users.get_user(conn, user_id=user_id)


@router.patch("/{user_id}", summary="Change a user")
def update_user(conn: ConnDep, caller: UserManager, user_id: UserId, body: UserUpdate) -> UserPublic:
    """Change role, scope, password or state (admins only; not your own role or state)."""
    changes = body.model_dump(exclude_unset=True)
    if user_id == caller.user_id and (changes.get("role") not in (None, caller.role) or changes.get("disabled")):
        raise ConflictingChange("you cannot change your own role or disable yourself; ask another admin")
    return users.update_user(conn, user_id=user_id, **changes)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a user")
def delete_user(conn: ConnDep, caller: UserManager, user_id: UserId) -> None:
    """Delete a user and their API keys (admins only; not yourself)."""
    if user_id == caller.user_id:
        raise ConflictingChange("you cannot delete yourself; ask another admin")
    users.delete_user(conn, user_id=user_id)
