"""Connecting a Mastodon profile: register the OAuth app on the instance, send the user to authorise, swap the code for a token."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

import httpx

from connectors import http
from connectors.base import AuthError, PermanentError
from connectors.mastodon.client import SCOPES, normalise_instance_url

OUT_OF_BAND = "urn:ietf:wg:oauth:2.0:oob"


@dataclass(frozen=True)
class AppRegistration:
    client_id: str
    client_secret: str


def _oauth_error(response: httpx.Response) -> AuthError | None:
    # OAuth answers a bad, expired or reused code with 400 invalid_grant: the user must authorise again.
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("error") in ("invalid_grant", "invalid_client", "unauthorized_client"):
        return AuthError(http.error_message(response))
    return None


async def _post(instance_url: str, path: str, data: dict[str, str], http_client: httpx.AsyncClient | None) -> dict:
    client = http_client or http.make_client()
    try:
        # Registration and token exchange are not idempotent, so they are never resent blindly.
        response = await http.send(
            client, "POST", normalise_instance_url(instance_url) + path, data=data, retries=1, error_mapper=_oauth_error
        )
        body = http.json_body(response)
    finally:
        if http_client is None:
            await client.aclose()
    if not isinstance(body, dict):
        raise PermanentError(f"{path}: expected an object")
    return body


async def register_app(
    instance_url: str,
    *,
    client_name: str = "GovSocial",
    redirect_uri: str = OUT_OF_BAND,
    website: str = "",
    scopes: str = SCOPES,
    http_client: httpx.AsyncClient | None = None,
) -> AppRegistration:
    """POST /api/v1/apps; store the result with the profile's secrets."""
    data = {"client_name": client_name, "redirect_uris": redirect_uri, "scopes": scopes}
    if website:
        data["website"] = website
    body = await _post(instance_url, "/api/v1/apps", data, http_client)
    client_id, client_secret = body.get("client_id"), body.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        raise PermanentError("app registration answered without client credentials")
    return AppRegistration(client_id=client_id, client_secret=client_secret)


def authorize_url(
    instance_url: str, client_id: str, *, redirect_uri: str = OUT_OF_BAND, scopes: str = SCOPES, state: str = ""
) -> str:
    """Where to send the person connecting the profile (GET /oauth/authorize)."""
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scopes}
    if state:
        params["state"] = state
    return f"{normalise_instance_url(instance_url)}/oauth/authorize?{urllib.parse.urlencode(params)}"


async def exchange_code(
    instance_url: str,
    app: AppRegistration,
    code: str,
    *,
    redirect_uri: str = OUT_OF_BAND,
    scopes: str = SCOPES,
    http_client: httpx.AsyncClient | None = None,
) -> str:
    """POST /oauth/token with the authorization code; returns the user access token."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": redirect_uri,
        "scope": scopes,
    }
    body = await _post(instance_url, "/oauth/token", data, http_client)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise PermanentError("token endpoint answered without an access_token")
    return token
