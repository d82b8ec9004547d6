"""Reflex configuration. Everything deployment-specific comes from environment variables (README.md)."""

import os

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from govsocial_app.config import get_settings

_settings = get_settings()
_port = int(os.environ.get("GOVSOCIAL_PORT", "3000"))

config = rx.Config(
    app_name="govsocial_app",
    db_url=_settings.database_url,
    redis_url=_settings.redis_url or None,
    telemetry_enabled=False,
    frontend_port=_port,
    backend_port=_port,
    show_built_with_reflex=False,
    plugins=[],
    disable_plugins=[SitemapPlugin],  # an internal tool: no public sitemap
)
