"""The inbox in the reader's language (relative times: tests/i18n/test_times.py): message types, "Replied by", presence and the
starter saved views from the catalogue; an Arabic reader sees no English but names and message text."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import reflex as rx
from reflex.istate.data import ReflexURL, RouterData

from govsocial_app.i18n import catalog
from govsocial_app.services import auth
from govsocial_app.services.inbox import stream
from tests.inbox.conftest import T0, msg

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def test_every_label_the_inbox_state_translates_has_arabic(db):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.state.inbox import CHANGE_LABELS, KIND_LABELS

    ar = catalog("ar")
    with session_scope() as s:
        starter_views = {name for name, _query in stream.default_views(s)} | {"My open", "VIPs", "Crisis"}
    wanted = {*KIND_LABELS.values(), *CHANGE_LABELS.values(), *starter_views, "just now", "Replied by {name} · {when}", "never", "not yet"}
    assert set(KIND_LABELS) == set(stream.KINDS), "every message type has a label"
    missing = sorted(w for w in wanted if not ar.get(w))
    assert missing == []


@pytest.fixture
def reader(store, actor_factory):
    """A responder whose inbox holds a mention, a comment and a direct message, one of them answered."""
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.inbox import InboxState

    store([msg(1, kind="mention"), msg(2, kind="comment"), msg(3, kind="dm")], received=T0)
    actor = actor_factory("responder", "Ana Responder")
    email = actor.label.split("<")[1].rstrip(">")

    def read(lang: str) -> InboxState:
        auth.update_preferences(actor.user_id, actor, locale=lang)
        root = rx.State(_reflex_internal_init=True)
        app_state = root.substates[AppState.get_name()]
        app_state.auth_token, _ = auth.sign_in(email, PASSWORD)
        root.router = RouterData(url=ReflexURL("http://127.0.0.1:3000/inbox"))
        state = app_state.substates[InboxState.get_name()]
        state.load()
        return state

    return read


def test_an_arabic_reader_sees_arabic_times_types_and_saved_views(reader):
    english, arabic = reader("en"), reader("ar")
    assert arabic.lang == "ar"
    assert {c.kind for c in english.cards} == {"Mention", "Comment", "Direct message"}
    assert {c.kind for c in arabic.cards} == {"إشارة", "تعليق", "رسالة مباشرة"}
    # T0 is days ago: a date, in Arabic month names for the Arabic reader.
    assert all(c.when == "20 Nov" for c in english.cards), [c.when for c in english.cards]
    assert all(c.when == "20 نوفمبر" for c in arabic.cards), [c.when for c in arabic.cards]
    assert [v.label for v in english.views] and all(v.label in ("My open", "VIPs", "Crisis") for v in english.views)
    assert {v.label for v in arabic.views} <= {"المفتوحة لي", "كبار الشخصيات", "أزمة"}
    assert [v.value for v in arabic.views] == [v.value for v in english.views]  # the same views, only their names read differently


def test_a_view_a_person_named_keeps_its_name(reader):
    from govsocial_app.state.inbox import InboxState  # noqa: F401

    state = reader("ar")
    state.save_view({"name": "Bridges on Route 9"})
    assert "Bridges on Route 9" in {v.label for v in state.views}
