"""Legal holds, retention schedules and disposal: a hold blocks disposal (also through the CLI), nothing is destroyed
without an officer's approval, and the certificate lists exactly what was removed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import select

from govsocial_app import cli
from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import AuditLog, DisposalProposal, Message, MessageVersion
from govsocial_app.services.authz import Actor, PermissionDenied
from govsocial_app.services.errors import UserError
from govsocial_app.services.records import access, canonical, chain, holds, retention
from tests.records.conftest import ingest_messages, make_profile

OLD = datetime(2015, 3, 1, 12, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)


def _message_ids() -> set[int]:
    with session_scope() as s:
        return set(s.exec(select(Message.id)).all())


def _verify_ok() -> None:
    with get_engine().connect() as conn:
        for name in chain.CHAINS:
            res = chain.verify(conn, name)
            assert res.ok, res.problems


@pytest.mark.parametrize("role", ["manager", "publisher", "responder", "viewer"])
def test_other_roles_are_refused_every_records_action(actor_factory, role):
    someone = actor_factory(role)
    with pytest.raises(PermissionDenied):
        holds.place("Smith v. City", holds.HoldScope(authors=["x"]), someone)
    with pytest.raises(PermissionDenied):
        retention.set_schedule("inbound_message", 3, True, someone)
    with pytest.raises(PermissionDenied):
        retention.propose(someone)
    with pytest.raises(PermissionDenied):
        holds.list_holds(someone)


def test_admin_needs_the_grant(actor_factory):
    admin, other_admin = actor_factory("admin"), actor_factory("admin", "Other Admin")
    with pytest.raises(PermissionDenied):
        holds.list_holds(admin)
    access.set_grant(admin.user_id, True, other_admin)
    assert holds.list_holds(admin) == []
    access.set_grant(admin.user_id, False, other_admin)
    with pytest.raises(PermissionDenied):
        holds.list_holds(admin)
    with pytest.raises(UserError):
        access.set_grant(actor_factory("viewer").user_id, True, other_admin)


def test_holds_are_listed_audited_and_released_explicitly(officer):
    hid = holds.place("Smith v. City", holds.HoldScope(authors=["@Troll"]), officer, reason="litigation expected")
    [h] = holds.list_holds(officer)
    assert h.matter == "Smith v. City" and h.scope["authors"] == ["@Troll"] and h.released_at is None
    with pytest.raises(UserError):
        holds.release(hid, officer, "")
    holds.release(hid, officer, "case settled")
    assert holds.list_holds(officer)[0].released_at is not None
    with pytest.raises(UserError):
        holds.release(hid, officer, "again")
    with pytest.raises(UserError):
        holds.place("", holds.HoldScope(authors=["x"]), officer)
    with pytest.raises(UserError):
        holds.place("Empty", holds.HoldScope(), officer)
    with session_scope() as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.object_type == "legal_hold")).all()]
    assert actions == ["records.hold_place", "records.hold_release"]


def test_cutoff_after_calendar_year_end():
    assert retention.cutoff(3, True, NOW) == datetime(2023, 1, 1, tzinfo=timezone.utc)
    assert retention.cutoff(3, False, NOW) == datetime(2023, 12, 3, 12, tzinfo=timezone.utc)


def test_hold_blocks_disposal_and_certificate_lists_exactly_what_was_removed(any_db, officer):
    pid = make_profile()
    kept_by_hold = ingest_messages(2, author="troll", created=OLD, prefix="h", profile_id=pid)
    disposable = ingest_messages(3, author="citizen", created=OLD, prefix="d", profile_id=pid)
    recent = ingest_messages(2, author="citizen", created=datetime(2026, 6, 1, tzinfo=timezone.utc), prefix="r")
    holds.place("Smith v. City", holds.HoldScope(authors=["troll"]), officer)
    retention.set_schedule("inbound_message", 7, True, officer)

    with session_scope() as s:
        forms = retention._message_forms(s, disposable)
    expected = {i: canonical.sha256(forms[i][1]) for i in disposable}

    proposal = retention.propose(officer, now=NOW)
    with session_scope() as s:
        items = s.get(DisposalProposal, proposal).items
    assert sorted(i["id"] for i in items) == sorted(disposable)  # held and recent ones are not proposed
    assert _message_ids() >= set(disposable)  # proposing destroys nothing

    cert_id = retention.approve(proposal, officer)
    cert = retention.certificate(cert_id, officer)
    assert {(e["type"], e["id"], e["sha256"]) for e in cert["entries"]} == {("inbound_message", i, expected[i]) for i in disposable}
    assert all(e["dated"].startswith("2015-03-01") for e in cert["entries"])
    remaining = _message_ids()
    assert not remaining & set(disposable)
    assert remaining >= set(kept_by_hold) | set(recent)
    with session_scope() as s:
        assert not s.exec(select(MessageVersion).where(MessageVersion.message_id.in_(disposable))).all()
        disposal_audit = s.exec(select(AuditLog).where(AuditLog.action == "records.dispose")).one()
    assert disposal_audit.detail["certificate_sha256"] == cert["certificate_sha256"] and disposal_audit.detail["count"] == 3
    _verify_ok()  # the archive chain is followed through the certified gap


def test_a_hold_placed_after_the_proposal_still_blocks_disposal(officer):
    ids = ingest_messages(2, author="late", created=OLD, prefix="l")
    retention.set_schedule("inbound_message", 7, False, officer)
    proposal = retention.propose(officer, now=NOW)
    holds.place("Late matter", holds.HoldScope(since=datetime(2015, 1, 1, tzinfo=timezone.utc), until=datetime(2016, 1, 1, tzinfo=timezone.utc)), officer)
    cert = retention.certificate(retention.approve(proposal, officer), officer)
    assert cert["entries"] == []
    assert _message_ids() >= set(ids)


def test_nothing_is_destroyed_without_approval_even_through_the_cli(officer, capsys):
    ids = ingest_messages(2, created=OLD, prefix="c")
    retention.set_schedule("inbound_message", 1, True, officer)
    proposal = retention.propose(officer, now=NOW)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["dispose", "--proposal", str(proposal)])
    assert exit_.value.code == 2 and "approval" in capsys.readouterr().err
    assert _message_ids() >= set(ids)
    with pytest.raises(UserError):
        retention.approve(proposal, Actor.system("a script"))  # a job or script cannot approve
    assert _message_ids() >= set(ids)
    retention.reject(proposal, officer)
    with pytest.raises(UserError):
        retention.approve(proposal, officer)
    assert _message_ids() >= set(ids)


def test_cli_cannot_dispose_of_a_held_record(officer, capsys):
    """An approved proposal carried out by the CLI later still re-checks holds inside its transaction."""
    ids = ingest_messages(2, author="heldcli", created=OLD, prefix="k")
    retention.set_schedule("inbound_message", 1, True, officer)
    proposal = retention.propose(officer, now=NOW)
    with session_scope() as s:  # approved, and not yet carried out (as if the process stopped in between)
        p = s.get(DisposalProposal, proposal)
        p.status, p.approved_by = "approved", officer.user_id
    holds.place("CLI matter", holds.HoldScope(authors=["heldcli"]), officer)
    cli.main(["dispose", "--proposal", str(proposal)])
    assert "Disposed of 0 record(s)" in capsys.readouterr().out
    assert _message_ids() >= set(ids)


def test_audit_log_disposal_passes_the_trigger_and_verify(any_db, officer):
    with session_scope() as s:
        from govsocial_app.services import audit

        for i in range(3):
            audit.record(s, Actor.system(), "old.event", "t", i)
        s.flush()
        s.exec(select(AuditLog)).all()
    # Date the first rows in the past (as a superuser would see them) is not possible on an append-only table, so
    # the schedule's cutoff is put in the future instead: every row so far is due.
    retention.set_schedule("audit_log", 1, False, officer)
    proposal = retention.propose(officer, now=datetime(2099, 1, 1, tzinfo=timezone.utc))
    cert = retention.certificate(retention.approve(proposal, officer), officer)
    assert len(cert["entries"]) >= 3
    with session_scope() as s:
        left = s.exec(select(AuditLog.action)).all()
    assert "old.event" not in left and "records.dispose" in left
    _verify_ok()


def test_saved_search_hold(officer):
    from govsocial_app.db.models import SavedView

    ids_kw = ingest_messages(2, created=OLD, prefix="s", text="water main {i}")
    others = ingest_messages(2, created=OLD, prefix="o", text="parks {i}")
    with session_scope() as s:
        v = SavedView(user_id=officer.user_id, name="water", query="q=water")
        s.add(v)
        s.flush()
        vid = v.id
    holds.place("Water matter", holds.HoldScope(saved_view_id=vid), officer)
    retention.set_schedule("inbound_message", 1, True, officer)
    with session_scope() as s:
        items = s.get(DisposalProposal, retention.propose(officer, now=NOW)).items
    assert sorted(i["id"] for i in items) == sorted(others)
    assert not set(ids_kw) & {i["id"] for i in items}


def test_officer_fixture_follows_the_database(any_db, officer):
    from govsocial_app.db.engine import dialect

    assert dialect() == ("sqlite" if any_db.startswith("sqlite") else "postgresql")


def test_the_disposal_job_only_proposes(officer):
    import asyncio

    from jobs import records as records_jobs
    from jobs.scheduler import build_scheduler

    ids = ingest_messages(2, created=OLD, prefix="j")
    retention.set_schedule("inbound_message", 1, True, officer)
    asyncio.run(records_jobs.propose_disposal())
    with session_scope() as s:
        [p] = s.exec(select(DisposalProposal)).all()
    assert p.status == "proposed" and sorted(i["id"] for i in p.items) == sorted(ids)
    assert _message_ids() >= set(ids)
    assert build_scheduler("test").get_job("records-disposal-proposal") is not None
