from datetime import UTC, datetime, timedelta

import pytest

from footfall.api.errors import Unauthenticated
from footfall.api.security import (
    hash_password,
    issue_token,
    new_api_key,
    parse_api_key,
    read_token,
    verify_api_key,
    verify_password,
)

SECRET = "x" * 40


def test_password_hash_verifies_only_the_right_password() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$")
    assert verify_password("correct horse", h)
    assert not verify_password("wrong horse", h)
    assert not verify_password("anything", None)  # user without a password


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            issue_token(user_id=7, version=0, secret=SECRET, minutes=5, now=datetime.now(UTC) - timedelta(hours=1)),
            "expired",
        ),
        (issue_token(user_id=7, version=0, secret="y" * 40, minutes=5), "not valid"),  # signed with another key
        (  # a token of the format before token versions: no `ver` claim
            __import__("jwt").encode(
                {"sub": "7", "iss": "footfall", "exp": datetime.now(UTC) + timedelta(minutes=5)}, SECRET, "HS256"
            ),
            "not valid",
        ),
        ("not.a.jwt", "not valid"),
        ("", "not valid"),
    ],
)
def test_bad_tokens_are_refused(token: str, message: str) -> None:
    with pytest.raises(Unauthenticated, match=message):
        read_token(token, secret=SECRET)


def test_token_round_trip_carries_the_user_id() -> None:
    claims = read_token(issue_token(user_id=42, version=3, secret=SECRET, minutes=5), secret=SECRET)
    assert (claims.user_id, claims.version) == (42, 3)


@pytest.mark.parametrize(
    ("text", "prefix"),
    [
        ("ff_0123abcd_secretpart", "0123abcd"),  # well-formed
        ("ff_0123abc_secret", None),  # prefix too short
        ("xx_0123abcd_secret", None),  # not ours
        ("ff_0123abcd_", None),  # no secret
        ("ff_0123abcd", None),  # no separator
    ],
)
def test_api_key_shape(text: str, prefix: str | None) -> None:
    assert parse_api_key(text) == prefix


def test_new_api_keys_are_random_and_only_their_hash_verifies() -> None:
    a, b = new_api_key(), new_api_key()
    assert a.plaintext != b.plaintext
    assert a.plaintext not in a.hash
    assert verify_api_key(a.plaintext, a.hash)
    assert not verify_api_key(b.plaintext, a.hash)
