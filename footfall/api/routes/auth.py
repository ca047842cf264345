"""Log-in: the OAuth2 password flow."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from footfall.api.deps import ClientDep, ConnDep, SettingsDep, TokenSecretDep
from footfall.api.problems import responses
from footfall.api.schemas.users import Token
from footfall.api.users import log_in

THROTTLED = responses(429)
THROTTLED[429]["headers"] = {
    "Retry-After": {"description": "Seconds to wait before the next attempt.", "schema": {"type": "integer"}}
}

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses={**responses(401, 422), **THROTTLED})


@router.post("/token", summary="Log in (OAuth2 password flow)")
def login(
    *,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: ConnDep,
    settings: SettingsDep,
    client: ClientDep,
    secret: TokenSecretDep,
    response: Response,
) -> Token:
    """Exchange a user name and password for a bearer token.

    Failed attempts are throttled per user name and per client address: past the limit the
    answer is 429 with `Retry-After`, and every failure is in the audit log.
    """
    # RFC 6749 §5.1: a token response must not be cached (here even if the middleware changes).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return log_in(
        conn, username=form.username, password=form.password, client=client, secret=secret, settings=settings.api
    )
