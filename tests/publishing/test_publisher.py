"""The publishing job: never twice under concurrent workers (SQLite and PostgreSQL), retries, failures, crash recovery."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from connectors.base import PublishResult
from govsocial_app import config
from govsocial_app.services.publishing import actions, composer, sender, views
from govsocial_app.services.publishing.composer import ComposerInput
from tests.publishing.conftest import make_profile, simulator_for


def _targets():
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import PostTarget

    with session_scope() as s:
        return s.exec(select(PostTarget).order_by(PostTarget.id)).all()


def _seed(author, profile_ids, n):
    return [composer.save(author, ComposerInput(text=f"Notice {i}", profile_ids=profile_ids), action="now").post_id for i in range(n)]


def _run_workers(n_workers: int) -> None:
    errors = []

    def work():
        try:
            for _ in range(200):
                stats = asyncio.run(sender.run_once(max_seconds=30, batch=8, concurrency=4))
                if stats.claimed == 0:
                    return
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def _assert_exactly_once(profile_ids, expected):
    calls = [r for pid in profile_ids for r in simulator_for(pid).received_log()]
    per_key = Counter(r["idempotency_key"] for r in calls)
    created = Counter(r["idempotency_key"] for r in calls if r["outcome"].startswith("created"))
    assert len(created) == expected and set(created.values()) == {1}
    # Stronger than "no duplicates on the network": no two workers even tried the same target.
    assert set(per_key.values()) == {1}
    targets = _targets()
    assert {t.status for t in targets} == {"published"} and {t.attempts for t in targets} == {1}


def test_concurrent_workers_never_publish_twice_sqlite(db, tmp_path, actor_factory):
    pids = [make_profile(tmp_path), make_profile(tmp_path)]
    _seed(actor_factory("publisher"), pids, 60)
    _run_workers(4)
    _assert_exactly_once(pids, 120)


def test_concurrent_workers_never_publish_twice_postgresql(pg_db, tmp_path, actor_factory):
    pids = [make_profile(tmp_path), make_profile(tmp_path)]
    _seed(actor_factory("publisher"), pids, 60)
    _run_workers(4)
    _assert_exactly_once(pids, 120)


def test_post_status_follows_its_targets(db, tmp_path, actor_factory):
    pids = [make_profile(tmp_path), make_profile(tmp_path)]
    [post_id] = _seed(actor_factory("publisher"), pids, 1)
    asyncio.run(sender.run_once())
    view = views.post_view(post_id)
    assert view.status == "published" and all(t.external_url.startswith("https://simulator.govsocial.invalid/") for t in view.targets)


def test_transient_failures_retry_with_backoff_then_publish(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    [post_id] = _seed(actor_factory("publisher"), [pid], 1)
    simulator_for(pid).inject_faults(["503", "timeout"])
    first = asyncio.run(sender.run_once())
    assert first.outcomes == {"retry": 1}
    [t] = _targets()
    assert t.status == "due" and t.attempts == 1 and "503" in t.error
    assert t.next_attempt_at > datetime.now(timezone.utc) + timedelta(seconds=3)
    assert sender.claim_due() == []  # not before its backoff
    later = datetime.now(timezone.utc) + timedelta(seconds=6)
    [c] = sender.claim_due(now=later)
    assert asyncio.run(sender.send(c, simulator_for(pid))) == "retry"
    [c] = sender.claim_due(now=later + timedelta(seconds=16))
    assert asyncio.run(sender.send(c, simulator_for(pid))) == "published"
    assert views.post_view(post_id).status == "published"


def test_response_lost_after_the_network_acted_does_not_duplicate(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    _seed(actor_factory("publisher"), [pid], 1)
    simulator_for(pid).inject_faults(["timeout-after"])
    assert asyncio.run(sender.run_once()).outcomes == {"unknown": 1}
    assert _targets()[0].status == "unknown"
    [c] = sender.claim_due(now=datetime.now(timezone.utc) + timedelta(seconds=10))
    assert c.reconcile
    assert asyncio.run(sender.send(c, simulator_for(pid))) == "published"
    log = simulator_for(pid).received_log()
    # Reconciled by reading the network, not by resending under the key.
    assert [r["outcome"].split(";")[0] for r in log] == ["created"]
    assert _targets()[0].external_id == log[0]["external_id"]


def test_permanent_failure_keeps_the_networks_message_and_tells_the_author(db, tmp_path, actor_factory):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Alert

    pid = make_profile(tmp_path)
    author = actor_factory("publisher")
    [post_id] = _seed(author, [pid], 1)
    simulator_for(pid).inject_faults(["422"])
    assert asyncio.run(sender.run_once()).outcomes == {"failed": 1}
    [t] = _targets()
    assert t.status == "failed" and "422" in t.error
    assert views.post_view(post_id).status == "failed"
    with session_scope() as s:
        [alert] = s.exec(select(Alert).where(Alert.kind == "publish")).all()
    assert alert.data["user_ids"] == [author.user_id] and alert.title.startswith("Your post could not be published on @")
    assert [p.id for p in views.needs_attention()] == [post_id]
    assert actions.retry_failed(author, post_id) == 1
    assert asyncio.run(sender.run_once()).outcomes == {"published": 1}


def test_giving_up_after_repeated_transient_failures(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    _seed(actor_factory("publisher"), [pid], 1)
    simulator_for(pid).inject_faults(["500"] * sender.MAX_ATTEMPTS)
    t0 = datetime.now(timezone.utc)
    outcomes = []
    for i in range(sender.MAX_ATTEMPTS):
        [c] = sender.claim_due(now=t0 + timedelta(hours=i))
        outcomes.append(asyncio.run(sender.send(c, simulator_for(pid))))
    assert outcomes == ["retry"] * (sender.MAX_ATTEMPTS - 1) + ["failed"]
    assert _targets()[0].error.startswith(f"Gave up after {sender.MAX_ATTEMPTS} attempts")


def test_a_crash_after_the_network_accepted_is_recovered_without_a_duplicate(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    _seed(actor_factory("publisher"), [pid], 3)
    claims = sender.claim_due()
    sim = simulator_for(pid)
    from connectors.base import OutboundPost

    # The network accepts the first two, then the process dies before recording anything.
    for c in claims[:2]:
        asyncio.run(sim.publish(OutboundPost(text=c.text, idempotency_key=c.idempotency_key)))
    assert sender.claim_due() == []  # still claimed by the dead process
    assert sender.recover_stale(older_than_s=3600) == 0  # not stale yet
    assert sender.recover_stale(older_than_s=0) == 3
    asyncio.run(sender.run_once())
    created = Counter(r["idempotency_key"] for r in sim.received_log() if r["outcome"] == "created")
    assert len(created) == 3 and set(created.values()) == {1}
    assert {t.status for t in _targets()} == {"published"}


def test_a_late_success_from_a_claim_taken_back_still_records_once(db, tmp_path, actor_factory):
    pid = make_profile(tmp_path)
    _seed(actor_factory("publisher"), [pid], 1)
    [old] = sender.claim_due()
    sender.recover_stale(older_than_s=0)
    [new] = sender.claim_due()
    assert new.idempotency_key == old.idempotency_key and new.token != old.token
    result = PublishResult("sim-1", "https://x/1")
    assert sender.record_success(old, result) is False  # the newer claim owns it
    assert sender.record_success(new, result) is True
    assert sender.record_failure(new, RuntimeError("late")) == "lost"


def test_a_profile_that_cannot_connect_fails_its_posts_not_the_job(db, tmp_path, actor_factory):
    bad = make_profile(tmp_path, status="disconnected")
    good = make_profile(tmp_path)
    _seed(actor_factory("publisher"), [bad, good], 1)
    stats = asyncio.run(sender.run_once())
    assert stats.outcomes == {"published": 1, "failed": 1}
    failed = [t for t in _targets() if t.status == "failed"]
    assert failed[0].profile_id == bad and "disconnected" in failed[0].error


def test_a_post_whose_outcome_is_unknown_cannot_be_edited(db, tmp_path, actor_factory):
    """Editing the text of a post that may already be on the network would make reconciliation miss it."""
    import pytest

    from govsocial_app.services.errors import UserError

    pid = make_profile(tmp_path)
    author = actor_factory("publisher")
    [post_id] = _seed(author, [pid], 1)
    simulator_for(pid).inject_faults(["timeout-after"])
    assert asyncio.run(sender.run_once()).outcomes == {"unknown": 1}
    with pytest.raises(UserError, match="being published"):
        composer.save(author, ComposerInput(text="Changed words", profile_ids=[pid]), action="now", post_id=post_id)


def test_reconciling_that_keeps_failing_ends_in_check_and_tells_the_author(db, tmp_path, actor_factory):
    from connectors.base import TransientError

    pid = make_profile(tmp_path)
    _seed(actor_factory("publisher"), [pid], 1)
    simulator_for(pid).inject_faults(["timeout-after"])
    assert asyncio.run(sender.run_once()).outcomes == {"unknown": 1}

    class Blind:
        network = "simulator"

        async def find_published(self, post, since):
            raise TransientError("cannot list our posts right now")

        async def publish(self, post):  # pragma: no cover - must never be called
            raise AssertionError("a post with an unknown outcome was resent blind")

    t0 = datetime.now(timezone.utc)
    outcomes = []
    for i in range(sender.MAX_ATTEMPTS - 1):
        [c] = sender.claim_due(now=t0 + timedelta(hours=i + 1))
        assert c.reconcile
        outcomes.append(asyncio.run(sender.send(c, Blind())))
    assert outcomes[-1] == "check" and set(outcomes[:-1]) == {"unknown"}
    assert sender.claim_due(now=t0 + timedelta(days=1)) == []  # a person must look now
    [t] = _targets()
    assert t.status == "check" and "check the profile" in t.error
    assert len([r for r in simulator_for(pid).received_log() if r["outcome"].startswith("created")]) == 1
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Alert

    with session_scope() as s:
        titles = [a.title for a in s.exec(select(Alert).where(Alert.kind == "publish")).all()]
    assert any("could not confirm" in t for t in titles)


def test_fail_over_startup_recovery_leaves_the_old_leaders_sends_alone(db, tmp_path, actor_factory):
    """Issue 13: a new jobs leader recovered claims with a zero threshold while the old leader's sends still ran,
    and resent them. Startup recovery now waits for staleness, and what it recovers is reconciled first."""
    from jobs import publishing as jobs_publishing

    jobs_added = {}

    class Recorder:
        def add_job(self, func, trigger, **kwargs):
            jobs_added[kwargs["id"]] = kwargs

    jobs_publishing.register(Recorder())
    assert not jobs_added["publish-recover-startup"].get("args")  # the default, stale, threshold

    pid = make_profile(tmp_path)
    _seed(actor_factory("publisher"), [pid], 1)
    [in_flight] = sender.claim_due()  # the old leader is sending this one right now
    asyncio.run(jobs_publishing.recover_stale())
    assert [t.status for t in _targets()] == ["claimed"]
    # Once it is really stale, it is recovered as "unknown", never "due": the next claim reconciles first.
    later = datetime.now(timezone.utc) + timedelta(seconds=config.stale_after_s() + 1)
    assert sender.recover_stale(now=later) == 1
    assert [t.status for t in _targets()] == ["unknown"]
    assert config.stale_after_s() > 2 * sender.CALL_TIMEOUT_S
