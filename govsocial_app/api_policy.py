"""The public comment policy: the current version as plain text, read-only, no sign-in (posts link here)."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from govsocial_app.services.records import policy

PATH = "/api/comment-policy"


async def comment_policy(request: Request) -> Response:
    lang = "ar" if request.query_params.get("lang", "").lower().startswith("ar") else "en"
    body = await anyio.to_thread.run_sync(lambda: policy.as_text(policy.current(), lang))
    return Response(body, media_type="text/plain; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=60", "Content-Language": lang})


def routes() -> list[Route]:
    return [Route(PATH, comment_policy, methods=["GET"]), Route(PATH + ".txt", comment_policy, methods=["GET"])]
