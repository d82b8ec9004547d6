"""The sign-in states driven as the page drives them (handlers on a state tree): the password form's code step,
More → Two-factor authentication, More → Your sessions, and the admin's reset and sign-out-everywhere. TOTP secrets
never sit in any state var (only the QR code carries one, once, at enrolment)."""

from __future__ import annotations

import inspect
import time

import pyotp
import pytest
import reflex as rx

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import UserTotp
from govsocial_app.services import auth, crypto
from govsocial_app.services.authz import Actor
from tests.identity.helpers import PASSWORD, audit_rows

# Imported here, not inside a test: Reflex keeps its registry in a context variable, and each async test runs in a
# copy of the context its task was made in.
import govsocial_app.govsocial_app  # noqa: E402,F401  (registers every state)


def _tree(token: str = ""):
    from govsocial_app.state.app_state import AppState

    root = rx.State(_reflex_internal_init=True)
    root.substates[AppState.get_name()].auth_token = token
    return root


def _state(root, cls):
    st = root
    for part in cls.get_full_name().split(".")[1:]:
        st = st.substates[part]
    return st


async def _call(bound, *args):
    out = bound(*args)
    return await out if inspect.iscoroutine(out) else out


def _all_values(root) -> str:
    out, stack = [], [root]
    while stack:
        st = stack.pop()
        stack.extend(st.substates.values())
        for var in list(st.base_vars) + list(st._backend_vars or {}):
            if var not in ("router", "router_data"):
                out.append(repr(getattr(st, var)))
    return "\n".join(out)


def _secret(uid: int) -> str:
    with session_scope() as s:
        return crypto.decrypt_json(s.get(UserTotp, uid).secret_enc)["secret"]


async def test_enrol_in_settings_then_sign_in_with_the_code_step(person):
    from govsocial_app.state.login import LoginState
    from govsocial_app.state.two_factor import TwoFactorState

    uid = person("ana@riverton.gov", "responder")
    token, _ = auth.sign_in("ana@riverton.gov", PASSWORD)
    root = _tree(token)
    tf = _state(root, TwoFactorState)
    await _call(tf.load)
    assert not tf.enrolled and tf.step == ""
    await _call(tf.begin)
    assert tf.step == "enrol" and tf.qr_data_uri.startswith("data:image/svg+xml")
    secret = _secret(uid)
    await _call(tf.confirm, {"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert "not right" in tf.error and not tf.enrolled
    tf.qr_data_uri = ""  # what remains once the QR code is gone: no var may carry the secret
    await _call(tf.confirm, {"code": pyotp.TOTP(secret).now()})
    assert tf.enrolled and tf.step == "codes" and len(tf.recovery_codes) == 10 and tf.codes_left == 10
    assert secret not in _all_values(root)

    # The sign-in page: the password, then the code; no session until the code is right.
    root = _tree()
    login = _state(root, LoginState)
    await _call(login.submit, {"email": "ana@riverton.gov", "password": PASSWORD})
    assert login.step == "code" and login.auth_token == "" and login._challenge
    await _call(login.submit_code, {"code": "nonsense"})
    assert login.error and login.auth_token == ""
    await _call(login.submit_code, {"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert auth.user_for_token(login.auth_token).id == uid and login.step == "password" and not login._challenge
    assert secret not in _all_values(root)
    assert [r.detail.get("method") for r in audit_rows("auth.sign_in")][-1] == "password+totp"


async def test_a_role_that_requires_two_factor_enrols_at_sign_in_and_sees_the_codes_once(person):
    from govsocial_app.services.identity import policy
    from govsocial_app.state.login import LoginState

    root_id = person("root@riverton.gov", "admin")
    uid = person("mo@riverton.gov", "manager")
    policy.set_policy(policy.SignInPolicy(two_factor_roles=("manager",)), Actor(root_id, "root", "admin"), sso_enabled=False)
    root = _tree()
    login = _state(root, LoginState)
    await _call(login.submit, {"email": "mo@riverton.gov", "password": PASSWORD})
    assert login.step == "enrol" and login.qr_data_uri.startswith("data:image/svg+xml") and login.auth_token == ""
    await _call(login.submit_code, {"code": pyotp.TOTP(_secret(uid)).now()})
    assert login.step == "recovery" and len(login.recovery_codes) == 10 and auth.user_for_token(login.auth_token).id == uid
    await _call(login.finish)
    assert login.recovery_codes == [] and login.step == "password"


async def test_your_sessions_lists_and_ends_another_device(person):
    from govsocial_app.state.my_sessions import MySessionsState

    person("pat@riverton.gov", "responder")
    mine, _ = auth.sign_in("pat@riverton.gov", PASSWORD, "198.51.100.1", "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/124.0 Mobile")
    other, _ = auth.sign_in("pat@riverton.gov", PASSWORD, "198.51.100.2", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Safari/604.1")
    st = _state(_tree(mine), MySessionsState)
    await _call(st.load)
    assert len(st.rows) == 2 and [r["current"] for r in st.rows].count("yes") == 1
    theirs = next(r for r in st.rows if not r["current"])
    assert theirs["ip"] == "198.51.100.2"
    ours = next(r for r in st.rows if r["current"])
    await _call(st.revoke, ours["id"])  # this tab's own session is not ended from the list
    assert auth.user_for_token(mine) is not None
    await _call(st.revoke, theirs["id"])
    assert auth.user_for_token(other) is None and auth.user_for_token(mine) is not None and len(st.rows) == 1
    assert audit_rows("auth.session_revoke")


async def test_admin_resets_a_second_factor_and_signs_a_person_out_everywhere(person):
    from govsocial_app.services.identity import totp
    from govsocial_app.state.admin_identity import AdminIdentityState

    admin_id = person("root@riverton.gov", "admin")
    uid = person("ana@riverton.gov", "responder")
    e = totp.begin_enrolment(Actor(uid, "ana", "responder"))
    totp.confirm_enrolment(Actor(uid, "ana", "responder"), pyotp.TOTP(e.secret).now())
    theirs, _ = auth.sign_in("ana@riverton.gov", PASSWORD)
    admin_token, _ = auth.sign_in("root@riverton.gov", PASSWORD)
    st = _state(_tree(admin_token), AdminIdentityState)
    await _call(st.load)
    assert [a["id"] for a in st.admins] == [str(admin_id)]
    await _call(st.reset_two_factor, str(uid))
    assert "reset" in st.notice and auth.user_for_token(theirs) is None
    assert totp.status(uid).enrolled is False
    assert audit_rows("auth.2fa_reset") and audit_rows("auth.2fa_reset_email")
    await _call(st.reset_two_factor, str(uid))  # nothing left to reset: said plainly
    assert "not set up" in st.error

    again, _ = auth.sign_in("ana@riverton.gov", PASSWORD)
    await _call(st.revoke_sessions, str(uid))
    assert auth.user_for_token(again) is None and auth.user_for_token(admin_token) is not None
    assert "(1)" in st.notice

    await _call(st.save_policy, {"2fa_admin": "on", "2fa_manager": "on", "password_mode": "everyone"})
    assert st.two_factor_roles == ["admin", "manager"] and st.notice


def _redirect_path(spec) -> str:
    [path] = [str(v._var_value) for k, v in spec.args if str(k) == "path"]
    return path


@pytest.mark.peers
async def test_sign_out_ends_the_session_then_sends_the_browser_to_the_providers_logout(sso, provider, person, monkeypatch):
    from govsocial_app.services.identity import oidc, signin
    from govsocial_app.state.app_state import AppState
    from tests.identity.helpers import query

    monkeypatch.setattr(signin, "sso_config", lambda: sso)
    person("alice@riverton.gov")
    req = await oidc.begin_sign_in(sso)
    done = await oidc.complete_sign_in(query(provider.sign_in(req.url, "alice")), sso)
    app = _state(_tree(done.token), AppState)
    spec = await _call(app.sign_out)
    target = _redirect_path(spec)
    assert target.startswith(provider.issuer + "/session/end?") and "id_token_hint" in target
    assert auth.user_for_token(done.token) is None and app.auth_token == ""
    # A password session has no provider session: back to the sign-in page.
    token, _ = auth.sign_in("alice@riverton.gov", PASSWORD)
    spec = await _call(_state(_tree(token), AppState).sign_out)
    assert _redirect_path(spec) == "/login"


async def test_the_sign_in_page_offers_the_provider_and_hides_the_password_form_behind_break_glass(sso, person, monkeypatch):
    from govsocial_app.services.identity import policy, signin
    from govsocial_app.state.login import LoginState

    monkeypatch.setattr(signin, "sso_config", lambda: sso)
    root_id = person("root@riverton.gov", "admin")
    login = _state(_tree(), LoginState)
    await _call(login.load)
    assert login.sso_name == "Riverton ID" and login.sso_href == "/auth/oidc/start?next=%2Finbox" and login.password_for_all
    policy.set_policy(policy.SignInPolicy(password_sign_in="break_glass", break_glass_user_ids=(root_id,)),
                      Actor(root_id, "root", "admin"), sso_enabled=True)
    await _call(login.load)
    assert not login.password_for_all
    await _call(login.submit, {"email": "root@riverton.gov", "password": PASSWORD})
    assert auth.user_for_token(login.auth_token).id == root_id  # the break-glass admin still gets in
