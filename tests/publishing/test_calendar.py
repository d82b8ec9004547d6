"""Calendar queries (month, week, list, filters, campaigns overlay), rescheduling, campaigns, and the iCal feed."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from govsocial_app.services.publishing import actions, calendar, campaigns, composer, ical, views
from govsocial_app.services.publishing.calendar import CalendarFilter
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing.composer import ComposerInput
from tests.publishing.conftest import make_profile

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def plan(db, tmp_path, actor_factory):
    author = actor_factory("publisher", "Parker Publisher")
    a, b = make_profile(tmp_path, handle="@city"), make_profile(tmp_path, handle="@ema")
    winter = campaigns.save(author, "Winter ready", "blue", date(2026, 11, 1), date(2026, 11, 30))
    flu = campaigns.save(author, "Flu jabs", "green", date(2026, 12, 1), date(2026, 12, 15))

    def post(text, profiles, when, campaign=None, action="schedule"):
        return composer.save(author, ComposerInput(text=text, profile_ids=profiles, campaign_id=campaign), action=action,
                               when=when, now=NOW).post_id

    ids = {
        "grit": post("Gritters out tonight", [a], datetime(2026, 11, 12, 18, 0, tzinfo=timezone.utc), winter.id),
        "both": post("Storm advice", [a, b], datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc), winter.id),
        "flu": post("Flu clinic", [b], datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc), flu.id),
        "late": post("Late night (Dubai is next day)", [b], datetime(2026, 11, 30, 21, 30, tzinfo=timezone.utc)),
        "draft": post("Undated draft", [a], None, action="draft"),
    }
    return {"author": author, "a": a, "b": b, "winter": winter, "flu": flu, "ids": ids}


def test_month_view_groups_posts_by_local_day_in_whole_weeks(plan):
    m = calendar.month(2026, 11, "UTC", today=date(2026, 11, 10))
    assert m.first == date(2026, 10, 26) and m.last == date(2026, 12, 6) and len(m.weeks) == 6
    by_day = {d.day: [i.post_id for i in d.items] for d in m.days if d.items}
    ids = plan["ids"]
    assert by_day == {date(2026, 11, 12): [ids["grit"]], date(2026, 11, 20): [ids["both"]], date(2026, 11, 30): [ids["late"]],
                      date(2026, 12, 2): [ids["flu"]]}
    assert [d.is_today for d in m.days].count(True) == 1
    assert not next(d for d in m.days if d.day == date(2026, 12, 2)).in_month
    dubai = calendar.month(2026, 11, "Asia/Dubai")
    assert [i.post_id for d in dubai.days if d.day == date(2026, 12, 1) for i in d.items] == [ids["late"]]


def test_items_carry_profiles_campaign_and_author(plan):
    [item] = [i for i in calendar.items_between(NOW, NOW + timedelta(days=30)) if i.post_id == plan["ids"]["both"]]
    assert item.profiles == ("@city", "@ema") and item.campaign_name == "Winter ready" and item.campaign_color == "blue"
    assert item.author == "Parker Publisher" and item.status == "scheduled" and item.when == datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def test_filters_by_profile_campaign_and_status(plan):
    ids, start, end = plan["ids"], NOW, NOW + timedelta(days=60)

    def got(f):
        return {i.post_id for i in calendar.items_between(start, end, f)}

    assert got(CalendarFilter(profile_ids=(plan["a"],))) == {ids["grit"], ids["both"]}
    assert got(CalendarFilter(campaign_id=plan["flu"].id)) == {ids["flu"]}
    assert got(CalendarFilter(statuses=("published",))) == set()
    assert got(CalendarFilter(statuses=("scheduled",), profile_ids=(plan["b"],))) == {ids["both"], ids["flu"], ids["late"]}


def test_week_view_and_campaign_overlay(plan):
    w = calendar.week(date(2026, 11, 19), "UTC")
    assert w.first == date(2026, 11, 16) and len(w.days) == 7
    assert [c.name for c in w.campaigns] == ["Winter ready"]
    assert all([c.name for c in d.campaigns] == ["Winter ready"] for d in w.days)
    sunday_first = calendar.week(date(2026, 11, 19), "UTC", week_starts=6)
    assert sunday_first.first == date(2026, 11, 15)
    m = calendar.month(2026, 11, "UTC")
    nov30 = next(d for d in m.days if d.day == date(2026, 11, 30))
    dec1 = next(d for d in m.days if d.day == date(2026, 12, 1))
    assert [c.name for c in nov30.campaigns] == ["Winter ready"] and [c.name for c in dec1.campaigns] == ["Flu jabs"]


def test_list_view_pages_by_time_then_id(plan):
    ids = plan["ids"]
    first = calendar.upcoming(since=NOW, limit=2)
    assert [i.post_id for i in first] == [ids["grit"], ids["both"]]
    rest = calendar.upcoming(after=(first[-1].when, first[-1].post_id), limit=10)
    assert [i.post_id for i in rest] == [ids["late"], ids["flu"]]


def test_reschedule_moves_every_unsent_target(plan):
    ids, author = plan["ids"], plan["author"]
    new = datetime.now(timezone.utc) + timedelta(days=3)
    actions.reschedule(author, ids["both"], new)
    view = views.post_view(ids["both"])
    assert view.scheduled_at == new and {t.due_at for t in view.targets} == {new}
    with pytest.raises(UserError, match="already passed"):
        actions.reschedule(author, ids["both"], datetime.now(timezone.utc) - timedelta(minutes=1))


def test_campaigns_validate_and_tag_messages(plan, actor_factory):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Message

    author = plan["author"]
    with pytest.raises(UserError):
        campaigns.save(author, "Backwards", "blue", date(2026, 12, 2), date(2026, 12, 1))
    with pytest.raises(UserError):
        campaigns.save(author, "Neon", "neon")
    with session_scope() as s:
        m = Message(network="simulator", external_id="m1", text="When is the flu clinic?", created_at=NOW)
        s.add(m)
        s.flush()
        mid = m.id
    campaigns.tag_message(actor_factory("responder"), mid, plan["flu"].id)
    with session_scope() as s:
        assert s.get(Message, mid).campaign_id == plan["flu"].id
    campaigns.archive(author, plan["flu"].id)
    assert [c.name for c in campaigns.list_active()] == ["Winter ready"]
    with pytest.raises(UserError):
        campaigns.tag_post(author, plan["ids"]["grit"], plan["flu"].id)


def test_ical_feed_parses_back_with_icalendar(plan):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import User

    assert not ical.has_feed(plan["author"].user_id)
    url = ical.rotate(plan["author"])
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    with session_scope() as s:
        stored = s.get(User, plan["author"].user_id).ical_token_hash
    assert ical.has_feed(plan["author"].user_id) and token not in stored and len(stored) == 64  # a hash, never the secret
    body = ical.feed_for_token(token, now=NOW)
    cal = Calendar.from_ical(body)
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    ids = plan["ids"]
    grit = events[f"post-{ids['grit']}@govsocial"]
    assert grit.decoded("dtstart") == datetime(2026, 11, 12, 18, 0, tzinfo=timezone.utc)
    assert str(grit["summary"]) == "[Scheduled] Gritters out tonight"
    assert "Campaign: Winter ready" in str(grit["description"]) and f"/publish?post={ids['grit']}" in str(grit["url"])
    assert f"post-{ids['draft']}@govsocial" not in events  # no time, no event
    camp = events[f"campaign-{plan['winter'].id}@govsocial"]
    assert camp.decoded("dtstart") == date(2026, 11, 1) and camp.decoded("dtend") == date(2026, 12, 1)
    assert str(cal["version"]) == "2.0" and "GovSocial" in str(cal["prodid"])
    assert ical.feed_for_token("not-a-token") is None and ical.feed_for_token("") is None
    new_url = ical.rotate(plan["author"])
    assert new_url != url and ical.feed_for_token(token) is None
    with session_scope() as s:
        s.get(User, plan["author"].user_id).is_active = False
    assert ical.feed_for_token(new_url.rsplit("/", 1)[1].removesuffix(".ics")) is None
