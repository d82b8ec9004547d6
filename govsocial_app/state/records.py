"""State for the Records page: legal holds, retention schedules, disposal approval and public-records requests."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import reflex as rx

from govsocial_app.services.inbox import stream
from govsocial_app.services.errors import UserError
from govsocial_app.services.records import export, holds, requests, retention
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires

PERM = "records.manage"


def _day(raw: str, label: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise UserError(f"The {label} date must look like 2026-11-24.") from exc


def _utc(d: date | None) -> datetime | None:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc) if d else None


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw not in ("none", "all") and raw.isdigit() else None


class RecordsState(AppState):
    hold_rows: list[dict[str, str]] = []
    schedule_rows: list[dict[str, str]] = []
    proposal_rows: list[dict[str, str]] = []
    request_rows: list[dict[str, str]] = []
    profiles: list[dict[str, str]] = []
    tags: list[dict[str, str]] = []
    views: list[dict[str, str]] = []
    selected: str = ""
    preview_total: int = 0
    preview: list[dict[str, str]] = []
    redactions: list[dict[str, str]] = []
    exporting: bool = False
    notice: str = ""
    reason_codes: list[str] = list(requests.REASON_CODES)

    def _refresh(self, actor) -> None:
        self._require(PERM)  # a helper that reads data checks for itself
        self.hold_rows = [{"id": str(h.id), "matter": h.matter, "scope": _scope_text(h.scope), "since": h.created_at.strftime("%Y-%m-%d"),
                       "released": h.released_at.strftime("%Y-%m-%d") if h.released_at else ""} for h in holds.list_holds(actor)]
        self.schedule_rows = [{"type": x.record_type, "label": x.label, "years": str(x.keep_years or ""), "year_end": "yes" if x.after_year_end else "no"}
                          for x in retention.schedules(actor)]
        self.proposal_rows = [{"id": str(p.id), "status": p.status, "counts": ", ".join(f"{k}: {v}" for k, v in p.counts.items()),
                           "at": p.created_at.strftime("%Y-%m-%d"), "certificate": str(p.certificate_id or "")} for p in retention.proposals(actor)]
        self.request_rows = [{"id": str(r.id), "requester": r.requester, "received": r.received_on.isoformat(), "due": r.due_on.isoformat(),
                          "status": r.status, "scope": r.scope_query, "exported": "yes" if r.export_sha256 else "",
                          "sha": r.export_sha256} for r in requests.list_requests(actor)]

    def _refresh_request(self, actor) -> None:
        self._require(PERM)  # a helper that reads data checks for itself
        if not self.selected:
            self.preview, self.redactions, self.preview_total = [], [], 0
            return
        rid = int(self.selected)
        total, rows = requests.preview(rid, actor)
        self.preview_total = total
        self.preview = [{"id": str(r.id), "when": r.when.strftime("%Y-%m-%d %H:%M"), "network": r.network, "author": r.author,
                         "text": r.text[:280]} for r in rows]
        self.redactions = [{"id": str(x.id), "kind": x.kind, "reason": x.reason_code, "selection": x.selection[:80],
                            "record": str(x.message_id or "")} for x in requests.redactions(rid, actor)]

    @rx.event
    @requires(PERM, signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        actor = self._require(PERM)
        ch = stream.choices()
        self.profiles = [{"value": c.value, "label": c.label} for c in ch["profile"]]
        self.tags = [{"value": c.value, "label": c.label} for c in ch["tag"]]
        self.views = [{"value": str(v.id), "label": v.name} for v in stream.stored_views(actor.user_id)]
        self._refresh(actor)

    @rx.event
    @requires(PERM)
    def place_hold(self, form: dict):
        actor = self._require(PERM)
        since, until = _day(form.get("since", ""), "from"), _day(form.get("until", ""), "to")
        scope = holds.HoldScope(
            profile_ids=[p] if (p := _int(form.get("profile"))) else [],
            authors=[a.strip() for a in (form.get("authors") or "").split(",") if a.strip()],
            since=_utc(since), until=_utc(until), tag_ids=[t] if (t := _int(form.get("tag"))) else [],
            saved_view_id=_int(form.get("view")),
        )
        holds.place(form.get("matter", ""), scope, actor, form.get("reason", ""))
        self.notice = self._("Hold placed.")
        self._refresh(actor)

    @rx.event
    @requires(PERM)
    def release_hold(self, form: dict):
        actor = self._require(PERM)
        holds.release(int(form.get("hold_id", "0") or 0), actor, form.get("reason", ""))
        self.notice = self._("Hold released.")
        self._refresh(actor)

    @rx.event
    @requires(PERM)
    def set_schedule(self, form: dict):
        actor = self._require(PERM)
        try:
            years = int(form.get("years", ""))
        except ValueError as exc:
            raise UserError("Keep records for 1 to 100 years.") from exc
        retention.set_schedule(form.get("record_type", ""), years, form.get("year_end") == "on", actor)
        self.notice = self._("Schedule saved.")
        self._refresh(actor)

    @rx.event
    @requires(PERM)
    def propose(self):
        actor = self._require(PERM)
        pid = retention.propose(actor)
        self.notice = self._("Nothing has passed its schedule.") if pid is None else self._("Disposal proposed: approve it below.")
        self._refresh(actor)

    @rx.event
    @requires(PERM)
    def approve(self, proposal_id: str):
        actor = self._require(PERM)
        retention.approve(int(proposal_id), actor)
        self.notice = self._("Disposed of; the certificate is recorded.")
        self._refresh(actor)

    @rx.event
    @requires(PERM)
    def reject(self, proposal_id: str):
        actor = self._require(PERM)
        retention.reject(int(proposal_id), actor)
        self._refresh(actor)

    @rx.event
    @requires(PERM)
    def download_certificate(self, certificate_id: str):
        actor = self._require(PERM)
        import json

        cert = retention.certificate(int(certificate_id), actor)
        return rx.download(data=json.dumps(cert, ensure_ascii=False, indent=1), filename=f"disposal-certificate-{certificate_id}.json")

    @rx.event
    @requires(PERM)
    def create_request(self, form: dict):
        actor = self._require(PERM)
        received = _day(form.get("received", ""), "received") or date.today()
        rid = requests.create(form.get("requester", ""), received, actor, saved_view_id=_int(form.get("view")),
                              contact=form.get("contact", ""))
        self.selected = str(rid)
        self.notice = self._("Request recorded.")
        self._refresh(actor)
        self._refresh_request(actor)

    @rx.event
    @requires(PERM)
    def open_request(self, request_id: str):
        actor = self._require(PERM)
        self.selected = request_id
        self._refresh_request(actor)

    @rx.event
    @requires(PERM)
    def set_request_status(self, status: str):
        actor = self._require(PERM)
        requests.set_status(int(self.selected), status, actor)
        self._refresh(actor)

    @rx.event
    @requires(PERM)
    def add_redaction(self, form: dict):
        actor = self._require(PERM)
        requests.add_redaction(int(self.selected), form.get("kind", ""), form.get("reason", ""), actor,
                               message_id=_int(form.get("record")), selection=form.get("selection", ""))
        self._refresh_request(actor)

    @rx.event
    @requires(PERM)
    def remove_redaction(self, redaction_id: str):
        actor = self._require(PERM)
        requests.remove_redaction(int(redaction_id), actor)
        self._refresh_request(actor)

    @rx.event(background=True)
    @requires(PERM)
    async def export_request(self):
        async with self:
            actor = self._require(PERM)
            rid = int(self.selected)
            self.exporting = True
        done = False
        try:
            await asyncio.to_thread(export.build, rid, actor)
            done = True
        finally:
            async with self:
                self.exporting = False
                if done:
                    self.notice = self._("Export ready.")
                    self._refresh(actor)

    @rx.event
    @requires(PERM)
    def download_export(self):
        actor = self._require(PERM)
        name, data = export.download(int(self.selected), actor)
        return rx.download(data=data, filename=name, mime_type="application/zip")


def _scope_text(scope: dict) -> str:
    parts = []
    if scope.get("profile_ids"):
        parts.append("profiles " + ", ".join(map(str, scope["profile_ids"])))
    if scope.get("authors"):
        parts.append("authors " + ", ".join(scope["authors"]))
    if scope.get("since") or scope.get("until"):
        parts.append(f"{(scope.get('since') or '…')[:10]} – {(scope.get('until') or '…')[:10]}")
    if scope.get("tag_ids"):
        parts.append("tags " + ", ".join(map(str, scope["tag_ids"])))
    if scope.get("saved_view_id"):
        parts.append(f"saved search {scope['saved_view_id']}")
    return "; ".join(parts)
