"""State for the admin's official-alerts page: CAP sources and their status, the jurisdiction boundary with its
thresholds, and which accessibility checks block publishing. Every handler checks the role first."""

from __future__ import annotations

from datetime import datetime, timezone

import reflex as rx

from connectors.registry import network_choices
from govsocial_app.services.cap import emergency, store
from govsocial_app.services.cap.accessibility import CHECKS, TITLES
from govsocial_app.services.cap.errors import CapError
from govsocial_app.services.cap.jurisdiction import Thresholds
from govsocial_app.services.cap.model import CERTAINTY_ORDER, SEVERITY_ORDER, URGENCY_ORDER
from govsocial_app.services.errors import UserError
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires

PERMISSION = "settings.manage"
MAX_GEOJSON = 2 * 1024 * 1024
STATUS_LABELS = {"new": "Not polled yet", "ok": "OK", "not_modified": "OK (no change)", "error": "Failing"}


class CapAdminState(AppState):
    sources: list[dict[str, str]] = []
    jurisdiction: str = ""
    blocking: list[str] = []
    checks: list[dict[str, str]] = []
    twin_modes: list[dict[str, str]] = []  # per network: how a twin post goes out there (one combined post or one per language)
    severities: list[str] = list(SEVERITY_ORDER)
    urgencies: list[str] = list(URGENCY_ORDER)
    certainties: list[str] = list(CERTAINTY_ORDER)
    error: str = ""
    notice: str = ""

    def _refresh(self) -> None:
        self._require(PERMISSION)  # a helper that reads data checks for itself
        tz = self.user_tz
        self.sources = [
            {"id": str(v.id), "name": v.name, "url": v.url, "interval": str(v.interval_s), "status": v.status,
             "status_label": self._(STATUS_LABELS.get(v.status, v.status)), "message": v.status_message[:300],
             "polled": v.last_polled_at.strftime("%Y-%m-%d %H:%M UTC") if v.last_polled_at else "",
             "enabled": "yes" if v.enabled else "no"}
            for v in store.list_sources()
        ]
        jurisdiction, thresholds = store.current_jurisdiction()
        self.jurisdiction = (self._("{name}: alerts at or above {severity}, {urgency}, {certainty}.", name=jurisdiction.name,
                                    severity=self._(thresholds.min_severity), urgency=self._(thresholds.min_urgency),
                                    certainty=self._(thresholds.min_certainty)) if jurisdiction else "")
        self.blocking = emergency.blocking_items()
        self.checks = [{"key": k, "title": self._(TITLES[k])} for k in CHECKS]
        modes = emergency.twin_modes()
        self.twin_modes = [{"network": n, "label": self._(label), "mode": modes[n]} for n, label in network_choices() if n in modes]
        del tz

    def _done(self, notice: str) -> None:
        self.error, self.notice = "", self._(notice)
        self._refresh()

    @rx.event
    @requires(PERMISSION, signed_out="login", refused="page")  # the page shows no_access() for this role
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require(PERMISSION)
        self.error = self.notice = ""
        self._refresh()

    @rx.event
    @requires(PERMISSION)
    def add_source(self, form: dict):
        actor = self._require(PERMISSION)
        try:
            interval = int(form.get("interval") or 60)
            hosts = [h for h in (form.get("hosts") or "").replace(",", " ").split() if h]
            store.create_source(actor, form.get("name", ""), form.get("url", ""), interval_s=interval, allowed_hosts=hosts,
                                now=datetime.now(timezone.utc))
        except ValueError:
            self.error, self.notice = self._("The polling interval must be a number of seconds."), ""
            return
        except UserError as exc:
            self.error, self.notice = self._(str(exc)), ""
            return
        self._done("Alert source added. It is polled within a few seconds.")

    @rx.event
    @requires(PERMISSION)
    def toggle_source(self, source_id: str, enabled: str):
        actor = self._require(PERMISSION)
        store.update_source(actor, int(source_id), enabled=enabled != "yes")
        self._refresh()

    @rx.event
    @requires(PERMISSION)
    def remove_source(self, source_id: str):
        actor = self._require(PERMISSION)
        store.delete_source(actor, int(source_id), now=datetime.now(timezone.utc))
        self._done("Alert source removed.")

    @rx.event
    @requires(PERMISSION)
    async def upload_boundary(self, files: list[rx.UploadFile]):
        actor = self._require(PERMISSION)
        if not files:
            return
        data = await files[0].read()
        if len(data) > MAX_GEOJSON:
            self.error, self.notice = self._("The boundary file is too large (at most 2 MB)."), ""
            return
        self._save_boundary(actor, data, files[0].name or "Jurisdiction")

    @rx.event
    @requires(PERMISSION)
    def save_boundary_text(self, form: dict):
        actor = self._require(PERMISSION)
        self._save_boundary(actor, (form.get("geojson") or "").encode("utf-8"), form.get("name") or "Jurisdiction", form)

    def _save_boundary(self, actor, data: bytes, name: str, form: dict | None = None) -> None:
        form = form or {}
        try:
            thresholds = Thresholds(min_severity=form.get("severity") or "Moderate", min_urgency=form.get("urgency") or "Expected",
                                    min_certainty=form.get("certainty") or "Likely")
            store.save_jurisdiction(actor, data, name=name.removesuffix(".geojson").removesuffix(".json")[:200], thresholds=thresholds,
                                    now=datetime.now(timezone.utc))
        except CapError as exc:
            self.error, self.notice = self._(exc.message), ""
            return
        except (ValueError, UserError) as exc:
            self.error, self.notice = self._(str(exc)), ""
            return
        self._done("Jurisdiction saved.")

    @rx.event
    @requires(PERMISSION)
    def toggle_blocking(self, key: str):
        actor = self._require(PERMISSION)
        chosen = [k for k in self.blocking if k != key] if key in self.blocking else [*self.blocking, key]
        self.blocking = emergency.set_blocking_items(actor, chosen)

    @rx.event
    @requires(PERMISSION)
    def set_twin_mode(self, network: str, mode: str):
        """One combined post or one post per language, for one network's twin posts (audited in the service)."""
        actor = self._require(PERMISSION)
        try:
            emergency.set_twin_mode(actor, network, mode)
        except UserError as exc:
            self.error, self.notice = self._(str(exc)), ""
            return
        self._done("Saved: new twin posts go out this way on that network.")
