"""The audit log (admins read it)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from footfall.api.deps import AuditReader, ConnDep
from footfall.api.errors import Invalid
from footfall.api.problems import responses
from footfall.api.routes.common import Limit, Offset
from footfall.api.schemas.audit import AuditEntriesPublic, AuditEntryPublic
from footfall.db import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=responses(401, 403, 422))

Word = Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
# A string, not `datetime`: pydantic would also take a bare number as Unix time, which the document does not allow.
INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            f"since: {value!r} is not a date and time; write e.g. 2026-06-01T00:00:00Z",
            errors=[{"loc": ["query", "since"], "msg": "not a valid date and time", "type": "datetime_parsing"}],
        ) from None


@router.get("", summary="Read the audit log")
def read_audit(
    *,
    conn: ConnDep,
    caller: AuditReader,
    action: Annotated[Word, Query(description="Only this action, e.g. `login_failed`.")] = None,
    actor: Annotated[Word, Query(description="Only this actor (a user name).")] = None,
    target: Annotated[Word, Query(description="Only this target, e.g. `user:ann`.")] = None,
    since: Annotated[
        str | None,
        Query(
            pattern=INSTANT, max_length=40, description="Only entries at or after this instant (ISO 8601, with offset)."
        ),
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditEntriesPublic:
    """Failed log-ins, lock-outs, and changes to users, roles, scope and API keys, newest first (admins only)."""
    rows, total = audit.entries(
        conn, limit=limit, offset=offset, action=action, actor=actor, target=target, since=_instant(since)
    )
    return AuditEntriesPublic(data=[AuditEntryPublic.model_validate(r) for r in rows], count=total)
