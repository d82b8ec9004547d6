"""The reply box's "/" list: typing "/" at the start of the reply (or after a space) searches the saved replies on the
server and offers at most eight; picking one puts its text, in the message's language with the variables filled,
in place of the "/query". The keyboard (assets/reply_picker.js): Up/Down move the highlighted option (`active`, named
to screen readers by the reply box's aria-activedescendant), Enter inserts it, Escape closes the list and keeps the
text; a closed list stays closed until a new "/" is typed."""

from __future__ import annotations

import dataclasses

import reflex as rx

from govsocial_app.services import textnorm
from govsocial_app.services.authz import can
from govsocial_app.services.inbox import presence, replies, saved_replies
from govsocial_app.state.app_state import AppState
from govsocial_app.state.guard import requires
from govsocial_app.state.inbox import InboxState


@dataclasses.dataclass
class PickOption:
    id: int = 0
    name: str = ""
    preview: str = ""  # the start of the text in the message's language, variables unfilled
    lang: str = ""


class ReplyPickerState(AppState):
    options: list[PickOption] = []
    for_id: int = 0  # the open message the list belongs to (0: closed)
    query: str = ""
    searched: bool = False  # a search ran (so "no match" can be said)
    active: int = -1  # the highlighted option's index (-1: none)
    _dismissed: str = ""  # "message id:where the slash is" of a list closed with Escape or the close button

    def _close(self) -> None:
        self.options, self.for_id, self.query, self.searched, self.active = [], 0, "", False, -1

    def _suggest(self, inbox: InboxState, text: str) -> None:
        found = saved_replies.slash_query(text) if inbox.open_id else None
        if found is None:
            self._dismissed = ""  # the "/" is gone: the next one opens the list again
        if found is None or not can(self.user_role, "replies.use") or f"{inbox.open_id}:{found[0]}" == self._dismissed:
            self._close()
            return
        actor = self._require("replies.use")
        msg_lang = inbox.d_card.lang
        if found[1] != self.query or inbox.open_id != self.for_id:
            self.active = -1  # a new search: nothing highlighted until Up or Down
        self.query, self.for_id, self.searched = found[1], inbox.open_id, True
        self.options = [
            PickOption(r.id, r.name, textnorm.excerpt(saved_replies.text_for(r, msg_lang), 90), saved_replies.lang_for(r, msg_lang))
            for r in saved_replies.search(found[1], actor)
        ]
        if self.active >= len(self.options):
            self.active = -1

    @rx.event
    @requires("inbox.view")
    async def type_draft(self, text: str):
        """The reply box's on_change: what InboxState.set_draft does, then the "/" search."""
        inbox = await self.get_state(InboxState)
        inbox.draft = text
        inbox.used = replies.char_count(inbox.d_card.network, text).used if inbox.open_id else 0
        inbox._touch(presence.REPLYING if text.strip() else presence.VIEWING)
        self._suggest(inbox, text)

    @rx.event
    @requires("replies.use")
    async def pick(self, reply_id: int):
        await self._pick(reply_id)

    async def _pick(self, reply_id: int) -> None:
        actor = self._require("replies.use")
        inbox = await self.get_state(InboxState)
        # Only from the list on screen, once: a second event for the same pick (a double tap) finds it closed.
        if not inbox.open_id or self.for_id != inbox.open_id or reply_id not in {o.id for o in self.options}:
            return
        found = saved_replies.slash_query(inbox.draft)
        start = found[0] if found else len(inbox.draft)
        self._close()
        inserted = saved_replies.insert(reply_id, inbox.open_id, actor)
        inbox.draft = inbox.draft[:start] + inserted.text
        inbox.used = replies.char_count(inbox.d_card.network, inbox.draft).used
        inbox._touch(presence.REPLYING)

    @rx.event
    @requires("replies.use")
    async def move(self, step: int):
        """Up (-1) or Down (+1) in the list, wrapping; the first Down highlights the first option, the first Up the last."""
        inbox = await self.get_state(InboxState)
        n = len(self.options)
        if not n or self.for_id != inbox.open_id:
            return
        step = 1 if int(step) > 0 else -1
        self.active = (0 if step > 0 else n - 1) if self.active < 0 else (self.active + step) % n

    @rx.event
    @requires("replies.use")
    async def choose(self):
        """Enter: insert the highlighted option (nothing highlighted: nothing happens)."""
        if 0 <= self.active < len(self.options):
            await self._pick(self.options[self.active].id)

    @rx.event
    @requires("inbox.view")
    async def close(self):
        """Escape or the close button: the list closes, the typed text stays, and typing on after the same "/" does
        not reopen it."""
        inbox = await self.get_state(InboxState)
        found = saved_replies.slash_query(inbox.draft) if inbox.open_id else None
        self._dismissed = f"{inbox.open_id}:{found[0]}" if found else ""
        self._close()
