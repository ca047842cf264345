"""The audit log as the API shows it."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEntryPublic(BaseModel):
    """One audit entry."""

    audit_id: int
    at: datetime
    actor_id: int | None = Field(description="The acting user's id, when a user acted.")
    actor: str = Field(description="User name, `cli:<os user>`, `anonymous` or `system`.")
    action: str = Field(description="What was done, e.g. `login_failed`, `user_update`, `api_key_revoke`.")
    target: str = Field(description="What it was done to, as `kind:id` (`user:ann`, `api_key:12`).")
    client: str | None = Field(description="The caller's network address, when there was one.")
    detail: dict[str, Any] = Field(description="What changed (never a secret).")


class AuditEntriesPublic(BaseModel):
    """A page of the audit log, newest first."""

    data: list[AuditEntryPublic]
    count: int = Field(description="Entries matching the filters, on every page.")
