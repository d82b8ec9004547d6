"""Sends email through SMTP with STARTTLS and authentication, with attachments (alerts now, PDF reports later)."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
from sqlmodel import Session

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.services import audit, crypto, settings_store
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError

SETTING = "mail.smtp"  # overrides the SMTP_* environment; the password is stored encrypted
TEST_SUBJECT = "Test email from GovSocial"
TEST_BODY = "Alert emails will reach you."
MSGIDS = (TEST_SUBJECT, TEST_BODY)


class MailError(Exception):
    """The message could not be handed to the SMTP server; the text says why."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True  # upgrade a plain connection (port 587); refused if the server cannot
    implicit_tls: bool = False  # TLS from the first byte (port 465)
    sender: str = "GovSocial <alerts@localhost>"
    timeout: float = 15.0
    ca_file: str = ""  # a CA bundle for a server whose certificate no public CA signed


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = ""


def _from_env() -> SmtpConfig | None:
    s = get_settings()
    if not s.smtp_host:
        return None
    return SmtpConfig(s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password, s.smtp_starttls, s.smtp_port == 465, s.smtp_from)


def smtp_config(session: Session | None = None) -> SmtpConfig | None:
    """The SMTP server to use: the one saved in settings, else the SMTP_* environment; None when neither is set."""
    saved = settings_store.get(SETTING, None, session=session)
    if not saved or not saved.get("host"):
        return _from_env()
    secret = crypto.decrypt_json(saved.get("password_enc", ""))
    return SmtpConfig(
        host=saved["host"], port=int(saved.get("port", 587)), username=saved.get("username", ""),
        password=secret.get("password", ""), starttls=bool(saved.get("starttls", True)),
        implicit_tls=bool(saved.get("implicit_tls", False)), sender=saved.get("sender") or get_settings().smtp_from,
        ca_file=saved.get("ca_file", ""),
    )


def save_config(config: SmtpConfig, actor: Actor, *, keep_password: bool = False) -> None:
    """Store the SMTP server in settings. `keep_password` keeps the stored password (the form leaves it blank)."""
    require(actor, "settings.manage")
    if not config.host.strip():
        raise UserError("Enter the SMTP server's host name.")
    if not 1 <= config.port <= 65535:
        raise UserError("The SMTP port must be between 1 and 65535.")
    if config.starttls and config.implicit_tls:
        raise UserError("Choose STARTTLS or TLS from the start, not both.")
    with session_scope() as s:
        password = config.password
        if keep_password:
            old = settings_store.get(SETTING, {}, session=s) or {}
            password = crypto.decrypt_json(old.get("password_enc", "")).get("password", "")
        value = {
            "host": config.host.strip(), "port": config.port, "username": config.username.strip(),
            "password_enc": crypto.encrypt_json({"password": password} if password else {}),
            "starttls": config.starttls, "implicit_tls": config.implicit_tls, "sender": config.sender.strip(),
            "ca_file": config.ca_file.strip(),
        }
        # The audit row names what changed but never the password.
        settings_store.put(s, SETTING, value, actor, audit_action="mail.configure", host=value["host"], port=value["port"],
                           username=value["username"], starttls=value["starttls"], implicit_tls=value["implicit_tls"])


def build_message(
    to: Sequence[str], subject: str, text: str, *, sender: str, html: str | None = None, attachments: Sequence[Attachment] = ()
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="govsocial")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    for a in attachments:
        mime = a.mime_type or mimetypes.guess_type(a.filename)[0] or "application/octet-stream"
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(a.content, maintype=maintype, subtype=subtype, filename=a.filename)
    return msg


async def send_mail(
    to: Sequence[str],
    subject: str,
    text: str,
    *,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    config: SmtpConfig | None = None,
) -> None:
    """Send one message to `to` (all recipients see each other; send one call per person to keep them apart).

    Raises MailError with the server's or the network's reason."""
    if config is None:
        config = await asyncio.to_thread(smtp_config)
    if config is None:
        raise MailError("Email is not set up: no SMTP server is configured.")
    if not to:
        raise MailError("No recipients.")
    msg = build_message(to, subject, text, sender=config.sender, html=html, attachments=attachments)
    try:
        await aiosmtplib.send(
            msg,
            hostname=config.host,
            port=config.port,
            username=config.username or None,
            password=config.password or None,
            use_tls=config.implicit_tls,
            start_tls=config.starttls if not config.implicit_tls else False,
            cert_bundle=config.ca_file or None,
            timeout=config.timeout,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise MailError(f"{config.host}:{config.port}: {exc}") from exc


async def send_test(actor: Actor, to: str, *, subject: str = TEST_SUBJECT, text: str = TEST_BODY) -> None:
    """An admin checks the mail settings by sending themselves a message; audited when it went out."""
    require(actor, "settings.manage")
    await send_mail([to], subject, text)

    def record() -> None:
        with session_scope() as s:
            audit.record(s, actor, "mail.test", "user", actor.user_id, to=to)

    await asyncio.to_thread(record)
