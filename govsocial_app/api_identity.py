"""Single sign-on's two HTTP routes: /auth/oidc/start (to the provider) and /auth/oidc/callback (back from it).

Both answer with a redirect and nothing else: the callback never shows an error page or a trace; every outcome goes
to the sign-in page through a one-time ticket (services/identity/signin.py), where it is shown translated.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from govsocial_app.http_security import request_ip
from govsocial_app.services.identity import signin

START_PATH = "/auth/oidc/start"
CALLBACK_PATH = "/auth/oidc/callback"
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _next(raw: str) -> str:
    from govsocial_app.state.login import safe_next

    return safe_next(raw)


async def start(request: Request) -> RedirectResponse:
    url = await signin.start_url(_next(request.query_params.get("next", "")), request_ip(request),
                                 request.headers.get("user-agent", "")[:300])
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


async def callback(request: Request) -> RedirectResponse:
    params = {k: v[:2000] for k, v in request.query_params.items()}
    url = await signin.finish_callback(params, request_ip(request), request.headers.get("user-agent", "")[:300])
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


def routes() -> list[Route]:
    return [Route(START_PATH, start, methods=["GET"]), Route(CALLBACK_PATH, callback, methods=["GET"])]
