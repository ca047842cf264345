"""Identifiers that travel in topics, payloads and URLs.

Store, device, door, zone and floor ids become MQTT topic levels and URL path segments,
so they are restricted to a safe alphabet: no MQTT wildcards (`+`, `#`), no level
separator (`/`), no `$` (reserved by brokers), no whitespace and no `..`.
"""

import re
from typing import Annotated

from pydantic import StringConstraints

ID_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_.\-]{0,62}[A-Za-z0-9])?$"
_ID_RE = re.compile(ID_PATTERN)

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=64)]
"""A store, device, door, zone, floor or camera identifier."""


def id_problem(value: str) -> str | None:
    """Say what is wrong with an identifier, or None when it is valid.

    Args:
        value: the candidate identifier.

    Returns:
        A one-line reason, or None.
    """
    if not value:
        return "is empty"
    if len(value) > 64:
        return f"is {len(value)} characters long (at most 64)"
    for bad, name in (("+", "MQTT wildcard '+'"), ("#", "MQTT wildcard '#'"), ("/", "'/'"), ("$", "'$'")):
        if bad in value:
            return f"contains {name}"
    if ".." in value:
        return "contains '..'"
    if not _ID_RE.match(value):
        return "must be letters, digits, '_', '-' or '.', starting and ending with a letter or digit"
    return None
