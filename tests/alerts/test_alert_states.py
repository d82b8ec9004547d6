"""The alert states on the real state classes: role checks on the server, and what each handler stores."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from govsocial_app.db.engine import session_scope
from govsocial_app.services import auth
from govsocial_app.services.alerting import alerts, spikes
from govsocial_app.services.authz import PermissionDenied
from tests.alerts.helpers import make_profile
from tests.alerts.push_receiver import Browser
from tests.signed_in import signed_in  # noqa: F401 - fixture


@pytest.fixture
def as_role(signed_in):
    """(the page state, the Actor) for a new user of that role (tests/signed_in.py)."""
    return lambda role, cls: signed_in(role, cls, with_actor=True)


def _alert() -> int:
    spec = alerts.AlertSpec(kind="spike", severity="critical", title="Spike on {stream}: {count} messages in the last hour",
                              params={"stream": "all profiles", "count": 30}, translate_params=("stream",), link="/inbox",
                              data={"count": 30, "baseline": 4.0, "threshold": 20, "terms": [["flood", 12]], "term_links": {"flood": "/inbox?q=flood"}})
    with session_scope() as s:
        return alerts.create_alert(s, spec, alerts.Audience(("admin",)), datetime.now(timezone.utc)).id


def test_the_alert_centre_lists_alerts_in_the_users_language_and_only_staff_acknowledge(as_role):
    from govsocial_app.state.alerts import AlertsState

    alert_id = _alert()
    viewer, _ = as_role("viewer", AlertsState)
    viewer.load()
    [view] = viewer.alerts
    assert view.title == "Spike on all profiles: 30 messages in the last hour"
    assert view.numbers == "30 in the last hour · usual 4.0 · alert at 20"
    assert [(t.term, t.link) for t in view.terms] == [("flood", "/inbox?q=flood")]
    with pytest.raises(PermissionDenied):
        viewer.acknowledge(alert_id)
    viewer.snooze("spike")
    assert "spike" in viewer.snoozed
    responder, actor = as_role("responder", AlertsState)
    auth.update_preferences(actor.user_id, actor, locale="ar")
    responder.load()
    responder.acknowledge(alert_id)
    [view] = responder.alerts
    assert view.acked and actor.label.split(" <")[0] in view.ack_text
    assert view.title == "ارتفاع مفاجئ في كل الحسابات: 30 رسالة في الساعة الأخيرة"


def test_alert_settings_need_alerts_configure_and_save_rules_from_the_form(as_role):
    from govsocial_app.state.alert_settings import AlertSettingsState

    make_profile()
    responder, _ = as_role("responder", AlertSettingsState)
    # The page's load refuses quietly (the page shows its "no access" notice); nothing is read, and any change is refused.
    assert responder.load() is None and responder.rules == []
    with pytest.raises(PermissionDenied):
        responder.save_rule({"rule_id": "1", "enabled": "on"})
    manager, _ = as_role("manager", AlertSettingsState)
    manager.load()
    assert [r.enabled for r in manager.rules] == [True, False]
    assert [t["type"] for t in manager.figure["data"]] == ["bar", "scatter", "scatter"]
    rule = manager.rules[1]
    manager.save_rule({"rule_id": str(rule.rule_id), "enabled": "on", "sensitivity": "2,5", "min_count": "15", "cooldown": "45",
                       "role_manager": "on", "role_admin": "off"})
    assert [(v.enabled, v.sensitivity, v.min_count, v.cooldown_min, v.audience_roles) for v in spikes.rules()][1] == (True, 2.5, 15, 45, ("manager",))
    with pytest.raises(PermissionDenied):
        manager.save_smtp({"host": "smtp.example.gov", "port": "587"})


def test_enabling_push_stores_the_subscription_or_explains_why_not(as_role):
    from govsocial_app.state.notifications import SUBSCRIBE_ERRORS, NotificationsState

    state, _ = as_role("viewer", NotificationsState)
    state.load()
    assert len(state.vapid_key) > 80
    state.save_subscription({"ok": False, "error": "denied"})
    assert state.error == SUBSCRIBE_ERRORS["denied"] and state.devices == []
    state.set_label("Duty phone")
    state.save_subscription({"ok": True, "subscription": Browser().subscription("https://push.example.net/x")})
    assert state.error == "" and [(d.label, d.service) for d in state.devices] == [("Duty phone", "push.example.net")]
    state.remove(state.devices[0].id)
    assert state.devices == []
