"""Twin posts per network: the admins' setting (one combined post, or one post per language), counters per mode,
separate posts sent one per language and never twice (the simulator's injected faults), pause, expiry and the
accessibility gate stopping every version, and one approval bound to every language's text and to the mode."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text as sql
from sqlmodel import select

from connectors import textcount
from connectors.registry import limits_for
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, Post, PostEmergency, PostTarget
from govsocial_app.i18n import translate
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.cap import emergency
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing import approval_content, approvals, pause, sender
from govsocial_app.services.publishing.composer import ComposerInput
from govsocial_app.services.publishing.views import body_for
from tests.publishing.conftest import make_profile, simulator_for
from tests.publishing.test_approval_content import _decide, _governed, _make_actor, _people

SIM = "simulator"
EN = "Flood warning for the River District until 6 pm. Move to higher ground now."
AR = "تحذير من الفيضانات في منطقة النهر حتى الساعة 6 مساءً. انتقلوا إلى مكان مرتفع الآن."
LINK = "https://riverton.gov/flood"
LONG_EN = EN + " Avoid the bridges on Elm Street and Oak Avenue: they may close without notice. Check on your neighbours."


def _targets(post_id: int) -> list[PostTarget]:
    with session_scope() as s:
        return list(s.exec(select(PostTarget).where(PostTarget.post_id == post_id, PostTarget.status != "cancelled")
                           .order_by(PostTarget.id)))


def _created(pid: int) -> list[dict]:
    return [r for r in simulator_for(pid).received_log() if r["outcome"].startswith("created")]


def _save(actor, pid: int, second: str = AR, **kw):
    return emergency.save(actor, ComposerInput(text=EN, link=LINK, profile_ids=[pid]), action=kw.pop("action", "now"),
                          second_text=second, **kw)


# ---------------------------------------------------------------- the setting


def test_defaults_split_where_the_limit_is_small_and_only_admins_change_them_audited(actor_factory):
    modes = emergency.twin_modes()
    assert modes["x"] == modes["bluesky"] == emergency.SEPARATE
    assert modes["mastodon"] == modes["facebook"] == modes["instagram"] == modes[SIM] == emergency.COMBINED
    admin = actor_factory("admin")
    with pytest.raises(PermissionDenied):
        emergency.set_twin_mode(actor_factory("publisher"), SIM, emergency.SEPARATE)
    with pytest.raises(UserError, match="Unknown network"):
        emergency.set_twin_mode(admin, "myspace", emergency.SEPARATE)
    with pytest.raises(UserError, match="combined post or separate"):
        emergency.set_twin_mode(admin, SIM, "both")
    emergency.set_twin_mode(admin, "x", emergency.COMBINED)
    emergency.set_twin_mode(admin, SIM, emergency.SEPARATE)
    modes = emergency.twin_modes()
    assert (modes["x"], modes[SIM], modes["bluesky"]) == (emergency.COMBINED, emergency.SEPARATE, emergency.SEPARATE)
    with session_scope() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.action == "cap.twin.mode").order_by(AuditLog.id)).all()
    assert [(r.detail["network"], r.detail["mode"], r.detail["before"]) for r in rows] == [
        ("x", "combined", "separate"), (SIM, "separate", "combined")]
    assert translate("One combined post", "ar") != "One combined post"


# ---------------------------------------------------------------- what each mode makes, and its counters


def test_separate_mode_gives_each_language_the_whole_limit_and_combined_shares_it():
    modes = {"x": emergency.SEPARATE, "mastodon": emergency.COMBINED}
    out = emergency.twin_input(ComposerInput(text=LONG_EN, link=LINK), ["x", "mastodon"], AR, modes)
    assert out.twin["x"] == {"en": LONG_EN, "ar": AR}  # each whole: both fit 280 on their own
    assert set(out.twin["mastodon"]) == {"en+ar"} and LONG_EN in out.twin["mastodon"]["en+ar"] and AR in out.twin["mastodon"]["en+ar"]
    # On X, one combined post would have cut the English to fit both.
    assert LONG_EN not in emergency.fitted_combined(LONG_EN, AR, LINK, "x")

    x = {c.language: c for c in emergency.language_counts({"en": LONG_EN, "ar": AR}, LINK, ["x"], modes)}
    limits = limits_for("x")
    assert x["en"].limit == x["ar"].limit == 280 and x["en"].mode == x["ar"].mode == emergency.SEPARATE
    assert x["en"].used == textcount.count(body_for(LONG_EN, LINK), limits) and not x["en"].over and not x["ar"].over
    assert x["ar"].direction == "rtl" and x["ar"].preview == body_for(AR, LINK) and x["en"].direction == "ltr"

    shared = {c.language: c for c in emergency.language_counts({"en": LONG_EN, "ar": AR}, LINK, ["x"], {"x": emergency.COMBINED})}
    total = textcount.count(body_for(emergency.combined(LONG_EN, AR), LINK), limits)
    assert total > 280 and shared["en"].over and shared["ar"].over
    for lang in ("en", "ar"):  # a language's limit is what the rest of the one post leaves it
        assert shared[lang].limit == 280 - (total - shared[lang].used)
    assert shared["ar"].preview and shared["ar"].preview in emergency.fitted_combined(LONG_EN, AR, LINK, "x")


def test_separate_mode_cuts_each_language_on_its_own_to_the_networks_limit():
    long_ar = " ".join([AR] * 6)
    out = emergency.twin_input(ComposerInput(text=EN, link=LINK), ["x"], long_ar, {"x": emergency.SEPARATE})
    assert out.twin["x"]["en"] == EN
    ar = out.twin["x"]["ar"]
    assert ar != long_ar and long_ar.startswith(ar.rstrip("…"))
    assert textcount.count(body_for(ar, LINK), limits_for("x")) <= 280


# ---------------------------------------------------------------- sending


def test_separate_mode_publishes_one_post_per_language_each_once(actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    emergency.set_twin_mode(admin, SIM, emergency.SEPARATE)
    r = _save(admin, pid)
    targets = _targets(r.post_id)
    assert [t.language for t in targets] == ["en", "ar"] and len({t.idempotency_key for t in targets}) == 2
    assert asyncio.run(sender.run_once(max_seconds=10)).outcomes == {"published": 2}
    texts = sorted(r["text"] for r in _created(pid))
    assert len(texts) == 2
    assert any(EN in t and AR not in t for t in texts) and any(AR in t and EN not in t for t in texts)
    assert asyncio.run(sender.run_once(max_seconds=5)).claimed == 0
    assert len(_created(pid)) == 2
    with session_scope() as s:
        assert s.get(Post, r.post_id).status == "published"
    assert {t.status for t in _targets(r.post_id)} == {"published"} and len({t.external_id for t in _targets(r.post_id)}) == 2


def test_an_ambiguous_failure_on_one_language_is_reconciled_never_resent(actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    emergency.set_twin_mode(admin, SIM, emergency.SEPARATE)
    r = _save(admin, pid)
    simulator_for(pid).inject_faults(["timeout-after"])  # the network takes the post, then the answer is lost
    assert asyncio.run(sender.run_once(max_seconds=10)).outcomes == {"unknown": 1, "published": 1}
    unknown = [t for t in _targets(r.post_id) if t.status == "unknown"]
    assert len(unknown) == 1
    with session_scope() as s:
        assert s.get(Post, r.post_id).status == "publishing"
    [c] = sender.claim_due(now=datetime.now(timezone.utc) + timedelta(seconds=10))
    assert c.reconcile and c.language == unknown[0].language and c.target_id == unknown[0].id
    assert asyncio.run(sender.send(c, simulator_for(pid))) == "published"
    log = simulator_for(pid).received_log()
    # Two posts on the network, one per language, each created once; the lost one was found by reading, not resent.
    assert sorted(r["outcome"].split(";")[0] for r in log) == ["created", "created"]
    assert len({r["idempotency_key"] for r in log}) == 2
    done = {t.language: t for t in _targets(r.post_id)}
    assert {t.status for t in done.values()} == {"published"}
    assert done[unknown[0].language].external_id in {r["external_id"] for r in log}
    with session_scope() as s:
        assert s.get(Post, r.post_id).status == "published"


def test_an_unknown_language_post_that_cannot_be_confirmed_ends_in_check_and_the_other_is_not_held(actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    emergency.set_twin_mode(admin, SIM, emergency.SEPARATE)
    r = _save(admin, pid)
    simulator_for(pid).inject_faults(["timeout-after"])
    asyncio.run(sender.run_once(max_seconds=10))

    class Blind:
        network = SIM

        async def find_published(self, post, since):
            raise TimeoutError("the network does not answer")

        async def publish(self, post):  # pragma: no cover - must never be reached
            raise AssertionError("a post with an unknown outcome was resent blind")

    outcomes = []
    for n in range(sender.MAX_ATTEMPTS + 1):
        claims = sender.claim_due(now=datetime.now(timezone.utc) + timedelta(hours=n + 1))
        if not claims:
            break
        outcomes += [asyncio.run(sender.send(c, Blind())) for c in claims]
    assert outcomes[-1] == "check" and set(outcomes[:-1]) == {"unknown"}
    statuses = sorted(t.status for t in _targets(r.post_id))
    assert statuses == ["check", "published"] and len(_created(pid)) == 2


def test_combined_mode_is_unchanged_one_post_carrying_both(actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    r = _save(admin, pid)
    [t] = _targets(r.post_id)
    assert t.language == "en+ar" and EN in t.text_override and AR in t.text_override
    assert asyncio.run(sender.run_once(max_seconds=10)).outcomes == {"published": 1}
    [sent] = _created(pid)
    assert EN in sent["text"] and AR in sent["text"]


def test_pause_all_stops_every_language_until_resumed(actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    emergency.set_twin_mode(admin, SIM, emergency.SEPARATE)
    r = _save(admin, pid)
    pause.pause(admin, "Checking the warning")
    assert asyncio.run(sender.run_once(max_seconds=5)).claimed == 0
    assert _created(pid) == [] and {t.status for t in _targets(r.post_id)} == {"due"}
    pause.resume(admin, bulk=pause.Choice("publish_now"))
    asyncio.run(sender.run_once(max_seconds=10))
    assert len(_created(pid)) == 2


def test_the_alerts_expiry_stops_every_language(actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    emergency.set_twin_mode(admin, SIM, emergency.SEPARATE)
    r = _save(admin, pid)
    with session_scope() as s:
        em = s.exec(select(PostEmergency).where(PostEmergency.post_id == r.post_id)).one()
        em.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert asyncio.run(sender.run_once(max_seconds=10)).outcomes == {"failed": 2}
    assert all("expired" in t.error for t in _targets(r.post_id)) and _created(pid) == []


def test_the_accessibility_gate_checks_each_version_and_stops_them_all(actor_factory, tmp_path):
    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    emergency.set_twin_mode(admin, SIM, emergency.SEPARATE)
    r = _save(admin, pid, second="الطرق مغلقة. اضغط هنا: https://riverton.gov/roads")  # "click here": bad link text, in Arabic only
    emergency.set_blocking_items(admin, ["link_text"])
    assert asyncio.run(sender.run_once(max_seconds=10)).outcomes == {"failed": 2}
    assert all(t.error.startswith("Not sent: the accessibility check") for t in _targets(r.post_id)) and _created(pid) == []


# ---------------------------------------------------------------- one approval for every version


def _content(targets) -> approval_content.Content:
    return approval_content.Content(7, LINK, None, tuple(targets), ())


def test_the_hash_binds_each_languages_text_and_the_mode_and_leaves_ordinary_posts_alone():
    T = approval_content.TargetContent
    plain = _content([T(1, SIM, "@a", EN)])
    assert plain.manifest() == {"format": 1, "post": 7, "link": LINK, "schedule": None,
                                "targets": [{"profile": 1, "network": SIM, "text": EN}], "media": []}  # as before: old approvals hold
    separate = _content([T(1, SIM, "@a", EN, "en"), T(1, SIM, "@a", AR, "ar")])
    assert separate.manifest()["twin"] == {SIM: "separate"}
    assert [t["lang"] for t in separate.manifest()["targets"]] == ["en", "ar"]
    changed_ar = _content([T(1, SIM, "@a", EN, "en"), T(1, SIM, "@a", AR + " شكراً.", "ar")])
    assert changed_ar.sha256 != separate.sha256
    both = emergency.combined(EN, AR)
    combined = _content([T(1, SIM, "@a", both, "en+ar")])
    same_text_other_mode = _content([T(1, SIM, "@a", both, "en")])
    assert combined.manifest()["twin"] == {SIM: "combined"}
    assert len({combined.sha256, same_text_other_mode.sha256, _content([T(1, SIM, "@a", both)]).sha256}) == 3
    assert (approval_content.CHANGE_MODE, {"network": approval_content.network_label(SIM)}) in approval_content.changes(
        separate.manifest(), combined.manifest(), {1: "@a"})
    assert (approval_content.CHANGE_TEXT, {"profile": "@a (ar)"}) in approval_content.changes(separate.manifest(), changed_ar.manifest(), {1: "@a"})


@pytest.fixture
def team(db):
    return _people(_make_actor)


def test_one_approval_covers_every_version_and_a_change_to_one_language_or_the_mode_needs_it_again(team, tmp_path):
    pid = _governed(team, tmp_path)
    emergency.set_twin_mode(team["admin"], SIM, emergency.SEPARATE)
    inp = ComposerInput(text=EN, link=LINK, profile_ids=[pid])
    r = emergency.save(team["author"], inp, action="now", second_text=AR)
    assert r.status == "pending_approval"
    [item] = approvals.queue(team["m1"])  # one item: the versions are one unit
    assert [(t.language, t.paragraphs[0][1]) for t in item.targets] == [("en", "ltr"), ("ar", "rtl")]
    assert item.targets[1].text == body_for(AR, LINK) and item.targets[1].paragraphs[0] == (AR, "rtl")
    assert _decide(team["m1"], r.post_id).finished

    # The author changes only the Arabic after approval: nothing goes out until it is approved again.
    emergency.save(team["author"], inp, action="now", second_text=AR + " شكراً.", post_id=r.post_id)
    with session_scope() as s:
        post = s.get(Post, r.post_id)
        assert post.status == "pending_approval" and post.approved_hash == ""
    assert asyncio.run(sender.run_once(max_seconds=5)).claimed == 0 and _created(pid) == []
    [item] = approvals.queue(team["m2"])
    assert (approval_content.CHANGE_TEXT, {"profile": "@riverton (ar)"}) in item.changes
    assert _decide(team["m2"], r.post_id).finished

    # The mode changes (an admin switched the network to one combined post) and the author saves again.
    emergency.set_twin_mode(team["admin"], SIM, emergency.COMBINED)
    emergency.save(team["author"], inp, action="now", second_text=AR, post_id=r.post_id)
    with session_scope() as s:
        assert s.get(Post, r.post_id).status == "pending_approval"
    [item] = approvals.queue(team["m1"])
    assert (approval_content.CHANGE_MODE, {"network": approval_content.network_label(SIM)}) in item.changes
    [combined] = item.targets
    assert combined.language == "en+ar" and [d for _, d in combined.paragraphs][:2] == ["ltr", "rtl"]
    assert _decide(team["m1"], r.post_id).finished
    asyncio.run(sender.run_once(max_seconds=10))
    [sent] = _created(pid)
    assert EN in sent["text"] and AR in sent["text"]


def test_the_sender_refuses_a_language_post_changed_behind_the_approval(team, tmp_path):
    pid = _governed(team, tmp_path)
    emergency.set_twin_mode(team["admin"], SIM, emergency.SEPARATE)
    r = emergency.save(team["author"], ComposerInput(text=EN, link=LINK, profile_ids=[pid]), action="now", second_text=AR)
    assert _decide(team["m1"], r.post_id).finished
    with session_scope() as s:
        s.execute(sql("UPDATE posttarget SET text_override = :v WHERE post_id = :p AND language = 'ar'"),
                  {"v": "نص لم تتم الموافقة عليه", "p": r.post_id})
    stats = asyncio.run(sender.run_once(max_seconds=10))
    assert set(stats.outcomes) == {"refused"} and _created(pid) == []
    with session_scope() as s:
        assert s.get(Post, r.post_id).approved_hash == ""
