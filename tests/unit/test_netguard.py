"""The server never contacts private, loopback or link-local addresses on someone's say-so: push endpoints, connector
instance URLs and redirects (security review, issue 13). GOVSOCIAL_ALLOW_PRIVATE_NETWORKS is the escape hatch."""

from __future__ import annotations

import asyncio
import http.server
import threading

import httpx
import pytest

from connectors import http as connector_http
from connectors import netguard
from connectors.base import PermanentError
from govsocial_app import config
from govsocial_app.services import profiles
from govsocial_app.services.alerting import webpush
from govsocial_app.services.errors import UserError

KEYS = {"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
        "auth": "tBHItJI5svbpez7KI4CCXg"}


@pytest.fixture
def strict(monkeypatch):
    """No private network allowed (the test suite allows loopback for its real peers)."""
    monkeypatch.setenv(netguard.ENV, "")
    config.reset_settings_cache()
    yield
    config.reset_settings_cache()


@pytest.fixture
def local_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"internal secret")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "::1", "fe80::1",
                                "fd00::1", "100.64.0.1", "0.0.0.0", "::ffff:127.0.0.1", "224.0.0.1"])
def test_private_and_local_addresses_are_refused(strict, ip):
    assert not netguard.allowed(ip)


def test_public_addresses_and_allowed_networks_pass(strict, monkeypatch):
    assert netguard.allowed("93.184.216.34") and netguard.allowed("2606:4700::1111")
    monkeypatch.setenv(netguard.ENV, "10.20.0.0/16, 127.0.0.1/32")
    assert netguard.allowed("10.20.5.5") and netguard.allowed("127.0.0.1") and not netguard.allowed("10.21.0.1")


def test_connector_clients_cannot_reach_the_internal_network(strict, local_server):
    async def go():
        async with connector_http.make_client() as client:
            with pytest.raises(PermanentError, match="private or local network"):
                await connector_http.send(client, "GET", local_server + "/admin", retries=3)

    asyncio.run(go())


def test_a_redirect_to_an_internal_host_is_refused_too(strict, local_server):
    import respx  # noqa: F401  (not used: the redirect must go through the real transport)

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", local_server + "/admin")
            self.end_headers()

        def log_message(self, *args):
            pass

    async def go():
        transport = netguard.guarded_transport(extra=("127.0.0.2/32",))
        server = http.server.HTTPServer(("127.0.0.2", 0), Redirect)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
                with pytest.raises(httpx.ConnectError, match="127.0.0.1 is on a private"):
                    await client.get(f"http://127.0.0.2:{server.server_address[1]}/")
        finally:
            server.shutdown()

    asyncio.run(go())


def test_the_escape_hatch_lets_an_on_premises_server_through(local_server, monkeypatch):
    monkeypatch.setenv(netguard.ENV, "127.0.0.0/8")

    async def go():
        async with connector_http.make_client() as client:
            return (await connector_http.send(client, "GET", local_server + "/")).text

    assert asyncio.run(go()) == "internal secret"


def test_a_push_endpoint_whose_name_points_inside_is_refused(strict, monkeypatch):
    monkeypatch.setenv("GOVSOCIAL_MODE", "production")
    config.reset_settings_cache()
    for endpoint in ("https://localhost/push/abc", "https://127.0.0.1/push", "https://169.254.169.254/latest/meta-data", "http://fcm.example/x"):
        with pytest.raises(UserError):
            webpush._parse_subscription({"endpoint": endpoint, "keys": KEYS})


def test_pushes_are_not_sent_to_a_name_that_now_points_inside(db, strict, monkeypatch, local_server):
    monkeypatch.setenv("GOVSOCIAL_MODE", "production")
    config.reset_settings_cache()
    target = webpush.PushTarget(1, local_server.replace("http://", "https://") + "/push", KEYS["p256dh"], KEYS["auth"])
    result = asyncio.run(webpush.send(target, {"title": "x"}))
    assert not result.ok and "private or local network" in result.error


def test_connecting_a_profile_on_an_internal_server_is_refused_before_any_request(db, strict, actor_factory):
    admin = actor_factory("admin")
    for url in ("localhost", "https://127.0.0.1:8443", "http://169.254.169.254"):
        with pytest.raises(UserError, match="private or local network"):
            asyncio.run(profiles.connect("mastodon", {"instance_url": url, "access_token": "t"}, admin))
