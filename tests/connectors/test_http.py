"""Tests for the shared httpx client factory: retries, Retry-After, rate budgets and typed errors."""

from __future__ import annotations

import email.utils
import time
from datetime import UTC, datetime

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import http
from connectors.base import AuthError, PermanentError, RateLimited, TransientError

BASE = "https://api.example.test"


@pytest.fixture
async def client():
    async with http.make_client(BASE) as c:
        yield c


async def test_make_client_sets_user_agent_and_timeouts():
    async with http.make_client(BASE, headers={"Authorization": "Bearer t"}, timeout=7) as c:
        assert c.headers["User-Agent"] == "GovSocial/0.1 (+self-hosted)"
        assert c.headers["Authorization"] == "Bearer t"
        assert c.timeout.read == 7
        assert c.timeout.connect == 5


@respx.mock
async def test_success_passes_through(client, sleeps):
    respx.get(f"{BASE}/ok").respond(200, json={"a": 1})
    response = await http.send(client, "GET", "/ok")
    assert http.json_body(response) == {"a": 1}
    assert sleeps == []


@respx.mock
async def test_429_with_short_retry_after_is_honoured_exactly(client, sleeps):
    route = respx.get(f"{BASE}/x")
    route.side_effect = [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={})]
    await http.send(client, "GET", "/x")
    assert sleeps == [7.0]
    assert route.call_count == 2


@respx.mock
async def test_429_retry_after_http_date(client, sleeps):
    when = email.utils.format_datetime(datetime.fromtimestamp(time.time() + 12, UTC), usegmt=True)
    route = respx.get(f"{BASE}/x")
    route.side_effect = [httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json={})]
    await http.send(client, "GET", "/x")
    assert len(sleeps) == 1 and 9 <= sleeps[0] <= 12


@respx.mock
async def test_429_with_long_retry_after_raises_at_once(client, sleeps):
    route = respx.get(f"{BASE}/x").respond(429, headers={"Retry-After": "900"}, json={"error": "Too many requests"})
    with pytest.raises(RateLimited) as info:
        await http.send(client, "GET", "/x")
    assert info.value.retry_after == 900
    assert route.call_count == 1 and sleeps == []


@respx.mock
async def test_429_without_hint_uses_reset_header(client, sleeps):
    reset = int(time.time()) + 600
    respx.get(f"{BASE}/x").respond(429, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    with pytest.raises(RateLimited) as info:
        await http.send(client, "GET", "/x")
    assert 590 <= info.value.retry_after <= 600


@respx.mock
async def test_429_repeated_exhausts_retries(client, sleeps):
    route = respx.get(f"{BASE}/x").respond(429, headers={"Retry-After": "2"})
    with pytest.raises(RateLimited):
        await http.send(client, "GET", "/x", retries=2)
    assert route.call_count == 3
    assert sleeps == [2.0, 2.0]


@respx.mock
async def test_503_with_retry_after(client, sleeps):
    route = respx.get(f"{BASE}/x")
    route.side_effect = [httpx.Response(503, headers={"Retry-After": "3"}), httpx.Response(200, json={})]
    await http.send(client, "GET", "/x")
    assert sleeps == [3.0]


@respx.mock
async def test_503_with_long_retry_after_is_rate_limited(client, sleeps):
    respx.get(f"{BASE}/x").respond(503, headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as info:
        await http.send(client, "GET", "/x")
    assert info.value.retry_after == 120


@respx.mock
async def test_5xx_retried_with_backoff_then_transient(client, sleeps):
    route = respx.get(f"{BASE}/x").respond(502)
    with pytest.raises(TransientError):
        await http.send(client, "GET", "/x", retries=3)
    assert route.call_count == 4
    assert len(sleeps) == 3
    assert all(0 < s <= 8.5 for s in sleeps)
    assert sleeps[0] < 1.1  # starts around half a second


@respx.mock
async def test_5xx_then_success(client, sleeps):
    route = respx.get(f"{BASE}/x")
    route.side_effect = [httpx.Response(500), httpx.Response(500), httpx.Response(200, json={"ok": True})]
    response = await http.send(client, "GET", "/x")
    assert response.json() == {"ok": True}
    assert len(sleeps) == 2


@respx.mock
async def test_timeouts_retried_then_transient(client, sleeps):
    route = respx.get(f"{BASE}/x").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TransientError):
        await http.send(client, "GET", "/x", retries=2)
    assert route.call_count == 3 and len(sleeps) == 2


@respx.mock
async def test_connection_error_retried(client, sleeps):
    route = respx.get(f"{BASE}/x")
    route.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, json={})]
    await http.send(client, "GET", "/x")
    assert route.call_count == 2


@respx.mock
@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors(client, sleeps, status):
    route = respx.get(f"{BASE}/x").respond(status, json={"error": "The access token is invalid"})
    with pytest.raises(AuthError, match="access token is invalid"):
        await http.send(client, "GET", "/x")
    assert route.call_count == 1


@respx.mock
@pytest.mark.parametrize(
    "body, expected",
    [
        ({"error": "Validation failed: Text can't be blank"}, "Text can't be blank"),  # Mastodon
        ({"title": "Invalid Request", "detail": "One or more parameters to your request was invalid."}, "parameters"),  # X
        ({"error": {"message": "(#100) Invalid parameter", "type": "OAuthException", "code": 100}}, "Invalid parameter"),  # Meta
        ({"error": "InvalidRequest", "message": "Record/text must not be longer than 300 graphemes"}, "300 graphemes"),  # atproto
    ],
)
async def test_4xx_is_permanent_with_network_message(client, sleeps, body, expected):
    route = respx.post(f"{BASE}/x").respond(422, json=body)
    with pytest.raises(PermanentError, match=expected):
        await http.send(client, "POST", "/x")
    assert route.call_count == 1


@respx.mock
async def test_4xx_with_html_body(client):
    respx.get(f"{BASE}/x").respond(404, text="<html>nope</html>")
    with pytest.raises(PermanentError, match="HTTP 404"):
        await http.send(client, "GET", "/x")


@respx.mock
async def test_post_without_idempotency_key_is_not_resent_after_ambiguous_failure(client, sleeps):
    route = respx.post(f"{BASE}/x").respond(502)
    with pytest.raises(http.OutcomeUnknown):
        await http.send(client, "POST", "/x")
    assert route.call_count == 1


@respx.mock
async def test_post_without_key_is_resent_when_never_delivered(client, sleeps):
    route = respx.post(f"{BASE}/x")
    route.side_effect = [httpx.ConnectError("refused"), httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={})]
    await http.send(client, "POST", "/x")
    assert route.call_count == 3


@respx.mock
@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("connection reset"), httpx.Response(502), httpx.Response(500),
     httpx.Response(504), httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(503, headers={"Retry-After": "600"})],
    ids=["timeout", "reset", "502", "500", "504", "503-short", "503-long"],
)
async def test_post_with_idempotency_key_is_not_resent_after_ambiguous_failure(client, sleeps, failure):
    """Issue 14: servers (and proxies) ignore Idempotency-Key, so a key never makes a resend safe."""
    route = respx.post(f"{BASE}/x")
    route.side_effect = [failure, httpx.Response(200, json={"id": "1"})]
    with pytest.raises(http.OutcomeUnknown):
        await http.send(client, "POST", "/x", headers={"Idempotency-Key": "abc"})
    assert route.call_count == 1


@respx.mock
async def test_post_declared_idempotent_by_its_caller_is_retried(client, sleeps):
    route = respx.post(f"{BASE}/x")
    route.side_effect = [httpx.ReadTimeout("slow"), httpx.Response(200, json={"id": "1"})]
    await http.send(client, "POST", "/x", idempotent=True)
    assert route.call_count == 2


def test_success_with_invalid_json_after_a_write_is_outcome_unknown():
    """Issue 13: a 2xx with a garbled body to a POST means the server acted; recording a failure invites a double."""
    response = httpx.Response(200, text="<html>ok</html>", request=httpx.Request("POST", BASE + "/statuses"))
    with pytest.raises(http.OutcomeUnknown):
        http.json_body(response)


@respx.mock
async def test_error_mapper_runs_first(client):
    respx.get(f"{BASE}/x").respond(400, json={"error": "ExpiredToken"})

    def mapper(response):
        return AuthError("expired") if response.json().get("error") == "ExpiredToken" else None

    with pytest.raises(AuthError, match="expired"):
        await http.send(client, "GET", "/x", error_mapper=mapper)


async def test_invalid_json_body_is_permanent():
    response = httpx.Response(200, text="not json", request=httpx.Request("GET", BASE))
    with pytest.raises(PermanentError):
        http.json_body(response)


# ---------------------------------------------------------------- rate budgets


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2031-01-01T00:05:00.000Z"},
        {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "1924992300"},
        {"ratelimit-limit": "300", "ratelimit-remaining": "0", "ratelimit-reset": "1924992300"},
    ],
)
def test_parse_rate_limit_header_styles(headers):
    parsed = http.parse_rate_limit(httpx.Headers(headers))
    assert parsed.limit == 300 and parsed.remaining == 0
    assert parsed.reset_at == datetime(2031, 1, 1, 0, 5, tzinfo=UTC)


def test_parse_rate_limit_delta_seconds():
    parsed = http.parse_rate_limit(httpx.Headers({"RateLimit-Remaining": "5", "RateLimit-Reset": "30"}), now=1_000_000_000)
    assert parsed.remaining == 5
    assert parsed.reset_at.timestamp() == 1_000_000_030


def test_parse_rate_limit_absent():
    assert http.parse_rate_limit(httpx.Headers({"content-type": "application/json"})) is None


def test_budget_refuses_when_exhausted_until_reset():
    now = [1_000_000_000.0]
    budget = http.RateBudget("p1", clock=lambda: now[0])
    budget.update(httpx.Headers({"x-rate-limit-limit": "10", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "1000000100"}))
    with pytest.raises(RateLimited) as info:
        budget.check()
    assert info.value.retry_after == 100
    now[0] += 101
    budget.check()  # reset has passed


def test_budget_for_is_keyed_by_profile():
    assert http.budget_for("a") is http.budget_for("a")
    assert http.budget_for("a") is not http.budget_for("b")


@respx.mock
async def test_send_feeds_and_obeys_budget(client, sleeps):
    reset = int(time.time()) + 600
    route = respx.get(f"{BASE}/x").respond(
        200, json={}, headers={"x-rate-limit-limit": "2", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
    )
    budget = http.budget_for("x:42")
    await http.send(client, "GET", "/x", budget=budget)
    assert budget.current.remaining == 0 and budget.current.limit == 2
    with pytest.raises(RateLimited):
        await http.send(client, "GET", "/x", budget=budget)
    assert route.call_count == 1  # refused locally, the network never saw the second call


@respx.mock
async def test_429_marks_budget_exhausted(client, sleeps):
    respx.get(f"{BASE}/x").respond(429, headers={"Retry-After": "300"})
    budget = http.budget_for("m:1")
    with pytest.raises(RateLimited):
        await http.send(client, "GET", "/x", budget=budget)
    with pytest.raises(RateLimited):
        budget.check()


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=40))
def test_parse_retry_after_never_raises(value):
    result = http.parse_retry_after(value)
    assert result is None or result >= 0


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.sampled_from(["x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset",
                                        "ratelimit-reset", "X-RateLimit-Reset", "ratelimit-limit"]),
                       st.text(alphabet=st.characters(codec="ascii", exclude_characters="\r\n\x00"), max_size=30)))
def test_parse_rate_limit_never_raises(headers):
    http.parse_rate_limit(httpx.Headers(headers))


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=400, max_value=599), st.binary(max_size=200))
def test_error_message_never_raises(status, body):
    response = httpx.Response(status, content=body, headers={"content-type": "application/json"})
    assert http.error_message(response).startswith(f"HTTP {status}")
