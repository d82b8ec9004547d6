"""The simulator's mapping functions: real-shaped payloads map faithfully; malformed ones are a PermanentError or a skip, never a crash."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import InboundMessage, PermanentError, PostMetrics, ProfileMetrics, PublishResult, RateLimit
from connectors.simulator import mapping
from connectors.simulator.client import SimConfig, SimulatorServer
from connectors.simulator.query import compile_query, words
from tests.connectors.connector_testkit import json_mutants

FIXTURES = Path(__file__).parent / "fixtures"
# The autouse fixtures of tests/connectors only reset HTTP budgets; they do not touch generated data.
FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def fixture(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def test_fixtures_have_the_shape_the_server_produces_today(tmp_path):
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    server = SimulatorServer(
        SimConfig.from_mapping({"handle": "@cityofriverton", "profile_key": "riverton-city", "state_path": str(tmp_path / "s.db")}),
        lambda: now,
    )
    live = server.history(now - timedelta(hours=6), now)[0]
    assert set(live) == set(fixture("message"))
    assert set(live["account"]) == set(fixture("message")["account"])
    assert set(server.verify_credentials()) == set(fixture("account"))
    assert set(server.account_metrics()) == set(fixture("account_metrics"))


def test_a_mention_maps_faithfully():
    raw = fixture("message")
    m = mapping.message_from_raw(raw)
    assert m.network == "simulator"
    assert m.external_id == raw["id"] and m.kind == "mention" and m.text == raw["text"]
    assert m.created_at == datetime.fromisoformat(raw["created_at"].replace("Z", "+00:00"))
    assert m.created_at.tzinfo is not None and m.edited_at is None and not m.deleted
    assert m.author.handle == raw["account"]["acct"] and m.author.followers == raw["account"]["followers_count"]
    assert (m.likes, m.reposts, m.replies) == (raw["favourites_count"], raw["reblogs_count"], raw["replies_count"])
    assert m.url == raw["url"] and m.lang == raw["language"] and m.raw == raw


def test_an_edit_a_deletion_and_an_arabic_comment():
    edited = mapping.message_from_raw(fixture("message_edited"))
    assert edited.edited_at is not None and edited.edited_at > edited.created_at
    deleted = mapping.message_from_raw(fixture("message_deleted"))
    assert deleted.deleted
    comment = mapping.message_from_raw(fixture("message_comment_ar"))
    assert comment.kind == "comment" and comment.lang == "ar" and comment.in_reply_to_id and comment.conversation_id


def test_the_other_payloads():
    assert mapping.author_from_raw(fixture("account")).verified
    status = mapping.publish_result_from_raw(fixture("status"))
    assert status.external_id and status.published_at.tzinfo is not None
    assert mapping.profile_metrics_from_raw(fixture("account_metrics")).followers > 0
    assert mapping.post_metrics_from_raw(fixture("status_metrics")).external_id == status.external_id
    page = fixture("mentions_page")
    assert isinstance(mapping.rate_limit_from_raw(page["rate_limit"]), RateLimit)
    items, skipped = mapping.messages_from_raw(page["items"])
    assert len(items) == len(page["items"]) and skipped == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "missing id"),
        ({"kind": "tweet"}, "unknown kind"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": "0001-01-01T00:00:00+05:00"}, "created_at"),  # underflows when converted to UTC
        ({"favourites_count": True}, "favourites_count"),
        ({"account": "@someone"}, "account"),
        ({"text": ""}, "without text"),
        ({"deleted": "yes"}, "deleted"),
    ],
)
def test_malformed_items_are_skipped_with_a_reason(change, reason):
    good = fixture("message")
    bad = {**good, **change}
    items, skipped = mapping.messages_from_raw([good, bad, "not a dict"])
    assert len(items) == 1
    assert len(skipped) == 2 and reason in skipped[0]


def test_a_deleted_message_may_have_no_text_and_naive_times_are_utc():
    raw = {**fixture("message"), "deleted": True, "text": "", "created_at": "2026-03-10T12:00:00"}
    m = mapping.message_from_raw(raw)
    assert m.deleted and m.text == "" and m.created_at.tzinfo == timezone.utc


# ---------------------------------------------------------------- hypothesis


@FUZZ
@given(data=st.data())
def test_message_mapping_never_raises_anything_else(data):
    base = fixture(data.draw(st.sampled_from(["message", "message_edited", "message_deleted", "message_comment_ar"])))
    raw = data.draw(json_mutants(base))
    try:
        m = mapping.message_from_raw(raw)
    except PermanentError:
        return
    assert isinstance(m, InboundMessage)
    assert m.created_at.tzinfo is not None and m.created_at.utcoffset() == timedelta(0)
    assert m.kind in ("mention", "comment", "dm", "reply", "keyword", "post")
    assert m.text or m.deleted
    assert min(m.likes, m.reposts, m.replies, m.author.followers) >= 0


@FUZZ
@given(data=st.data())
def test_page_mapping_skips_instead_of_raising(data):
    base = fixture("message")
    raws = data.draw(st.lists(json_mutants(base), max_size=5))
    items, skipped = mapping.messages_from_raw(raws)
    assert len(items) + len(skipped) == len(raws)
    assert all(isinstance(reason, str) and reason for reason in skipped)


@FUZZ
@given(data=st.data())
def test_the_single_object_mappers_never_raise_anything_else(data):
    name, mapper, result_type = data.draw(
        st.sampled_from(
            [
                ("account", mapping.author_from_raw, object),
                ("status", mapping.publish_result_from_raw, PublishResult),
                ("account_metrics", mapping.profile_metrics_from_raw, ProfileMetrics),
                ("status_metrics", mapping.post_metrics_from_raw, PostMetrics),
            ]
        )
    )
    raw = data.draw(json_mutants(fixture(name)))
    try:
        result = mapper(raw)
    except PermanentError:
        return
    assert isinstance(result, result_type)


@FUZZ
@given(data=st.data())
def test_rate_limit_reports_never_raise(data):
    result = mapping.rate_limit_from_raw(data.draw(json_mutants(fixture("mentions_page")["rate_limit"])))
    assert result is None or isinstance(result, RateLimit)


_OFFSETS = st.sampled_from([None] + [timezone(timedelta(hours=h)) for h in (-12, -5, 0, 5, 14)])
TIMESTAMPS = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[0-9]{1,6}-[0-9]{2}-[0-9]{2}T[0-9:.+Z-]{0,20}", fullmatch=True),
    # Well-formed, but at the ends of the calendar, where converting to UTC overflows.
    st.datetimes(max_value=datetime(1, 1, 2), timezones=_OFFSETS).map(datetime.isoformat),
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=_OFFSETS).map(datetime.isoformat),
    st.datetimes(timezones=_OFFSETS).map(datetime.isoformat),
    st.none(),
    st.integers(),
)


@FUZZ
@given(value=TIMESTAMPS)
def test_parse_time_only_raises_permanent_error(value):
    try:
        parsed = mapping.parse_time(value)
    except PermanentError:
        return
    assert parsed.tzinfo is not None


@FUZZ
@given(query=st.text(alphabet=st.sampled_from(list('ab فيضان()"-# OR AND NOT \t@x')), max_size=30), text=st.text(max_size=60))
def test_the_search_syntax_parses_or_refuses(query, text):
    try:
        predicate = compile_query(query)
    except PermanentError:
        return
    assert predicate(words(text)) in (True, False)
