"""What one inbox load costs each client (issue 20's steady state): the session is resolved once per event, the
filter menus live in their own state and are sent only when they change, and the shared menu cache survives work
on messages."""

from __future__ import annotations

import pytest
import reflex as rx
from reflex.istate.data import ReflexURL, RouterData

from govsocial_app.services import auth
from govsocial_app.services.inbox import stream

PASSWORD = "correct horse battery"


@pytest.fixture
def inbox(db, actor_factory):
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.inbox import InboxState

    root = rx.State(_reflex_internal_init=True)
    root.router = RouterData(url=ReflexURL("http://127.0.0.1:3000/inbox"))
    app_state = root.substates[AppState.get_name()]
    actor = actor_factory("responder", "Riley Responder")
    app_state.auth_token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
    return root, app_state.substates[InboxState.get_name()], actor


def test_a_guarded_load_resolves_the_session_once(inbox, monkeypatch):
    root, state, _actor = inbox
    calls: list[str] = []
    real = auth.user_for_token
    monkeypatch.setattr(auth, "user_for_token", lambda token, **kw: calls.append(token) or real(token, **kw))
    state.load()
    assert len(calls) == 1
    assert state.user_name == "Riley Responder" and state.user_role == "responder" and state.user_id > 0
    # and a revoked session is still refused on the next event: nothing outlives the event that resolved it
    auth.sign_out(state.auth_token, _actor)
    assert "/login" in str(state.load())
    assert state.user_id == 0


def _chained(result) -> list[str]:
    items = result if isinstance(result, list) else [result] if result is not None else []
    return [getattr(getattr(i, "fn", None), "__qualname__", repr(i)) for i in items]


def _menus(root):
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.inbox import InboxMenus

    return root.substates[AppState.get_name()].substates[InboxMenus.get_name()]


def test_the_menus_live_apart_from_the_inbox_and_are_sent_once(inbox):
    from govsocial_app.state.inbox import InboxState

    root, state, _actor = inbox
    assert "opts" not in InboxState.vars  # every inbox event reads and writes InboxState whole: the menus are not in it
    first = state.load()
    assert any("InboxMenus.refresh" in c for c in _chained(first))
    menus = _menus(root)
    menus.refresh()
    assert menus.opts["assignee"] and "Riley Responder" in [o.label for o in menus.opts["assignee"]]
    assert "opts" in menus.dirty_vars
    root._clean()
    again = state.load()  # nothing changed: no second event, nothing resent
    assert not any("InboxMenus" in c for c in _chained(again))
    assert not {"team_opts", "team_rr_opts"} & state.dirty_vars
    assert "presence" in state.dirty_vars  # always resent: the relay may have shown the page another value meanwhile
    menus.refresh()  # asked anyway (another tab, an old version): an unchanged menu is not resent
    assert "opts" not in menus.dirty_vars


def test_a_change_to_the_choices_reaches_the_menus(inbox, actor_factory):
    root, state, _actor = inbox
    state.load()
    menus = _menus(root)
    menus.refresh()
    root._clean()
    actor_factory("responder", "Newly Hired")  # a new person to assign to: audited, so the menu cache drops
    chained = _chained(state.load())
    assert any("InboxMenus.refresh" in c for c in chained)
    menus.refresh()
    assert "opts" in menus.dirty_vars and "Newly Hired" in [o.label for o in menus.opts["assignee"]]


def test_a_new_tag_refreshes_the_menus_and_an_old_one_does_not(inbox, sim_store):
    root, state, _actor = inbox
    (mid, other) = sim_store(2)
    state.load()
    state.selected = [mid]
    assert any("InboxMenus.refresh" in c for c in _chained(state.add_tag({"tag": "Flooding"})))
    state.selected = [other]
    assert not _chained(state.add_tag({"tag": "Flooding"}))  # the tag exists: only a message changed


def test_the_menus_are_asked_again_before_their_stored_copy_can_expire(inbox, monkeypatch):
    from govsocial_app.state import inbox as inbox_state

    root, state, _actor = inbox
    state.load()
    assert not _chained(state.load())
    later = inbox_state.time.time() + inbox_state.MENUS_RECHECK_S + 1
    monkeypatch.setattr(inbox_state.time, "time", lambda: later)
    assert any("InboxMenus.refresh" in c for c in _chained(state.load()))


def test_the_menu_cache_survives_message_work_but_not_a_new_tag(db, actor_factory, sim_store, monkeypatch):
    actor = actor_factory("responder")
    (mid,) = sim_store(1)
    built: list[int] = []
    real = stream._choices
    monkeypatch.setattr(stream, "_choices", lambda: built.append(1) or real())
    stream.choices()
    assert len(built) == 1
    stream.add_tag([mid], "Roads", actor)  # creates the tag: the tag menu changes
    assert [c.label for c in stream.choices()["tag"]].count("Roads") == 1 and len(built) == 2
    other = sim_store(2)[-1]
    stream.add_tag([other], "Roads", actor)  # only a message changes (audited as message.tag)
    stream.choices()
    assert len(built) == 2


def test_the_team_menus_are_read_once_until_a_team_changes(db, actor_factory, monkeypatch):
    """Every page load shows the team menus: they are kept per process, dropped by a team change audited here,
    and re-read after CHOICES_TTL_S for a change made in another process."""
    import time

    from govsocial_app.services.inbox import teams

    admin = actor_factory("admin")
    reads: list[int] = []
    real = teams.session_scope
    monkeypatch.setattr(teams, "session_scope", lambda: reads.append(1) or real())
    assert teams.team_choices() == [] and len(reads) == 1
    assert teams.team_choices() == [] and len(reads) == 1  # kept
    teams.create_team("Roads", "", admin)
    assert [c.name for c in teams.team_choices()] == ["Roads"]  # audited here: seen at once
    n = len(reads)
    teams.team_choices()
    assert len(reads) == n
    later = time.monotonic() + teams.CHOICES_TTL_S + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    teams.team_choices()
    assert len(reads) == n + 1  # another process's change shows within CHOICES_TTL_S


def test_moving_between_messages_keeps_one_presence_entry_and_announces_each_move_once(inbox, sim_store, monkeypatch):
    from govsocial_app.services import bus
    from govsocial_app.services.inbox import presence

    root, state, actor = inbox
    a, b = sim_store(2)
    store = presence.get_store()
    calls: list[tuple] = []
    for name in ("touch", "leave"):
        real = getattr(store, name)
        monkeypatch.setattr(store, name, lambda *args, _n=name, _r=real, **kw: calls.append((_n, *args)) or _r(*args, **kw))
    announced: list[int] = []
    real_publish = bus.publish
    monkeypatch.setattr(bus, "publish", lambda e: announced.append(getattr(e, "message_id", None)) or real_publish(e))

    def open_(query: str) -> list[int]:
        calls.clear(), announced.clear()
        root.router = RouterData(url=ReflexURL(f"http://127.0.0.1:3000/inbox{query}"))
        state.load()
        return [e.message_id for e in store.snapshot() if e.user_id == actor.user_id]

    assert open_(f"?message={a}") == [a] and [c[0] for c in calls] == ["touch"] and len(announced) == 1
    # To another message: the one entry moves (one write, one announcement); nothing is left on the first.
    assert open_(f"?message={b}") == [b] and [c[0] for c in calls] == ["touch"] and len(announced) == 1
    # Back to the list: the person leaves the message they were on.
    assert open_("") == [] and calls == [("leave", actor.user_id, b)] and announced == [b]
    # A message that no longer exists: nobody stays on the one opened before it.
    open_(f"?message={a}")
    assert open_("?message=999999999") == [] and calls == [("leave", actor.user_id, a)] and state.error


def test_an_action_on_the_open_message_reads_it_once(inbox, sim_store, monkeypatch):
    """Tagging the open message re-reads it once (its detail carries its card); other selected cards on the page are
    re-read together, and cards the action did not touch are left as they were."""
    root, state, _actor = inbox
    a, b = sim_store(2)
    root.router = RouterData(url=ReflexURL(f"http://127.0.0.1:3000/inbox?message={a}"))
    state.load()
    assert {a, b} <= {c.id for c in state.cards}
    reads: list[tuple] = []
    for name in ("detail", "cards_by_id"):
        real = getattr(stream, name)
        monkeypatch.setattr(stream, name, lambda arg, _n=name, _r=real: reads.append((_n, arg)) or _r(arg))

    state.add_tag({"tag": "Flooding"})
    assert reads == [("detail", a)]
    by_id = {c.id: c for c in state.cards}
    assert "Flooding" in state.d_card.tags and "Flooding" in by_id[a].tags and "Flooding" not in by_id[b].tags

    reads.clear()
    state.selected = [a, b]
    state.add_tag({"tag": "Roads"})
    assert reads == [("detail", a), ("cards_by_id", [b])]
    by_id = {c.id: c for c in state.cards}
    assert all("Roads" in by_id[i].tags for i in (a, b)) and "Roads" in state.d_card.tags
