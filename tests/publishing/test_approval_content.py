"""Approvals are bound to the exact content: every network's final text, the images' bytes and descriptions, the link,
the time and the profiles. Approvers see all of it; a change sends the post back; the sender refuses anything else;
whoever changed the content cannot approve it."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text as sql
from sqlmodel import select

from govsocial_app.services.publishing import actions, approval_content, approvals, composer, sender
from govsocial_app.services.publishing.approvals import StepSpec
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing.composer import ComposerInput, MediaRef
from tests.publishing.conftest import make_profile, simulator_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ROAD = "Road works on Elm St"
VARIANT = "UNAPPROVED VARIANT: Elm St closed for a month, no diversion"


def _session():
    from govsocial_app.db.engine import session_scope

    return session_scope()


def _post(post_id):
    from govsocial_app.db.models import Post

    with _session() as s:
        return s.get(Post, post_id)


def _targets(post_id):
    from govsocial_app.db.models import PostTarget

    with _session() as s:
        return s.exec(select(PostTarget).where(PostTarget.post_id == post_id)).all()


def _audit(action):
    from govsocial_app.db.models import AuditLog

    with _session() as s:
        return s.exec(select(AuditLog).where(AuditLog.action == action)).all()


def _alerts_for(user_id):
    from govsocial_app.db.models import Alert

    with _session() as s:
        return [(a.data["i18n"]["title"], a.data["i18n"]["params"]) for a in s.exec(select(Alert).order_by(Alert.id)).all()
                if user_id in (a.data or {}).get("user_ids", [])]


def _sent_texts(profile_id):
    return [r["text"] for r in simulator_for(profile_id).received_log() if r["outcome"].startswith("created")]


def _decide(actor, post_id, decision="approved", comment=""):
    return approvals.decide(actor, post_id, decision, comment, seen_hash=approval_content.current_hash(post_id))


def _people(make) -> dict:
    return {"admin": make("admin", "Avery Admin"), "author": make("publisher", "Parker Publisher"),
            "m1": make("manager", "Morgan Manager"), "m2": make("manager", "Max Manager")}


def _make_actor(role: str, name: str):
    """Like the actor_factory fixture, without its SQLite `db` (which would re-point the app away from PostgreSQL)."""
    import uuid

    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    email = f"{role}-{uuid.uuid4().hex[:6]}@test.gov"
    return Actor(auth.create_user(email, name, "correct horse battery", role, Actor.system("test")), f"{name} <{email}>", role, "127.0.0.1", "pytest")


@pytest.fixture
def team(db):
    return _people(_make_actor)


@pytest.fixture(params=["sqlite", "postgresql"])
def both_team(request):
    """The team on SQLite and on PostgreSQL (the sender's check and the decision lock differ by dialect)."""
    if request.param == "sqlite":
        request.getfixturevalue("db")
    else:
        request.getfixturevalue("pg_db")
    from govsocial_app.db.engine import get_engine

    assert get_engine().dialect.name == request.param
    return _people(_make_actor)


def _governed(team, tmp_path):
    """A simulator profile whose posts need one manager's approval."""
    wf = approvals.save_workflow(team["admin"], "Comms sign-off", [StepSpec("Managers", "any", role="manager")])
    pid = make_profile(tmp_path, handle="@riverton")
    approvals.require_for_profile(team["admin"], pid, wf)
    return pid


@pytest.fixture
def governed(team, tmp_path):
    return _governed(team, tmp_path)


def _image(actor, alt="Map of the Elm St closure", data=PNG):
    info = composer.store_media(actor, "map.png", data)
    return MediaRef(info.id, alt)


# ---------------------------------------------------------------- approvers see what will be sent


def test_the_queue_shows_every_networks_final_text_and_the_images(team, governed, tmp_path):
    masto = make_profile(tmp_path, network="mastodon", handle="@riverton@social.example")
    img = _image(team["author"])
    r = composer.save(team["author"], ComposerInput(text=ROAD, link="https://riverton.gov/roadworks", profile_ids=[governed, masto],
                                                      variants={"mastodon": VARIANT}, media=[img]), action="now")
    [item] = approvals.queue(team["m1"])
    assert [(t.handle, t.text) for t in item.targets] == [
        ("@riverton", f"{ROAD}\n\nhttps://riverton.gov/roadworks"),
        ("@riverton@social.example", f"{VARIANT}\n\nhttps://riverton.gov/roadworks"),
    ]
    assert [(m.media_id, m.alt_text, m.sha256) for m in item.media] == [(img.media_id, "Map of the Elm St closure", hashlib.sha256(PNG).hexdigest())]
    assert item.content_hash == approval_content.current_hash(r.post_id) and item.version == 1 and item.changed_since == 0


def test_each_network_is_shown_as_its_connector_sends_it():
    t = approval_content.TargetContent
    link = "https://riverton.gov/a"
    assert approval_content.render(t(1, "mastodon", "@a", "Hi"), link).text == "Hi\n\nhttps://riverton.gov/a"
    assert approval_content.render(t(1, "bluesky", "a.bsky", "Hi"), link).text == "Hi\nhttps://riverton.gov/a"
    fb = approval_content.render(t(1, "facebook", "Riverton", "Hi"), link)
    assert fb.text == "Hi" and fb.note_msgid == approval_content.LINK_CARD
    ig = approval_content.render(t(1, "instagram", "riverton", "Hi"), link)
    assert ig.text == "Hi" and ig.note_msgid == approval_content.LINK_DROPPED
    assert approval_content.render(t(1, "x", "@a", f"Hi {link}"), link).text == f"Hi {link}"  # already in the text: not added twice


def test_the_hash_covers_texts_media_alt_link_time_and_profiles():
    when = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    base = approval_content.Content(
        7, "https://a.gov", when, (approval_content.TargetContent(1, "mastodon", "@a", "Hello"),),
        (approval_content.MediaContent(3, "ab" * 32, "image/png", 10, "A map"),))
    variants = [
        approval_content.Content(7, "https://a.gov", when, (approval_content.TargetContent(1, "mastodon", "@a", "Hello!"),), base.media),
        approval_content.Content(7, "https://a.gov", when, base.targets, (approval_content.MediaContent(3, "cd" * 32, "image/png", 10, "A map"),)),
        approval_content.Content(7, "https://a.gov", when, base.targets, (approval_content.MediaContent(3, "ab" * 32, "image/png", 10, "A plan"),)),
        approval_content.Content(7, "https://b.gov", when, base.targets, base.media),
        approval_content.Content(7, "https://a.gov", when + timedelta(hours=1), base.targets, base.media),
        approval_content.Content(7, "https://a.gov", None, base.targets, base.media),
        approval_content.Content(7, "https://a.gov", when, base.targets + (approval_content.TargetContent(2, "x", "@b", "Hello"),), base.media),
        approval_content.Content(8, "https://a.gov", when, base.targets, base.media),
    ]
    hashes = {base.sha256, *(v.sha256 for v in variants)}
    assert len(hashes) == len(variants) + 1 and all(len(h) == 64 for h in hashes)
    renamed = approval_content.Content(7, "https://a.gov", when, (approval_content.TargetContent(1, "mastodon", "@renamed", "Hello"),), base.media)
    assert renamed.sha256 == base.sha256  # the same profile under a new handle is the same content


# ---------------------------------------------------------------- the reported scenario


def test_unapproved_variant_can_no_longer_publish(both_team, tmp_path):
    """"Road works on Elm St" was approved; then a per-network variant the approvers never saw went out.
    Now the sender refuses it, the post goes back to its approvers as a new version, and the author is told."""
    team, governed = both_team, _governed(both_team, tmp_path)
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed]), action="now")
    assert _decide(team["m1"], r.post_id).finished
    approved = _post(r.post_id).approved_hash
    assert approved == approval_content.current_hash(r.post_id)

    # Any path that changes what is sent without going through the composer (here: straight into the target row).
    with _session() as s:
        s.execute(sql("UPDATE posttarget SET text_override = :v WHERE post_id = :p"), {"v": VARIANT, "p": r.post_id})

    stats = asyncio.run(sender.run_once(max_seconds=10))
    assert stats.outcomes == {"refused": 1}
    assert _sent_texts(governed) == []  # nothing reached the network
    post = _post(r.post_id)
    assert post.status in ("held", "pending_approval") and post.held_reason == approval_content.NOT_SENT
    assert post.approved_hash == "" and post.content_version == 2 and post.approval_step == 0
    assert [t.status for t in _targets(r.post_id)] == ["pending"]
    [row] = _audit("publish.refused_unapproved")
    assert row.detail["approved_hash"] == approved and "not the approved" in row.detail["reason"]
    assert (approval_content.NOT_SENT_NOTICE, {"excerpt": ROAD}) in _alerts_for(team["author"].user_id)
    assert any(title == approval_content.CHANGED_NOTICE for title, _ in _alerts_for(team["m2"].user_id))

    # The approvers see it is a new version, and what changed since the one they approved.
    [item] = approvals.queue(team["m2"])
    assert item.version == 2 and item.changed_since == 1 and item.changes == ((approval_content.CHANGE_TEXT, {"profile": "@riverton"}),)
    assert [t.text for t in item.targets] == [VARIANT]
    asyncio.run(sender.run_once(max_seconds=5))
    assert _sent_texts(governed) == []  # still nothing while it waits

    # Once someone approves the variant itself, that is what goes out, once.
    assert _decide(team["m2"], r.post_id).finished
    asyncio.run(sender.run_once(max_seconds=10))
    assert _sent_texts(governed) == [VARIANT] and _post(r.post_id).status == "published"


def test_a_decision_on_an_older_version_is_refused(team, governed):
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed]), action="now")
    [item] = approvals.queue(team["m1"])
    # The author adds a variant while the manager is still reading the main text.
    composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed], variants={"simulator": VARIANT}), action="now",
                    post_id=r.post_id)
    with pytest.raises(UserError, match="changed while you were reading"):
        approvals.decide(team["m1"], r.post_id, "approved", seen_hash=item.content_hash)
    assert _post(r.post_id).status == "pending_approval" and _audit("approval.approved") == []
    [fresh] = approvals.queue(team["m1"])
    assert [t.text for t in fresh.targets] == [VARIANT] and fresh.version == 2
    assert approvals.decide(team["m1"], r.post_id, "approved", seen_hash=fresh.content_hash).finished
    [row] = _audit("approval.approved")
    assert row.detail["content_hash"] == fresh.content_hash and row.detail["version"] == 2


def test_an_image_file_swapped_after_approval_is_not_sent(team, governed):
    img = _image(team["author"])
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed], media=[img]), action="now")
    assert _decide(team["m1"], r.post_id).finished
    from govsocial_app.db.models import MediaAsset

    with _session() as s:
        path = s.get(MediaAsset, img.media_id).path
    with open(path, "wb") as fh:
        fh.write(PNG + b"tampered")
    assert asyncio.run(sender.run_once(max_seconds=10)).outcomes == {"refused": 1}
    assert _sent_texts(governed) == []
    [row] = _audit("publish.refused_unapproved")
    assert row.detail["reason"] == "an image file is not the approved one"


def test_changing_the_alt_text_or_the_link_needs_approval_again(team, governed):
    img = _image(team["author"])
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed], media=[img]), action="now")
    assert _decide(team["m1"], r.post_id).finished
    composer.save(team["author"], ComposerInput(text=ROAD, link="https://riverton.gov/x", profile_ids=[governed],
                                                  media=[MediaRef(img.media_id, "A different description")]), action="now", post_id=r.post_id)
    assert _post(r.post_id).status == "pending_approval"
    [item] = approvals.queue(team["m2"])
    assert sorted(item.changes) == [(approval_content.CHANGE_ALT, {"n": "1"}), (approval_content.CHANGE_LINK, {})]
    assert asyncio.run(sender.run_once(max_seconds=5)).claimed == 0


def test_a_new_time_after_approval_needs_approval_again(team, governed):
    later = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed]), action="schedule", when=later)
    assert _decide(team["m1"], r.post_id).finished and _post(r.post_id).status == "scheduled"
    moved = actions.reschedule(team["m2"], r.post_id, later + timedelta(days=1))
    assert moved.needs_approval and _post(r.post_id).status == "pending_approval"
    assert [t.status for t in _targets(r.post_id)] == ["pending"]
    # Whoever moved it changed the approved content: someone else decides.
    with pytest.raises(UserError, match="You changed this post"):
        _decide(team["m2"], r.post_id)
    [item] = approvals.queue(team["m1"])
    assert item.changes == ((approval_content.CHANGE_TIME, {}),)
    assert _decide(team["m1"], r.post_id).finished and _post(r.post_id).status == "scheduled"


def test_bypass_binds_the_content_the_admin_saw(team, governed):
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed]), action="now")
    seen = approval_content.current_hash(r.post_id)
    with pytest.raises(UserError, match="changed while you were reading"):
        approvals.bypass(team["admin"], r.post_id, "Emergency: road collapse", seen_hash="0" * 64)
    approvals.bypass(team["admin"], r.post_id, "Emergency: road collapse", seen_hash=seen)
    assert _post(r.post_id).approved_hash == seen
    asyncio.run(sender.run_once(max_seconds=10))
    assert _sent_texts(governed) == [ROAD]


def test_posts_without_a_workflow_are_not_checked(team, tmp_path):
    pid = make_profile(tmp_path)
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[pid], variants={"simulator": VARIANT}), action="now")
    asyncio.run(sender.run_once(max_seconds=10))
    assert _sent_texts(pid) == [VARIANT] and _post(r.post_id).status == "published"


# ---------------------------------------------------------------- whoever changed it cannot approve it


def test_a_manager_who_edits_a_pending_post_cannot_approve_it(both_team, tmp_path):
    team, governed = both_team, _governed(both_team, tmp_path)
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed]), action="now")
    # Morgan (a manager) rewrites Parker's pending post, then tries to approve their own words.
    composer.save(team["m1"], ComposerInput(text=ROAD + ": closed until Friday", profile_ids=[governed]), action="now", post_id=r.post_id)
    with pytest.raises(UserError, match="You changed this post \\(version 2\\)"):
        _decide(team["m1"], r.post_id)
    with pytest.raises(UserError, match="You changed this post"):
        _decide(team["m1"], r.post_id, "rejected", "Not sure")
    # The queue tells Morgan why, instead of silently leaving it out.
    [item] = approvals.queue(team["m1"])
    assert not item.mine_to_decide and item.blocked_msgid == approvals.EDITED_IT and item.blocked_params == {"version": "2"}
    assert item.editors == ("Morgan Manager",)
    # The author changes it again: Morgan's edit is still part of what waits for approval.
    composer.save(team["author"], ComposerInput(text=ROAD + ": closed until Saturday", profile_ids=[governed]), action="now", post_id=r.post_id)
    with pytest.raises(UserError, match="You changed this post"):
        _decide(team["m1"], r.post_id)
    # Max, who changed nothing, approves. A later change by the author is a new round: Morgan may decide that one.
    assert _decide(team["m2"], r.post_id).finished
    composer.save(team["author"], ComposerInput(text=ROAD + ": open again", profile_ids=[governed]), action="now", post_id=r.post_id)
    assert [q.post_id for q in approvals.queue(team["m1"]) if q.mine_to_decide] == [r.post_id]
    assert _decide(team["m1"], r.post_id).finished


def test_an_editor_who_changes_a_draft_is_excluded_too(team, governed):
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[governed]), action="draft")
    composer.save(team["m1"], ComposerInput(text=ROAD + "!", profile_ids=[governed]), action="draft", post_id=r.post_id)
    composer.save(team["author"], ComposerInput(text=ROAD + "!", profile_ids=[governed]), action="now", post_id=r.post_id)
    with pytest.raises(UserError, match="You changed this post"):
        _decide(team["m1"], r.post_id)
    assert {a[0] for a in _alerts_for(team["m1"].user_id)}.isdisjoint({approvals.WAITING})  # not even asked


def test_a_step_whose_only_approver_edited_it_says_nobody_is_left(team, tmp_path):
    wf = approvals.save_workflow(team["admin"], "Morgan only", [StepSpec("Morgan", "any", user_ids=(team["m1"].user_id,))])
    pid = make_profile(tmp_path)
    approvals.require_for_profile(team["admin"], pid, wf)
    r = composer.save(team["author"], ComposerInput(text=ROAD, profile_ids=[pid]), action="now")
    composer.save(team["m1"], ComposerInput(text=ROAD + "!", profile_ids=[pid]), action="now", post_id=r.post_id)
    [item] = approvals.queue(team["admin"], all_pending=True)
    assert item.nobody_left and not item.mine_to_decide


# ---------------------------------------------------------------- upgrading


def test_the_migration_sends_posts_approved_without_a_hash_back_to_their_approvers(tmp_path):
    from govsocial_app.db.migrate import upgrade
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    engine = create_engine(url)
    now = datetime.now(timezone.utc).isoformat()
    with engine.begin() as c:
        c.execute(sql("INSERT INTO user (id, email, display_name, password_hash, role, locale, theme, timezone, is_active, ical_token, created_at) "
                      "VALUES (1, 'a@x.gov', 'A', 'x', 'publisher', 'en', 'light', 'UTC', 1, '', :n)"), {"n": now})
        c.execute(sql("INSERT INTO approvalworkflow (id, name, created_at) VALUES (1, 'W', :n)"), {"n": now})
        c.execute(sql("INSERT INTO socialprofile (id, network, handle, display_name, external_id, config, secrets_enc, status, cursor, "
                      "poll_interval_s, last_error, rate_limit, timezone, queue_slots, created_at) "
                      "VALUES (1, 'simulator', '@x', 'X', '', '{}', '', 'active', '', 60, '', '{}', 'UTC', '[]', :n)"), {"n": now})
        for pid, status, wf in ((1, "scheduled", 1), (2, "pending_approval", 1), (3, "scheduled", None), (4, "published", 1)):
            c.execute(sql("INSERT INTO post (id, author_id, text, link, status, workflow_id, approval_step, bypass_reason, flagged_for_review, "
                          "held_reason, created_at, updated_at) VALUES (:i, 1, 't', '', :s, :w, :step, '', 0, '', :n, :n)"),
                      {"i": pid, "s": status, "w": wf, "n": now, "step": 1 if pid == 2 else 0})
            c.execute(sql("INSERT INTO posttarget (post_id, profile_id, text_override, status, idempotency_key, claim_token, attempts, "
                          "external_id, external_url, error) VALUES (:i, 1, '', :s, :k, '', 0, '', '', '')"), {"i": pid, "s": "due" if status == "scheduled" else "published", "k": f"k{pid}"})
    upgrade(url)
    with engine.begin() as c:
        posts = {r.id: r for r in c.execute(sql("SELECT id, status, approval_step, approval_round, held_reason FROM post"))}
        targets = {r.post_id: r.status for r in c.execute(sql("SELECT post_id, status FROM posttarget"))}
    assert (posts[1].status, posts[1].approval_round, targets[1]) == ("pending_approval", 1, "pending")
    assert "approve it again" in posts[1].held_reason
    assert (posts[2].status, posts[2].approval_step, posts[2].approval_round) == ("pending_approval", 0, 1)
    assert (posts[3].status, targets[3]) == ("scheduled", "due")  # no workflow: untouched
    assert posts[4].status == "published"
    engine.dispose()
