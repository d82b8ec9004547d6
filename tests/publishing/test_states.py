"""The publishing states on the real classes: composer flow, calendar, approvals, pause/resume, and role checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import reflex as rx

from govsocial_app.services import auth
from govsocial_app.services.publishing import approvals, composer, pause, views
from govsocial_app.services.publishing.approvals import StepSpec
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.publishing.composer import ComposerInput
from tests.publishing.conftest import make_profile

PASSWORD = "correct horse battery"


@pytest.fixture
def states(db):
    from govsocial_app.state import approvals as _a, calendar as _c, pause as _p, publish as _pub  # noqa: F401  (registers them)
    from govsocial_app.state.app_state import AppState

    root = rx.State(_reflex_internal_init=True)
    return root, root.substates[AppState.get_name()]


@pytest.fixture
def as_role(states, actor_factory):
    _root, app_state = states

    def signed_in(role: str, name: str | None = None):
        actor = actor_factory(role, name)
        token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
        app_state.auth_token = token
        app_state._load_user()
        return app_state, actor

    return signed_in


def sub(app_state, cls):
    return app_state.substates[cls.get_name()]


async def drain(gen):
    out = []
    async for item in gen:
        out.append(item)
    return out


def test_composer_counts_validates_translates_and_schedules(as_role, tmp_path):
    from govsocial_app.state.publish import PublishState

    pid = make_profile(tmp_path)
    app_state, _ = as_role("publisher")
    st = sub(app_state, PublishState)
    st.load()
    assert [p.id for p in st.profiles] == [str(pid)]
    st.toggle_profile(str(pid))
    st.set_text("x" * 510)
    assert [(c.label, c.used, c.limit, c.over) for c in st.counts] == [("Simulator", 510, 500, True)]
    st.post_now()
    assert st.issues == ["Simulator: 510 of 500 characters. Shorten it by 10."]
    app_state.lang = "ar"
    st.post_now()
    assert st.issues == ["Simulator: 510 من 500 حرفًا. اختصره بمقدار 10."]
    app_state.lang = "en"
    st.set_text("Bin collections move one day later next week.")
    st.schedule()
    assert st.issues == ["Pick a date and a time."]
    later = datetime.now(timezone.utc) + timedelta(days=2)
    st.set_day(later.strftime("%Y-%m-%d"))
    st.set_time("09:30")
    st.schedule()
    assert st.issues == [] and st.post_id and st.post_status == "scheduled"
    st.suggest()
    assert len(st.suggestions) == 3 and st.suggest_text.startswith("Not enough history yet")


def test_viewers_read_but_cannot_compose_or_pause(as_role, tmp_path):
    from govsocial_app.state.pause import PauseState
    from govsocial_app.state.publish import PublishState

    make_profile(tmp_path)
    app_state, _ = as_role("viewer")
    st = sub(app_state, PublishState)
    st.load()
    assert not st.can_compose
    with pytest.raises(PermissionDenied):
        st.post_now()
    ps = sub(app_state, PauseState)
    ps.init()
    assert ps.can_pause is False
    with pytest.raises(PermissionDenied):
        ps.open_confirm()


async def test_pause_and_resume_through_the_state(as_role, tmp_path, actor_factory):
    from govsocial_app.state.pause import PauseBanner, PauseState

    pid = make_profile(tmp_path)
    app_state, _ = as_role("manager", "Morgan Manager")
    ps = sub(app_state, PauseState)
    ps.init()
    assert ps.can_pause
    ps.open_confirm()
    ps.set_reason("Flood drill")
    await drain(ps.confirm_pause())
    banner = await ps.get_state(PauseBanner)
    assert banner.paused and banner.by == "Morgan Manager" and banner.reason == "Flood drill"
    post_id = composer.save(actor_factory("publisher"), ComposerInput(text="Sandbags", profile_ids=[pid]), action="now").post_id
    await ps.open_resume()
    assert [m.id for m in ps.missed] == [str(post_id)] and ps.choices == {str(post_id): "publish_now"}
    ps.choose(str(post_id), "reschedule")
    ps.set_time(str(post_id), (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    await drain(ps.confirm_resume())
    assert "already passed" in ps.notice and pause.status().paused
    ps.choose(str(post_id), "draft")
    await drain(ps.confirm_resume())
    assert not pause.status().paused and not banner.paused
    assert views.post_view(post_id).status == "draft"


def test_calendar_views_and_moving_a_post(as_role, tmp_path):
    from govsocial_app.state.calendar import CalendarState

    pid = make_profile(tmp_path)
    app_state, actor = as_role("publisher")
    soon = datetime.now(timezone.utc) + timedelta(hours=3)
    post_id = composer.save(actor, ComposerInput(text="Gritters out tonight", profile_ids=[pid]), action="schedule", when=soon).post_id
    cal = sub(app_state, CalendarState)
    cal.load()
    assert any(i.id == str(post_id) for i in cal.items)
    assert sum(len(d.posts) for w in cal.weeks for d in w) >= 1 and cal.feed_url == "" and not cal.has_feed
    cal.new_feed_url()
    assert cal.feed_url.endswith(".ics") and cal.has_feed
    cal.set_view("week")
    cal.set_view(["bogus"])
    assert cal.view == "week"
    cal.open_post(str(post_id))
    assert cal.open_text == "Gritters out tonight"
    new = datetime.now(timezone.utc) + timedelta(days=1)
    cal.set_new_day(new.strftime("%Y-%m-%d"))
    cal.set_new_time("10:15")
    cal.move()
    assert cal.open_id == "" and views.post_view(post_id).scheduled_at.strftime("%H:%M") == "10:15"
    cal.set_filter("status", "published")
    assert cal.items == []


def test_approvals_queue_decide_and_bypass(as_role, tmp_path, actor_factory):
    from govsocial_app.state.approvals import ApprovalsState

    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    approvals.require_for_profile(admin, pid, approvals.save_workflow(admin, "Sign-off", [StepSpec("Managers", "all", role="manager")]))
    author = actor_factory("publisher")
    first = composer.save(author, ComposerInput(text="First", profile_ids=[pid]), action="now").post_id
    second = composer.save(author, ComposerInput(text="Second", profile_ids=[pid]), action="now").post_id
    app_state, _ = as_role("manager")
    st = sub(app_state, ApprovalsState)
    st.load()
    assert [q.id for q in st.mine] == [str(first), str(second)] and st.mine[0].mine
    st.decide(str(first), "rejected")  # no comment: refused with a toast
    assert len(st.mine) == 2
    st.set_comment(str(first), "Wrong ward")
    st.decide(str(first), "rejected")
    assert [q.id for q in st.mine] == [str(second)]
    with pytest.raises(PermissionDenied):
        st.open_bypass(str(second))

    app_state2, _ = as_role("admin")
    st2 = sub(app_state2, ApprovalsState)
    st2.load()
    assert [q.id for q in st2.others] == [str(second)]
    st2.save_workflow({"name": "Legal", "name1": "Legal", "mode1": "any", "role1": "none", "people1": "", "externals1": "Legal <legal@city.gov>"})
    assert st2.wf_error == "" and any(w.name == "Legal" for w in st2.workflows)
    st2.save_workflow({"name": "Bad", "externals1": "legal at city"})
    assert "Name <email>" in st2.wf_error
    member = actor_factory("publisher")
    email = member.label.split("<")[1].rstrip(">")
    st2.save_group({"name": "Night shift", "members": email, "workflow": st2.workflow_opts[0].value})
    assert st2.wf_error == "" and st2.groups[0].name == "Night shift" and email in st2.groups[0].steps
    st2.save_group({"name": "Nobody", "members": "nobody@nowhere.gov", "workflow": "none"})
    assert "email addresses of its members" in st2.wf_error
    st2.open_bypass(str(second))
    st2.set_bypass_reason("Evacuation: no time")
    st2.confirm_bypass()
    assert [f.id for f in st2.flagged] == [str(second)]
    st2.reviewed(str(second))
    assert st2.flagged == []


def test_the_queue_state_shows_each_networks_text_and_images_and_binds_decisions(as_role, tmp_path, actor_factory):
    from govsocial_app.services.publishing import approval_content
    from govsocial_app.state.approvals import ApprovalsState

    admin, author = actor_factory("admin"), actor_factory("publisher")
    pid, masto = make_profile(tmp_path, handle="@riverton"), make_profile(tmp_path, network="mastodon", handle="@riverton@social.example")
    approvals.require_for_profile(admin, pid, approvals.save_workflow(admin, "Sign-off", [StepSpec("Managers", "any", role="manager")]))
    media = composer.store_media(author, "map.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    r = composer.save(author, ComposerInput(text="Road works on Elm St", profile_ids=[pid, masto], variants={"mastodon": "UNAPPROVED VARIANT"},
                                              media=[composer.MediaRef(media.id, "Map of Elm St")]), action="now")
    app_state, manager = as_role("manager", "Morgan Manager")
    st = sub(app_state, ApprovalsState)
    st.load()
    [card] = st.mine
    assert [(n.label, n.text) for n in card.networks] == [("Simulator · @riverton", "Road works on Elm St"),
                                                         ("Mastodon · @riverton@social.example", "UNAPPROVED VARIANT")]
    [image] = card.images
    assert image.url.startswith("/api/approval-media/") and image.alt == "Map of Elm St" and "/_upload" not in image.url
    assert card.version == "Version 1" and card.fingerprint == approval_content.current_hash(r.post_id)[:12]
    assert not hasattr(ApprovalsState, "show_links") and "links" not in ApprovalsState.__fields__

    # The author changes the variant while Morgan reads: Morgan's click does not approve the new words.
    composer.save(author, ComposerInput(text="Road works on Elm St", profile_ids=[pid, masto], variants={"mastodon": "Another variant"},
                                          media=[composer.MediaRef(media.id, "Map of Elm St")]), action="now", post_id=r.post_id)
    st.decide(str(r.post_id), "approved")
    assert views.post_view(r.post_id).status == "pending_approval"
    [card] = st.mine
    assert card.networks[1].text == "Another variant" and card.version == "Version 2"
    st.decide(str(r.post_id), "approved")
    assert views.post_view(r.post_id).status == "scheduled"


def test_an_editor_sees_why_they_cannot_decide(as_role, tmp_path, actor_factory):
    from govsocial_app.state.approvals import ApprovalsState

    admin, author = actor_factory("admin"), actor_factory("publisher")
    pid = make_profile(tmp_path)
    approvals.require_for_profile(admin, pid, approvals.save_workflow(admin, "Sign-off", [StepSpec("Managers", "any", role="manager")]))
    r = composer.save(author, ComposerInput(text="First words", profile_ids=[pid]), action="now")
    app_state, manager = as_role("manager", "Morgan Manager")
    composer.save(manager, ComposerInput(text="Morgan's words", profile_ids=[pid]), action="now", post_id=r.post_id)
    st = sub(app_state, ApprovalsState)
    st.load()
    assert st.mine == [] and [c.id for c in st.blocked] == [str(r.post_id)]
    assert st.blocked[0].blocked == "You changed this post (version 2), so someone who did not change it must decide."
    assert st.blocked[0].nobody_left  # Morgan is the only manager
    app_state.lang = "ar"
    st._refresh()
    assert st.blocked[0].blocked.startswith("أنت غيّرت هذا المنشور")


def test_the_composer_says_a_post_is_being_checked_when_the_network_answer_was_lost(as_role, tmp_path):
    """publisher.py marks a target "unknown" after an ambiguous failure; the author sees that it is being checked
    (and, in Arabic, in Arabic), not a blank note that invites a second publish."""
    import asyncio

    from govsocial_app.i18n import translate
    from govsocial_app.services.publishing import sender
    from govsocial_app.state.publish import UNCERTAIN, PublishState
    from tests.publishing.conftest import simulator_for

    pid = make_profile(tmp_path)
    app_state, author = as_role("publisher")
    r = composer.save(author, ComposerInput(text="Road closed on Elm St", profile_ids=[pid]), action="now")
    simulator_for(pid).inject_faults(["timeout-after"])
    assert asyncio.run(sender.run_once()).outcomes == {"unknown": 1}
    st = sub(app_state, PublishState)
    for lang in ("en", "ar"):
        app_state.lang = lang
        st._open(r.post_id)
        handle = views.post_view(r.post_id).targets[0].handle
        assert translate(UNCERTAIN["unknown"], lang, handle=handle) in st.post_note
