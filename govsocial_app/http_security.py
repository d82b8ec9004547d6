"""Security headers on every HTTP response the app serves itself (CSP, frame-ancestors, nosniff, HSTS), which origins may
call it from a browser, and the client address behind a configured number of trusted proxies.

The Content-Security-Policy is built for what Reflex's pages need, checked in a browser (tests/browser/test_security_headers.py):
- the prerendered pages carry inline bootstrap scripts (React Router context, streaming, colour mode) that change with each
  build, so each HTML response gets the SHA-256 of exactly its own inline scripts instead of 'unsafe-inline';
- 'unsafe-eval' stays: Reflex runs `rx.call_script` code and its callbacks with eval() (utils/state.js);
- style-src needs 'unsafe-inline': Emotion and Radix write style elements and attributes at run time;
- images may come from any https host: avatars and media of social networks;
- connect-src 'self' covers the event websocket on the same origin (CSP 3); an API_URL on another origin is added.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import re
import zlib
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

from govsocial_app.config import get_settings

log = logging.getLogger(__name__)

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.S | re.I)
_MAX_HTML = 4 * 1024 * 1024  # larger bodies are streamed on untouched, with the policy that needs no hashes
_cache: OrderedDict[bytes, str] = OrderedDict()


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def _socket_origins() -> list[str]:
    """The event websocket's origin when the browser is told to open it elsewhere (REFLEX_API_URL on another host)."""
    import os

    out = []
    for url in (os.environ.get("REFLEX_API_URL", ""), get_settings().public_url):
        origin = _origin(url)
        if origin:
            out += [origin, origin.replace("http", "ws", 1)]
    return list(dict.fromkeys(out))


def content_security_policy(script_hashes: tuple[str, ...] = (), *, allow_inline_scripts: bool = False) -> str:
    scripts = ["'self'", "'unsafe-eval'"]
    if allow_inline_scripts:
        scripts.append("'unsafe-inline'")
    scripts += [f"'sha256-{h}'" for h in script_hashes]
    directives = [
        "default-src 'self'",
        "script-src " + " ".join(scripts),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "media-src 'self' blob: https:",
        "font-src 'self' data:",
        "connect-src 'self' " + " ".join(_socket_origins()),
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    found = []
    for m in _INLINE_SCRIPT.finditer(html):
        digest = base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()
        if digest not in found:
            found.append(digest)
    return tuple(found)


def _policy_for_html(body: bytes, encoding: str) -> str:
    key = hashlib.sha256(encoding.encode() + b"\0" + body).digest()
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    try:
        if encoding == "gzip":
            html = gzip.decompress(body)
        elif encoding == "deflate":
            html = zlib.decompress(body)
        elif encoding in ("", "identity"):
            html = body
        else:
            raise ValueError(f"cannot read a {encoding!r} body")
        policy = content_security_policy(inline_script_hashes(html))
    except (OSError, ValueError, zlib.error) as exc:
        log.warning("CSP: could not read an HTML response (%s); sending the policy with 'unsafe-inline' scripts", exc)
        policy = content_security_policy(allow_inline_scripts=True)
    _cache[key] = policy
    if len(_cache) > 512:
        _cache.popitem(last=False)
    return policy


def base_headers() -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ]
    if get_settings().public_url.startswith("https://"):
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class SecurityHeaders:
    """ASGI middleware around the whole app (passed to rx.App as an api_transformer). Headers an inner route set on
    purpose (the approval page's stricter Referrer-Policy) are kept."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if get_settings().trusted_proxy_hops and scope.get("client"):
            # Our own routes (approval links, iCal, push) see the browser's address, as Reflex's events do.
            forwarded = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"), "")
            scope = {**scope, "client": (client_ip(scope["client"][0], forwarded), scope["client"][1])}
        start: dict | None = None
        chunks: list[bytes] = []
        size = 0

        async def send_with_headers(message):
            nonlocal start, size
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in base_headers() if k not in names]
                message = {**message, "headers": headers}
                ctype = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
                if b"content-security-policy" in names or message.get("status") == 304:
                    # A 304's headers replace the cached page's: a policy without that page's hashes would block it.
                    await send(message)
                elif ctype.startswith(b"text/html"):
                    start = message  # the policy depends on the body: hold the start until it is complete
                else:
                    message["headers"].append((b"content-security-policy", content_security_policy().encode()))
                    await send(message)
                return
            if start is not None and message["type"] == "http.response.pathsend":
                # A static file sent by path (granian's zero-copy extension): hash what the file holds.
                headers = dict((k.lower(), v) for k, v in start["headers"])
                try:
                    body = Path(message["path"]).read_bytes()
                    policy = _policy_for_html(body, headers.get(b"content-encoding", b"").decode().strip().lower())
                except OSError:
                    policy = content_security_policy(allow_inline_scripts=True)
                first, start = start, None
                first["headers"].append((b"content-security-policy", policy.encode()))
                await send(first)
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if message.get("more_body", False) and size <= _MAX_HTML:
                return
            headers = dict((k.lower(), v) for k, v in start["headers"])
            if message.get("more_body", False):
                policy = content_security_policy(allow_inline_scripts=True)
            else:
                policy = _policy_for_html(b"".join(chunks), headers.get(b"content-encoding", b"").decode().strip().lower())
            first, start = start, None
            first["headers"].append((b"content-security-policy", policy.encode()))
            await send(first)
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": message.get("more_body", False)})
            chunks.clear()

        await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------- origins and client addresses


def allowed_origins() -> list[str]:
    """Origins other sites' pages may call the app from with credentials: its own public origin and GOVSOCIAL_CORS_ORIGINS.
    Never "*", which Starlette answers by reflecting any origin when a request carries credentials."""
    settings = get_settings()
    return list(dict.fromkeys(o for o in (settings.public_origin, *(_origin(x) or x for x in settings.cors_origins)) if o))


def socket_origin_allowed(origin: str | None, environ: dict) -> bool:
    """Engine.IO's origin check for the event websocket: the page's own origin (as the proxy saw it) or an allowed one."""
    if not origin:
        return True  # not a browser page: nothing cross-site to stop
    host = environ.get("HTTP_X_FORWARDED_HOST", environ.get("HTTP_HOST", "")).split(",")[0].strip()
    schemes = {environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip()}
    own = {f"{scheme}://{host}" for scheme in schemes if scheme in ("http", "https")}
    return origin in own or origin in allowed_origins()


def client_ip(peer: str, forwarded_for: str, hops: int | None = None) -> str:
    """The client's address: the peer itself, or with N trusted proxies in front, the Nth address from the right of
    X-Forwarded-For (what the outermost trusted proxy saw). Addresses further left are the client's own claims."""
    hops = get_settings().trusted_proxy_hops if hops is None else hops
    if hops <= 0:
        return peer
    chain = [x.strip() for x in (forwarded_for or "").split(",") if x.strip()]
    return chain[-hops] if len(chain) >= hops else peer


def request_ip(request) -> str:
    """client_ip() for a Starlette request (the app's own HTTP routes)."""
    peer = request.client.host if request.client else ""
    return client_ip(peer, request.headers.get("x-forwarded-for", ""))
