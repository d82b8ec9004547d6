"""A real SMTP server for tests and benchmarks: aiosmtpd in a thread, STARTTLS with a self-signed certificate made here, AUTH required."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import logging
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# aiosmtpd 1.4 sets its own deprecated Session.login_data on every AUTH and logs a warning about it each time.
logging.getLogger("mail.log").addFilter(lambda record: "login_data is deprecated" not in record.getMessage())

USERNAME = "alerts@test.gov"
PASSWORD = "smtp-test-secret"


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost; also the CA bundle the client trusts."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "GovSocial test SMTP")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Received:
    at_wall: float  # time.time() when the server accepted the message
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    authenticated_as: str


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
        with self.arrived:
            self.received.append(Received(time.time(), envelope.mail_from, list(envelope.rcpt_tos), msg, session.ssl is not None, login))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USERNAME and auth_data.password.decode() == PASSWORD
    # handled=False: aiosmtpd itself answers 535 to a wrong password.
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class SmtpPeer:
    """Requires STARTTLS before AUTH and AUTH before mail, like a real submission server."""

    def __init__(self, directory: Path):
        self.cert_path, key_path = self_signed_cert(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, key_path)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.handler = _Handler()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
            auth_required=True, auth_require_tls=True, authenticator=_authenticator,
        )
        self.host = "127.0.0.1"

    def start(self) -> SmtpPeer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while len(self.handler.received) < count and time.monotonic() < deadline:
                self.handler.arrived.wait(deadline - time.monotonic())
            return list(self.handler.received)
