"""Pause all publishing: a claim after the pause sends nothing, approvals finishing during it wait, resume choices, roles."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone

import pytest

from govsocial_app.services.publishing import actions, approval_content, approvals, composer, pause, sender, views
from govsocial_app.services.publishing.approvals import StepSpec
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.publishing.pause import Choice
from govsocial_app.services.publishing.composer import ComposerInput
from tests.publishing.conftest import make_profile, simulator_for


def _due_posts(actor, pid, n, text="Post"):
    return [composer.save(actor, ComposerInput(text=f"{text} {i}", profile_ids=[pid]), action="now").post_id for i in range(n)]


def _created(pid):
    return [r for r in simulator_for(pid).received_log() if r["outcome"].startswith("created")]


def _status(post_id):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Post

    with session_scope() as s:
        return s.get(Post, post_id).status


def test_a_claim_after_the_pause_publishes_nothing(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    author, manager = actor_factory("publisher"), actor_factory("manager", "Morgan Manager")
    _due_posts(author, pid, 5)
    ack = pause.pause(manager, "Flood emergency: checking every message")
    assert ack.in_flight == 0 and ack.still_in_flight == 0
    assert sender.claim_due() == []
    stats = asyncio.run(sender.run_once(max_seconds=2))
    assert stats.claimed == 0 and _created(pid) == []
    st = pause.status()
    assert st.paused and st.by_name == "Morgan Manager" and st.reason == "Flood emergency: checking every message"
    proj = pause.pause_projection()
    assert proj["paused"] is True and proj["by"] == "Morgan Manager" and proj["at"]


def test_pause_waits_for_posts_already_claimed_then_nothing_more_goes_out(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    author, manager = actor_factory("publisher"), actor_factory("manager")
    _due_posts(author, pid, 6)
    claims = sender.claim_due(limit=3)  # claimed before the pause: on their way
    acks = []
    t = threading.Thread(target=lambda: acks.append(pause.pause(manager, "")))
    t.start()
    sim = simulator_for(pid)
    for c in claims:
        assert asyncio.run(sender.send(c, sim)) == "published"
    t.join(10)
    [ack] = acks
    assert ack.in_flight == 3 and ack.still_in_flight == 0
    last_publish = max(r["called_at"] for r in _created(pid))
    assert last_publish < ack.acknowledged_at
    asyncio.run(sender.run_once(max_seconds=2))
    assert len(_created(pid)) == 3
    assert [r for r in _created(pid) if r["called_at"] > ack.acknowledged_at] == []


def test_approval_completing_during_the_pause_does_not_publish(db, tmp_path, actor_factory):
    admin, author, manager = actor_factory("admin"), actor_factory("publisher"), actor_factory("manager")
    pid = make_profile(tmp_path)
    approvals.require_for_profile(admin, pid, approvals.save_workflow(admin, "Sign-off", [StepSpec("m", "any", role="manager")]))
    r = composer.save(author, ComposerInput(text="Shelter open at the school", profile_ids=[pid]), action="now")
    pause.pause(manager, "Storm")
    approvals.decide(manager, r.post_id, "approved", seen_hash=approval_content.current_hash(r.post_id))
    asyncio.run(sender.run_once(max_seconds=2))
    assert _created(pid) == []
    assert [m.post_id for m in pause.missed_posts()] == [r.post_id]


def test_automatic_replies_can_check_the_pause(db, actor_factory):
    from govsocial_app.db.engine import session_scope

    with session_scope() as s:
        assert pause.is_paused(s) is False
    pause.pause(actor_factory("responder"), "")
    with session_scope() as s:
        pause.lock(s, exclusive=False)
        assert pause.is_paused(s) is True


def test_resume_lists_missed_posts_and_applies_each_choice(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    author, manager = actor_factory("publisher"), actor_factory("manager")
    pause.pause(manager, "Checking")
    a, b, c, d = _due_posts(author, pid, 4, "Missed")
    missed = pause.missed_posts()
    assert [m.post_id for m in missed] == [a, b, c, d] and missed[0].excerpt == "Missed 0"
    later = datetime.now(timezone.utc) + timedelta(hours=4)
    result = pause.resume(manager, {a: Choice("publish_now"), b: Choice("reschedule", later), c: Choice("draft")})
    assert result.resumed and result.counts == {"publish_now": 1, "reschedule": 1, "draft": 1, "hold": 1}
    assert [_status(x) for x in (a, b, c, d)] == ["scheduled", "scheduled", "draft", "held"]
    asyncio.run(sender.run_once(max_seconds=5))
    assert [r["text"] for r in _created(pid)] == ["Missed 0"]
    assert [p.id for p in views.needs_attention()] == [d]
    actions.decide_held(author, d, "publish_now")
    asyncio.run(sender.run_once(max_seconds=5))
    assert sorted(r["text"] for r in _created(pid)) == ["Missed 0", "Missed 3"]


def test_resume_bulk_choice(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    author, manager = actor_factory("publisher"), actor_factory("manager")
    pause.pause(manager, "")
    ids = _due_posts(author, pid, 3)
    result = pause.resume(manager, bulk=Choice("publish_now"))
    assert result.counts == {"publish_now": 3}
    asyncio.run(sender.run_once(max_seconds=5))
    assert len(_created(pid)) == 3 and {_status(i) for i in ids} == {"published"}


def test_resume_refuses_a_past_reschedule(db, actor_factory):
    from govsocial_app.services.errors import UserError

    manager = actor_factory("manager")
    pause.pause(manager, "")
    with pytest.raises(UserError, match="already passed"):
        pause.resume(manager, bulk=Choice("reschedule", datetime.now(timezone.utc) - timedelta(minutes=1)))
    assert pause.status().paused


def test_pause_and_resume_are_audited_and_idempotent(db, actor_factory):
    from govsocial_app.services import audit

    manager = actor_factory("manager")
    pause.pause(manager, "one")
    again = pause.pause(manager, "two")
    assert again.already_paused and pause.status().reason == "one"
    pause.resume(manager)
    assert not pause.resume(manager).resumed
    assert audit.count(["publishing.pause"]) == 1 and audit.count(["publishing.resume"]) == 1


def test_pause_roles_can_be_narrowed(db, actor_factory):
    admin, responder, viewer = actor_factory("admin"), actor_factory("responder"), actor_factory("viewer")
    assert pause.may_pause(responder) and not pause.may_pause(viewer)
    with pytest.raises(PermissionDenied):
        pause.pause(viewer, "")
    assert pause.set_allowed_roles(admin, ["manager"]) == ["admin", "manager"]
    assert not pause.may_pause(responder)
    with pytest.raises(PermissionDenied):
        pause.pause(responder, "")
    with pytest.raises(PermissionDenied):
        pause.set_allowed_roles(responder, ["responder"])
    pause.pause(admin, "admins always can")


def test_pause_blocks_a_claim_on_postgresql_too(pg_db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    author, manager = actor_factory("publisher"), actor_factory("manager")
    _due_posts(author, pid, 3)
    pause.pause(manager, "")
    assert sender.claim_due() == []
    pause.resume(manager, bulk=Choice("publish_now"))
    assert len(sender.claim_due()) == 3


def test_pause_commit_waits_for_a_claim_in_progress_on_postgresql(pg_db, tmp_path, actor_factory):
    """The claim holds the pause row in share mode: a pause cannot commit in the middle of a claim."""
    from sqlmodel import Session

    from govsocial_app.db.engine import get_engine

    pid = make_profile(tmp_path)
    _due_posts(actor_factory("publisher"), pid, 2)
    manager = actor_factory("manager")
    s = Session(get_engine())
    pause.lock(s, exclusive=False)
    assert not pause.is_paused(s)
    done = threading.Event()
    threading.Thread(target=lambda: (pause.pause(manager, "", drain_timeout_s=0.1), done.set()), daemon=True).start()
    assert not done.wait(0.5)  # the pause waits for the open claim transaction
    s.rollback()
    s.close()
    assert done.wait(10)
    assert sender.claim_due() == []
