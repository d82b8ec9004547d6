"""Reflex configuration. Everything deployment-specific comes from environment variables (README.md)."""

import os

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from govsocial_app.config import get_settings
from govsocial_app.frontend_build import FrontendBuild
from govsocial_app.http_security import allowed_origins

_settings = get_settings()
_port = int(os.environ.get("GOVSOCIAL_PORT", "3000"))

if _settings.redis_url:
    # Each client's events run on the worker holding its websocket, and the live relay pushes only to that
    # worker's own clients, so a worker can keep a client's state between events instead of fetching and saving it
    # in Redis every time (Reflex's opportunistic lock). bench-load: p95 899 ms without, 585 ms with (2 cores).
    os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "true")
    # How long a worker keeps a client's state before writing it back and letting the lock go; the client's next
    # event then reads and deserialises it again, and a person's events come about 3 s apart. 15 s (issue 20, stop 39,
    # bench-load alternating with 5 s, both with reflex_lock_wakeup): README "Live updates at scale" has the runs.
    # Stop 38 kept 5 s because 2 of 9 runs at 15 s had an event unanswered for over 15 s: that was Reflex's lost
    # wake-up, which a hold ending under two queued events set off; reflex_lock_wakeup.py closes it.
    if "REFLEX_OPLOCK_HOLD_TIME_MS" not in os.environ:  # Reflex's older name, if an operator still sets it
        os.environ.setdefault("REFLEX_OPLOCK_HOLD_TIME", "15000ms")
    # A state lock expires after this long. Reflex's 10 s was too short for an overloaded worker: the lease's write
    # came after expiry and the event was lost (bench-load, 1 worker, 200 people: 459 unanswered events; 4 with
    # 30 s). The cost: after a worker crash, its clients' next event waits up to this long for the lock.
    os.environ.setdefault("REFLEX_REDIS_LOCK_EXPIRATION", "30000")

config = rx.Config(
    # Behind the example nginx this is 1 (GOVSOCIAL_TRUSTED_PROXY_HOPS), so sign-in backoff and the audit log see the
    # browser's address, not the proxy's. 0 ignores X-Forwarded-For, which a browser reaching the app directly could forge.
    trusted_proxy_hops=_settings.trusted_proxy_hops,
    # Never "*": with credentials, Starlette answers "*" by reflecting whatever origin asks.
    cors_allowed_origins=allowed_origins(),
    app_name="govsocial_app",
    db_url=_settings.database_url,
    redis_url=_settings.redis_url or None,
    telemetry_enabled=False,
    frontend_port=_port,
    backend_port=_port,
    show_built_with_reflex=False,
    # A phone's first paint (issue 20, item 3; make bench-paint). Dynamic components' optional libraries load when one
    # is first evaluated, not on every page (no script of ours reads window.__reflex), and the app root's loader of
    # the whole Radix Themes namespace goes (govsocial_app/frontend_build.py, with the browser build's chunks).
    frontend_lazy_bundled_libraries=True,
    # Brotli first: smaller than gzip for scripts and CSS; gzip for a client without it. Made once at build time,
    # served by Reflex's static files by Accept-Encoding (the example nginx passes the header through).
    frontend_compression_formats=["brotli", "gzip"],
    plugins=[FrontendBuild()],
    disable_plugins=[SitemapPlugin],  # an internal tool: no public sitemap
)
