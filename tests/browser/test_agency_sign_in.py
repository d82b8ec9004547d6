"""Agency sign-in in Chromium on a phone, from the root address as a person starts: single sign-on through a real
OpenID Connect provider (panva's oidc-provider), a person outside the mapped groups, TOTP two-factor with a code and
then a recovery code, and a session revoked from another device.

The provider must be running, and know the app's callback address, before the app starts: so this module starts its
own app (with the GOVSOCIAL_OIDC_* settings) beside its own provider, and stops both by PID."""

from __future__ import annotations

import re
import subprocess
import time

import pyotp
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, REPO, free_port, phone_context, reflex_env, start_app, stop_app
from tests.conftest import missing_service
from tests.identity.helpers import PASSWORD
from tests.peers.oidc import harness

pytestmark = pytest.mark.browser

PROVIDER = "Riverton ID"


def _app_python(app, key: str, code: str) -> str:
    """Run Python against the app's own database and key (a second process; this one's engine is the tests')."""
    env = reflex_env({"GOVSOCIAL_DATA_DIR": str(app.data_dir), "GOVSOCIAL_SECRET_KEY": key})
    env.pop("DATABASE_URL", None)
    out = subprocess.run([str(REPO / ".venv/bin/python"), "-c", code], cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def sso_app(tmp_path_factory):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        missing_service(f"Chromium is not installed at {CHROMIUM}")
    try:
        harness.install()
    except harness.PeerUnavailable as exc:
        missing_service(str(exc))
    tmp = tmp_path_factory.mktemp("sso-app")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    provider = harness.start(tmp / "provider", redirect_uris=(url + "/auth/oidc/callback",), post_logout_redirect_uris=(url + "/login",))
    key = Fernet.generate_key().decode()
    env = {
        "GOVSOCIAL_PUBLIC_URL": url, "GOVSOCIAL_SECRET_KEY": key,
        "GOVSOCIAL_OIDC_ISSUER": provider.issuer, "GOVSOCIAL_OIDC_CLIENT_ID": harness.CLIENT_ID,
        "GOVSOCIAL_OIDC_CLIENT_SECRET": harness.CLIENT_SECRET, "GOVSOCIAL_OIDC_SCOPES": "openid email profile groups",
        "GOVSOCIAL_OIDC_PROVIDER_NAME": PROVIDER,
        "GOVSOCIAL_OIDC_GROUP_ROLES": "gs-admins=admin;gs-managers=manager;gs-publishers=publisher;gs-responders=responder",
        # Its own build directory: a second `reflex run --env prod` in the shared .web-test re-exports the frontend
        # under the shared app that is already serving it, and every later browser test then found no page (CI).
        "REFLEX_WEB_WORKDIR": str(REPO / ".web-identity"), "REFLEX_STATES_WORKDIR": str(REPO / ".states-identity"),
    }
    try:
        app = start_app(tmp, extra_env=env, port=port)
    except Exception:
        harness.stop(provider)
        raise
    try:
        _app_python(app, key, (
            "from govsocial_app.services import auth\nfrom govsocial_app.services.authz import Actor\n"
            + "".join(f"auth.create_user({e!r}, {n!r}, {PASSWORD!r}, {r!r}, Actor.system('test'))\n" for e, n, r in (
                ("alice@riverton.gov", "Alice Admin", "viewer"), ("carol@riverton.gov", "Carol Finance", "publisher"),
                ("tess@riverton.gov", "Tess Twofactor", "responder"), ("pat@riverton.gov", "Pat Phones", "responder"),
                ("mo@riverton.gov", "Mo Manager", "manager"), ("dee@riverton.gov", "Dee Departing", "responder")))
        ))
        app.key, app.provider = key, provider
        yield app
    finally:
        stop_app(app.proc)
        harness.stop(provider)


@pytest.fixture
def phone(browser, sso_app):
    contexts = []

    def make():
        ctx = phone_context(browser)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def _at_provider(page, login: str) -> None:
    """oidc-provider's own development sign-in form (any password), then its consent page."""
    page.wait_for_url(re.compile(r"/interaction/"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any-password")
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/interaction/"))
    page.locator("button[type=submit]").click()  # consent: "Continue"


def _password(page, url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(url + "/")
    page.wait_for_url(re.compile(r"/login/?$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _sign_out(page, url: str) -> None:
    page.goto(url + "/more")
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(r"/login"))


def test_single_sign_on_lands_in_the_inbox_with_the_mapped_role_and_signs_out_at_the_provider(phone, sso_app):
    page = phone()
    page.goto(sso_app.url + "/")
    page.wait_for_url(re.compile(r"/login/?$"))
    page.get_by_role("link", name=f"Sign in with {PROVIDER}").click()
    _at_provider(page, "alice")
    page.wait_for_url(re.compile(r"/inbox/?$"))
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    # gs-admins maps to admin: the viewer account became an admin at this sign-in, and sees the admin links.
    page.goto(sso_app.url + "/more")
    expect(page.get_by_text("admin", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Users")).to_be_visible()
    # Signing out ends the provider's session too: the browser is sent to its end-session page.
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(re.escape(sso_app.provider.issuer) + r"/session/end"))


def test_a_person_outside_the_mapped_groups_is_refused_with_a_message(phone, sso_app):
    page = phone()
    page.goto(sso_app.url + "/")
    page.wait_for_url(re.compile(r"/login/?$"))
    page.get_by_role("link", name=f"Sign in with {PROVIDER}").click()
    _at_provider(page, "carol")
    page.wait_for_url(re.compile(r"/login/?\?sso="))
    expect(page.get_by_role("alert")).to_contain_text(f"Your {PROVIDER} account is not in a group that may use GovSocial")
    page.goto(sso_app.url + "/inbox")  # and nothing was signed in
    page.wait_for_url(re.compile(r"/login\?next="))


def _secret(app, email: str) -> str:
    return _app_python(app, app.key, (
        "from sqlmodel import select\nfrom govsocial_app.db.engine import session_scope\n"
        "from govsocial_app.db.models import User, UserTotp\nfrom govsocial_app.services import crypto\n"
        "with session_scope() as s:\n"
        f"    u = s.exec(select(User).where(User.email == {email!r})).one()\n"
        "    print(crypto.decrypt_json(s.get(UserTotp, u.id).secret_enc)['secret'])\n"
    ))


def test_enrol_totp_then_sign_in_with_a_code_then_with_a_recovery_code_that_then_stops_working(phone, sso_app):
    page = phone()
    _password(page, sso_app.url, "tess@riverton.gov")
    page.wait_for_url(re.compile(r"/inbox/?$"))
    page.goto(sso_app.url + "/more")
    page.get_by_role("link", name="Two-factor authentication").click()
    page.wait_for_url(re.compile(r"/more/two-factor"))
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")  # drawn on the server, no third-party address
    totp = pyotp.TOTP(_secret(sso_app, "tess@riverton.gov"))
    page.get_by_label("Code", exact=True).fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text().strip()
    assert re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", recovery)
    page.get_by_role("button", name="I have saved them, continue").click()
    expect(page.get_by_text("Two-factor sign-in is on.", exact=True)).to_be_visible()
    _sign_out(page, sso_app.url)

    # With a code: the next 30-second step's code (the current one was spent on enrolment; ±1 step is accepted).
    _password(page, sso_app.url, "tess@riverton.gov")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_label("Code", exact=True).fill("000000" if totp.at(time.time() + 30) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not right")
    page.get_by_label("Code", exact=True).fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/inbox/?$"))
    _sign_out(page, sso_app.url)

    # With a recovery code, once.
    _password(page, sso_app.url, "tess@riverton.gov")
    page.get_by_label("Code", exact=True).fill(recovery)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/inbox/?$"))
    _sign_out(page, sso_app.url)
    _password(page, sso_app.url, "tess@riverton.gov")
    page.get_by_label("Code", exact=True).fill(recovery)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("That recovery code is not right, or was used before.")
    page.goto(sso_app.url + "/inbox")
    page.wait_for_url(re.compile(r"/login\?next="))


def test_a_session_revoked_on_one_phone_signs_the_other_out_on_its_next_action(phone, sso_app):
    first, second = phone(), phone()
    for page in (first, second):
        _password(page, sso_app.url, "pat@riverton.gov")
        page.wait_for_url(re.compile(r"/inbox/?$"))
    second.goto(sso_app.url + "/more")
    expect(second.get_by_role("button", name="Dark")).to_be_visible()

    first.goto(sso_app.url + "/more/sessions")
    rows = first.get_by_role("list").filter(has=first.get_by_role("listitem")).get_by_role("listitem")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="This device")).to_have_count(1)
    rows.filter(has_not_text="This device").get_by_role("button", name="Sign out this session").click()
    expect(first.get_by_role("status")).to_contain_text("That session is signed out.")
    expect(rows).to_have_count(1)

    # The other phone still shows More; its next event is refused and the tab goes to sign in.
    second.get_by_role("button", name="Dark").click()
    second.wait_for_url(re.compile(r"/login"))
    expect(second.get_by_label("Email")).to_be_visible()
    first.reload()  # the first phone is still signed in
    expect(first.get_by_role("heading", name="Your sessions", level=1)).to_be_visible()


def test_a_role_that_must_use_two_factor_enrols_right_after_the_password(phone, sso_app):
    _app_python(sso_app, sso_app.key, (
        "from sqlmodel import select\nfrom govsocial_app.db.engine import session_scope\nfrom govsocial_app.db.models import User\n"
        "from govsocial_app.services.authz import Actor\nfrom govsocial_app.services.identity import policy\n"
        "with session_scope() as s:\n"
        "    admin = s.exec(select(User).where(User.role == 'admin', User.is_active == True)).first()\n"
        "    actor = Actor(admin.id, admin.email, 'admin')\n"
        "policy.set_policy(policy.SignInPolicy(two_factor_roles=('manager',)), actor, sso_enabled=True)\n"
    ))
    page = phone()
    _password(page, sso_app.url, "mo@riverton.gov")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    page.goto(sso_app.url + "/inbox")  # no session yet: the password alone opened nothing
    page.wait_for_url(re.compile(r"/login\?next="))
    _password(page, sso_app.url, "mo@riverton.gov")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    page.get_by_label("Code", exact=True).fill(pyotp.TOTP(_secret(sso_app, "mo@riverton.gov")).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("button", name="I have saved them, continue").click()
    page.wait_for_url(re.compile(r"/inbox/?$"))
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()


def test_deactivating_a_person_signs_their_open_tab_out_on_its_next_action(phone, sso_app):
    from tests.browser.conftest import DEMO_PASSWORD

    admin, dee = phone(), phone()
    _password(dee, sso_app.url, "dee@riverton.gov")
    dee.wait_for_url(re.compile(r"/inbox/?$"))
    dee.goto(sso_app.url + "/more")
    expect(dee.get_by_role("button", name="Dark")).to_be_visible()

    _password(admin, sso_app.url, "admin@demo.gov", DEMO_PASSWORD)
    admin.wait_for_url(re.compile(r"/inbox/?$"))
    admin.goto(sso_app.url + "/admin/users")
    row = admin.get_by_role("row").filter(has_text="dee@riverton.gov")
    row.get_by_role("button", name="Deactivate").click()
    expect(row.get_by_role("button", name="Activate")).to_be_visible()

    dee.get_by_role("button", name="Dark").click()
    dee.wait_for_url(re.compile(r"/login"))
    expect(dee.get_by_label("Email")).to_be_visible()
