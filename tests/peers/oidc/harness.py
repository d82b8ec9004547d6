"""Installs (npm, cached), starts and stops panva's oidc-provider on 127.0.0.1 for the single sign-on tests."""

from __future__ import annotations

import json
import re
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

# Node 22 and the npm install helpers (cache, lock, marker files) are the atproto harness's: one copy, one cache.
from tests.peers.atproto import atproto_harness as node22

HERE = Path(__file__).resolve().parent
VERSION = "9.13.3"
PREFIX = node22.CACHE / f"oidc-provider-{VERSION}"
START_TIMEOUT_S = 30

PeerUnavailable = node22.PeerUnavailable

CLIENT_ID = "govsocial"
CLIENT_SECRET = "govsocial-test-client-secret-0123456789"
PKJWT_CLIENT_ID = "govsocial-pkjwt"
REDIRECT_URI = "http://127.0.0.1:3000/auth/oidc/callback"
POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:3000/login?signed_out=1"

# The provider's people. Login is the key; the dev login form takes any password.
ACCOUNTS: dict[str, dict] = {
    "alice": {"email": "alice@riverton.gov", "email_verified": True, "name": "Alice Admin", "groups": ["gs-admins", "staff"]},
    "bob": {"email": "bob@riverton.gov", "email_verified": True, "name": "Bob Responder", "groups": ["gs-responders"]},
    "carol": {"email": "carol@riverton.gov", "email_verified": True, "name": "Carol Finance", "groups": ["finance"]},
    "dave": {"email": "dave@riverton.gov", "email_verified": False, "name": "Dave Unverified", "groups": ["gs-responders"]},
    "erin": {"email": "erin@riverton.gov", "email_verified": True, "name": "Erin Newcomer", "groups": ["gs-publishers"]},
    "mallory": {"email": "mallory@elsewhere.example", "email_verified": True, "name": "Mallory", "groups": ["gs-admins"]},
}


def install() -> None:
    """Node 22 and oidc-provider from the npm registry into the peers cache, unless an earlier run did."""
    node22.install_node()
    node22.install_packages(PREFIX, f"oidc-provider@{VERSION}")
    if not (PREFIX / "node_modules" / "oidc-provider" / "package.json").exists():
        raise PeerUnavailable(f"oidc-provider@{VERSION} did not install into {PREFIX}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class OidcProvider:
    process: subprocess.Popen
    issuer: str
    run_dir: Path
    log_path: Path
    accounts_file: Path
    private_key_path: Path  # PEM of the private_key_jwt client's key (its public half is registered)
    accounts: dict[str, dict] = field(default_factory=dict)

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def set_account(self, login: str, **claims) -> None:
        """Add or change an account; the provider reads the file again on its next lookup."""
        self.accounts[login] = {**self.accounts.get(login, {}), **claims}
        tmp = self.accounts_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.accounts))
        tmp.replace(self.accounts_file)  # atomic: the provider never reads half a file

    def reset_accounts(self) -> None:
        self.accounts = json.loads(json.dumps(ACCOUNTS))
        self.set_account("alice")

    def sign_in(self, authorization_url: str, login: str, *, client: httpx.Client | None = None) -> str:
        """Act as the person's browser: open the authorization URL, sign in as `login`, consent, and return
        the URL the provider finally redirects to (the app's callback, with `code` and `state`, or `error`)."""
        own = client is None
        client = client or httpx.Client(timeout=10.0)
        try:
            url = authorization_url
            for _ in range(12):
                r = client.get(url)
                if r.status_code in (302, 303):
                    url = urljoin(url, r.headers["location"])
                    if not url.startswith(self.issuer):
                        return url
                    continue
                r.raise_for_status()
                form = _Form.parse(r.text)
                data = dict(form.fields)
                if data.get("prompt") == "login":
                    data.update(login=login, password="any-password")
                r = client.post(urljoin(url, form.action), data=data)
                if r.status_code not in (302, 303):
                    raise AssertionError(f"oidc-provider answered {r.status_code} to the {data.get('prompt')} form: {r.text[:500]}")
                url = urljoin(url, r.headers["location"])
                if not url.startswith(self.issuer):
                    return url
            raise AssertionError(f"no redirect back to the app; last page {url}")
        finally:
            if own:
                client.close()

    def log_tail(self, n: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-n:]


class _Form(HTMLParser):
    """The action and hidden fields of the first form on one of oidc-provider's dev pages."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self._done:
            self._in_form, self.action = True, a.get("action", "")
        elif tag == "input" and self._in_form and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True

    @classmethod
    def parse(cls, html: str) -> _Form:
        form = cls()
        form.feed(html)
        if not form.action:
            raise AssertionError(f"no form on the provider's page: {re.sub(r'<[^>]+>', ' ', html)[:400]}")
        return form


def _client_key(run_dir: Path) -> tuple[Path, dict]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = run_dir / "pkjwt-client-key.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    public = RSAKey.import_key(pem).as_dict(private=False)
    return path, {**public, "use": "sig", "alg": "RS256"}


def start(run_dir: Path, *, code_ttl_seconds: int = 60, redirect_uris: tuple[str, ...] = (REDIRECT_URI,),
          post_logout_redirect_uris: tuple[str, ...] = (POST_LOGOUT_REDIRECT_URI,)) -> OidcProvider:
    """Start oidc-provider on a free loopback port and wait for its READY line; stop it with `stop`. A browser test
    passes its app's own callback and sign-out addresses (the app listens on a port of its own)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    accounts_file = run_dir / "accounts.json"
    accounts_file.write_text(json.dumps(ACCOUNTS))
    key_path, client_jwk = _client_key(run_dir)
    signing = RSAKey.generate_key(2048, private=True, parameters={"use": "sig", "alg": "RS256"})
    common = {
        "redirect_uris": list(redirect_uris),
        "post_logout_redirect_uris": list(post_logout_redirect_uris),
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    config = {
        "issuer": issuer,
        "port": port,
        "accountsFile": str(accounts_file),
        "cookieKey": secrets.token_urlsafe(24),
        "signingKey": signing.as_dict(private=True),
        "codeTtlSeconds": code_ttl_seconds,
        "clients": [
            {**common, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_endpoint_auth_method": "client_secret_basic"},
            {**common, "client_id": PKJWT_CLIENT_ID, "token_endpoint_auth_method": "private_key_jwt",
             "token_endpoint_auth_signing_alg": "RS256", "jwks": {"keys": [client_jwk]}},
        ],
    }
    config_path = run_dir / "provider.json"
    config_path.write_text(json.dumps(config))
    # ESM resolves bare imports from the script's own folder, so the script sits beside node_modules.
    script = PREFIX / "provider.mjs"
    script.write_text((HERE / "provider.mjs").read_text())
    log_path = run_dir / "provider.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(node22.NODE_BIN), str(script), str(config_path)],
            cwd=PREFIX, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={"PATH": f"{node22.NODE_BIN.parent}:/usr/bin:/bin", "NODE_ENV": "test"},
            preexec_fn=node22._die_with_parent,
        )
    provider = OidcProvider(proc, issuer, run_dir, log_path, accounts_file, key_path, json.loads(json.dumps(ACCOUNTS)))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(line.startswith("READY ") for line in log_path.read_text(errors="replace").splitlines()):
            try:
                if httpx.get(provider.discovery_url, timeout=2).status_code == 200:
                    return provider
            except httpx.HTTPError:
                pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop(provider)
    raise RuntimeError(f"oidc-provider did not start; log:\n{log_path.read_text(errors='replace')[-3000:]}")


def stop(provider: OidcProvider) -> None:
    """SIGTERM by PID, SIGKILL if it hangs."""
    proc = provider.process
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
