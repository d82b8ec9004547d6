""""Pause all publishing" and replies: the words on screen and what the pause tells the reply sender agree (issue 13:
the dialog said nothing more would go out while replies kept going). The decision: a pause holds replies too;
they wait and are sent on resume (the sending side is services/inbox/replies.py, which checks `pause.replies_held`)."""

from __future__ import annotations

import inspect

import reflex as rx

from govsocial_app.db.engine import session_scope
from govsocial_app.i18n import translate
from govsocial_app.services import auth
from govsocial_app.services.publishing import pause

PASSWORD = "correct horse battery"
BANNER = "Nothing goes out, replies included: replies written now wait and are sent when publishing resumes."
DIALOG = ("Nothing will go out until someone resumes: no scheduled or queued posts, no newly approved posts and no replies. "
          "Replies written meanwhile wait and are sent when publishing resumes. Everyone sees a banner.")


def banner_for(actor) -> object:
    import govsocial_app.govsocial_app  # noqa: F401
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.pause import PauseBanner

    token, user = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
    root = rx.State(_reflex_internal_init=True)
    app = root.substates[AppState.get_name()]
    app.auth_token, app.user_id = token, user.id
    return root.substates[PauseBanner.get_name()]


async def test_during_a_pause_every_screen_says_replies_wait_and_the_reply_sender_is_told_to_hold(db, actor_factory):
    from govsocial_app.state import pause as pause_state

    viewer = actor_factory("viewer")
    banner = banner_for(viewer)
    pause_state._cached = None
    await banner.join()
    assert banner.paused is False and banner.holds_replies is False
    with session_scope() as s:
        assert pause.replies_held(s) is False

    pause.pause(actor_factory("manager"), "Flood")
    pause_state._cached = None  # the bus relay reads afresh on a pause event
    await banner.join()
    assert banner.paused is True and banner.holds_replies is True
    with session_scope() as s:
        assert pause.replies_held(s) is True


async def test_a_signed_out_tab_is_told_nothing_about_the_pause(db, actor_factory):
    from govsocial_app.state import pause as pause_state

    banner = banner_for(actor_factory("viewer"))
    from govsocial_app.state.app_state import AppState

    banner.parent_state.substates[AppState.get_name()].auth_token = ""
    pause.pause(actor_factory("manager"), "Flood")
    pause_state._cached = None
    await banner.join()
    assert banner.paused is False and banner.reason == "" and banner.holds_replies is False


def test_the_banner_and_the_dialog_say_replies_wait_in_english_and_arabic():
    from govsocial_app.components import pause as pause_component

    source = inspect.getsource(pause_component)
    assert BANNER in source and DIALOG in source and "no automatic replies" not in source
    for msgid in (BANNER, DIALOG):
        arabic = translate(msgid, "ar")
        assert arabic != msgid and "الردود" in arabic



async def test_a_reply_held_by_the_pause_is_never_announced_as_sent(db, actor_factory, monkeypatch):
    """The reply sender keeps a reply written during a pause (replies.QueuedReply) or one whose answer was lost
    (UncertainReply); the screen must say so, in the reader's language, never "Reply sent."."""
    from govsocial_app.services.inbox import replies
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.inbox import InboxState

    app = banner_for(actor_factory("responder")).parent_state.substates[AppState.get_name()]
    inbox = app.substates[InboxState.get_name()]
    monkeypatch.setattr(InboxState, "_load_detail", lambda self: None)
    for result in (replies.QueuedReply(outbound_id=1), replies.UncertainReply(outbound_id=2)):

        async def fake_send(message_id, text, actor, *, seen_reply_id, _result=result):
            return _result

        monkeypatch.setattr(replies, "send_reply", fake_send)
        for lang in ("en", "ar"):
            app.lang, inbox.open_id, inbox.draft = lang, 1, "We are on it."
            toast = str(await InboxState.send_reply.fn(inbox))
            assert translate(result.message, lang) in toast
            assert translate("Reply sent.", lang) not in toast
            assert inbox.draft == ""  # kept on the server, not lost with the draft
