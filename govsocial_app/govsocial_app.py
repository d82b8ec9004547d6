"""The GovSocial Reflex app: pages, HTTP routes, the PWA head, and the lifespan tasks (bus relay, embedded jobs)."""

import logging

import reflex as rx

from govsocial_app import gctune, loadshed, logs, reflex_lock_wakeup
from govsocial_app.api import build_api
from govsocial_app.components.i18n import ROLE_LABELS
from govsocial_app.i18n import translate
from govsocial_app.config import get_settings
from govsocial_app.http_security import SecurityHeaders, socket_origin_allowed
from govsocial_app.page_paths import page_paths
from govsocial_app.pages import (
    account, admin_audit, admin_cap, admin_users, alert_settings, alerts, approvals, calendar, inbox, index, keywords, listening,
    login, more, my_sessions, notifications, policy, profiles, publish, records, reports, rules, saved_replies, targets, teams,
    two_factor, vips,
)
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import NotSignedIn, UserError
from govsocial_app.state import guard
from govsocial_app.state.relay import relay_bus

logs.configure("web")
reflex_lock_wakeup.apply()
log = logging.getLogger("govsocial")


def handle_backend_exception(exception: Exception):
    """Turn errors meant for the user into a toast; log everything else and say so plainly."""
    if isinstance(exception, NotSignedIn):
        return rx.redirect("/login")
    if isinstance(exception, PermissionDenied):  # in the reader's language, role name included
        lang = exception.lang
        role = translate(ROLE_LABELS.get(exception.role or "", exception.role or "signed out"), lang)
        return rx.toast.error(translate(PermissionDenied.MSGID, lang, role=role, permission=exception.permission), position="top-center")
    if isinstance(exception, UserError):
        return rx.toast.error(str(exception), position="top-center")
    log.error("unhandled error in an event handler", exc_info=exception)
    return rx.toast.error("Something went wrong on the server. It has been logged; try again.", position="top-center")


HEAD = [
    rx.el.meta(name="viewport", content="width=device-width, initial-scale=1, viewport-fit=cover"),
    rx.el.meta(name="theme-color", content="#3e63dd"),
    rx.el.meta(name="description", content="GovSocial: the social media command centre for public agencies"),
    rx.el.link(rel="manifest", href="/manifest.webmanifest"),
    rx.el.link(rel="apple-touch-icon", href="/icons/icon-192.png"),
    rx.el.link(rel="stylesheet", href="/app.css"),
    rx.script(src="/connection.js"),
    rx.script(src="/presence.js"),
    rx.script(src="/reply_picker.js"),  # the inbox's "/" list from the keyboard
    rx.script(src="/pwa.js"),  # registers the service worker with a direct call (REFLEX.md)
]

# Every page: a module under pages/ with `page`, `ROUTE`, `TITLE` and `ON_LOAD` (its state lives in state/ under the
# same module name). A new page is a new module and one name here.
PAGES = [
    index, login, inbox, publish, calendar, approvals, alerts, alert_settings, notifications, reports, listening, more, account,
    admin_audit, profiles, keywords, vips, admin_users, admin_cap, records, two_factor, my_sessions, policy,
    saved_replies, teams, rules, targets,
]

app = rx.App(
    theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium", has_background=True),
    head_components=HEAD,
    # Our routes first; a page's address without its trailing slash answers 200, not a redirect (a round trip on a
    # phone); then security headers around everything (pages, assets, uploads, our routes).
    api_transformer=[build_api(), page_paths(p.ROUTE for p in PAGES), SecurityHeaders],
    backend_exception_handler=handle_backend_exception,
)
# The event websocket accepts its own page's origin (or an allowed one), not the whole CORS list Reflex would give it.
app.sio.eio.cors_allowed_origins = socket_origin_allowed

for _page in PAGES:
    app.add_page(_page.page, route=_page.ROUTE, on_load=_page.ON_LOAD, title=_page.TITLE)

guard.refuse_undeclared()  # every handler of every state is authorised on the server, or declared public

app.register_lifespan_task(relay_bus)
app.register_lifespan_task(gctune.tune_after_start)  # what start-up made stays out of every full collection
app.register_lifespan_task(loadshed.lifespan_task(app))  # refuse new sockets while this worker's loop lags

if get_settings().embedded_jobs:
    from jobs.embedded import run_embedded_scheduler

    app.register_lifespan_task(run_embedded_scheduler)
