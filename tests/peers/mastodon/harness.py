"""Real HTTP servers for the Mastodon trust tests: mastodon_mock (a third-party Mastodon API server), a proxy
in front of it that answers 502 after forwarding a status, and a server that refuses tokens with 400."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from aiohttp import ClientSession, web

from tests.conftest import missing_service

# Accounts and tokens seeded by `mastodon_mock serve --demo` (mastodon_mock.config.DEMO_SEED).
OURS = "ada_token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mastodon_mock(workdir: Path) -> Iterator[str]:
    """Start mastodon_mock 0.6.1 on loopback; yield its base URL."""
    binary = Path(sys.executable).with_name("mastodon_mock")
    if not binary.exists():
        missing_service("mastodon_mock is not installed (pip install mastodon_mock==0.6.1)")
    port = free_port()
    log = (workdir / "mastodon_mock.log").open("w")
    proc = subprocess.Popen(
        [str(binary), "serve", "--in-memory", "--demo", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mastodon_mock exited with {proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"{url}/api/v2/instance", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mastodon_mock did not start within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class _ServerThread:
    """An aiohttp application on its own loop in a thread, on a free loopback port."""

    def __init__(self, app: web.Application):
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(self.app)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())

    def __enter__(self) -> _ServerThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("test server did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class BadGatewayAfterPost(_ServerThread):
    """A real reverse proxy: forwards everything to `upstream`, but answers POST /api/v1/statuses with 502
    AFTER the upstream stored the status (as a real proxy did in issue 14). Counts the posts it forwarded."""

    def __init__(self, upstream: str, *, fail_posts: int = 1):
        self.upstream = upstream
        self.fail_posts = fail_posts
        self.forwarded_posts = 0
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        super().__init__(app)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length", "transfer-encoding")}
        async with ClientSession() as session:
            async with session.request(request.method, self.upstream + request.rel_url.path_qs, headers=headers, data=body) as up:
                payload = await up.read()
                status, content_type = up.status, up.headers.get("Content-Type", "application/json")
                link = up.headers.get("Link")
        if request.method == "POST" and request.path == "/api/v1/statuses":
            self.forwarded_posts += 1
            if self.forwarded_posts <= self.fail_posts:
                return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        out = web.Response(status=status, body=payload, headers={"Content-Type": content_type})
        if link:
            out.headers["Link"] = link
        return out


class RefusesTokens(_ServerThread):
    """A Mastodon-API server that knows one token and answers any other with 400 "Invalid Bearer token",
    as a real API-compatible server did (issue 14)."""

    GOOD = "good-token"

    def __init__(self):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.requests: list[str] = []
        super().__init__(app)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(f"{request.method} {request.path}")
        if request.path in ("/api/v2/instance", "/api/v1/instance"):
            return web.json_response({"uri": "127.0.0.1", "version": "4.0.0 (compatible; Refuser 1.0)",
                                      "configuration": {"statuses": {"max_characters": 500}}})
        if request.headers.get("Authorization") != f"Bearer {self.GOOD}":
            return web.json_response({"error": "Invalid Bearer token"}, status=400)
        if request.path == "/api/v1/accounts/verify_credentials":
            return web.json_response({"id": "1", "username": "ada", "acct": "ada", "display_name": "Ada",
                                      "followers_count": 1, "following_count": 0, "statuses_count": 0})
        return web.json_response([])
