"""The GovSocial Reflex app: pages, HTTP routes, the PWA head, and the lifespan tasks (bus relay, embedded jobs)."""

import logging

import reflex as rx

from govsocial_app import logs
from govsocial_app.api import build_api
from govsocial_app.components.i18n import ROLE_LABELS, t
from govsocial_app.i18n import translate
from govsocial_app.config import get_settings
from govsocial_app.http_security import SecurityHeaders, socket_origin_allowed
from govsocial_app.pages import account as account_page
from govsocial_app.pages import approvals as approvals_page
from govsocial_app.pages import calendar as calendar_page
from govsocial_app.pages import (
    admin_audit, admin_users, alert_settings, alerts, inbox, keywords, listening, login, more, notifications, profiles, publish, reports,
    vips,
)
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import NotSignedIn, UserError
from govsocial_app.state.account import PasswordState
from govsocial_app.pages import admin_cap
from govsocial_app.state.admin import AuditState, UsersState
from govsocial_app.state.cap_admin import CapAdminState
from govsocial_app.state.settings import KeywordsState, ProfilesState, VipState
from govsocial_app.state.app_state import AppState
from govsocial_app.state.alerts import AlertSettingsState, AlertsState
from govsocial_app.state.approvals import ApprovalsState
from govsocial_app.state.calendar import CalendarState
from govsocial_app.state.relay import relay_bus
from govsocial_app.state.notifications import NotificationsState
from govsocial_app.state import guard
from govsocial_app.state.publish import PublishState
from govsocial_app.pages import records as records_page
from govsocial_app.state.records import RecordsState

logs.configure("web")
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
    rx.script(src="/pwa.js"),  # registers the service worker with a direct call (REFLEX.md)
]

app = rx.App(
    theme=rx.theme(accent_color="indigo", gray_color="slate", radius="medium", has_background=True),
    head_components=HEAD,
    # Our routes first, then security headers around everything (pages, assets, uploads, our routes).
    api_transformer=[build_api(), SecurityHeaders],
    backend_exception_handler=handle_backend_exception,
)
# The event websocket accepts its own page's origin (or an allowed one), not the whole CORS list Reflex would give it.
app.sio.eio.cors_allowed_origins = socket_origin_allowed


def _index() -> rx.Component:
    """The root address shows nothing of its own: its on_load sends a person to the inbox or to sign in
    (AppState.check_login); until then, a named spinner."""
    return rx.box(
        rx.el.main(rx.center(rx.spinner(size="3"), role="status", aria_label=t("Loading"), height="100vh")),
        dir=AppState.dir,
        lang=AppState.lang,
    )


app.add_page(_index, route="/", on_load=AppState.check_login, title="GovSocial")
app.add_page(login.page, route=login.ROUTE, on_load=AppState.check_login_page, title="Sign in · GovSocial")
app.add_page(inbox.page, route=inbox.ROUTE, on_load=inbox.ON_LOAD, title="Inbox · GovSocial")
app.add_page(publish.page, route=publish.ROUTE, on_load=PublishState.load, title="Publish · GovSocial")
app.add_page(calendar_page.page, route=calendar_page.ROUTE, on_load=CalendarState.load, title="Calendar · GovSocial")
app.add_page(approvals_page.page, route=approvals_page.ROUTE, on_load=ApprovalsState.load, title="Approvals · GovSocial")
app.add_page(alerts.page, route=alerts.ROUTE, on_load=AlertsState.load, title="Alerts · GovSocial")
app.add_page(alert_settings.page, route=alert_settings.ROUTE, on_load=AlertSettingsState.load, title="Alert settings · GovSocial")
app.add_page(notifications.page, route=notifications.ROUTE, on_load=NotificationsState.load, title="Notifications · GovSocial")
app.add_page(reports.page, route=reports.ROUTE, on_load=reports.ON_LOAD, title="Reports · GovSocial")
app.add_page(listening.page, route=listening.ROUTE, on_load=listening.ON_LOAD, title="Listening · GovSocial")
app.add_page(more.page, route=more.ROUTE, on_load=AppState.check_login, title="More · GovSocial")
app.add_page(account_page.page, route=account_page.ROUTE, on_load=PasswordState.load, title="Change password · GovSocial")
app.add_page(admin_audit.page, route=admin_audit.ROUTE, on_load=AuditState.load, title="Audit log · GovSocial")
app.add_page(profiles.page, route=profiles.ROUTE, on_load=ProfilesState.load, title="Profiles · GovSocial")
app.add_page(keywords.page, route=keywords.ROUTE, on_load=KeywordsState.load, title="Brand keywords · GovSocial")
app.add_page(vips.page, route=vips.ROUTE, on_load=VipState.load, title="VIP lists · GovSocial")
app.add_page(admin_users.page, route=admin_users.ROUTE, on_load=UsersState.load, title="Users · GovSocial")
app.add_page(admin_cap.page, route=admin_cap.ROUTE, on_load=CapAdminState.load, title="Official alerts · GovSocial")
app.add_page(records_page.page, route=records_page.ROUTE, on_load=RecordsState.load, title="Records · GovSocial")

guard.refuse_undeclared()  # every handler of every state is authorised on the server, or declared public

app.register_lifespan_task(relay_bus)

if get_settings().embedded_jobs:
    from jobs.embedded import run_embedded_scheduler

    app.register_lifespan_task(run_embedded_scheduler)
