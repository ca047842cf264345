"""Log-in: the OAuth2 password flow."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from footfall.api.deps import ClientDep, ConnDep, SettingsDep, TokenSecretDep
from footfall.api.problems import responses
from footfall.api.schemas.users import Token
from footfall.api.security import issue_token
from footfall.api.users import authenticate

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses=responses(401, 422))


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
    """Exchange a user name and password for a bearer token."""
    # RFC 6749 §5.1: a token response must not be cached (here even if the middleware changes).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    who = authenticate(conn, username=form.username, password=form.password, client=client)
    minutes = settings.api.token_minutes
    token = issue_token(user_id=who.user_id, version=who.version, secret=secret, minutes=minutes)
    return Token(access_token=token, expires_in=minutes * 60)
