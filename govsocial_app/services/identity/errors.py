"""Typed sign-in errors: each has a stable `code` (audit rows, tests), an English msgid and params for the page."""

from __future__ import annotations

from govsocial_app.services.errors import UserError


class IdentityError(UserError):
    """`str(exc)` is the English sentence; the page translates `msgid` and fills in `params`."""

    code = "identity_error"
    msgid = "Sign-in did not work. Try again."

    def __init__(self, msgid: str | None = None, **params: object) -> None:
        self.msgid = msgid or type(self).msgid
        self.params = params
        self.audit_detail: dict[str, object] = {}  # extra fields for the audit row (the user's id when known)
        super().__init__(self.msgid.format(**params) if params else self.msgid)


# ---------------------------------------------------------------- single sign-on


class SsoError(IdentityError):
    code = "sso_error"


class SsoNotConfigured(SsoError):
    code = "not_configured"
    msgid = "Single sign-on is not set up on this server."


class ProviderUnavailable(SsoError):
    code = "provider_unavailable"
    msgid = "{provider} is not answering right now. Try again in a few minutes, or sign in with your password if you have one."


class ProviderError(SsoError):
    """The provider refused (the person cancelled, or it refused this app); `detail` is its error code."""

    code = "provider_error"
    msgid = "{provider} did not sign you in ({detail}). Try again, or ask your administrator."


class StateMismatch(SsoError):
    code = "state_mismatch"
    msgid = "This sign-in response does not match a sign-in started here. Start again from the sign-in page."


class StateExpired(SsoError):
    code = "state_expired"
    msgid = "The sign-in took too long. Start again from the sign-in page."


class CodeReplayed(SsoError):
    code = "code_replayed"
    msgid = "This sign-in response was already used or has expired. Start again from the sign-in page."


class NonceMismatch(SsoError):
    code = "nonce_mismatch"
    msgid = "The identity provider's answer was not for this sign-in. Start again from the sign-in page."


class TokenExpired(SsoError):
    code = "token_expired"
    msgid = "The identity provider's answer has expired. Check that this device's clock is right, then start again."


class IssuerMismatch(SsoError):
    code = "issuer_mismatch"
    msgid = "The answer did not come from the identity provider this server trusts. Start again, or ask your administrator."


class TokenInvalid(SsoError):
    code = "token_invalid"
    msgid = "The identity provider's answer could not be verified. Start again, or ask your administrator."


class EmailNotVerified(SsoError):
    code = "email_not_verified"
    msgid = "{provider} has not verified your email address, so it cannot be used to sign in here."


class UnknownEmail(SsoError):
    code = "unknown_email"
    msgid = "No GovSocial account uses {email}. Ask an administrator to add you."


class DomainNotAllowed(SsoError):
    code = "domain_not_allowed"
    msgid = "Accounts at {domain} cannot sign in to this server."


class NotInMappedGroups(SsoError):
    code = "no_mapped_group"
    msgid = "Your {provider} account is not in a group that may use GovSocial. Ask your administrator."


class AccountDeactivated(SsoError):
    code = "account_deactivated"
    msgid = "Your GovSocial account is turned off. Ask an administrator."


class IdentityConflict(SsoError):
    code = "identity_conflict"
    msgid = "{email} is already linked to a different {provider} account. Ask an administrator."


# ---------------------------------------------------------------- two-factor


class TwoFactorError(IdentityError):
    code = "two_factor_error"


class WrongCode(TwoFactorError):
    code = "wrong_code"
    msgid = "That code is not right. Type the 6-digit code your authenticator app shows now."


class CodeAlreadyUsed(TwoFactorError):
    code = "code_used"
    msgid = "That code was just used. Wait for the next code and type that one."


class TooManyAttempts(TwoFactorError):
    code = "too_many_attempts"
    msgid = "Too many wrong codes. Try again in {minutes} minutes."

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after = max(1, int(retry_after_s))
        super().__init__(minutes=max(1, -(-self.retry_after // 60)))


class NotEnrolled(TwoFactorError):
    code = "not_enrolled"
    msgid = "Two-factor sign-in is not set up for this account."


class AlreadyEnrolled(TwoFactorError):
    code = "already_enrolled"
    msgid = "Two-factor sign-in is already set up. Reset it first to use a new device."


class ChallengeExpired(TwoFactorError):
    code = "challenge_expired"
    msgid = "This sign-in has expired. Enter your email and password again."
