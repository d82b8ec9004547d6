"""Comment policy and moderation (issue 16 items 1-3): clauses with versions, the public text, and moderation actions
sent through the simulated network, retried and reconciled, each kept in the archive chain."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import col, select

from connectors.base import Credentials
from connectors.simulator import SimulatorConnector
from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import (
    AuditLog, Message, MessageModeration, MessageVersion, ModerationAction, SocialProfile,
)
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.crypto import encrypt_json
from govsocial_app.services.errors import UserError
from govsocial_app.services.inbox import ingest
from govsocial_app.services.records import chain, moderation, policy, retention

CLAUSES = [
    policy.Clause("3.2", "Threats of violence", "التهديد بالعنف", "Threats against anyone are removed.", "تُزال التهديدات."),
    policy.Clause("3.4", "Personal information of others", "المعلومات الشخصية للآخرين"),
    policy.Clause("1", "Purpose", "الغرض"),
]


@pytest.fixture
def profile(db, tmp_path) -> int:
    with session_scope() as s:
        p = SocialProfile(
            network="simulator", handle="@cityofriverton", display_name="City of Riverton", external_id="riverton",
            config={"handle": "@cityofriverton", "profile_key": "riverton-mod", "state_path": str(tmp_path / "sim.db")},
            secrets_enc=encrypt_json({"token": "x"}),
        )
        s.add(p)
        s.flush()
        return p.id


def _sim(profile_id: int) -> SimulatorConnector:
    with session_scope() as s:
        config = dict(s.get(SocialProfile, profile_id).config)
    return SimulatorConnector(Credentials(network="simulator", config=config))


@pytest.fixture
def reply_id(profile) -> int:
    """One real reply from the simulated network, stored the way polling stores it."""
    until = datetime.now(timezone.utc) - timedelta(minutes=5)
    with session_scope() as s:
        config = dict(s.get(SocialProfile, profile).config)
    sim = SimulatorConnector(Credentials(network="simulator", config=config), clock=lambda: until)
    later = SimulatorConnector(Credentials(network="simulator", config=config), clock=lambda: until + timedelta(minutes=30))
    # A whole day: the simulated network is quiet at night.
    doomed = {m.external_id for m in later.history(until - timedelta(hours=24), until + timedelta(minutes=30)) if m.deleted}
    pick = next(m for m in sim.history(until - timedelta(hours=24), until)
                if m.kind in ("reply", "comment") and not m.deleted and m.external_id not in doomed)
    with session_scope() as s:
        return ingest.store(s, [pick], profile_id=profile, now=until).new_ids[0]


@pytest.fixture
def staff(actor_factory):
    return {"ana": actor_factory("responder", "Ana Responder"), "max": actor_factory("manager", "Max Manager"),
            "rita": actor_factory("records", "Rita Records"), "vic": actor_factory("viewer", "Vic Viewer"),
            "ada": actor_factory("admin", "Ada Admin")}


@pytest.fixture
def with_policy(staff):
    return policy.publish(CLAUSES, staff["rita"], change_note="first version")


def _external(message_id: int) -> str:
    with session_scope() as s:
        return s.get(Message, message_id).external_id


def _mod_versions(message_id: int) -> list[dict]:
    with session_scope() as s:
        rows = s.exec(select(MessageVersion).where(MessageVersion.message_id == message_id, MessageVersion.change == "moderation")
                      .order_by(MessageVersion.version)).all()
        return [dict(r.raw) | {"_text": r.text, "_sealed": r.chain_seq is not None} for r in rows]


def _audit_actions() -> list[str]:
    with session_scope() as s:
        return list(s.exec(select(AuditLog.action).order_by(AuditLog.id)).all())


# ---------------------------------------------------------------- the policy


def test_policy_versions_sorted_clauses_and_audit(staff, with_policy):
    assert with_policy == 1
    p = policy.current()
    assert [c.number for c in p.clauses] == ["1", "3.2", "3.4"]  # numeric order, not text order
    assert p.clause("3.2").title("ar") == "التهديد بالعنف"
    v2 = policy.save_clause(policy.Clause("3.2", "Threats of violence or harm", "التهديد بالعنف أو الأذى"), staff["ada"],
                            change_note="wider")
    assert v2 == 2
    assert policy.current().clause("3.2").title_en == "Threats of violence or harm"
    assert policy.version(1, staff["vic"]).clause("3.2").title_en == "Threats of violence"  # history keeps the old text
    assert [h.version for h in policy.history(staff["vic"])] == [2, 1]
    v3 = policy.remove_clause("3.4", staff["rita"])
    assert [c.number for c in policy.current().clauses] == ["1", "3.2"] and v3 == 3
    with session_scope() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.action == "policy.publish").order_by(AuditLog.id)).all()
        assert [r.detail["changed"] for r in rows][1] == ["3.2"]
        assert rows[2].detail["removed"] == ["3.4"]


def test_policy_input_is_checked_and_only_officers_and_admins_edit(staff, with_policy):
    for bad, msg in [(policy.Clause("3.x", "T", "ت"), "number"), (policy.Clause("4", "Title", ""), "Arabic"),
                     (policy.Clause("4", "", "ت"), "English")]:
        with pytest.raises(UserError, match=msg):
            policy.save_clause(bad, staff["rita"])
    with pytest.raises(UserError, match="once"):
        policy.publish([CLAUSES[0], CLAUSES[0]], staff["rita"])
    for who in ("vic", "ana", "max"):
        with pytest.raises(PermissionDenied):
            policy.save_clause(policy.Clause("9", "X", "س"), staff[who])
    assert policy.current().version == 1


def test_public_policy_text_needs_no_sign_in(staff, with_policy):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from govsocial_app import api_policy

    client = TestClient(Starlette(routes=api_policy.routes()))
    en = client.get("/api/comment-policy")
    assert en.status_code == 200 and en.headers["content-type"].startswith("text/plain")
    assert "Version 1" in en.text and "3.2 Threats of violence" in en.text and "Threats against anyone are removed." in en.text
    ar = client.get("/api/comment-policy?lang=ar")
    assert "3.2 التهديد بالعنف" in ar.text and "الإصدار 1" in ar.text
    assert client.post("/api/comment-policy").status_code == 405  # read-only


# ---------------------------------------------------------------- moderation through the simulator


async def test_hide_cites_a_clause_the_network_shows_it_hidden_and_the_archive_keeps_it(staff, with_policy, reply_id, profile):
    done = await moderation.request(reply_id, "hide", "3.2", "threatens staff", staff["ana"])
    assert done.status == "done" and done.clause == "3.2" and done.response["state"] == "hidden"
    sim = _sim(profile)
    assert sim.moderation_status(_external(reply_id))["hidden"] is True
    st = moderation.standing(reply_id, staff["vic"])
    assert (st.state, st.clause) == ("hidden", "3.2")
    with session_scope() as s:
        m = s.get(Message, reply_id)
        assert m.deleted_at is None and m.text  # the message itself is untouched
    (v,) = _mod_versions(reply_id)
    assert v["moderation"]["clause"] == "3.2" and v["moderation"]["note"] == "threatens staff"
    assert v["moderation"]["requested_by"] == "Ana Responder" and v["moderation"]["response"]["state"] == "hidden"
    assert v["message"]["text"] == v["_text"] and v["message"]["author_handle"] and v["_sealed"]
    with get_engine().connect() as conn:
        assert chain.verify(conn, "archive").ok
    # unhide works, is recorded, and marks the hide as undone
    back = await moderation.request(reply_id, "unhide", "3.2", "appeal upheld", staff["max"])
    assert back.status == "done"
    assert sim.moderation_status(_external(reply_id))["hidden"] is False
    assert moderation.standing(reply_id, staff["vic"]).state == "visible"
    hist = moderation.history(reply_id, staff["vic"])
    assert [(h.action, h.undone) for h in hist] == [("hide", True), ("unhide", False)]
    assert len(_mod_versions(reply_id)) == 2
    assert {"moderation.request", "moderation.done"} <= set(_audit_actions())


async def test_every_action_needs_a_clause_of_the_current_policy(staff, with_policy, reply_id):
    with pytest.raises(UserError, match="clause"):
        await moderation.request(reply_id, "hide", "", "", staff["ana"])
    with pytest.raises(UserError, match="not in the current comment policy"):
        await moderation.request(reply_id, "hide", "9.9", "", staff["ana"])
    with pytest.raises(PermissionDenied):
        await moderation.request(reply_id, "hide", "3.2", "", staff["vic"])
    with pytest.raises(UserError, match="not hidden"):
        await moderation.request(reply_id, "unhide", "3.2", "", staff["ana"])
    with session_scope() as s:
        assert s.exec(select(ModerationAction)).all() == []


async def test_a_mention_is_not_moderated(staff, with_policy, profile):
    from connectors.base import Author, InboundMessage

    with session_scope() as s:
        (mid,) = ingest.store(s, [InboundMessage("simulator", "m-1", Author("a1", "@a1"), "hello @city",
                                                 datetime.now(timezone.utc), kind="mention")], profile_id=profile).new_ids
    with pytest.raises(UserError, match="comments and replies"):
        await moderation.request(mid, "hide", "3.2", "", staff["ana"])


@pytest.mark.parametrize(("fault", "says"), [("401", "needs reconnecting"), ("403", "needs reconnecting"), ("422", "refused")])
async def test_a_refusal_leaves_the_record_as_it_was_with_a_clear_message(staff, with_policy, reply_id, profile, fault, says):
    _sim(profile).server.inject_faults([fault])
    out = await moderation.request(reply_id, "hide", "3.2", "", staff["ana"])
    assert out.status == "failed" and says in out.error
    assert moderation.standing(reply_id, staff["vic"]).state == "visible"
    assert _sim(profile).moderation_status(_external(reply_id))["hidden"] is False
    (v,) = _mod_versions(reply_id)  # the refusal is on the record too
    assert v["moderation"]["status"] == "failed"
    if fault == "401":
        with session_scope() as s:
            assert s.get(SocialProfile, profile).status == "needs_reconnect"


async def test_a_comment_gone_from_the_network_is_a_clear_failure(staff, with_policy, reply_id, profile):
    with session_scope() as s:
        s.get(Message, reply_id).external_id = "nope-no-such-comment"
    out = await moderation.request(reply_id, "hide", "3.2", "", staff["ana"])
    assert out.status == "failed" and "gone" in out.error


async def test_a_busy_network_is_retried_by_the_job(staff, with_policy, reply_id, profile):
    _sim(profile).server.inject_faults(["503"])
    out = await moderation.request(reply_id, "hide", "3.2", "", staff["ana"])
    assert out.status == "retrying" and moderation.standing(reply_id, staff["vic"]).state == "visible"
    assert await moderation.process_pending() == {}  # not due yet
    counts = await moderation.process_pending(now=datetime.now(timezone.utc) + timedelta(hours=2))
    assert counts == {"done": 1}
    assert moderation.standing(reply_id, staff["vic"]).state == "hidden"
    assert _sim(profile).moderation_status(_external(reply_id))["hidden"] is True


async def test_an_ambiguous_outcome_is_reconciled_not_repeated(staff, with_policy, reply_id, profile):
    sim = _sim(profile)
    sim.server.inject_faults(["timeout-after"])  # the network acts, then the answer is lost
    out = await moderation.request(reply_id, "report", "3.2", "threat", staff["ana"])
    assert out.status == "unknown"
    counts = await moderation.process_pending()
    assert counts == {"done": 1}  # the network shows the report: settled without filing a second one
    with session_scope() as s:
        a = s.exec(select(ModerationAction)).one()
        assert a.attempts == 2 and a.status == "done"
    assert moderation.standing(reply_id, staff["vic"]).author_state == "reported"


async def test_a_sender_that_died_is_recovered_as_unknown_then_settled(staff, with_policy, reply_id, profile):
    with session_scope() as s:
        a = ModerationAction(message_id=reply_id, network="simulator", action="hide", clause="3.2", status="sending",
                             requested_by=staff["ana"].user_id, claimed_at=datetime.now(timezone.utc) - timedelta(minutes=10))
        s.add(a)
    counts = await moderation.process_pending()
    assert counts == {"done": 1}
    assert _sim(profile).moderation_status(_external(reply_id))["hidden"] is True


async def test_delete_and_block_wait_for_a_second_person_when_the_setting_says_so(staff, with_policy, reply_id, profile):
    with pytest.raises(PermissionDenied):
        moderation.set_second_person_required(True, staff["max"])
    moderation.set_second_person_required(True, staff["ada"])
    asked = await moderation.request(reply_id, "delete", "3.4", "doxxing", staff["ana"])
    assert asked.status == "awaiting_confirmation"
    assert _sim(profile).moderation_status(_external(reply_id))["deleted"] is False
    with pytest.raises(PermissionDenied):
        await moderation.confirm(asked.id, staff["ana"])  # a responder cannot confirm
    own = await moderation.request(reply_id, "block", "3.4", "", staff["ada"])
    # The opened comment shows both requests waiting, newest first, with who asked; nothing changed yet.
    waiting = moderation.standing(reply_id, staff["vic"])
    assert [(v.action, v.status, v.requested_by, v.confirmed_by) for v in waiting.pending] == [
        ("block", "awaiting_confirmation", "Ada Admin", ""), ("delete", "awaiting_confirmation", "Ana Responder", "")]
    assert (waiting.state, waiting.author_state, waiting.last.id) == ("visible", "", own.id)
    with pytest.raises(UserError, match="second person"):
        await moderation.confirm(own.id, staff["ada"])  # not the person who asked
    declined = await moderation.decline(own.id, staff["max"])
    assert declined.status == "declined"
    done = await moderation.confirm(asked.id, staff["max"])
    assert done.status == "done" and done.confirmed_by == "Max Manager"
    assert _sim(profile).moderation_status(_external(reply_id))["deleted"] is True
    after = moderation.standing(reply_id, staff["vic"])
    assert after.state == "deleted" and after.pending == [] and after.last == moderation.history(reply_id, staff["vic"])[-1]
    assert (after.last.action, after.last.status, after.last.confirmed_by) == ("block", "declined", "Max Manager")  # the newest
    assert moderation.standing(10**9, staff["vic"]) == moderation.Standing("visible", "", "", [], None)
    with session_scope() as s:
        assert s.get(Message, reply_id).deleted_at is None  # gone from the network, kept here
    # hide (no confirmation needed) stays immediate even with the setting on
    opts = {o.action: o for o in moderation.options("simulator")}
    assert opts["delete"].needs_second and opts["block"].needs_second and not opts["hide"].needs_second


async def test_moderation_actions_are_a_record_type_with_retention(staff, with_policy, reply_id):
    await moderation.request(reply_id, "hide", "3.2", "", staff["ana"])
    assert "moderation_action" in retention.RECORD_TYPES
    retention.set_schedule("moderation_action", 1, False, staff["rita"])
    later = datetime.now(timezone.utc) + timedelta(days=800)
    pid = retention.propose(staff["rita"], now=later)
    cert = retention.certificate(retention.approve(pid, staff["rita"]), staff["rita"])
    assert [e["type"] for e in cert["entries"]] == ["moderation_action"]
    with session_scope() as s:
        assert s.exec(select(ModerationAction)).all() == []
        assert s.get(MessageModeration, reply_id).action_id is None
    assert _mod_versions(reply_id)  # the archive version stays with its message


async def test_mastodon_hide_is_recorded_as_hidden_in_govsocial_only(staff, with_policy, db):
    from connectors.base import Author, InboundMessage

    with session_scope() as s:
        (mid,) = ingest.store(s, [InboundMessage("mastodon", "110000000000000001", Author("109", "@angry@other.example"),
                                                 "a threat", datetime.now(timezone.utc), kind="reply",
                                                 in_reply_to_id="109999")], profile_id=None).new_ids
    opts = {o.action: o for o in moderation.options("mastodon")}
    assert opts["hide"].mode == "in_app" and "GovSocial only" in opts["hide"].reason and opts["delete"].mode == "none"
    with pytest.raises(UserError, match="delete other people's posts"):
        await moderation.request(mid, "delete", "3.2", "", staff["ana"])
    done = await moderation.request(mid, "hide", "3.2", "", staff["ana"])
    assert done.status == "done" and done.mode == "in_app" and done.response["answer"]["network_unchanged"] is True
    assert moderation.standing(mid, staff["vic"]).state == "hidden_in_app"
    back = await moderation.request(mid, "unhide", "3.2", "", staff["ana"])
    assert back.status == "done" and moderation.standing(mid, staff["vic"]).state == "visible"


def test_the_moderation_job_is_scheduled(db):
    from jobs.scheduler import build_scheduler

    job = build_scheduler("test").get_job("moderation-settle")
    assert job is not None and job.trigger.interval.total_seconds() == 10
