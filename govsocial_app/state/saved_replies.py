"""State for More → Saved replies (/more/saved-replies): the library with usage counts and tags, search, and the
add/edit/delete form. Staff read it; managers and admins change it (checked on the server in every handler)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from govsocial_app.services import textnorm
from govsocial_app.services.authz import can
from govsocial_app.services.inbox import saved_replies
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires

PAGE_SIZE = 50  # one page of short summaries in state, never the whole library (pages reach the rest)


@dataclasses.dataclass
class ReplyRow:
    id: int = 0
    name: str = ""
    text_en: str = ""  # excerpts: the full texts are read into the form only when editing
    text_ar: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    uses: int = 0


class SavedRepliesState(AppState):
    rows: list[ReplyRow] = []
    q: str = ""
    page: int = 0  # 0-based page of PAGE_SIZE rows
    total: int = 0  # how many replies the search finds in all
    range_text: str = ""  # "Showing 51–100 of 5000", in the reader's language
    can_curate: bool = False
    form_open: bool = False
    edit_id: int = 0
    f_name: str = ""
    f_en: str = ""
    f_ar: str = ""
    f_link: str = ""
    f_tags: str = ""
    form_error: str = ""
    form_key: str = "0"  # changes each time the form is filled, so its fields show the new values

    def _refresh(self) -> None:
        actor = self._require("replies.use")  # a helper that reads data checks for itself
        self.can_curate = can(actor.role, "replies.curate")
        self.total = saved_replies.count(self.q, actor)
        last = max(0, (self.total - 1) // PAGE_SIZE)
        self.page = min(max(0, self.page), last)  # a delete can empty the last page
        self.rows = [ReplyRow(r.id, r.name, textnorm.excerpt(r.text_en, 120), textnorm.excerpt(r.text_ar, 120), list(r.tags), r.use_count)
                     for r in saved_replies.search(self.q, actor, limit=PAGE_SIZE, offset=self.page * PAGE_SIZE)]
        start = self.page * PAGE_SIZE
        self.range_text = self._("Showing {start}–{end} of {total}", start=start + 1, end=start + len(self.rows), total=self.total) if self.rows else ""

    @rx.var
    def has_prev(self) -> bool:
        return self.page > 0

    @rx.var
    def has_next(self) -> bool:
        return (self.page + 1) * PAGE_SIZE < self.total

    def _fill_form(self, r: saved_replies.ReplySummary | None) -> None:
        self.edit_id = r.id if r else 0
        self.f_name, self.f_en, self.f_ar = (r.name, r.text_en, r.text_ar) if r else ("", "", "")
        self.f_link, self.f_tags = (r.link, ", ".join(r.tags)) if r else ("", "")
        self.form_open, self.form_error = True, ""
        self.form_key = str(int(self.form_key) + 1)

    @rx.event
    @requires("replies.use", signed_out="login", refused="page")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self.form_open, self.page = False, 0
        self._refresh()

    @rx.event
    @requires("replies.use")
    def search(self, form: dict):
        self.q = (form.get("q") or "").strip()[:100]
        self.page = 0
        self._refresh()

    @rx.event
    @requires("replies.use")
    def next_page(self):
        self.page += 1
        self._refresh()

    @rx.event
    @requires("replies.use")
    def prev_page(self):
        self.page -= 1
        self._refresh()

    @rx.event
    @requires("replies.curate")
    def new(self):
        self._fill_form(None)

    @rx.event
    @requires("replies.curate")
    def edit(self, reply_id: int):
        self._fill_form(saved_replies.get(reply_id, self._require("replies.curate")))

    @rx.event
    @requires("replies.curate")
    def cancel(self):
        self.form_open, self.form_error = False, ""

    @rx.event
    @requires("replies.curate")
    def save(self, form: dict):
        actor = self._require("replies.curate")
        fields = {k: form.get(k, "") for k in ("name", "text_en", "text_ar", "link", "tags")}
        self.f_name, self.f_en, self.f_ar, self.f_link, self.f_tags = (fields[k] for k in ("name", "text_en", "text_ar", "link", "tags"))
        try:
            if self.edit_id:
                saved_replies.edit(self.edit_id, actor, **fields)
            else:
                saved_replies.create(actor, **fields)
        except saved_replies.SavedReplyError as exc:
            self.form_error = self._(exc.msgid, **exc.params)  # the form keeps what was typed
            return
        self.form_open, self.form_error = False, ""
        self._refresh()
        return rx.toast.success(self._("Saved reply saved."))

    @rx.event
    @requires("replies.curate")
    def delete(self, reply_id: int):
        saved_replies.delete(reply_id, self._require("replies.curate"))
        if self.edit_id == reply_id:
            self.form_open = False
        self._refresh()
        return rx.toast.success(self._("Saved reply deleted."))
