"""The rules page's state (/more/rules) on the real state class: a manager dry-runs then saves a rule, a query error
shows its position in the reader's language, and responders and viewers read but are refused every change."""

from __future__ import annotations

import pytest

from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.intake import rules
from govsocial_app.services.inbox import ingest
from govsocial_app.db.engine import session_scope
from tests.inbox.conftest import msg, profile  # noqa: F401 - fixture
from tests.signed_in import signed_in  # noqa: F401 - fixture


@pytest.fixture
def rules_as(signed_in):
    from govsocial_app.state.rules import RulesState

    return lambda role, lang="en": signed_in(role, RulesState, lang=lang)


def test_a_manager_dry_runs_before_saving_then_saves(rules_as, profile):
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    with session_scope() as s:
        ingest.store(s, [msg(1, "pothole on Elm", when=now - timedelta(hours=1)), msg(2, "bins", when=now - timedelta(hours=1))],
                     profile_id=profile, now=now - timedelta(minutes=30))
    st = rules_as("manager")
    st.load()
    assert st.can_manage and st.rows == []
    st.new_rule()
    form = {"name": "Potholes", "query": "pothole", "tag": "Roads", "assign": "any", "priority": "high"}
    st.set_intent("dry")
    st.submit(form)
    assert st.dry_text == "Would have matched 1 of the last 7 days' messages." and [e.text for e in st.examples] == ["pothole on Elm"]
    assert rules.list_rules(auth_actor(st)) == [], "a dry run saves nothing"
    st.set_intent("save")
    st.submit(form)
    assert not st.editing and [r.name for r in st.rows] == ["Potholes"]
    assert st.rows[0].summary == "Rule “Potholes” tagged Roads and set priority High"


def auth_actor(st):
    return st._require("inbox.view")


def test_a_query_error_shows_its_position_in_arabic(rules_as):
    st = rules_as("manager")
    st.load()
    st.parent_state.lang = "ar"  # the reader's language (load took the account's, English)
    st.new_rule()
    st.set_intent("save")
    st.submit({"name": "Bad", "query": 'pothole OR "oops', "tag": "Roads"})
    assert st.error_position == 12 and st.error.startswith("في استعلام الكلمات المفتاحية خطأ")
    assert "Unclosed" not in st.error
    assert st.rows == []


@pytest.mark.parametrize("role", ["responder", "viewer", "publisher"])
def test_other_roles_read_but_every_change_is_refused(rules_as, role, actor_factory):
    rid = rules.save(actor_factory("manager"), rule_id=None, name="Spam", conditions={"query": "casino"}, actions=[{"type": "complete"}])
    st = rules_as(role)
    st.load()
    assert not st.can_manage and [r.name for r in st.rows] == ["Spam"]
    for call in (st.new_rule, lambda: st.edit(rid), lambda: st.submit({"name": "X", "tag": "Y"}), lambda: st.toggle(rid, False),
                 lambda: st.move(rid, 1), lambda: st.delete(rid), lambda: st.set_intent("dry")):
        with pytest.raises(PermissionDenied):
            call()
    assert [r.enabled for r in rules.list_rules(actor_factory("viewer"))] == [True]


def test_automatic_replies_and_the_agency_time_zone_are_admin_settings(rules_as):
    from govsocial_app.services.errors import UserError

    manager = rules_as("manager")
    manager.load()
    assert not manager.is_admin and not manager.auto_reply_on
    with pytest.raises(PermissionDenied):
        manager.set_auto_reply(True)
    with pytest.raises(PermissionDenied):
        manager.save_timezone({"timezone": "Asia/Dubai"})
    admin = rules_as("admin")
    admin.load()
    assert admin.is_admin
    admin.set_auto_reply(True)
    assert admin.auto_reply_on and rules.auto_reply_enabled()
    admin.save_timezone({"timezone": "Asia/Dubai"})
    assert admin.agency_tz == "Asia/Dubai" == rules.agency_timezone()
    with pytest.raises(UserError, match="Unknown time zone"):
        admin.save_timezone({"timezone": "Mars/Olympus"})
    assert rules.agency_timezone() == "Asia/Dubai"
