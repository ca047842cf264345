"""The audit log (admins read it)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from footfall.api.deps import AuditReader, ConnDep
from footfall.api.problems import responses
from footfall.api.routes.common import Limit, Offset
from footfall.api.schemas.audit import AuditEntriesPublic, AuditEntryPublic
from footfall.db import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=responses(401, 403, 422))

Word = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]


@router.get("", summary="Read the audit log")
def read_audit(
    *,
    conn: ConnDep,
    caller: AuditReader,
    action: Annotated[Word, Query(description="Only this action, e.g. `login_failed`.")] = None,
    actor: Annotated[Word, Query(description="Only this actor (a user name).")] = None,
    target: Annotated[Word, Query(description="Only this target, e.g. `user:ann`.")] = None,
    since: Annotated[datetime | None, Query(description="Only entries at or after this instant.")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditEntriesPublic:
    """Failed log-ins, lock-outs, and changes to users, roles, scope and API keys, newest first (admins only)."""
    rows, total = audit.entries(
        conn, limit=limit, offset=offset, action=action, actor=actor, target=target, since=since
    )
    return AuditEntriesPublic(data=[AuditEntryPublic.model_validate(r) for r in rows], count=total)
