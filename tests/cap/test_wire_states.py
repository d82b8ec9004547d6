"""The states behind the official-alerts screens, on the real classes: the admin page (role-checked, audited), one
tap from an official alert into the composer (both languages, the expiry enforced, Arabic messages), the checklist,
and the follow-up list in Alerts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import reflex as rx
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, Post, PostEmergency
from govsocial_app.services import auth
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.cap import emergency, official, store
from tests.cap.feed_server import FeedServer
from tests.cap.helpers import fixture
from tests.cap.wire_helpers import publish_on
from tests.publishing.conftest import make_profile

PASSWORD = "correct horse battery"


@pytest.fixture
def app_state(db):
    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)
    from govsocial_app.state.app_state import AppState

    root = rx.State(_reflex_internal_init=True)
    return root.substates[AppState.get_name()]


@pytest.fixture
def as_role(app_state, actor_factory):
    def signed_in(role: str):
        actor = actor_factory(role)
        token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
        app_state.auth_token = token
        app_state._load_user()
        return actor

    return signed_in


def sub(app_state, cls):
    return app_state.substates[cls.get_name()]


def test_the_admin_page_adds_sources_saves_the_boundary_and_chooses_blocking_checks(app_state, as_role):
    from govsocial_app.state.admin_cap import CapAdminState

    as_role("manager")
    st = sub(app_state, CapAdminState)
    assert st.load() is None and st.sources == []  # the page's load refuses quietly; the page says "no access"
    for handler in (lambda: st.add_source({"name": "x", "url": "https://a.gov/f.atom"}), lambda: st.toggle_blocking("all_caps"),
                    lambda: st.save_boundary_text({"geojson": "{}"}), lambda: st.remove_source("1")):
        with pytest.raises(PermissionDenied):
            handler()
    as_role("admin")
    st.load()
    assert st.sources == [] and st.jurisdiction == ""
    st.add_source({"name": "County", "url": "file:///etc/passwd", "interval": "60"})
    assert "http" in st.error and st.sources == []
    st.add_source({"name": "IPAWS", "url": "https://apps.fema.gov/IPAWSOPEN_EAS_SERVICE/rest/public/recent", "interval": "10"})
    assert st.error == "" and [(s["name"], s["interval"], s["status"]) for s in st.sources] == [("IPAWS", "120", "new")]
    st.save_boundary_text({"name": "Riverton", "geojson": '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}'})
    assert st.error and st.jurisdiction == ""  # a ring that does not close
    st.save_boundary_text({"name": "Riverton", "geojson": fixture("riverton_boundary.geojson").decode(), "severity": "Severe",
                           "urgency": "Expected", "certainty": "Likely"})
    assert st.error == "" and st.jurisdiction.startswith("Riverton") and "Severe" in st.jurisdiction
    st.toggle_blocking("all_caps")
    assert st.blocking == ["all_caps"] and emergency.blocking_items() == ["all_caps"]
    app_state.lang = "ar"
    st.add_source({"name": "Bad", "url": "https://a.gov/f.atom", "interval": "1"})
    assert any("\u0600" <= ch <= "\u06ff" for ch in st.error)
    with session_scope() as s:
        actions = {a.action for a in s.exec(select(AuditLog))}
    assert {"cap.source.create", "cap.jurisdiction.update", "cap.accessibility.blocking"} <= actions


async def test_one_tap_from_an_official_alert_fills_both_languages_and_enforces_the_expiry(app_state, as_role, actor_factory, tmp_path, loopback_peers):
    from govsocial_app.state.alerts import AlertsState
    from govsocial_app.state.publish import PublishState

    admin = actor_factory("admin")
    store.save_jurisdiction(admin, fixture("riverton_boundary.geojson"), name="Riverton")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with FeedServer() as feed:
        store.create_source(admin, "County", feed.url("/index.atom"), interval_s=5)
        publish_on(feed, ["flood_alert"], now)
        report = await official.poll_due(now)
    cap_id = report.sources[0].raised[0]
    pid = make_profile(tmp_path)
    as_role("responder")
    alerts = sub(app_state, AlertsState)
    alerts.load()
    (card,) = [a for a in alerts.alerts if a.kind == "official"]
    assert card.link == f"/publish?cap={cap_id}" and card.kind_label == "Official"

    as_role("publisher")
    st = sub(app_state, PublishState)
    st.load()
    st._open_alert(cap_id)
    st._recount()
    assert st.cap_alert_id == cap_id and st.selected == [str(pid)]
    assert "flood" in st.text.lower() and any("\u0600" <= ch <= "\u06ff" for ch in st.second_text)
    assert st.expires_label and {c.direction for c in st.lang_counts} == {"ltr", "rtl"}
    assert {c.language for c in st.checklist} == {"en", "ar"}
    expires = now + timedelta(hours=11)  # flood_alert expires 11 hours after FLOOD_NOW
    late = expires + timedelta(hours=1)
    st.set_day(late.strftime("%Y-%m-%d"))
    st.set_time(late.strftime("%H:%M"))
    st.schedule()
    assert st.issues and st.issues[0].startswith("The official alert expires at")
    app_state.lang = "ar"
    st.schedule()
    assert st.issues[0].startswith("تنتهي صلاحية التنبيه الرسمي")
    app_state.lang = "en"
    st.post_now()
    assert st.issues == [] and st.post_id
    with session_scope() as s:
        em = s.exec(select(PostEmergency).where(PostEmergency.post_id == st.post_id)).one()
        assert em.cap_alert_id == cap_id and em.languages["ar"]["text"] == st.second_text
        s.get(Post, st.post_id).status = "published"
    # The source cancels it: the post is flagged, in Alerts and on the post.
    with FeedServer() as feed:
        with session_scope() as s:
            from govsocial_app.db.models import CapSource

            src = s.exec(select(CapSource)).one()
            src.url, src.poll_state, src.next_poll_at = feed.url("/index.atom"), {}, None
        publish_on(feed, ["flood_alert", "flood_cancel"], now)
        await official.poll_due(now + timedelta(minutes=1))
    alerts.refresh()
    assert [f["post"] for f in alerts.follow_ups] == [str(st.post_id)]
    post_id = st.post_id
    st.load()
    st._open(post_id)
    assert st.follow_up == "cancel"
    st.done_follow_up()
    assert emergency.view(post_id).follow_up == ""
    # Its own warning in GovSocial's CAP feed: corrected (an Update), then withdrawn (a Cancel) with a reason.
    from govsocial_app.db.models import CapOutMessage
    from govsocial_app.services.cap import outbound

    assert st.is_emergency and not st.withdrawn
    outbound.sync()
    st.set_second_text(st.second_text + " تحديث.")
    st.correct_warning()
    outbound.sync(datetime.now(timezone.utc) + timedelta(seconds=1))
    st.withdraw_warning()
    assert not st.withdrawn  # a withdrawal needs its reason
    st.set_withdraw_note("The river is back below flood stage.")
    st.withdraw_warning()
    assert st.withdrawn
    outbound.sync(datetime.now(timezone.utc) + timedelta(seconds=2))
    with session_scope() as s:
        kinds = [m.msg_type for m in s.exec(select(CapOutMessage).where(CapOutMessage.post_id == post_id).order_by(CapOutMessage.seq))]
    assert kinds == ["Alert", "Update", "Cancel"]


def test_the_approver_sees_the_checklist_and_cannot_approve_past_a_blocking_item(app_state, as_role, actor_factory, tmp_path):
    from govsocial_app.services.publishing import approvals
    from govsocial_app.services.publishing.approvals import StepSpec
    from govsocial_app.services.publishing.composer import ComposerInput
    from govsocial_app.state.approvals import ApprovalsState

    admin = actor_factory("admin")
    pid = make_profile(tmp_path)
    approvals.require_for_profile(admin, pid, approvals.save_workflow(admin, "Sign-off", [StepSpec("Managers", "any", role="manager")]))
    author = actor_factory("publisher")
    post_id = emergency.save(author, ComposerInput(text="EVACUATE THE RIVER DISTRICT NOW. Go to the school.", profile_ids=[pid]),
                             action="now", second_text="غادروا منطقة النهر الآن.").post_id
    emergency.set_blocking_items(admin, ["all_caps"])
    as_role("manager")
    st = sub(app_state, ApprovalsState)
    st.load()
    (card,) = st.mine
    assert any(line.startswith("✗ No sentences in capitals (en)") for line in card.checklist)
    assert any("(ar)" in line for line in card.checklist)
    st.decide(str(post_id), "approved")
    with session_scope() as s:
        assert s.get(Post, post_id).status == "pending_approval"
    emergency.set_blocking_items(admin, [])
    st.decide(str(post_id), "approved")
    with session_scope() as s:
        assert s.get(Post, post_id).status != "pending_approval"
    # The approved twin post taught the translation memory.
    assert len(store.load_translation_memory()) >= 1
