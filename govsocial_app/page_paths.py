"""A page's address without its trailing slash (`/inbox`, the address people type, bookmark and the app links to)
answers with the page itself, 200, instead of a redirect to `/inbox/`.

In prod Reflex serves each prerendered page as `<route>/index.html` through Starlette's StaticFiles, which answers
`/inbox` with a 307 to `/inbox/`: on a phone on slow 4G that is one more round trip (about 150 ms of Lighthouse's
simulated latency, more on a real mobile network) before the first byte of the page. This ASGI middleware (an
`api_transformer`, govsocial_app.py) hands GET and HEAD requests for a known page path to the static files as the
slashed path, so they serve the same file. The browser keeps the address it asked for; React Router matches either.
Only the app's own page routes are rewritten, never an asset, an API route or an unknown path (still 404)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

_METHODS = frozenset({"GET", "HEAD"})


class PagePaths:
    def __init__(self, app, paths: Iterable[str]):
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") in _METHODS and scope["path"] in self.paths:
            path = scope["path"] + "/"
            scope = {**scope, "path": path, "raw_path": path.encode("utf-8")}
        await self.app(scope, receive, send)


def page_paths(routes: Iterable[str]) -> Callable:
    """An api_transformer answering each of these page routes (the app's `ROUTE`s) without a trailing slash."""
    paths = frozenset("/" + r.strip("/") for r in routes if r.strip("/"))
    if any(set("[]{}*") & set(p) for p in paths):  # a dynamic segment would need the route matcher, not a set
        raise ValueError(f"page_paths takes static routes only: {sorted(paths)}")
    return lambda app: PagePaths(app, paths)
