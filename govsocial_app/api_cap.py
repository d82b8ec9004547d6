"""CAP out over HTTP: /api/cap.atom (the agency's emergency posts as CAP 1.2 messages) and /api/cap/<id>.xml.
Public by design, like the warnings themselves: only messages about posts already published on social networks
are served, so a county website or a partner agency can consume them without an account."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from govsocial_app.config import get_settings
from govsocial_app.services.cap import outbound

ATOM = "application/atom+xml; charset=utf-8"
CAP = "application/cap+xml; charset=utf-8"
HEADERS = {"Cache-Control": "public, max-age=30", "X-Content-Type-Options": "nosniff"}


async def cap_feed(_request: Request) -> Response:
    def build() -> bytes:
        outbound.sync()  # a message due since the job last ran is written before the feed is read
        return outbound.feed(get_settings().public_url)

    return Response(await anyio.to_thread.run_sync(build), media_type=ATOM, headers=HEADERS)


async def cap_document(request: Request) -> Response:
    raw = request.path_params.get("message_id", "")
    if not raw.isdigit() or len(raw) > 12:
        return Response("Not found", status_code=404, media_type="text/plain")
    body = await anyio.to_thread.run_sync(lambda: outbound.document(int(raw)))
    if body is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(body, media_type=CAP, headers=HEADERS)


def routes() -> list[Route]:
    return [Route("/api/cap.atom", cap_feed, methods=["GET"]), Route("/api/cap/{message_id}.xml", cap_document, methods=["GET"])]
