"""The reply box's "/" list: typing "/" at the start of the reply (or after a space) searches the saved replies on the
server and offers at most eight; picking one puts its text, in the message's language with the variables filled,
in place of the "/query"."""

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
    label: str = ""  # the option's accessible name
    lang: str = ""


class ReplyPickerState(AppState):
    options: list[PickOption] = []
    for_id: int = 0  # the open message the list belongs to (0: closed)
    query: str = ""
    searched: bool = False  # a search ran (so "no match" can be said)

    def _close(self) -> None:
        self.options, self.for_id, self.query, self.searched = [], 0, "", False

    def _suggest(self, inbox: InboxState, text: str) -> None:
        found = saved_replies.slash_query(text) if inbox.open_id else None
        if found is None or not can(self.user_role, "replies.use"):
            self._close()
            return
        actor = self._require("replies.use")
        msg_lang = inbox.d_card.lang
        self.query, self.for_id, self.searched = found[1], inbox.open_id, True
        self.options = [
            PickOption(r.id, r.name, textnorm.excerpt(saved_replies.text_for(r, msg_lang), 90),
                       self._("Insert saved reply {name}: {text}", name=r.name,
                              text=textnorm.excerpt(saved_replies.text_for(r, msg_lang), 90)),
                       saved_replies.lang_for(r, msg_lang))
            for r in saved_replies.search(found[1], actor)
        ]

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
    @requires("inbox.view")
    def close(self):
        self._close()
