"""Inbox state: one page of message summaries, the open message, the reply box, and presence for this user."""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import urlencode

import reflex as rx

from govsocial_app.i18n import translate
from govsocial_app.services.timefmt import relative_time
from govsocial_app.services import bus
from govsocial_app.services.inbox import presence, replies, stream, targets, teams, vip
from govsocial_app.services.errors import UserError
from govsocial_app.services.intake import rules
from govsocial_app.services.records import moderation, policy
from govsocial_app.services.events import PresenceChanged
from govsocial_app.state.guard import requires
from govsocial_app.state.app_state import AppState
from govsocial_app.state import watchers
from govsocial_app.state.saved_reply_use import record_correction_use
from govsocial_app.state.targets import retick, with_targets

FILTER_KEYS = ("network", "profile", "tag", "status", "assigned", "vip", "lang", "kind", "since", "until", "q", "team", "target")


@dataclasses.dataclass
class CardView:
    id: int = 0
    key: str = ""
    author: str = ""
    handle: str = ""
    initials: str = ""
    excerpt: str = ""
    when: str = ""
    network: str = ""
    profile: str = ""
    kind: str = ""
    status: str = ""
    assignee: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)
    vips: list[str] = dataclasses.field(default_factory=list)
    claims: list[str] = dataclasses.field(default_factory=list)
    replied: str = ""
    lang: str = ""
    edited: bool = False
    deleted: bool = False
    moderation: str = ""  # "", hidden, hidden_in_app, deleted
    moderation_label: str = ""  # "Hidden (clause 3.2)", in the reader's language
    team: str = ""  # the team's name in the reader's language
    rule_notes: list[str] = dataclasses.field(default_factory=list)  # "Rule “Potholes” tagged Roads", in the reader's language
    # response-time targets (state/targets.py fills these; the minute tick re-words the clock from sla_due)
    priority: str = "normal"
    priority_label: str = ""
    sla_text: str = ""  # "12 min left" / "Overdue 5 min"
    sla_tone: str = ""  # "", warning, danger
    sla_due: str = ""  # ISO time the clock runs to
    sla_phase: str = ""  # first, done
    sla_total: int = 0  # the target's length in seconds


@dataclasses.dataclass
class ModOption:
    value: str = ""
    label: str = ""
    reason: str = ""  # why GovSocial-only, or why not possible
    enabled: bool = True


@dataclasses.dataclass
class ThreadView:
    id: int = 0
    outbound: bool = False
    author: str = ""
    text: str = ""
    when: str = ""
    status: str = ""


@dataclasses.dataclass
class NoteView:
    author: str = ""
    text: str = ""
    when: str = ""


@dataclasses.dataclass
class Option:
    value: str = ""
    label: str = ""


# How each message type reads on a card: msgids of the catalogue, so Arabic shows "إشارة", not "mention".
KIND_LABELS = {"mention": "Mention", "comment": "Comment", "dm": "Direct message", "reply": "Reply", "keyword": "Keyword match"}
CHANGE_LABELS = {"created": "Created", "edited": "Edited", "deleted": "Deleted on network", "moderation": "Moderation"}
MOD_LABELS = {"hidden": "Hidden (clause {clause})", "hidden_in_app": "Hidden in GovSocial (clause {clause})",
              "deleted": "Deleted by moderation (clause {clause})"}
ACTION_LABELS = {"hide": "Hide", "unhide": "Unhide", "delete": "Delete", "block": "Block the author", "mute": "Mute the author",
                 "report": "Report to the network"}
RESULT_LABELS = {"done": "Done: the network answered \"{state}\".", "failed": "Not done: {error}",
                 "retrying": "The network did not answer. GovSocial will try again; nothing is lost.",
                 "unknown": "We could not confirm the network's answer. GovSocial is checking; it will not be repeated blindly.",
                 "needs_check": "The network cannot tell whether this was done. Check on the network before asking again.",
                 "awaiting_confirmation": "Waiting for a second person to confirm.",
                 "declined": "A second person declined this action."}


def _card(c: stream.MessageCard, lang: str = "en", tz: str = "UTC") -> CardView:
    """A card as this reader sees it: times, the message type and "Replied by" in their language and time zone."""
    when = relative_time(c.received_at, lang=lang, tz=tz)
    replied = translate("Replied by {name} · {when}", lang, name=c.replied_by, when=relative_time(c.replied_at, lang=lang, tz=tz)) if c.replied_by else ""
    return with_targets(CardView(
        c.id, str(c.id), c.author_name, c.author_handle, c.initials, c.excerpt, when,
        c.network, c.profile, translate(KIND_LABELS.get(c.kind, c.kind), lang), c.status, c.assignee, list(c.tags), list(c.vip_lists),
        list(c.claims), replied, c.lang, c.edited, c.network_deleted, c.moderation,
        translate(MOD_LABELS[c.moderation], lang, clause=c.moderation_clause) if c.moderation in MOD_LABELS else "",
        team=c.team_ar if lang == "ar" and c.team_ar else c.team,
        rule_notes=rule_notes(c, lang),
    ), c, lang)


def rule_notes(c: stream.MessageCard, lang: str) -> list[str]:
    return [rules.describe(name, list(actions), lang) for name, actions in c.rules_applied]


NEW_CAP = 1000  # "N new" counts from one shared query per filter up to this many, then per client


def new_counts(groups: dict[tuple, list[tuple[str, watchers.Watch]]]) -> dict[str, int]:
    """How the "N new" pill is counted, for every watching client of a worker at once (the relay calls this when
    messages arrive or change): one query per distinct filter (`groups`: (filter params, user id for "assigned
    to me" or 0) → its clients), not one per client. A client's count is what is newer than the top of its page."""
    out: dict[str, int] = {}
    for (params, user_id), members in groups.items():
        try:
            f = stream.filter_from_params(dict(params))
            floor = min(w.top_id for _, w in members)
            ids = stream.newer_ids(f, user_id, floor, limit=NEW_CAP)
            for token, w in members:
                if len(ids) < NEW_CAP or ids[-1] > w.top_id:
                    out[token] = sum(1 for i in ids if i > w.top_id)
                else:  # this client's count may pass the shared cap
                    out[token] = stream.count_newer(f, user_id, w.top_id)
        except UserError:
            continue  # a filter that became invalid; that client's next load says so
    return out


class InboxState(AppState):
    cards: list[CardView] = []
    params: dict[str, str] = {}
    top_id: int = 0
    new_count: int = 0
    page_starts: list[int] = []  # before_id of each page read so far, for "Newer"
    next_before: int = 0
    error: str = ""
    selected: list[int] = []
    views: list[Option] = []
    # the filter and action menus live in InboxMenus (below), apart from this state: every event of this state reads
    # and writes its whole pickle, and the menus (every active person is an assignee) were most of it
    _menus_version: str = ""  # the choices' fingerprint this client's InboxMenus was last asked to show
    _menus_at: float = 0.0  # when (time.time()) it was last asked
    # the open message
    open_id: int = 0
    d_card: CardView = CardView()
    d_text: str = ""
    d_url: str = ""
    thread: list[ThreadView] = []
    notes: list[NoteView] = []
    history: list[ThreadView] = []
    d_tag_ids: list[str] = []
    d_assignee: str = ""
    # replying
    draft: str = ""
    used: int = 0
    limit: int = 0
    reply_error: str = ""
    held_id: int = 0
    held_by: str = ""
    held_text: str = ""
    held_when: str = ""
    sending: bool = False
    _seen_reply_id: int = 0
    _last_reply_id: int = 0
    _presence_status: str = ""
    _away: bool = False  # the page is hidden (phone locked, another tab): off the open message for others
    _views_for: str = ""  # "user id:language" the saved views were read for
    # moderation of the open message (a comment or reply to our own post)
    d_moderatable: bool = False
    mod_open: bool = False
    mod_options: list[ModOption] = []
    mod_clauses: list[Option] = []
    mod_action: str = "hide"
    mod_result: str = ""
    mod_awaiting: list[Option] = []  # actions waiting for a second person: value = id, label = what and who
    # who else is on the messages this client shows (message id → entries), pushed by the live relay
    presence: dict[str, list[dict[str, str]]] = {}
    # teams for the assign menus and the Team filter, named in the reader's language (services/inbox/teams.py)
    team_opts: list[Option] = []
    team_rr_opts: list[Option] = []

    # ---------------------------------------------------------------- derived

    @rx.var
    def filter_count(self) -> int:
        return len([k for k in FILTER_KEYS if self.params.get(k)])

    @rx.var
    def list_href(self) -> str:
        query = urlencode({k: v for k, v in self.params.items() if v})
        return "/inbox" + (f"?{query}" if query else "")

    @rx.var
    def open_prefix(self) -> str:
        """The list URL with "message=" last, so a card's link is this plus its id."""
        query = urlencode({k: v for k, v in self.params.items() if v})
        return f"/inbox?{query}&message=" if query else "/inbox?message="

    @rx.var
    def over_limit(self) -> bool:
        return self.used > self.limit > 0

    # ---------------------------------------------------------------- helpers

    def _set_changed(self, name: str, value) -> None:
        """Assign only a different value. Reflex resends a var on every assignment, equal or not: the filter menus
        (every active person is an assignee) went to every client with every page load, and were serialised for it."""
        if getattr(self, name) != value:
            setattr(self, name, value)

    def _view(self, c: stream.MessageCard) -> CardView:
        return _card(c, self.lang, self.user_tz)

    def _ago(self, dt) -> str:
        return relative_time(dt, lang=self.lang, tz=self.user_tz)

    def _view_options(self) -> list[Option]:
        """Saved views; the starter views' names ("My open", "VIPs", "Crisis") are catalogue msgids, so they read
        in the reader's language. A name a person typed is not in the catalogue and shows as typed."""
        return [Option(v.query, self._(v.name)) for v in stream.saved_views(self.user_id)]

    def _filter(self) -> stream.InboxFilter:
        return stream.filter_from_params(self.params)

    def _url(self, **extra: str) -> str:
        query = {k: v for k, v in {**self.params, **extra}.items() if v}
        return "/inbox" + (f"?{urlencode(query)}" if query else "")

    def _read_page(self, before_id: int | None = None) -> None:
        self._require("inbox.view")  # a helper that reads data checks for itself
        page = stream.list_page(self._filter(), self.user_id, before_id=before_id, max_id=self.top_id or None)
        self.cards = [self._view(c) for c in page.cards]
        self.next_before = page.next_before_id or 0
        if not before_id:
            self.top_id = page.top_id
        self._watch()

    def _visible_ids(self) -> list[int]:
        return [c.id for c in self.cards] + ([self.open_id] if self.open_id else [])

    def _token(self) -> str:
        return self.router.session.client_token

    def _watch(self) -> None:
        """Tell this worker's live relay what this client shows, and show who else is on it now."""
        ids = self._visible_ids()
        # Always assigned, never compared: the relay sends presence straight to the socket without this state, so an
        # equal value here may still differ from what the page shows.
        self.presence = watchers.presence_slice(watchers.current_projection(), ids)
        watchers.watch(self._token(), user_id=self.user_id, params=self.params, top_id=self.top_id,
                   new_count=self.new_count, ids=ids, presence_slice=self.presence, open_id=self.open_id,
                   name=self.user_name, away=self._away, auth_token=self.auth_token)

    def _load_detail(self) -> stream.MessageCard:
        """Read and show the open message; returns its card (an action's refresh needs no second read of it)."""
        actor = self._require("inbox.view")  # a helper that reads data checks for itself
        d = stream.detail(self.open_id)
        self._apply_detail(d)
        self._load_moderation(actor)
        return d.card

    def _load_moderation(self, actor) -> None:
        self.d_moderatable = self.d_card.kind in (self._(KIND_LABELS["comment"]), self._(KIND_LABELS["reply"]))
        if not self.d_moderatable:
            self.mod_awaiting, self.mod_open = [], False
            return
        st = moderation.standing(self.open_id, actor)
        self.mod_awaiting = [Option(str(a.id), self._("{action} (clause {clause}) asked by {name}", action=self._(ACTION_LABELS[a.action]),
                                                      clause=a.clause, name=a.requested_by))
                             for a in st.pending if a.status == "awaiting_confirmation"]

    def _apply_detail(self, d: stream.MessageDetail) -> None:
        self.d_card, self.d_text, self.d_url = self._view(d.card), d.text, d.url
        self.thread = [ThreadView(t.id, t.direction == "out", t.sent_by or t.author_name, t.text, self._ago(t.created_at), t.status) for t in d.conversation]
        self.notes = [NoteView(n.author, n.text, self._ago(n.created_at)) for n in d.notes]
        self.history = [ThreadView(v.version, False, self._(CHANGE_LABELS.get(v.change, v.change)), v.text, self._ago(v.captured_at))
                        for v in d.versions if len(d.versions) > 1]
        self.d_tag_ids = [str(t) for t in d.tag_ids]
        self.d_assignee = str(d.assignee_id or "")
        self._last_reply_id = d.last_reply_id
        self.limit = replies.char_count(d.card.network, "").limit

    def _touch(self, status: str) -> None:
        if self.open_id and not self._away:
            presence.touch(self.open_id, self.user_id, self.user_name, status)
            if status != self._presence_status:
                self._presence_status = status
                bus.publish(PresenceChanged(message_id=self.open_id))

    # ---------------------------------------------------------------- loading

    @rx.event
    @requires("inbox.view", signed_out="login")
    def load(self):
        if not self._load_user():
            return self._to_login()
        self._require("inbox.view")
        query = dict(self.router.url.query_parameters)
        params = {k: query[k] for k in FILTER_KEYS if query.get(k)}
        bad_link = ""
        try:
            params = stream.canonical_params(params)
        except UserError as exc:
            bad_link, params = str(exc), {}
        # Opening a message, or going back to the list, keeps the page this person was reading when this worker's
        # live relay has kept it current (same filter, same person); anything else reads the first page afresh.
        keep = params == self.params and bool(self.cards) and not self.error and not bad_link and watchers.is_watched(self._token(), self.user_id)
        self.params, self.selected = params, []
        self._away = False  # a page that loads is being looked at (a reload keeps this state, "hidden" included)
        if not keep:
            self.error, self.top_id, self.new_count, self.page_starts = bad_link, 0, 0, []
            try:
                self._read_page()
            except UserError as exc:
                self.error, self.params, self.cards = str(exc), {}, []
        menus = self._menus()
        self._load_team_opts()
        if self._views_for != f"{self.user_id}:{self.lang}":  # they change only through save_view, which re-reads them
            self.views = self._view_options()
            self._views_for = f"{self.user_id}:{self.lang}"
        opened = self._open_from_url(query.get("message", ""))
        self._prefill_correction(query.get("reply", ""))
        self._watch()
        chained = [*(opened if isinstance(opened, list) else [opened] if opened else []), *([menus] if menus else [])]
        return chained or None

    def _menus(self):
        """InboxMenus.refresh, chained after this event when the choices changed since this client was last sent them
        (or when its menus' stored copy may have expired): a page load or an action otherwise costs nothing for them."""
        _, version = stream.choices_and_version()
        now = time.time()
        if version == self._menus_version and now - self._menus_at < MENUS_RECHECK_S:
            return None
        self._menus_version, self._menus_at = version, now
        return InboxMenus.refresh

    def _open_from_url(self, raw: str):
        new_id = int(raw) if raw.isdigit() else 0
        left = 0
        if new_id != self.open_id:
            left = self.open_id
            self.open_id, self.draft, self.reply_error, self.held_id, self._presence_status = new_id, "", "", 0, ""
        if self.open_id:
            try:
                self._load_detail()
            except UserError as exc:
                self.open_id, self.error = 0, str(exc)
            else:
                if self._presence_status == "":
                    # The reply guard's baseline is what the thread held when this person opened it;
                    # later live refreshes show newer replies but must not move the baseline.
                    self._seen_reply_id = self._last_reply_id
                self._touch(presence.VIEWING)
                self.used = replies.char_count(self.d_card.network, self.draft).used
        # One presence entry per person: a touch on the new message replaced the one on the old message, and its
        # announcement moves both chips. Only a person who is on no message now leaves the old one.
        if left and self._presence_status == "":
            presence.leave(self.user_id, left)
            bus.publish(PresenceChanged(message_id=left))

    def _prefill_correction(self, raw: str) -> None:
        """`reply=correction-<claim id>` (from the claim tracker) starts a reply with the official correction."""
        if self.open_id and raw.startswith("correction-") and raw[11:].isdigit() and not self.draft.strip():
            from govsocial_app.services.listening.claims import correction_reply

            self.draft = correction_reply(int(raw[11:]), self.open_id)
            record_correction_use(self, int(raw[11:]))  # a claim's correction counts as a saved-reply use
            self.used = replies.char_count(self.d_card.network, self.draft).used

    @rx.event
    @requires("inbox.view")
    def set_filter(self, key: str, value: str):
        if key not in FILTER_KEYS:
            raise UserError("Unknown filter.")
        return rx.redirect(self._url(**{key: "" if value == "all" else value, "message": ""}))

    @rx.event
    @requires("inbox.view")
    def apply_search(self, form: dict):
        return rx.redirect(self._url(q=(form.get("q") or "").strip(), since=form.get("since", ""), until=form.get("until", "")))

    @rx.event
    @requires("inbox.view")
    def clear_filters(self):
        return rx.redirect("/inbox")

    def _patch_from_feed(self, cards: dict[int, stream.MessageCard], details: dict[int, stream.MessageDetail]) -> None:
        """Called by the live relay with what changed on this client's screen, read once for all its clients:
        those cards are replaced in place (the page keeps its order and length), and the open message too."""
        self._require("inbox.view")  # a helper that reads data checks for itself
        if not self.user_id or not self.router.url.path.startswith("/inbox"):
            return
        if any(c.id in cards for c in self.cards):
            self.cards = [self._view(cards[c.id]) if c.id in cards else c for c in self.cards]
        if self.open_id in details:
            self._apply_detail(details[self.open_id])

    def _refresh_from_feed(self, changed: list[int]) -> None:
        """Called by the live relay when messages arrive or change: count arrivals, refresh what is on screen."""
        self._require("inbox.view")  # a helper that reads data checks for itself
        if not self.user_id or not self.router.url.path.startswith("/inbox"):
            return
        try:
            if self.open_id and (not changed or self.open_id in changed):
                self._load_detail()
            if self.top_id:
                self.new_count = stream.count_newer(self._filter(), self.user_id, self.top_id)
            self._read_page(self.page_starts[-1] if self.page_starts else None)
        except UserError:
            pass  # the filter or message became invalid meanwhile; the next load says so

    @rx.event
    @requires("inbox.view")
    def show_new(self):
        self.top_id, self.new_count, self.page_starts = 0, 0, []
        self._read_page()

    @rx.event
    @requires("inbox.view")
    def older(self):
        if self.next_before:
            self.page_starts = self.page_starts + [self.next_before]
            self._read_page(self.next_before)

    @rx.event
    @requires("inbox.view")
    def newer(self):
        self.page_starts = self.page_starts[:-1]
        self._read_page(self.page_starts[-1] if self.page_starts else None)

    # ---------------------------------------------------------------- presence

    # No heartbeat: the worker holding this client's socket keeps its entry alive (watchers.keep_alive). The page
    # says only when it is hidden and shown again (assets/presence.js), so a locked phone or a tab in the
    # background stops showing its person "viewing" at once.

    @rx.event
    @requires("inbox.view")
    def page_hidden(self):
        if not self.user_id or self._away:
            return
        self._away = True
        if self.open_id:
            presence.leave(self.user_id, self.open_id)
            bus.publish(PresenceChanged(message_id=self.open_id))
        self._presence_status = "away" if self.open_id else self._presence_status
        self._watch()

    @rx.event
    @requires("inbox.view")
    def page_visible(self):
        if not self.user_id or not self._away:
            return
        self._away = False
        self._touch(presence.REPLYING if self.draft.strip() else presence.VIEWING)
        self._watch()

    # ---------------------------------------------------------------- actions on the open message or a selection

    def _targets(self) -> list[int]:
        return list(self.selected) if self.selected else ([self.open_id] if self.open_id else [])

    @rx.event
    @requires("inbox.view")
    def toggle_select(self, message_id: int):
        self.selected = [m for m in self.selected if m != message_id] if message_id in self.selected else self.selected + [message_id]

    @rx.event
    @requires("inbox.view")
    def clear_selection(self):
        self.selected = []

    @rx.event
    @requires("inbox.act")
    def add_tag(self, form: dict):
        actor = self._require("inbox.act")
        stream.add_tag(self._targets(), form.get("tag", ""), actor)
        self._refresh_after_action()
        return self._menus()  # a new tag name joins the menus

    @rx.event
    @requires("inbox.act")
    def remove_tag(self, tag_name: str):
        actor = self._require("inbox.act")
        tag_id = next((int(c.value) for c in stream.choices()["tag"] if c.label == tag_name), 0)
        stream.remove_tag([self.open_id], tag_id, actor)
        self._refresh_after_action()

    @rx.event
    @requires("inbox.act")
    def assign_to(self, user_id: str):
        actor = self._require("inbox.act")
        if user_id.startswith(("team:", "rr:")):
            return self._assign_team(user_id, actor)
        target = None if user_id in ("", "none") else (self.user_id if user_id == "me" else int(user_id))
        stream.assign(self._targets(), target, actor)
        self._refresh_after_action()

    def _load_team_opts(self) -> None:
        choices = teams.team_choices()
        self._set_changed("team_opts", [Option(str(c.id), self._("{team} team", team=c.label(self.lang))) for c in choices])
        self._set_changed("team_rr_opts", [Option(str(c.id), self._("{team}, next available (round-robin)", team=c.label(self.lang)))
                                           for c in choices])

    def _assign_team(self, choice: str, actor):
        """"team:<id>" puts the selection in a team's queue; "rr:<id>" hands each item to the team's next online member."""
        kind, _, raw = choice.partition(":")
        if not raw.isdigit():
            raise UserError(self._("Choose a team from the list."))
        result = teams.assign(self._targets(), team_id=int(raw), round_robin=kind == "rr", actor=actor)
        self._refresh_after_action()
        team = next((o.label for o in self.team_opts if o.value == raw), "")
        if result.waiting:
            return rx.toast.warning(self._("Nobody in {team} is online, so it waits for the team.", team=team))
        if result.people:
            return rx.toast.success(self._("Assigned to {team}: {people}.", team=team, people=", ".join(result.people)))
        return rx.toast.success(self._("Assigned to {team}.", team=team))

    @rx.event
    @requires("inbox.act")
    def set_priority(self, priority: str):
        actor = self._require("inbox.act")
        targets.set_message_priority(self._targets(), priority, actor)
        self._refresh_after_action()

    @rx.event
    @requires("inbox.view", signed_out="ignore")  # a timer: the page's load already sends a signed-out visitor to sign in
    def tick_targets(self, _when: str = ""):
        """Every minute (a hidden rx.moment on the page): re-word the cards' clocks from their due times, no query."""
        cards, changed = retick(list(self.cards), self.lang)
        if changed:  # only then does the list go to the browser again
            self.cards = cards
        if self.open_id:
            [card], changed = retick([self.d_card], self.lang)
            if changed:
                self.d_card = card

    @rx.event
    @requires("inbox.act")
    def set_status(self, status: str):
        actor = self._require("inbox.act")
        stream.set_status(self._targets(), status, actor)
        self._refresh_after_action()

    @rx.event
    @requires("inbox.act")
    def add_note(self, form: dict):
        actor = self._require("inbox.act")
        stream.add_note(self.open_id, form.get("note", ""), actor)
        self._refresh_after_action()

    @rx.event
    @requires("vip.edit")
    def add_to_vip(self, list_id: str):
        actor = self._require("vip.edit")
        vip.add_member(int(list_id), self.d_card.network, self.d_card.handle, self.d_card.author, actor)
        self._refresh_after_action()
        return rx.toast.success(self._("Added to the VIP list."))

    def _refresh_after_action(self, ids: list[int] | None = None) -> None:
        """Show the result of this person's own action: the cards it touched are re-read in place (the page keeps
        its order; other people's pages are patched by the live relay), the open message too."""
        self._require("inbox.view")  # a helper that reads data checks for itself
        touched = set(ids if ids is not None else self._targets())
        self.selected = []
        fresh: dict = {}
        if self.open_id:
            fresh[self.open_id] = self._load_detail()  # the opened message's card comes with it
        if others := (touched - set(fresh)) & {c.id for c in self.cards}:
            fresh.update(stream.cards_by_id(sorted(others)))
        if touched & {c.id for c in self.cards}:
            self.cards = [self._view(fresh[c.id]) if c.id in touched and c.id in fresh else c for c in self.cards]

    # ---------------------------------------------------------------- moderation

    @rx.event
    @requires("moderation.act")
    def open_moderation(self):
        actor = self._require("moderation.act")
        now = policy.current()
        self.mod_clauses = [Option(c.number, f"{c.number} {c.title(self.lang)}") for c in (now.clauses if now else ())]
        state = self.d_card.moderation
        opts = []
        for o in moderation.options(self.d_card.network):
            if o.action == "unhide" and not state.startswith("hidden"):
                continue
            if o.action == "hide" and state.startswith("hidden"):
                continue
            reason = o.reason if o.mode != "network" else ("A second person must confirm." if o.needs_second else "")
            label = self._(ACTION_LABELS[o.action]) + (" · " + self._("GovSocial only") if o.mode == "in_app" else "")
            opts.append(ModOption(o.action, label, self._(reason) if reason else "", o.mode != "none"))
        self.mod_options = opts
        self.mod_action = "unhide" if state.startswith("hidden") else "hide"
        self.mod_result, self.mod_open = "", True
        self._load_moderation(actor)

    @rx.event
    @requires("inbox.view")
    def close_moderation(self):
        self.mod_open = False

    @rx.event
    @requires("inbox.view")
    def mod_open_change(self, value: bool):
        self.mod_open = bool(value) and self.mod_open

    @rx.event
    @requires("moderation.act")
    def set_mod_action(self, value: str):
        self.mod_action = value

    def _say_result(self, a) -> str:
        return self._(RESULT_LABELS.get(a.status, a.status), state=self._(a.response.get("state", "")) if a.response else "",
                      error=self._(a.error))

    @rx.event
    @requires("moderation.act")
    async def moderate(self, form: dict):
        actor = self._require("moderation.act")
        try:
            done = await moderation.request(self.open_id, self.mod_action or "hide", form.get("clause", ""), form.get("note", ""), actor)
        except UserError as exc:
            self.mod_result = self._(str(exc))
            return
        self.mod_result = self._say_result(done)
        self._refresh_after_action([self.open_id])

    @rx.event
    @requires("moderation.confirm")
    async def confirm_moderation(self, action_id: str):
        actor = self._require("moderation.confirm")
        try:
            done = await moderation.confirm(int(action_id), actor)
        except UserError as exc:
            return rx.toast.error(self._(str(exc)))
        self._refresh_after_action([self.open_id])
        return rx.toast.info(self._say_result(done))

    @rx.event
    @requires("moderation.confirm")
    async def decline_moderation(self, action_id: str):
        actor = self._require("moderation.confirm")
        await moderation.decline(int(action_id), actor)
        self._refresh_after_action([self.open_id])

    # ---------------------------------------------------------------- saved views

    @rx.event
    @requires("views.save")
    def save_view(self, form: dict):
        actor = self._require("views.save")
        stream.save_view(self.user_id, form.get("name", ""), self._filter(), actor)
        self.views = self._view_options()
        return rx.toast.success(self._("View saved."))

    # ---------------------------------------------------------------- replying

    @rx.event
    @requires("inbox.view")
    def set_draft(self, text: str):
        self.draft = text
        self.used = replies.char_count(self.d_card.network, text).used if self.open_id else 0
        self._touch(presence.REPLYING if text.strip() else presence.VIEWING)

    @rx.event
    @requires("inbox.reply")
    async def send_reply(self):
        actor = self._require("inbox.reply")
        self.reply_error, self.sending = "", True
        try:
            result = await replies.send_reply(self.open_id, self.draft, actor, seen_reply_id=self._seen_reply_id)
        except UserError as exc:
            self.reply_error, self.sending = str(exc), False  # the draft stays for another try
            return
        self.sending = False
        if isinstance(result, replies.HeldReply):
            self.held_id, self.held_by, self.held_text = result.reply_id, result.by, result.text
            self.held_when = self._ago(result.at)
            return
        self.draft, self.used, self.held_id = "", 0, 0
        self._touch(presence.VIEWING)
        self._load_detail()
        self._seen_reply_id = self._last_reply_id
        if isinstance(result, (replies.QueuedReply, replies.UncertainReply)):
            # Not sent (yet): publishing is paused, or the network's answer was lost and it is being checked.
            return rx.toast.warning(self._(result.message))
        return rx.toast.success(self._("Reply sent."))

    @rx.event
    @requires("inbox.reply")
    async def send_anyway(self):
        self._seen_reply_id, self.held_id = max(self._seen_reply_id, self.held_id), 0
        return InboxState.send_reply

    @rx.event
    @requires("inbox.view")
    def discard_held(self):
        self.draft, self.used, self.held_id = "", 0, 0
        self._touch(presence.VIEWING)


# A client's stored state expires (Redis: redis_token_expiration) per state, from its last write: InboxMenus is written
# only when it changes, so it is asked again well within that time even when nothing changed.
MENUS_RECHECK_S = 15 * 60


class InboxMenus(AppState):
    """The inbox's filter and action menus (networks, profiles, tags, VIP lists, assignees, languages). Kept apart from
    InboxState so that the inbox's many events (open, reply, tag, live patches) do not read and write them."""

    opts: dict[str, list[Option]] = {}
    _version: str = ""
    _at: float = 0.0

    @rx.event
    @requires("inbox.view", signed_out="ignore", refused="page")
    def refresh(self):
        choices, version = stream.choices_and_version()
        if version != self._version:
            self.opts = {k: [Option(c.value, c.label) for c in v] for k, v in choices.items()}
            self._version = version
        self._at = time.time()  # written even when unchanged, so that its stored copy lives as long as the inbox's
