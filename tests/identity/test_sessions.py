"""Your sessions: device, address, first and last seen; revoke one, all others, or (admin) all of a user's."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuthSession
from govsocial_app.services import auth
from govsocial_app.services.authz import Actor, PermissionDenied
from govsocial_app.services.identity import errors, sessions
from tests.identity.helpers import PASSWORD, audit_rows

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")
PIXEL = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
         "Mobile Safari/537.36")
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _me(uid: int, role: str = "responder") -> Actor:
    return Actor(uid, f"user {uid}", role, "192.0.2.1", "pytest")


@pytest.fixture
def ana(person):
    uid = person("ana@riverton.gov", "responder")
    tokens = [auth.sign_in("ana@riverton.gov", PASSWORD, ip, ua)[0]
              for ip, ua in (("192.0.2.10", IPHONE), ("192.0.2.20", PIXEL), ("192.0.2.30", DESKTOP))]
    return uid, tokens


@pytest.mark.parametrize("ua,expected", [
    (IPHONE, ("Mobile Safari 17", "iOS 17", "iPhone")),
    (PIXEL, ("Chrome Mobile 124", "Android 14", "Pixel 8")),
    (DESKTOP, ("Firefox 128", "Windows 10", "")),
    ("python-httpx/0.28.1", ("python-httpx", "", "")),
    ("", ("Unknown browser", "", "")),
])
def test_devices_are_described_from_the_user_agent(ua, expected):
    assert sessions.describe_device(ua) == expected


def test_list_shows_each_browser_with_the_current_one_marked(ana):
    uid, (phone, pixel, desk) = ana
    with session_scope() as s:  # the iPhone was used most recently
        row = s.exec(select(AuthSession).where(AuthSession.client_ip == "192.0.2.10")).one()
        row.last_seen_at = datetime.now(timezone.utc) + timedelta(seconds=5)
    listed = sessions.list_sessions(uid, _me(uid), current_token=pixel)
    assert [x.client_ip for x in listed] == ["192.0.2.10", "192.0.2.30", "192.0.2.20"]
    by_ip = {x.client_ip: x for x in listed}
    assert by_ip["192.0.2.20"].current and not by_ip["192.0.2.10"].current
    assert by_ip["192.0.2.10"].label == "Mobile Safari 17 on iOS 17 (iPhone)"
    assert by_ip["192.0.2.30"].label == "Firefox 128 on Windows 10"
    assert all(x.method == "password" and x.first_seen.tzinfo for x in listed)


def test_revoke_one_ends_only_that_session(ana):
    uid, (phone, pixel, desk) = ana
    target = next(x for x in sessions.list_sessions(uid, _me(uid)) if x.client_ip == "192.0.2.10")
    sessions.revoke_session(target.id, _me(uid))
    assert auth.user_for_token(phone) is None and auth.user_for_token(pixel) and auth.user_for_token(desk)
    assert {x.client_ip for x in sessions.list_sessions(uid, _me(uid))} == {"192.0.2.20", "192.0.2.30"}
    [row] = audit_rows("auth.session_revoke")
    assert row.detail == {"session_id": target.id, "by_admin": False}
    with pytest.raises(errors.IdentityError, match="no longer exists"):
        sessions.revoke_session(987654, _me(uid))


def test_sign_out_everywhere_else_keeps_this_tab(ana):
    uid, (phone, pixel, desk) = ana
    assert sessions.revoke_all(uid, _me(uid), keep_token=pixel) == 2
    assert auth.user_for_token(pixel) and not auth.user_for_token(phone) and not auth.user_for_token(desk)
    assert [x.current for x in sessions.list_sessions(uid, _me(uid), current_token=pixel)] == [True]


def test_only_an_admin_may_see_or_end_someone_elses_sessions(ana, person):
    uid, tokens = ana
    other = person("bob@riverton.gov", "manager")
    admin = person("root@riverton.gov", "admin")
    with pytest.raises(PermissionDenied):
        sessions.list_sessions(uid, _me(other, "manager"))
    with pytest.raises(PermissionDenied):
        sessions.revoke_session(sessions.list_sessions(uid, _me(uid))[0].id, _me(other, "manager"))
    with pytest.raises(PermissionDenied):
        sessions.revoke_all(uid, _me(other, "manager"))
    assert len(sessions.list_sessions(uid, _me(admin, "admin"))) == 3
    assert sessions.revoke_all(uid, _me(admin, "admin")) == 3
    assert all(auth.user_for_token(t) is None for t in tokens)
    [row] = audit_rows("auth.sessions_revoke_all")
    assert row.actor_id == admin and row.detail == {"ended": 3, "kept_current": False, "by_admin": True}


def test_expired_and_revoked_sessions_are_not_listed(ana):
    uid, (phone, pixel, desk) = ana
    auth.sign_out(phone, _me(uid))
    with session_scope() as s:
        row = s.exec(select(AuthSession).where(AuthSession.client_ip == "192.0.2.30")).one()
        row.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert [x.client_ip for x in sessions.list_sessions(uid, _me(uid))] == ["192.0.2.20"]


def test_open_session_records_how_the_session_was_opened(person):
    from govsocial_app.db.models import User

    uid = person("ana@riverton.gov")
    with session_scope() as s:
        token = sessions.open_session(s, s.get(User, uid), client_ip="192.0.2.5", user_agent=DESKTOP, method="sso",
                                      provider="Okta", id_token="header.payload.sig")
    assert auth.user_for_token(token).id == uid
    [info] = sessions.list_sessions(uid, _me(uid), current_token=token)
    assert (info.method, info.provider, info.current) == ("sso", "Okta", True)
    assert sessions.sso_details(token) == ("Okta", "header.payload.sig")
    with pytest.raises(ValueError):
        with session_scope() as s:
            sessions.open_session(s, s.get(User, uid), method="magic-link")
