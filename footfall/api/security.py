"""Passwords, bearer tokens and API keys.

- Passwords are hashed with Argon2id (`argon2-cffi`); a hash made with weaker
  parameters is re-hashed on the next successful login.
- Bearer tokens are short-lived HS256 JWTs signed with `FOOTFALL_API__SECRET_KEY`, or,
  when it is unset, with a random key made on first start and kept in the database
  (`signing_secret`); no key written in the source is ever accepted. They carry only the
  user id: role, scope and whether the user is disabled are read from the database on
  every request, so a change takes effect at once.
- API keys look like `ff_<prefix>_<secret>`. The prefix is stored in clear (to find the
  key and to show it in lists); only a SHA-256 of the whole key is stored. A slow hash is
  not needed: the secret is 256 random bits, not something a person chose.

Example:
    >>> key = new_api_key()
    >>> parse_api_key(key.plaintext) == key.prefix
    True
    >>> verify_api_key(key.plaintext, key.hash)
    True
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from footfall.api.errors import Unauthenticated
from footfall.core.settings import ApiSettings
from footfall.db import secrets as stored_secrets
from footfall.db.connect import DictConnection

_hasher = PasswordHasher()
_ALGORITHM = "HS256"
_ISSUER = "footfall"
KEY_PREFIX = "ff_"
SESSION_COOKIE = "footfall_session"
"""The dashboard's cookie: the same bearer token the API issues, HttpOnly, SameSite=Strict."""
CSRF_HEADER = "X-CSRF-Token"
"""Unsafe requests authenticated by the session cookie must carry `csrf_token(token)` here."""


TOKEN_SECRET_NAME = "api_token_key"  # noqa: S105 - a row's name, not a secret
"""The name of the generated token-signing key in the `app_secrets` table."""


def signing_secret(conn: DictConnection, settings: ApiSettings) -> str:
    """The key bearer tokens are signed with: the configured one, or the one made on first start."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return stored_secrets.get_or_create(conn, name=TOKEN_SECRET_NAME, make=lambda: secrets.token_urlsafe(48))


def hash_password(password: str) -> str:
    """An Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches the stored hash (False for users without a password)."""
    if not stored:
        # Spend the same time as a real check so user names cannot be probed by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: whose it is, and the user's token version when it was issued.

    The version (`users.token_version`) moves on when the user's password, role, scope or
    state changes; `footfall.api.users.principal` refuses a token of an older version.
    """

    user_id: int
    version: int


def issue_token(*, user_id: int, version: int, secret: str, minutes: int, now: datetime | None = None) -> str:
    """A signed bearer token for a user at their current token version."""
    now = now or datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "ver": version,
        "iss": _ISSUER,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, *, secret: str) -> TokenClaims:
    """The claims of a valid, unexpired token (check the version with `users.principal`).

    Raises:
        Unauthenticated: the token is malformed, forged or expired, or older than token versions.
    """
    try:
        claims = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], issuer=_ISSUER, options={"require": ["exp", "sub", "iss", "ver"]}
        )
        version = claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("ver")
        return TokenClaims(user_id=int(claims["sub"]), version=version)
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired; log in again at POST /v1/auth/token") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthenticated("the token is not valid; log in again at POST /v1/auth/token") from None


def csrf_token(token: str, *, secret: str) -> str:
    """The CSRF token bound to one session token: an HMAC nobody without the secret can make.

    A page embeds it; a POST made with the session cookie must echo it (form field or
    `X-CSRF-Token` header). A cross-site page can make the browser send the cookie, but
    cannot read the page to learn this value.
    """
    return hmac.new(secret.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def check_csrf(presented: str | None, *, token: str, secret: str) -> bool:
    """Whether `presented` is the CSRF token of the session `token` (constant time)."""
    return bool(presented) and hmac.compare_digest(str(presented), csrf_token(token, secret=secret))


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly made API key: `plaintext` is shown once, `hash` and `prefix` are stored."""

    plaintext: str
    prefix: str
    hash: str


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def new_api_key() -> NewApiKey:
    """Make a new random API key."""
    prefix = secrets.token_hex(4)
    plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(plaintext=plaintext, prefix=prefix, hash=_digest(plaintext))


def parse_api_key(plaintext: str) -> str | None:
    """The prefix of something shaped like an API key, or None."""
    if not plaintext.startswith(KEY_PREFIX):
        return None
    parts = plaintext[len(KEY_PREFIX) :].split("_", 1)
    if len(parts) != 2 or len(parts[0]) != 8 or not parts[1]:
        return None
    return parts[0]


def verify_api_key(plaintext: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with the stored hash."""
    return hmac.compare_digest(_digest(plaintext), stored_hash)
