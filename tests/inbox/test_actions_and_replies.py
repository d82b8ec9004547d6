"""Inbox actions (audited, role-checked), the reply path through the simulator, and the collision guard under concurrency."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlmodel import col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, Message, MessageNote, MessageVersion
from govsocial_app.services.inbox import replies, stream, vip
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from tests.inbox.conftest import msg


def audit_actions() -> list[str]:
    with session_scope() as s:
        return list(s.exec(select(AuditLog.action).order_by(AuditLog.id)).all())


def test_every_action_is_audited(store, actor_factory):
    me = actor_factory("responder")
    (a,) = store([msg(1)])
    stream.add_tag([a], "Water", me)
    stream.assign([a], me.user_id, me)
    stream.set_status([a], "completed", me)
    stream.set_status([a], "open", me)
    stream.add_note(a, "Called the depot", me)
    acts = audit_actions()
    for action in ("tag.create", "message.tag", "message.assign", "message.complete", "message.reopen", "message.note"):
        assert action in acts
    with session_scope() as s:
        row = s.exec(select(AuditLog).where(AuditLog.action == "message.assign")).one()
        assert row.actor_id == me.user_id and row.client_ip == "127.0.0.1" and row.user_agent == "pytest"


def test_viewer_cannot_act_or_reply(store, actor_factory):
    viewer = actor_factory("viewer")
    (a,) = store([msg(1)])
    for call in (lambda: stream.add_tag([a], "X", viewer), lambda: stream.assign([a], None, viewer),
                 lambda: stream.set_status([a], "completed", viewer), lambda: stream.add_note(a, "n", viewer)):
        with pytest.raises(PermissionDenied):
            call()
    with pytest.raises(PermissionDenied):
        asyncio.run(replies.send_reply(a, "hello", viewer, seen_reply_id=0))


def test_only_managers_and_admins_edit_vip_lists(db, actor_factory):
    for role in ("responder", "publisher", "viewer"):
        with pytest.raises(PermissionDenied):
            vip.create_list("Reporters", actor_factory(role))
    assert vip.create_list("Reporters", actor_factory("manager"))
    assert vip.create_list("Officials", actor_factory("admin"))


def test_tags_are_created_inline_once_case_insensitively(store, actor_factory):
    me = actor_factory("responder")
    a, b = store([msg(1), msg(2)])
    t1 = stream.add_tag([a], "Power outage", me)
    t2 = stream.add_tag([b], "power OUTAGE", me)
    assert t1 == t2
    with pytest.raises(UserError):
        stream.add_tag([a], "   ", me)


def test_bulk_actions_apply_to_all_or_none(store, actor_factory):
    me = actor_factory("responder")
    ids_ = store([msg(n) for n in range(5)])
    stream.set_status(ids_, "completed", me)
    with session_scope() as s:
        assert {m.status for m in s.exec(select(Message).where(col(Message.id).in_(ids_)))} == {"completed"}
    with pytest.raises(UserError):
        stream.set_status(ids_ + [999_999], "open", me)
    with session_scope() as s:
        assert {m.status for m in s.exec(select(Message).where(col(Message.id).in_(ids_)))} == {"completed"}


async def test_reply_goes_through_the_simulator_and_is_archived(sim_store, actor_factory):
    ana = actor_factory("responder", "Ana Responder")
    (a,) = sim_store(1)
    sent = await replies.send_reply(a, "Yes, until 8 pm.", ana, seen_reply_id=0)
    assert isinstance(sent, replies.SentReply) and sent.external_id
    d = stream.detail(a)
    assert [t.text for t in d.conversation if t.direction == "out"] == ["Yes, until 8 pm."]
    assert d.card.replied_by == "Ana Responder"
    with session_scope() as s:
        out = s.get(Message, sent.outbound_id)
        assert out.status == "sent" and out.external_id == sent.external_id
        assert s.exec(select(MessageVersion).where(MessageVersion.message_id == out.id)).one().text == "Yes, until 8 pm."


async def test_reply_held_when_someone_else_answered_after_you_opened(sim_store, actor_factory):
    ana, ben = actor_factory("responder", "Ana"), actor_factory("responder", "Ben")
    (a,) = sim_store(1)
    ben_opened = stream.detail(a).last_reply_id
    await replies.send_reply(a, "Ana's answer", ana, seen_reply_id=stream.detail(a).last_reply_id)
    held = await replies.send_reply(a, "Ben's answer", ben, seen_reply_id=ben_opened)
    assert isinstance(held, replies.HeldReply) and held.by == "Ana" and held.text == "Ana's answer"
    # Ben confirms: send again with the reply he has now seen.
    sent = await replies.send_reply(a, "Ben's answer", ben, seen_reply_id=held.reply_id)
    assert isinstance(sent, replies.SentReply)
    outs = [t.text for t in stream.detail(a).conversation if t.direction == "out"]
    assert outs == ["Ana's answer", "Ben's answer"]


def _send_in_thread(message_id, text, actor, seen, results, barrier):
    barrier.wait()
    results.append(asyncio.run(replies.send_reply(message_id, text, actor, seen_reply_id=seen)))


@pytest.mark.parametrize("attempt", range(3))
def test_two_simultaneous_replies_cannot_both_pass_the_guard(sim_store, actor_factory, attempt):
    ana, ben = actor_factory("responder", "Ana"), actor_factory("responder", "Ben")
    (a,) = sim_store(1)
    seen = stream.detail(a).last_reply_id
    results: list = []
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_send_in_thread, args=(a, f"{who.label} answer", who, seen, results, barrier)) for who in (ana, ben)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["HeldReply", "SentReply"]
    assert len([t for t in stream.detail(a).conversation if t.direction == "out"]) == 1


async def test_failed_send_keeps_no_answer_marker_and_says_why(sim_store, actor_factory, profile):
    from govsocial_app.db.models import SocialProfile
    from govsocial_app.services import profiles

    ana = actor_factory("responder", "Ana")
    (a,) = sim_store(1)
    with session_scope() as s:
        p = s.get(SocialProfile, profile)
        profiles.connector_for(p).inject_faults(["500", "500", "500", "500"])
    with pytest.raises(UserError, match="not sent"):
        await replies.send_reply(a, "Will this go?", ana, seen_reply_id=0)
    d = stream.detail(a)
    assert d.card.replied_by == ""
    assert [t.status for t in d.conversation if t.direction == "out"] == ["failed"]
    assert "message.reply_failed" in audit_actions()


async def test_reply_validation(sim_store, actor_factory):
    ana = actor_factory("responder")
    (a,) = sim_store(1)
    with pytest.raises(UserError, match="Write a reply"):
        await replies.send_reply(a, "   ", ana, seen_reply_id=0)
    with pytest.raises(UserError, match="allows"):
        await replies.send_reply(a, "x" * 501, ana, seen_reply_id=0)
    d = stream.detail(a)  # refused before anything was claimed: no outbound reply, not answered, not audited
    assert d.card.replied_by == "" and not [t for t in d.conversation if t.direction == "out"]
    assert not {"message.reply", "message.reply_queued"} & set(audit_actions())


async def test_a_reply_waits_on_three_thread_hops(sim_store, actor_factory, monkeypatch):
    """Each hop off the event loop waits its turn on a busy loop on the way back (bench-load's slowest event): the
    claim (with the length check), the network's call and the outcome, nothing more."""
    import asyncio

    ana = actor_factory("responder")
    (a,) = sim_store(1)
    hops: list[str] = []
    real = asyncio.to_thread

    async def counted(fn, *args, **kwargs):
        hops.append(getattr(fn, "__name__", repr(fn)))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    result = await replies.send_reply(a, "Thanks, passed to the duty team.", ana, seen_reply_id=0)
    assert isinstance(result, replies.SentReply)
    assert len(hops) == 3 and hops[0] == "_claim" and hops[-1] == "_finish", hops


def test_character_count_uses_graphemes():
    family = "👨‍👩‍👧‍👦"
    assert replies.char_count("simulator", family * 3).used == 3
    assert replies.char_count("simulator", "مرحبا").used == 5


def test_vip_csv_import_rejects_bad_rows_without_half_importing(db, actor_factory):
    manager = actor_factory("manager")
    list_id = vip.create_list("Reporters", manager)
    bad = "network,handle,name\nsimulator,@dana_reports,Dana\nmyspace,@tom,Tom\nsimulator,,Nobody\nsimulator,has space,X\n"
    result = vip.import_csv(list_id, bad, manager, ("simulator", "mastodon"))
    assert result.added == 0
    assert [e.split(":")[0] for e in result.errors] == ["Row 3", "Row 4", "Row 5"]
    assert "unknown network 'myspace'" in result.errors[0]
    assert vip.lists()[0].members == 0
    good = "simulator,@dana_reports,Dana\nmastodon,@ops@social.gov,Ops\nsimulator,@DANA_reports,Dana again\n"
    result = vip.import_csv(list_id, good, manager, ("simulator", "mastodon"))
    assert (result.added, result.already, result.errors) == (2, 1, [])
    assert vip.lists()[0].members == 2


def test_notes_are_kept_with_the_author(store, actor_factory):
    me = actor_factory("responder", "Ana")
    (a,) = store([msg(1)])
    stream.add_note(a, "Escalated to roads team", me)
    assert [(n.author, n.text) for n in stream.detail(a).notes] == [("Ana", "Escalated to roads team")]
    with session_scope() as s:
        assert s.exec(select(MessageNote)).one().user_id == me.user_id


def test_edit_and_delete_in_one_page_keep_every_version(profile):
    from dataclasses import replace

    from govsocial_app.services.inbox import ingest

    original = msg(7, "The shelter on Elm St is full")
    edited = replace(original, text="The shelter on Elm St is full; use the school gym")
    deleted = replace(edited, deleted=True)
    with session_scope() as s:
        result = ingest.store(s, [original, edited], profile_id=profile)
    assert len(result.new_ids) == 1
    with session_scope() as s:
        ingest.store(s, [deleted], profile_id=profile)
    history = stream.detail(result.new_ids[0]).versions
    assert [(v.change, v.text) for v in history] == [
        ("created", "The shelter on Elm St is full"),
        ("edited", "The shelter on Elm St is full; use the school gym"),
        ("deleted", "The shelter on Elm St is full; use the school gym"),
    ]
    with session_scope() as s:
        again = ingest.store(s, [deleted], profile_id=profile)  # a re-poll of the same state adds nothing
    assert again.new_ids == [] and again.versioned_ids == []
    assert len(stream.detail(result.new_ids[0]).versions) == 3
