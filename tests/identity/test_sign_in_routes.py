"""The sign-in the product offers: /auth/oidc/start and /auth/oidc/callback against the real oidc-provider (through the
app's own Starlette routes), the one-time hand-off ticket to the sign-in page, and the password step's policy and
second factor (services/identity/signin.py)."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from urllib.parse import urlsplit

import pyotp
import pytest
from starlette.testclient import TestClient

from govsocial_app.api import build_api
from govsocial_app.i18n import translate
from govsocial_app.services import auth
from govsocial_app.services.authz import Actor
from govsocial_app.services.identity import errors, policy, signin, totp
from tests.identity.helpers import PASSWORD, audit_rows, query

# Imported at collection: Reflex keeps its state registry in a context variable, which async tests run in a copy of.
import govsocial_app.govsocial_app  # noqa: E402,F401

pytestmark = pytest.mark.peers


@pytest.fixture
def app_sso(sso, monkeypatch):
    monkeypatch.setattr(signin, "sso_config", lambda: sso)
    return sso


@pytest.fixture
def client():
    with TestClient(build_api(), base_url="http://127.0.0.1:3000") as c:
        yield c


def _start(client, next_: str = "/inbox") -> str:
    r = client.get("/auth/oidc/start", params={"next": next_}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["cache-control"] == "no-store"
    return r.headers["location"]


def _callback(client, callback_url: str) -> str:
    parts = urlsplit(callback_url)
    assert parts.path == "/auth/oidc/callback"
    r = client.get(parts.path + "?" + parts.query, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/login?sso=")
    return query(location)["sso"]


def _refusal(ticket: str) -> str:
    out = signin.redeem(ticket)
    assert out is not None and out.token == "" and out.msgid
    return translate(out.msgid, "en", **out.params)


def _failures() -> list[str]:
    return [r.detail["reason"] for r in audit_rows("auth.sso_failed")]


def test_sso_through_the_routes_opens_a_session_and_keeps_the_deep_link(app_sso, provider, person, client):
    uid = person("alice@riverton.gov", "viewer")
    to_provider = _start(client, "/inbox?view=mine")
    assert to_provider.startswith(provider.issuer + "/auth?")
    ticket = _callback(client, provider.sign_in(to_provider, "alice"))
    out = signin.redeem(ticket)
    assert out.next == "/inbox?view=mine" and out.msgid == ""
    user = auth.user_for_token(out.token)
    assert user.id == uid and user.role == "admin"  # gs-admins → admin
    assert signin.redeem(ticket) is None  # a ticket works once
    assert ticket not in out.token and out.token not in ticket


def test_an_open_redirect_next_is_dropped(app_sso, provider, person, client):
    person("alice@riverton.gov")
    ticket = _callback(client, provider.sign_in(_start(client, "//evil.example/x"), "alice"))
    assert signin.redeem(ticket).next == "/inbox"


def test_tampered_state_gives_a_message_and_an_audit_row(app_sso, provider, person, client):
    person("alice@riverton.gov")
    url = provider.sign_in(_start(client), "alice")
    state = query(url)["state"]
    ticket = _callback(client, url.replace(state, state[:-2] + ("AA" if not state.endswith("AA") else "BB")))
    assert "does not match a sign-in started here" in _refusal(ticket)
    assert _failures() == ["state_mismatch"]


def test_replayed_callback_gives_a_message(app_sso, provider, person, client):
    person("alice@riverton.gov")
    url = provider.sign_in(_start(client), "alice")
    assert signin.redeem(_callback(client, url)).token
    assert "already used or has expired" in _refusal(_callback(client, url))
    assert _failures() == ["code_replayed"]


def test_an_answer_naming_another_issuer_gives_a_message(app_sso, provider, person, client):
    person("alice@riverton.gov")
    url = provider.sign_in(_start(client), "alice")
    msg = _refusal(_callback(client, url + "&iss=" + "https%3A%2F%2Fidp.evil.example"))
    assert "did not come from the identity provider this server trusts" in msg
    assert _failures() == ["issuer_mismatch"]


def test_unknown_email_and_outside_the_groups_are_refused_with_messages(app_sso, provider, person, client):
    assert "No GovSocial account uses erin@riverton.gov" in _refusal(_callback(client, provider.sign_in(_start(client), "erin")))
    person("carol@riverton.gov", "publisher")
    msg = _refusal(_callback(client, provider.sign_in(_start(client), "carol")))
    assert "not in a group that may use GovSocial" in msg
    assert _failures() == ["unknown_email", "no_mapped_group"]


def test_provider_down_sends_the_person_back_with_a_message(app_sso, provider, monkeypatch, client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setattr(signin, "sso_config", lambda: replace(app_sso, issuer=dead, timeout_s=2))
    location = _start(client)
    assert location.startswith("/login?sso=")
    assert "Riverton ID is not answering" in _refusal(query(location)["sso"])
    assert _failures() == ["provider_unavailable"]


def test_callback_without_single_sign_on_configured(db, monkeypatch, client):
    monkeypatch.setattr(signin, "sso_config", lambda: None)
    assert "not set up on this server" in _refusal(_callback(client, "http://x/auth/oidc/callback?code=a&state=b"))
    assert _failures() == ["not_configured"]


def test_an_unexpected_failure_is_logged_and_said_plainly_never_a_trace(app_sso, db, monkeypatch, client):
    async def boom(*a, **k):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(signin.oidc, "complete_sign_in", boom)
    msg = _refusal(_callback(client, "http://x/auth/oidc/callback?code=a&state=b"))
    assert msg == "Sign-in did not work. Try again." and "fire" not in msg
    assert _failures() == ["unexpected"]


def test_expired_ticket_is_refused(db, monkeypatch):
    ticket = signin._issue({"token": "t", "next": "/inbox"})
    monkeypatch.setattr(signin, "_now", lambda: __import__("datetime").datetime.now(__import__("datetime").timezone.utc)
                        + signin.HANDOFF_TTL * 2)
    assert signin.redeem(ticket) is None
    assert signin.redeem("") is None and signin.redeem("x" * 500) is None


# ---------------------------------------------------------------- the password step


def test_password_sign_in_without_two_factor_opens_a_session(person):
    uid = person("pat@riverton.gov", "publisher")
    out = signin.password_sign_in("pat@riverton.gov", PASSWORD, "203.0.113.1", "pytest")
    assert out.challenge is None and auth.user_for_token(out.token).id == uid
    [row] = audit_rows("auth.sign_in")
    assert row.detail["method"] == "password"
    with pytest.raises(auth.AuthFailed):
        signin.password_sign_in("pat@riverton.gov", "wrong-password-here")


def test_password_off_for_everyone_but_the_break_glass_admin(person, monkeypatch):
    root = person("root@riverton.gov", "admin")
    person("pat@riverton.gov", "publisher")
    admin = Actor(root, "root", "admin")
    policy.set_policy(policy.SignInPolicy(password_sign_in="break_glass", break_glass_user_ids=(root,)), admin, sso_enabled=True)
    with pytest.raises(auth.AuthFailed) as refused:
        signin.password_sign_in("pat@riverton.gov", PASSWORD)
    assert "Password sign-in is turned off" in translate(str(refused.value), "en", **refused.value.params)
    assert [r.detail["reason"] for r in audit_rows("auth.sign_in_refused")] == ["password sign-in off"]
    assert signin.password_sign_in("root@riverton.gov", PASSWORD).token  # the break-glass admin still can


def test_enrolled_user_gets_the_code_step_then_a_session(person):
    uid = person("ana@riverton.gov", "responder")
    actor = Actor(uid, "ana", "responder")
    e = totp.begin_enrolment(actor)
    t0 = time.time() - 600
    codes = totp.confirm_enrolment(actor, pyotp.TOTP(e.secret).at(t0), at=t0)
    out = signin.password_sign_in("ana@riverton.gov", PASSWORD)
    assert out.token == "" and out.challenge.purpose == "verify"
    with pytest.raises(errors.WrongCode):
        totp.complete_challenge(out.challenge.token, "000000" if pyotp.TOTP(e.secret).now() != "000000" else "111111")
    done = totp.complete_challenge(out.challenge.token, codes[0])
    assert auth.user_for_token(done.token).id == uid and done.method == "password+recovery"
    again = signin.password_sign_in("ana@riverton.gov", PASSWORD)
    with pytest.raises(errors.WrongCode):
        totp.complete_challenge(again.challenge.token, codes[0])  # a recovery code works once


def test_role_that_requires_two_factor_is_sent_to_enrolment(person):
    root = person("root@riverton.gov", "admin")
    person("mo@riverton.gov", "manager")
    policy.set_policy(policy.SignInPolicy(two_factor_roles=("manager",)), Actor(root, "root", "admin"), sso_enabled=False)
    out = signin.password_sign_in("mo@riverton.gov", PASSWORD)
    assert out.token == "" and out.challenge.purpose == "enrol"
    assert totp.challenge_enrolment(out.challenge.token).qr_data_uri.startswith("data:image/svg+xml")


def test_the_sign_in_states_messages_have_arabic():
    """Messages the new states build with self._() (the page catalogue test sees only t() on pages)."""
    import re
    from pathlib import Path

    from govsocial_app.i18n import catalog
    from govsocial_app.state.my_sessions import METHOD_LABELS

    root = Path(__file__).resolve().parents[2] / "govsocial_app"
    found = set(METHOD_LABELS.values()) | {signin.PASSWORD_OFF_MSGID}
    for name in ("login", "two_factor", "my_sessions", "admin_identity"):
        found |= set(re.findall(r'self\._\(\s*"([^"]+)"', (root / "state" / f"{name}.py").read_text()))
    assert len(found) > 12
    assert sorted(m for m in found if m not in catalog("ar")) == []


def test_purge_removes_old_sign_in_leftovers_only(person, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from sqlmodel import func, select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SignInChallenge, SignInHandoff

    uid = person("ana@riverton.gov")
    old = signin._issue({"token": "t"})
    root = person("root@riverton.gov", "admin")
    policy.set_policy(policy.SignInPolicy(two_factor_roles=("viewer",)), Actor(root, "root", "admin"), sso_enabled=False)
    assert signin.password_sign_in("ana@riverton.gov", PASSWORD).challenge is not None
    later = datetime.now(timezone.utc) + timedelta(days=2)
    monkeypatch.setattr(signin, "_now", lambda: later)
    fresh = signin._issue({"token": "u"})
    assert signin.purge() == 2  # the old ticket and the old challenge; the fresh ticket stays
    with session_scope() as s:
        assert s.exec(select(func.count()).select_from(SignInHandoff)).one() == 1
        assert s.exec(select(func.count()).select_from(SignInChallenge).where(SignInChallenge.user_id == uid)).one() == 0
    assert old and fresh


async def test_the_hourly_job_is_scheduled_and_purges(db):
    from jobs import identity as identity_jobs
    from jobs.scheduler import build_scheduler

    assert build_scheduler("test").get_job("identity-purge") is not None
    await identity_jobs.purge_sign_in_leftovers()  # runs against the database without error


def test_a_session_whose_ticket_was_never_redeemed_is_ended(app_sso, provider, person, client, monkeypatch):
    from datetime import datetime, timezone

    person("alice@riverton.gov")
    claimed = _callback(client, provider.sign_in(_start(client), "alice"))
    out = signin.redeem(claimed)
    lost = _callback(client, provider.sign_in(_start(client), "alice"))  # the tab closed before it came back
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SignInHandoff
    from govsocial_app.services import crypto

    with session_scope() as s:
        lost_token = crypto.decrypt_json(
            s.exec(select(SignInHandoff).where(SignInHandoff.ticket_hash == signin._hash(lost))).one().payload_enc)["token"]
    assert auth.user_for_token(lost_token) is not None
    assert signin.end_unclaimed_sessions() == 0  # not expired yet
    later = datetime.now(timezone.utc) + signin.HANDOFF_TTL * 2
    monkeypatch.setattr(signin, "_now", lambda: later)
    assert signin.end_unclaimed_sessions() == 1
    assert auth.user_for_token(lost_token) is None and auth.user_for_token(out.token) is not None
    assert signin.end_unclaimed_sessions() == 0  # each once
