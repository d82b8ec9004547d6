"""Response targets in the states: the targets page saves only for managers and admins (validation said in the
reader's language), the inbox's "Set priority" is refused to viewers, and the cards carry priority and clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.inbox import targets
from tests.state.test_role_boundaries import ROLES, app_states, as_role, sub  # noqa: F401

FORM = {"first_urgent": "10", "done_urgent": "1.5", "first_high": "60", "done_high": "8", "first_normal": "240",
        "done_normal": "24", "first_low": "1440", "done_low": "72"}


@pytest.mark.parametrize("role", ROLES)
def test_only_managers_and_admins_save_targets(as_role, role):
    from govsocial_app.state.targets import TargetsState

    page = sub(as_role(role), TargetsState)
    page.load()
    assert [r.priority for r in page.rows] == list(targets.PRIORITIES)
    assert page.rows[0].first == "15" and page.rows[0].done == "2"
    if role in ("admin", "manager"):
        assert page.can_manage
        page.save(FORM)
        assert page.error == "" and page.notice
        assert targets.targets()["urgent"] == (10, 90)
        assert page.rows[0].first == "10" and page.rows[0].done == "1.5"
    else:
        assert not page.can_manage
        with pytest.raises(PermissionDenied):
            page.save(FORM)
        assert targets.targets()["urgent"] == (15, 120)


def test_bad_targets_get_a_clear_message_in_arabic(as_role):
    from govsocial_app.state.targets import TargetsState

    page = sub(as_role("manager"), TargetsState)
    page.load()
    page.save({**FORM, "first_high": "600"})
    assert page.error == "High: the first response must not take longer than completion."
    page.lang = "ar"
    page.save({**FORM, "done_low": "abc"})
    assert page.error.startswith("منخفض:") and "الإنجاز" in page.error
    assert targets.targets()["high"] == (60, 480)  # nothing saved


@pytest.mark.parametrize("role", ("responder", "viewer"))
def test_set_priority_from_the_inbox(as_role, role, store):
    from govsocial_app.state.inbox import InboxState
    from tests.inbox.conftest import msg

    (mid,) = store([msg(1)], received=datetime.now(timezone.utc) - timedelta(minutes=3))
    inbox = sub(as_role(role), InboxState)
    inbox.open_id = mid
    if role == "viewer":
        with pytest.raises(PermissionDenied):
            inbox.set_priority("urgent")
        return
    inbox._load_detail()
    assert inbox.d_card.priority_label == "" and inbox.d_card.sla_text.endswith("left")
    inbox.set_priority("urgent")
    assert inbox.d_card.priority == "urgent" and inbox.d_card.priority_label == "Urgent"
    assert inbox.d_card.sla_text == "12 min left" and inbox.d_card.sla_tone == ""


def test_cards_show_overdue_and_the_minute_tick_rewords_them(as_role, store):
    from govsocial_app.state.inbox import InboxState
    from govsocial_app.state.targets import retick
    from tests.inbox.conftest import msg

    now = datetime.now(timezone.utc)
    store([msg(1)], received=now - timedelta(hours=5))  # normal: first response due after 4 h
    store([msg(2)], received=now - timedelta(minutes=10))
    inbox = sub(as_role("responder"), InboxState)
    inbox.lang = "en"
    inbox._read_page()
    by_author = {c.author: c for c in inbox.cards}
    late, fresh = by_author["Citizen 1"], by_author["Citizen 2"]
    assert late.sla_text == "Overdue 1 hr" and late.sla_tone == "danger"
    assert fresh.sla_text == "3 hr 50 min left" and fresh.sla_tone == ""
    cards, changed = retick([fresh], "en", now + timedelta(hours=3, minutes=30))
    assert changed and cards[0].sla_text == "20 min left" and cards[0].sla_tone == "warning"
    cards, changed = retick([fresh], "ar", now + timedelta(hours=3, minutes=55, seconds=30))
    assert cards[0].sla_text == "متأخر 5 دقائق" and cards[0].sla_tone == "danger"
    inbox.tick_targets("")  # the page's minute tick runs without a query and keeps the words current
    assert {c.author: c.sla_text for c in inbox.cards}["Citizen 1"] == "Overdue 1 hr"
