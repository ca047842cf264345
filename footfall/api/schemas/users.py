"""Users, tokens and API keys."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from footfall.api.access import Role
from footfall.api.receipts.model import PRINTABLE
from footfall.core.ids import Id

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@\-]{3,64}$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256, pattern=r"^[^\x00]*$")]
Email = Annotated[
    str, StringConstraints(pattern=r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,255}$", max_length=320)
]


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    token_type: str = Field(default="bearer", description="Always `bearer`.")
    expires_in: int = Field(description="Seconds until it expires.")


class UserBase(BaseModel):
    """What every user has."""

    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="Log-in name: 3–64 letters, digits, `_ . @ -`.")
    email: Email | None = Field(default=None)
    role: Role = Field(description="admin, manager, merchandiser or alert_subscriber.")
    all_stores: bool = Field(default=False, description="Sees every store (admins always do).")
    stores: list[Id] = Field(default_factory=list, max_length=10_000, description="Stores in the user's scope.")


class UserCreate(UserBase):
    """A new user."""

    password: Password | None = Field(default=None, description="At least 8 characters; omit for API-key-only users.")


class UserUpdate(BaseModel):
    """Changes to a user; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    role: Role | None = None
    all_stores: bool | None = None
    disabled: bool | None = None
    password: Password | None = None
    stores: list[Id] | None = Field(default=None, max_length=10_000, description="Replaces the scope.")


class UserPublic(BaseModel):
    """A user as the API shows it."""

    user_id: int
    username: str
    email: str | None
    role: Role
    all_stores: bool
    disabled: bool
    stores: list[str]
    created_at: datetime


class UsersPublic(BaseModel):
    """A page of users."""

    data: list[UserPublic]
    count: int = Field(description="Users in total (not just this page).")


class ApiKeyCreate(BaseModel):
    """A new API key."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(max_length=100, pattern=PRINTABLE)] = Field(
        default="", description="What it is for."
    )


class ApiKeyPublic(BaseModel):
    """An API key's record (the secret is never shown again)."""

    key_id: int
    name: str
    prefix: str = Field(description="The first part of the key, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """A new API key, with its secret: shown this once, store it now."""

    key: str = Field(description="Send as `X-API-Key: <key>` or `Authorization: Bearer <key>`.")


class ApiKeysPublic(BaseModel):
    """A user's API keys."""

    data: list[ApiKeyPublic]
    count: int
