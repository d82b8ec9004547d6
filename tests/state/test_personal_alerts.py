"""Personal notifications ("your post was rejected", "approve this post") are only their recipients' to see, count
and acknowledge: not every role's, as the alert centre showed them before (issue 13, low finding)."""

from __future__ import annotations

import pytest
import reflex as rx

from govsocial_app.db.engine import session_scope
from govsocial_app.services import auth
from govsocial_app.services.alerting import alerts as alerting
from govsocial_app.services.publishing import lifecycle
from govsocial_app.services.errors import UserError

PASSWORD = "correct horse battery"


@pytest.fixture
def people(db, actor_factory):
    return {"author": actor_factory("publisher"), "other": actor_factory("viewer"), "admin": actor_factory("admin")}


def raise_personal(user_id: int, severity: str = "warning") -> int:
    with session_scope() as s:
        alert = lifecycle.notify(s, [user_id], "approval", "Your post was sent back: {reason}", params={"reason": "typo"},
                                  body="Road works on Elm St", link="/publish", severity=severity)
        s.flush()
        return alert.id


def raise_team() -> int:
    spec = alerting.AlertSpec(kind="system", severity="warning", title="Team alert")
    with session_scope() as s:
        alert = alerting.create_alert(s, spec, alerting.Audience(("admin",)))
        s.flush()
        return alert.id


def test_only_the_recipient_sees_a_personal_alert_in_the_alert_centre(people):
    mine, team = raise_personal(people["author"].user_id), raise_team()
    ids = lambda who: [r.id for r in alerting.history(alerting.HistoryFilter(), viewer_id=people[who].user_id)]  # noqa: E731
    assert ids("author") == [team, mine]
    assert ids("other") == [team]
    assert ids("admin") == [team]  # an admin reads the audit log, not other people's notifications


def test_the_badge_counts_only_your_own_personal_alerts(people):
    raise_personal(people["author"].user_id, severity="critical")
    raise_team()
    summary = alerting.live_summary()
    count, critical = summary.for_user(people["author"].user_id)
    assert count == 2 and [c["title_en"] for c in critical] == ["Your post was sent back: typo"]
    assert summary.for_user(people["other"].user_id) == (1, [])


def test_only_the_recipient_acknowledges_a_personal_alert(people):
    mine = raise_personal(people["author"].user_id)
    with pytest.raises(UserError):
        alerting.acknowledge(mine, people["admin"])
    alerting.acknowledge(mine, people["author"])
    [row] = [r for r in alerting.history(alerting.HistoryFilter(), viewer_id=people["author"].user_id) if r.id == mine]
    assert row.acknowledged_at is not None


def test_the_alert_centre_page_shows_another_persons_notification_to_nobody(people):
    import govsocial_app.govsocial_app  # noqa: F401
    from govsocial_app.state.alerts import AlertsState
    from govsocial_app.state.app_state import AppState

    mine = raise_personal(people["author"].user_id)

    def page_for(who: str) -> list[int]:
        email = people[who].label.split("<")[1].rstrip(">")
        token, _ = auth.sign_in(email, PASSWORD)
        root = rx.State(_reflex_internal_init=True)
        app = root.substates[AppState.get_name()]
        app.auth_token = token
        alerts = app.substates[AlertsState.get_name()]
        alerts.load()
        return [a.id for a in alerts.alerts]

    assert mine in page_for("author")
    assert mine not in page_for("other") and mine not in page_for("admin")


async def test_the_live_badge_tells_a_revoked_session_nothing(people):
    """The alerts relay pushes the badge to every tab of a worker; it re-checks each tab's session first (issue 13)."""
    import govsocial_app.govsocial_app  # noqa: F401
    from govsocial_app.state import alerts as alerts_state, watchers
    from govsocial_app.state.app_state import AppState

    raise_personal(people["author"].user_id)
    raise_team()
    token, user = auth.sign_in(people["author"].label.split("<")[1].rstrip(">"), PASSWORD)
    root = rx.State(_reflex_internal_init=True)
    app = root.substates[AppState.get_name()]
    app.auth_token, app.user_id, app.user_role = token, user.id, user.role
    badge = root.substates[alerts_state.AlertsLive.get_name()]
    watchers._sessions.clear()
    await alerts_state._apply(badge, alerting.live_summary())
    assert badge.unacked == 2

    auth.sign_out(token, user.actor("127.0.0.1", "pytest"))
    watchers._sessions.clear()  # re-checked at most every SESSION_RECHECK_S; the test does not wait
    await alerts_state._apply(badge, alerting.live_summary())
    assert badge.unacked == 0 and badge.critical == []


async def test_a_banner_that_joins_before_the_page_signs_the_client_in_serves_the_token_owner(people):
    """A banner joins when it mounts, which can come before the page's load has set the client's user: the join then
    serves the token's re-checked owner. The relay's own push
    still needs a client signed in as that owner, and a client signed in as someone else is told nothing."""
    import govsocial_app.govsocial_app  # noqa: F401
    from govsocial_app.state import alerts as alerts_state, watchers
    from govsocial_app.state.app_state import AppState

    raise_personal(people["author"].user_id)
    raise_team()
    token, user = auth.sign_in(people["author"].label.split("<")[1].rstrip(">"), PASSWORD)
    root = rx.State(_reflex_internal_init=True)
    app = root.substates[AppState.get_name()]
    app.auth_token = token  # a new client: the token from localStorage, no user loaded yet
    badge = root.substates[alerts_state.AlertsLive.get_name()]
    watchers._sessions.clear()
    alerts_state._cached = None
    await alerts_state._apply(badge, alerting.live_summary())  # the relay: not for a client no load signed in
    assert badge.unacked == 0
    await badge.join()
    assert badge.unacked == 2

    other = root.substates[AppState.get_name()]
    other.user_id = user.id + 1000  # signed in (by an earlier load) as somebody else than the token's owner
    await badge.join()
    assert badge.unacked == 0 and badge.critical == []
