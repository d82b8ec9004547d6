"""The sign-in policy (two-factor roles, password sign-in for break-glass admins only) and GOVSOCIAL_OIDC_* parsing."""

from __future__ import annotations

import pytest

from govsocial_app.services.authz import Actor, PermissionDenied
from govsocial_app.services.identity import errors, policy
from govsocial_app.services.identity.oidc_config import OidcConfigError, load_config, parse_group_roles
from tests.identity.helpers import audit_rows

BASE = {"GOVSOCIAL_OIDC_ISSUER": "https://login.example.gov/", "GOVSOCIAL_OIDC_CLIENT_ID": "gs", "GOVSOCIAL_OIDC_CLIENT_SECRET": "x"}


def test_no_issuer_means_no_single_sign_on():
    assert load_config({}) is None


def test_defaults_and_the_group_mapping():
    cfg = load_config({**BASE, "GOVSOCIAL_OIDC_GROUP_ROLES": "GovSocial Admins=admin; comms=publisher,comms-leads=manager"})
    assert cfg.issuer == "https://login.example.gov" and cfg.metadata_url == "https://login.example.gov/.well-known/openid-configuration"
    assert cfg.auth_method == "client_secret_basic" and cfg.scopes == ("openid", "email", "profile") and not cfg.auto_create
    assert cfg.redirect_uri.endswith("/auth/oidc/callback")
    assert cfg.role_for_groups(["comms", "comms-leads"]) == "manager"  # the most privileged match wins
    assert cfg.role_for_groups(["GovSocial Admins"]) == "admin"
    assert cfg.role_for_groups(["finance"]) is None
    assert "x" not in repr(cfg).replace("https://login.example.gov", "")  # the secret is not in logs


def test_json_mapping_allows_commas_in_group_names():
    assert parse_group_roles('{"Comms, Press Office": "publisher"}') == (("Comms, Press Office", "publisher"),)


@pytest.mark.parametrize("env,needle", [
    ({"GOVSOCIAL_OIDC_GROUP_ROLES": "admins=superuser"}, "unknown role 'superuser'"),
    ({"GOVSOCIAL_OIDC_GROUP_ROLES": "admins"}, "is not group=role"),
    ({"GOVSOCIAL_OIDC_CLIENT_SECRET": ""}, "CLIENT_SECRET is required"),
    ({"GOVSOCIAL_OIDC_AUTH_METHOD": "private_key_jwt"}, "needs GOVSOCIAL_OIDC_PRIVATE_KEY_FILE"),
    ({"GOVSOCIAL_OIDC_PRIVATE_KEY_FILE": "/nonexistent/key.pem"}, "cannot be read"),
    ({"GOVSOCIAL_OIDC_AUTO_CREATE": "perhaps"}, "must be true or false"),
    ({"GOVSOCIAL_OIDC_ISSUER": "login.example.gov"}, "https://"),
    ({"GOVSOCIAL_OIDC_CLIENT_ID": ""}, "CLIENT_ID is required"),
    ({"GOVSOCIAL_OIDC_DEFAULT_ROLE": "root"}, "DEFAULT_ROLE"),
])
def test_bad_settings_name_the_variable(env, needle):
    with pytest.raises(OidcConfigError, match=needle.replace("(", r"\(")):
        load_config({**BASE, **env})


def test_private_key_jwt_reads_the_key_file(tmp_path):
    from joserfc.jwk import RSAKey

    key = tmp_path / "login-gov.pem"
    key.write_bytes(RSAKey.generate_key(2048, private=True).as_pem(private=True))
    cfg = load_config({**BASE, "GOVSOCIAL_OIDC_CLIENT_SECRET": "", "GOVSOCIAL_OIDC_PRIVATE_KEY_FILE": str(key),
                       "GOVSOCIAL_OIDC_ACR_VALUES": "http://idmanagement.gov/ns/assurance/ial/1"})
    assert cfg.auth_method == "private_key_jwt" and "PRIVATE KEY" in cfg.private_key_pem
    assert "PRIVATE" not in repr(cfg)
    key.write_text("not a key")
    with pytest.raises(OidcConfigError, match="not a PEM private key"):
        load_config({**BASE, "GOVSOCIAL_OIDC_PRIVATE_KEY_FILE": str(key)})


def test_policy_is_admin_only_audited_and_never_locks_everyone_out(person):
    admin = person("root@riverton.gov", "admin")
    manager = person("mia@riverton.gov", "manager")
    me = Actor(admin, "Root", "admin")
    with pytest.raises(PermissionDenied):
        policy.set_policy(policy.SignInPolicy(two_factor_roles=("admin",)), Actor(manager, "Mia", "manager"), sso_enabled=True)
    with pytest.raises(errors.IdentityError, match="Set up single sign-on"):
        policy.set_policy(policy.SignInPolicy(password_sign_in="break_glass", break_glass_user_ids=(admin,)), me, sso_enabled=False)
    with pytest.raises(errors.IdentityError, match="at least one break-glass admin"):
        policy.set_policy(policy.SignInPolicy(password_sign_in="break_glass"), me, sso_enabled=True)
    with pytest.raises(errors.IdentityError, match="must be active admins"):
        policy.set_policy(policy.SignInPolicy(password_sign_in="break_glass", break_glass_user_ids=(manager,)), me, sso_enabled=True)
    with pytest.raises(errors.IdentityError, match="Unknown role"):
        policy.set_policy(policy.SignInPolicy(two_factor_roles=("wizard",)), me, sso_enabled=True)

    policy.set_policy(policy.SignInPolicy(("manager", "admin"), "break_glass", (admin,)), me, sso_enabled=True)
    p = policy.get_policy()
    assert p.two_factor_roles == ("admin", "manager") and p.password_sign_in == "break_glass"
    assert policy.password_allowed(admin) and not policy.password_allowed(manager)
    assert policy.two_factor_required("manager") and not policy.two_factor_required("viewer")
    assert [r.action for r in audit_rows("identity.two_factor_roles") + audit_rows("identity.password_sign_in")
            + audit_rows("identity.break_glass")] == ["identity.two_factor_roles", "identity.password_sign_in", "identity.break_glass"]


def test_a_password_sign_in_commits_twice_and_reads_the_policy_once(person):
    """A surge of sign-ins is a surge of these transactions: the password check (attempt recorded) and one more for
    policy, second factor and the session with its audit row. Each extra commit waits on the audit chain's lock."""
    from govsocial_app.services.identity import signin
    from tests.identity.conftest import PASSWORD
    from tests.statements import sent_statements

    uid = person("rae@riverton.gov", "responder")
    with sent_statements() as seen:
        outcome = signin.password_sign_in("rae@riverton.gov", PASSWORD, "198.51.100.9", "pytest")
    assert outcome.token and outcome.user.id == uid
    assert seen.count("commit") == 2
    assert sum("from setting" in sql for sql in seen) == 1
    assert [r.object_id for r in audit_rows("auth.sign_in")] == [str(uid)]
