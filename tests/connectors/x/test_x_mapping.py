"""Tests for X API v2 JSON mapping, including malformed input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import KIND_KEYWORD, KIND_MENTION, KIND_REPLY, InboundMessage, PermanentError
from connectors.x import mapping

from tests.connectors.connector_testkit import json_mutants, load_fixture


def fx(name):
    return load_fixture("x", name)


def test_map_search_post_with_author_from_includes():
    body = fx("search_recent")
    users = mapping.users_by_id(body)
    message = mapping.map_post(body["data"][0], users)
    assert message.network == "x" and message.kind == KIND_KEYWORD
    assert message.external_id == "1234567890123456789"
    assert message.text == "Just started learning Python and loving it! & more"  # entities unescaped
    assert message.author.handle == "@pythondev" and message.author.followers == 1200
    assert message.author.verified is False
    assert message.created_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert (message.likes, message.reposts, message.replies) == (42, 6, 2)
    assert message.url == "https://x.com/pythondev/status/1234567890123456789"
    assert message.lang == "en"
    second = mapping.map_post(body["data"][1], users)
    assert second.author.verified is True


def test_map_mention_and_reply_kind():
    body = fx("mentions")
    post = body["data"][0]
    assert mapping.map_post(post, mapping.users_by_id(body), kind=KIND_MENTION, own_user_id="2244994945").kind == KIND_MENTION
    reply = {**post, "in_reply_to_user_id": "2244994945", "referenced_tweets": [{"type": "replied_to", "id": "1300000000000000000"}]}
    message = mapping.map_post(reply, {}, kind=KIND_MENTION, own_user_id="2244994945")
    assert message.kind == KIND_REPLY and message.in_reply_to_id == "1300000000000000000"
    assert message.author.external_id == "1234567890" and message.author.handle == ""  # not in includes


def test_edited_post_keeps_original_id():
    post = {**fx("mentions")["data"][0], "id": "1301573587187331099", "edit_history_tweet_ids": ["1301573587187331074", "1301573587187331099"]}
    message = mapping.map_post(post, {})
    assert message.external_id == "1301573587187331074"
    assert message.edited_at == message.created_at
    assert message.url.endswith("1301573587187331099")


def test_long_post_uses_note_tweet():
    post = {**fx("mentions")["data"][0], "note_tweet": {"text": "a" * 400}}
    assert mapping.map_post(post, {}).text == "a" * 400


def test_page_posts_reports_partial_errors():
    posts, _, token, problems = mapping.page_posts(fx("posts_metrics"))
    assert len(posts) == 1 and token == ""
    assert problems == ["Could not find tweet with id: [456]."]
    assert mapping.page_posts({"meta": {"result_count": 0}})[0] == []


def test_metrics_and_results():
    metrics = mapping.map_post_metrics(fx("posts_metrics")["data"][0])
    assert (metrics.impressions, metrics.likes, metrics.reposts, metrics.replies, metrics.clicks) == (1500, 20, 6, 1, 17)
    profile = mapping.map_profile_metrics(fx("users_me"))
    assert (profile.followers, profile.following, profile.posts) == (583423, 2048, 14052)
    result = mapping.map_created_post(fx("create_post"), "XDevelopers")
    assert result.external_id == "1445880548472328192"
    assert result.url == "https://x.com/XDevelopers/status/1445880548472328192"


@pytest.mark.parametrize("bad", [None, [], {"id": "abc"}, {"id": "1", "author_id": "2"}, {"id": "1", "created_at": "2024-01-15T10:30:00Z"}])
def test_map_post_rejects_malformed(bad):
    with pytest.raises(PermanentError):
        mapping.map_post(bad, {})


_SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(st.data())
def test_map_post_malformed_is_permanent_or_valid(data):
    body = fx("search_recent")
    post = data.draw(json_mutants(body["data"][0]))
    users = data.draw(st.one_of(st.just(mapping.users_by_id(body)), st.builds(mapping.users_by_id, json_mutants(body))))
    try:
        message = mapping.map_post(post, users, kind=KIND_MENTION, own_user_id="1")
    except PermanentError:
        return
    assert isinstance(message, InboundMessage) and message.created_at.tzinfo is not None


@_SETTINGS
@given(st.data())
def test_page_and_metrics_mapping_malformed(data):
    value = data.draw(json_mutants(fx("posts_metrics")))
    try:
        posts, _, _, _ = mapping.page_posts(value)
    except PermanentError:
        return
    for post in posts:
        try:
            mapping.map_post_metrics(post)
        except PermanentError:
            pass


@_SETTINGS
@given(st.data())
def test_user_profile_and_created_post_malformed(data):
    for name, fn in (("users_me", mapping.map_profile_metrics), ("create_post", mapping.map_created_post)):
        value = data.draw(json_mutants(fx(name)))
        try:
            fn(value)
        except PermanentError:
            pass
    user = data.draw(json_mutants(fx("users_me")["data"]))
    try:
        mapping.map_user(user)
    except PermanentError:
        pass
