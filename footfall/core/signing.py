"""Signed links: a small HMAC-SHA256 token that carries a few claims and an expiry.

Alert messages (e-mail, Telegram) carry "acknowledge" and "mute" links; whoever opens
the link acts as the subscriber the message went to, so the token names that user, the
action and its target, and expires. The alerts engine signs; the API verifies.

Example:
    >>> t = sign({"act": "ack", "state": 7, "user": 3}, secret="s3cret", expires=2_000_000_000)
    >>> verify(t, secret="s3cret", now=1_900_000_000)["state"]
    7
"""

import base64
import hashlib
import hmac
import json
from typing import Any

from footfall.core.errors import FootfallError


class BadSignature(FootfallError):
    """A signed token is malformed, forged or expired; ask for a fresh link."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict[str, Any], *, secret: str, expires: int) -> str:
    """A URL-safe token holding `claims` until the Unix time `expires`."""
    body = _b64(json.dumps({**claims, "exp": int(expires)}, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def verify(token: str, *, secret: str, now: float) -> dict[str, Any]:
    """The claims of a token signed with `secret` that has not expired at Unix time `now`.

    Raises:
        BadSignature: malformed, wrong signature, or expired.
    """
    try:
        body, mac = token.split(".", 1)
        given = _unb64(mac)
    except ValueError:
        raise BadSignature("the link is malformed; open the link from the message again") from None
    want = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, want):
        raise BadSignature("the link's signature does not match; open the link from the message again")
    try:
        claims = json.loads(_unb64(body))
    except ValueError:
        raise BadSignature("the link is malformed; open the link from the message again") from None
    if not isinstance(claims, dict) or claims.get("exp", 0) < now:
        raise BadSignature("the link has expired; use the API or a newer message")
    return claims
