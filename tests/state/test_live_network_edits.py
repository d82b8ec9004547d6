"""Issue 15, "Done when": a poll that brings back ONLY network-side edits or deletions reaches the screen of a
person who has that message open, live: the card and the open message say "Edited" / "Deleted on network".

Everything is real but the network and the Reflex app around the state: the poll runs the intake pipeline against a
scripted connector, the event crosses the in-process bus as its JSON line, and the relay's own feed loop decodes it
and patches the real InboxState of a signed-in responder through `app.modify_state`."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from types import SimpleNamespace

import pytest
import reflex as rx
from reflex.istate.data import ReflexURL, RouterData, SessionData

from connectors.base import Page
from govsocial_app.services import auth, bus, profiles
from govsocial_app.services.intake import polling
from govsocial_app.services.events import InboxChanged
from govsocial_app.state import relay, watchers
from tests.inbox.conftest import msg

PASSWORD = "correct horse battery"


class ScriptedNetwork:
    """A profile's network: mentions page by page from a cursor; edits and deletions arrive as new reports."""

    def __init__(self, pages: dict[str, Page]) -> None:
        self.pages = pages

    async def fetch_mentions(self, cursor: str) -> Page:
        return self.pages.get(cursor, Page(items=[], cursor=cursor))

    async def aclose(self) -> None:
        pass


class OneWorker:
    """The parts of a Reflex app the relay uses, holding the socket of one real client state."""

    def __init__(self, token: str, root) -> None:
        self.token, self.root, self.pushed = token, root, 0
        self.event_namespace = SimpleNamespace(
            _token_manager=SimpleNamespace(instance_id="here", token_to_socket={token: SimpleNamespace(instance_id="here")}))

    @contextlib.asynccontextmanager
    async def modify_state(self, token):
        assert token.ident == self.token
        self.pushed += 1

        async def get_state(cls):
            return self.root.get_substate(cls.get_full_name().split("."))

        yield SimpleNamespace(get_state=get_state)


@pytest.fixture(autouse=True)
def _clean_watches():
    watchers._watches.clear()
    watchers._sessions.clear()
    yield
    watchers._watches.clear()
    watchers._sessions.clear()


@pytest.mark.parametrize("change", ["edited", "deleted"])
async def test_a_poll_with_only_a_network_side_change_reaches_the_open_message_live(profile, actor_factory, monkeypatch, change):
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.inbox import InboxState

    original = msg(1, "Bins not collected on Elm St")
    network = ScriptedNetwork({"": Page(items=[original, msg(2, "Streetlight out on 5th")], cursor="c1")})
    monkeypatch.setattr(profiles, "connector_for", lambda profile, **kw: network)
    assert (await polling.poll_profile(profile)).new == 2

    # A responder has the first message open on their phone.
    actor = actor_factory("responder")
    token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData(session=SessionData(client_token="tab-1"), url=ReflexURL("http://127.0.0.1:3000/inbox"))
    app_state = root.substates[AppState.get_name()]
    app_state.auth_token = token
    screen = app_state.substates[InboxState.get_name()]
    screen.load()
    mid = next(c.id for c in screen.cards if c.excerpt.startswith("Bins"))
    root.router = RouterData(session=SessionData(client_token="tab-1"), url=ReflexURL(f"http://127.0.0.1:3000/inbox?message={mid}"))
    screen.load()
    assert screen.open_id == mid and watchers.is_watched("tab-1", screen.user_id)
    card = next(c for c in screen.cards if c.id == mid)
    assert not card.edited and not card.deleted

    worker = OneWorker("tab-1", root)
    seen: list = []
    feed = asyncio.create_task(relay._feed_loop(worker))
    watch_bus = asyncio.create_task(_collect(seen))
    try:
        await asyncio.sleep(0.05)  # both loops subscribe to the bus
        # The next poll brings back nothing new: only the network's edit or deletion of the open message.
        later = replace(original, text="Bins not collected on Elm St since Monday") if change == "edited" else replace(original, deleted=True)
        network.pages["c1"] = Page(items=[later], cursor="c2")
        outcome = await polling.poll_profile(profile)
        assert outcome.new == 0 and outcome.versioned == 1
        for _ in range(400):  # the feed loop coalesces for a second; give up after 4 s
            card = next(c for c in screen.cards if c.id == mid)
            if card.edited or card.deleted:
                break
            await asyncio.sleep(0.01)
    finally:
        feed.cancel()
        watch_bus.cancel()

    assert seen == [InboxChanged(changed_ids=(mid,))], "one typed event: nothing new, the open message changed"
    assert worker.pushed == 1, "pushed to the client once, under its own lock"
    if change == "edited":
        assert card.edited and not card.deleted, "the card on screen says Edited"
        assert screen.d_card.edited and "since Monday" in screen.d_text, "the open message shows the new text"
    else:
        assert card.deleted and screen.d_card.deleted, "the card and the open message say Deleted on network"


async def _collect(seen: list) -> None:
    async for event in bus.subscribe(InboxChanged.topic):
        seen.append(event)
