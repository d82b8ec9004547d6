"""The approval state machine: any/all steps, rejection, editing restarts it, bypass, holds (external approvers: test_external_approval.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from govsocial_app.services.publishing import approval_content, approvals, composer
from govsocial_app.services.publishing.approvals import StepSpec
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing.composer import ComposerInput
from tests.publishing.conftest import make_profile


def decide(actor, post_id, decision, comment="", **kw):
    """An approver deciding on what they were shown: the post's content as it is now."""
    return approvals.decide(actor, post_id, decision, comment, seen_hash=approval_content.current_hash(post_id), **kw)


def _post(post_id):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Post

    with session_scope() as s:
        return s.get(Post, post_id)


def _target_statuses(post_id):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import PostTarget

    with session_scope() as s:
        return [t.status for t in s.exec(select(PostTarget).where(PostTarget.post_id == post_id)).all()]


def _alerts_for(user_id):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Alert

    with session_scope() as s:
        return [a.title for a in s.exec(select(Alert).order_by(Alert.id)).all() if user_id in (a.data or {}).get("user_ids", [])]


def _audit(action):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import AuditLog

    with session_scope() as s:
        return s.exec(select(AuditLog).where(AuditLog.action == action)).all()


@pytest.fixture
def team(db, actor_factory):
    return {
        "admin": actor_factory("admin", "Avery Admin"),
        "author": actor_factory("publisher", "Parker Publisher"),
        "m1": actor_factory("manager", "Morgan Manager"),
        "m2": actor_factory("manager", "Max Manager"),
        "legal": actor_factory("responder", "Lee Legal"),
    }


def _submit(team, tmp_path, steps, *, when=None, action="schedule"):
    wf = approvals.save_workflow(team["admin"], "Comms sign-off", steps)
    pid = make_profile(tmp_path)
    approvals.require_for_profile(team["admin"], pid, wf)
    when = when or datetime.now(timezone.utc) + timedelta(hours=3)
    r = composer.save(team["author"], ComposerInput(text="Boil water notice lifted {today}", profile_ids=[pid]), action=action,
                        when=when if action == "schedule" else None)
    return r, pid


def test_any_of_a_role_approves_in_one_decision(team, tmp_path):
    r, _ = _submit(team, tmp_path, [StepSpec("Managers", "any", role="manager")])
    assert r.status == "pending_approval" and r.workflow == "Comms sign-off"
    assert _target_statuses(r.post_id) == ["pending"]
    assert any("waiting for your approval" in t for t in _alerts_for(team["m1"].user_id))
    res = decide(team["m1"], r.post_id, "approved")
    assert res.finished and _post(r.post_id).status == "scheduled" and _target_statuses(r.post_id) == ["due"]
    assert any("Your post was approved" in t for t in _alerts_for(team["author"].user_id))
    with pytest.raises(UserError):
        decide(team["m2"], r.post_id, "approved")  # nothing left to decide


def test_all_needs_every_approver_and_steps_run_in_order(team, tmp_path):
    steps = [StepSpec("Both managers", "all", role="manager"), StepSpec("Legal", "any", user_ids=(team["legal"].user_id,))]
    r, _ = _submit(team, tmp_path, steps)
    with pytest.raises(UserError, match="not an approver"):
        decide(team["legal"], r.post_id, "approved")  # step 2 is not open yet
    first = decide(team["m1"], r.post_id, "approved")
    assert not first.finished and _post(r.post_id).approval_step == 0
    with pytest.raises(UserError, match="already decided"):
        decide(team["m1"], r.post_id, "approved")
    second = decide(team["m2"], r.post_id, "approved")
    assert second.message == "Approved. The post moves on to the next step." and _post(r.post_id).approval_step == 1
    assert [q.post_id for q in approvals.queue(team["legal"])] == [r.post_id]
    assert approvals.queue(team["m1"]) == []
    done = decide(team["legal"], r.post_id, "approved", "Fine by legal")
    assert done.finished and _post(r.post_id).status == "scheduled"
    assert len(_audit("approval.approved")) == 3


def test_reject_needs_a_comment_returns_to_draft_and_tells_the_author(team, tmp_path):
    r, _ = _submit(team, tmp_path, [StepSpec("Managers", "all", role="manager")])
    with pytest.raises(UserError, match="Say why"):
        decide(team["m1"], r.post_id, "rejected", "")
    res = decide(team["m1"], r.post_id, "rejected", "Wrong date for the notice")
    post = _post(r.post_id)
    assert res.finished and post.status == "draft" and "Wrong date" in post.held_reason
    assert _target_statuses(r.post_id) == ["pending"]
    assert "Morgan Manager rejected your post: Wrong date for the notice" in _alerts_for(team["author"].user_id)


def test_authors_cannot_approve_their_own_posts(team, tmp_path):
    steps = [StepSpec("Publishers", "any", role="publisher")]
    r, _ = _submit(team, tmp_path, steps)
    with pytest.raises(UserError, match="your own post"):
        decide(team["author"], r.post_id, "approved")


def test_editing_the_post_restarts_approval(team, tmp_path):
    r, pid = _submit(team, tmp_path, [StepSpec("Managers", "all", role="manager")])
    decide(team["m1"], r.post_id, "approved")
    composer.save(team["author"], ComposerInput(text="Boil water notice lifted for all areas", profile_ids=[pid]), action="schedule",
                    when=datetime.now(timezone.utc) + timedelta(hours=3), post_id=r.post_id)
    res = decide(team["m2"], r.post_id, "approved")
    assert not res.finished  # m1's approval was for the old text
    assert decide(team["m1"], r.post_id, "approved").finished


def test_profiles_with_different_workflows_must_be_posted_separately(team, tmp_path):
    a, b = make_profile(tmp_path), make_profile(tmp_path)
    approvals.require_for_profile(team["admin"], a, approvals.save_workflow(team["admin"], "A", [StepSpec("x", "any", role="manager")]))
    approvals.require_for_profile(team["admin"], b, approvals.save_workflow(team["admin"], "B", [StepSpec("y", "any", role="admin")]))
    with pytest.raises(UserError, match="different approval workflows"):
        composer.save(team["author"], ComposerInput(text="hi", profile_ids=[a, b]), action="now")


def test_a_user_groups_workflow_applies_to_its_members(team, tmp_path):
    wf = approvals.save_workflow(team["admin"], "Night shift", [StepSpec("m", "any", role="manager")])
    approvals.save_group(team["admin"], "Night shift", [team["author"].user_id], wf)
    r = composer.save(team["author"], ComposerInput(text="hi", profile_ids=[make_profile(tmp_path)]), action="now")
    assert r.status == "pending_approval"
    other = composer.save(team["m1"], ComposerInput(text="hi", profile_ids=[make_profile(tmp_path)]), action="now")
    assert other.status == "scheduled"


# ---------------------------------------------------------------- bypass and holds


def test_bypass_needs_admin_and_reason_and_is_flagged(team, tmp_path):
    from govsocial_app.services.authz import PermissionDenied

    r, _ = _submit(team, tmp_path, [StepSpec("Managers", "all", role="manager")], action="now")
    with pytest.raises(PermissionDenied):
        approvals.bypass(team["m1"], r.post_id, "urgent evacuation order", seen_hash="")
    with pytest.raises(UserError, match="reason"):
        approvals.bypass(team["admin"], r.post_id, "", seen_hash="")
    assert approvals.bypass(team["admin"], r.post_id, "Evacuation order, no time to wait", seen_hash=approval_content.current_hash(r.post_id)) == "scheduled"
    post = _post(r.post_id)
    assert post.flagged_for_review and post.bypassed_by == team["admin"].user_id and _target_statuses(r.post_id) == ["due"]
    [row] = _audit("approval.bypass")
    assert row.detail["reason"] == "Evacuation order, no time to wait"
    assert any("published past the approval workflow" in t for t in _alerts_for(team["m2"].user_id))
    with pytest.raises(UserError):
        decide(team["m1"], r.post_id, "approved")
    approvals.mark_reviewed(team["admin"], r.post_id)
    assert not _post(r.post_id).flagged_for_review


def test_overdue_approval_is_held_not_dropped_then_goes_out_when_approved(team, tmp_path):
    soon = datetime.now(timezone.utc) + timedelta(minutes=5)
    r, _ = _submit(team, tmp_path, [StepSpec("Managers", "any", role="manager")], when=soon)
    assert approvals.hold_overdue(now=soon - timedelta(seconds=1)) == []
    assert approvals.hold_overdue(now=soon + timedelta(seconds=1)) == [r.post_id]
    post = _post(r.post_id)
    assert post.status == "held" and post.held_reason == "Approval was not finished by its time"
    held_notice = "A post reached its time before it was approved, so it is held: Boil water notice lifted {today}"
    assert held_notice in _alerts_for(team["author"].user_id) and held_notice in _alerts_for(team["m1"].user_id)
    assert [q.held for q in approvals.queue(team["m2"])] == [True]
    res = decide(team["m2"], r.post_id, "approved", now=soon + timedelta(minutes=10))
    assert "goes out now" in res.message and _target_statuses(r.post_id) == ["due"]
    assert approvals.hold_overdue(now=soon + timedelta(hours=1)) == []


def test_post_now_with_a_workflow_waits_for_approval_without_being_held(team, tmp_path):
    r, _ = _submit(team, tmp_path, [StepSpec("Managers", "any", role="manager")], action="now")
    assert r.status == "pending_approval" and r.scheduled_at is None
    assert approvals.hold_overdue(now=datetime.now(timezone.utc) + timedelta(days=1)) == []
    decide(team["m1"], r.post_id, "approved")
    assert _target_statuses(r.post_id) == ["due"]


def test_workflow_definition_is_validated(team):
    with pytest.raises(UserError):
        approvals.save_workflow(team["admin"], "Empty", [])
    with pytest.raises(UserError):
        approvals.save_workflow(team["admin"], "No approvers", [StepSpec("s", "any")])
    with pytest.raises(UserError):
        approvals.save_workflow(team["admin"], "Bad mode", [StepSpec("s", "most", role="manager")])
    wf = approvals.save_workflow(team["admin"], "Two", [StepSpec("a", "any", role="manager"), StepSpec("b", "all", role="admin")])
    approvals.save_workflow(team["admin"], "One", [StepSpec("a", "any", role="manager")], workflow_id=wf)
    [view] = approvals.list_workflows()
    assert view.name == "One" and len(view.steps) == 1
