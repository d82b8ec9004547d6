"""Composer validation per network (length, alt text, past dates, empty text), saving, the queue and "suggest a time"."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from govsocial_app.services import timefmt
from govsocial_app.services.publishing import composer, lifecycle, slots, views
from govsocial_app.services.publishing.composer import ComposerInput, MediaRef, validate
from tests.publishing.conftest import make_profile

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def messages(issues) -> list[str]:
    return [i.message for i in issues]


# ---------------------------------------------------------------- pure validation, one network at a time


@pytest.mark.parametrize(
    ("network", "limit", "label"),
    [("simulator", 500, "Simulator"), ("mastodon", 500, "Mastodon"), ("bluesky", 300, "Bluesky"), ("x", 280, "X")],
)
def test_length_limit_per_network_says_how_much_to_cut(network, limit, label):
    ok = validate(ComposerInput(text="a" * limit), [network])
    assert ok == []
    issues = validate(ComposerInput(text="a" * (limit + 7)), [network])
    assert messages(issues) == [f"{label}: {limit + 7} of {limit} characters. Shorten it by 7."]
    assert issues[0].network == network and issues[0].field == "text"


def test_x_counts_weighted_characters_and_links_as_23():
    # 140 CJK characters weigh 280 on X: exactly full. One more is over.
    assert validate(ComposerInput(text="水" * 140), ["x"]) == []
    assert messages(validate(ComposerInput(text="水" * 141), ["x"])) == ["X: 282 of 280 characters. Shorten it by 2."]
    long_link = "https://example.gov/" + "p" * 300
    assert validate(ComposerInput(text="a" * 250, link=long_link), ["x"]) == []  # 250 + 2 newlines + 23


def test_bluesky_counts_graphemes_so_emoji_families_are_one():
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    assert validate(ComposerInput(text=family * 300), ["bluesky"]) == []
    assert len(validate(ComposerInput(text=family * 301), ["bluesky"])) == 1


def test_one_text_checked_against_each_network_and_variants_override():
    text = "a" * 400
    issues = validate(ComposerInput(text=text), ["mastodon", "bluesky", "x"])
    assert {i.network for i in issues} == {"bluesky", "x"}
    fixed = ComposerInput(text=text, variants={"bluesky": "short for Bluesky", "x": "short for X"})
    assert validate(fixed, ["mastodon", "bluesky", "x"]) == []
    counts = {c.network: c for c in composer.counters(fixed, ["mastodon", "bluesky", "x"])}
    assert counts["mastodon"].used == 400 and counts["bluesky"].preview == "short for Bluesky" and not counts["x"].over


def test_empty_text_is_refused_on_every_network():
    assert messages(validate(ComposerInput(text="   "), ["simulator", "x"])) == [
        "Simulator: the post is empty. Write something or attach an image.",
        "X: the post is empty. Write something or attach an image.",
    ]


def test_an_image_alone_is_not_empty_but_needs_alt_text():
    img = MediaRef(1, "", "image/png", 1000)
    assert messages(validate(ComposerInput(media=[img]), ["mastodon"])) == [
        "Image 1 needs alt text: describe it for people who cannot see it.",
    ]
    assert validate(ComposerInput(media=[MediaRef(1, "A flooded road", "image/png", 1000)]), ["mastodon"]) == []


def test_image_rules_per_network():
    imgs = [MediaRef(i, "alt", "image/png", 2_000_000) for i in range(5)]
    issues = messages(validate(ComposerInput(text="hi", media=imgs), ["bluesky", "instagram"]))
    assert "Bluesky takes at most 4 images; this post has 5." in issues
    assert "Bluesky: image 1 is 2.0 MB; the limit is 1.0 MB." in issues
    assert "Instagram does not accept PNG images (image 1)." in issues
    assert messages(validate(ComposerInput(text="words only"), ["instagram"])) == ["Instagram needs at least one image."]


def test_alt_text_length_per_network():
    img = MediaRef(1, "x" * 1001, "image/jpeg", 1000)
    assert messages(validate(ComposerInput(text="hi", media=[img]), ["x", "mastodon"])) == [
        "X: the alt text of image 1 is 1001 characters; the limit is 1000.",
    ]


def test_past_and_missing_dates_when_scheduling():
    inp = ComposerInput(text="hi")
    assert messages(validate(inp, ["simulator"], action="schedule", when=NOW - timedelta(minutes=1), now=NOW)) == [
        "The time you picked has already passed. Choose a time in the future.",
    ]
    assert messages(validate(inp, ["simulator"], action="schedule", when=None, now=NOW)) == ["Pick a date and a time."]
    assert validate(inp, ["simulator"], action="schedule", when=NOW + timedelta(minutes=5), now=NOW) == []


def test_no_profiles_and_bad_link():
    assert messages(validate(ComposerInput(text="hi", link="example.gov"), [])) == [
        "Choose at least one profile to post to.", "The link must start with https:// or http://.",
    ]


def test_local_time_is_converted_from_the_users_zone():
    assert timefmt.local_to_utc("2026-07-01", "09:30", "America/New_York") == datetime(2026, 7, 1, 13, 30, tzinfo=timezone.utc)
    assert timefmt.local_to_utc("2026-12-01", "09:30", "Asia/Dubai") == datetime(2026, 12, 1, 5, 30, tzinfo=timezone.utc)


# ---------------------------------------------------------------- saving


def _targets(post_id):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import PostTarget

    with session_scope() as s:
        return s.exec(select(PostTarget).where(PostTarget.post_id == post_id).order_by(PostTarget.id)).all()


def test_draft_then_schedule_keeps_idempotency_keys(db, tmp_path, actor_factory, later):
    author = actor_factory("publisher")
    a, b = make_profile(tmp_path), make_profile(tmp_path)
    r = composer.save(author, ComposerInput(text="Road works on Main St", profile_ids=[a, b]), action="draft")
    assert r.status == "draft"
    keys = [t.idempotency_key for t in _targets(r.post_id)]
    assert all(t.status == "pending" for t in _targets(r.post_id))
    r2 = composer.save(author, ComposerInput(text="Road works on Main St from Monday", profile_ids=[a, b]),
                         action="schedule", when=later, post_id=r.post_id)
    assert r2.status == "scheduled" and r2.scheduled_at == later
    ts = _targets(r.post_id)
    assert [t.idempotency_key for t in ts] == keys and {t.status for t in ts} == {"due"}


def test_invalid_post_is_refused_with_every_reason(db, tmp_path, actor_factory):
    author = actor_factory("publisher")
    pid = make_profile(tmp_path)
    with pytest.raises(composer.ComposerInvalid) as err:
        composer.save(author, ComposerInput(text="x" * 501, profile_ids=[pid]), action="now")
    assert messages(err.value.issues) == ["Simulator: 501 of 500 characters. Shorten it by 1."]


def test_viewer_cannot_compose(db, tmp_path, actor_factory):
    from govsocial_app.services.authz import PermissionDenied

    with pytest.raises(PermissionDenied):
        composer.save(actor_factory("viewer"), ComposerInput(text="hi", profile_ids=[make_profile(tmp_path)]), action="draft")


def test_removing_a_profile_cancels_its_target(db, tmp_path, actor_factory, later):
    author = actor_factory("publisher")
    a, b = make_profile(tmp_path), make_profile(tmp_path)
    r = composer.save(author, ComposerInput(text="hi", profile_ids=[a, b]), action="schedule", when=later)
    composer.save(author, ComposerInput(text="hi", profile_ids=[a]), action="schedule", when=later, post_id=r.post_id)
    assert [(t.profile_id, t.status) for t in _targets(r.post_id)] == [(a, "due"), (b, "cancelled")]


def test_variant_text_is_stored_per_network(db, tmp_path, actor_factory, later):
    author = actor_factory("publisher")
    sim = make_profile(tmp_path)
    r = composer.save(author, ComposerInput(text="long text", profile_ids=[sim], variants={"simulator": "short"}),
                        action="schedule", when=later)
    assert _targets(r.post_id)[0].text_override == "short"


def test_media_is_stored_privately_and_sniffed(db, actor_factory):
    from govsocial_app.config import get_settings
    from govsocial_app.services.errors import UserError

    author = actor_factory("publisher")
    info = composer.store_media(author, "flood.png", PNG)
    assert info.mime_type == "image/png"
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import MediaAsset

    with session_scope() as s:
        path = s.get(MediaAsset, info.id).path
    media_dir = get_settings().media_dir.resolve()
    assert str(path).startswith(str(media_dir)) and "_upload" not in path and "/assets/" not in path
    import os
    import stat

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(UserError):
        composer.store_media(author, "evil.png", b"<svg onload=alert(1)>")


def test_image_without_alt_text_cannot_be_scheduled(db, tmp_path, actor_factory, later):
    author = actor_factory("publisher")
    pid = make_profile(tmp_path)
    info = composer.store_media(author, "a.png", PNG)
    with pytest.raises(composer.ComposerInvalid) as err:
        composer.save(author, ComposerInput(text="hi", profile_ids=[pid], media=[MediaRef(info.id, "")]), action="schedule", when=later)
    assert "Image 1 needs alt text" in str(err.value)
    r = composer.save(author, ComposerInput(text="hi", profile_ids=[pid], media=[MediaRef(info.id, "Sandbags at the library")]),
                        action="schedule", when=later)
    assert views.post_view(r.post_id).media[0].alt_text == "Sandbags at the library"


def test_someone_elses_unattached_upload_cannot_be_used(db, tmp_path, actor_factory, later):
    from govsocial_app.services.errors import UserError

    info = composer.store_media(actor_factory("publisher"), "a.png", PNG)
    with pytest.raises(UserError):
        composer.save(actor_factory("manager"), ComposerInput(text="hi", profile_ids=[make_profile(tmp_path)], media=[MediaRef(info.id, "alt")]),
                        action="draft")


def test_queue_takes_the_next_free_slot_per_profile(db, tmp_path, actor_factory):
    author = actor_factory("publisher")
    monday_0800 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # a Monday
    a = make_profile(tmp_path, queue_slots=["Mon 09:00", "Wed 09:00"])
    b = make_profile(tmp_path, queue_slots=["Tue 10:00"], timezone="Asia/Dubai")
    r1 = composer.save(author, ComposerInput(text="one", profile_ids=[a, b]), action="queue", now=monday_0800)
    assert r1.status == "queued"
    assert r1.due[a] == datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    assert r1.due[b] == datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)  # 10:00 in Dubai
    r2 = composer.save(author, ComposerInput(text="two", profile_ids=[a]), action="queue", now=monday_0800)
    assert r2.due[a] == datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    r3 = composer.save(author, ComposerInput(text="three", profile_ids=[a]), action="queue", now=monday_0800)
    assert r3.due[a] == datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def test_queue_without_slots_uses_weekday_defaults(db, tmp_path, actor_factory):
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
    r = composer.save(actor_factory("publisher"), ComposerInput(text="hi", profile_ids=[make_profile(tmp_path)]), action="queue", now=saturday)
    assert list(r.due.values()) == [datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)]


# ---------------------------------------------------------------- suggest a time


def test_suggest_without_history_uses_defaults_and_says_so(db, tmp_path):
    pid = make_profile(tmp_path)
    s = slots.suggest_times([pid], now=datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc))
    assert s.basis == "defaults" and len(s.times) == 3
    assert "Not enough history yet (0 published posts" in s.explanation
    assert all(t.weekday() < 5 and 8 <= t.hour <= 13 for t in s.times)


def test_suggest_learns_from_our_own_engagement(db, tmp_path, actor_factory):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Post, PostMetricSnapshot, PostTarget

    pid = make_profile(tmp_path)
    author = actor_factory("publisher")
    now = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)  # Monday
    with session_scope() as s:
        for week in range(1, 11):
            for hour, likes in ((20, 90), (9, 5)):  # evenings do far better for this audience
                at = now - timedelta(weeks=week) + timedelta(days=1, hours=hour - 6)  # Tuesdays
                post = Post(author_id=author.user_id, text="x", status="published", scheduled_at=at)
                s.add(post)
                s.flush()
                t = PostTarget(post_id=post.id, profile_id=pid, idempotency_key=lifecycle.new_idempotency_key(), status="published", published_at=at)
                s.add(t)
                s.flush()
                s.add(PostMetricSnapshot(target_id=t.id, likes=likes))
    sug = slots.suggest_times([pid], now=now)
    assert sug.basis == "history"
    assert datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc) in sug.times
    assert "Based on the engagement of 20 of your published posts" in sug.explanation and "Tuesdays around 20:00" in sug.explanation
