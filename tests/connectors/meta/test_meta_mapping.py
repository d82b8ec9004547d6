"""Tests for Meta Graph JSON mapping (Facebook and Instagram), including malformed input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings

from connectors.base import KIND_COMMENT, KIND_MENTION, KIND_REPLY, InboundMessage, PermanentError
from connectors.meta import mapping
from connectors.meta.common import TimeCursor

from tests.connectors.connector_testkit import json_mutants, load_fixture

PAGE = "104832451234567"


def fx(name):
    return load_fixture("meta", name)


def test_fb_comment_and_reply_to_us():
    first, ours = fx("fb_comments_page1")["data"]
    comment = mapping.map_fb_comment(first, post_id=f"{PAGE}_700000000000002", page_id=PAGE)
    assert comment.network == "facebook" and comment.kind == KIND_COMMENT
    assert comment.text == "Is the shelter on Main St open?"
    assert comment.created_at == datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert comment.in_reply_to_id == f"{PAGE}_700000000000002" and comment.author.display_name == "Jane Resident"
    reply = mapping.map_fb_comment(fx("fb_comments_page2")["data"][0], post_id="p", page_id=PAGE)
    assert reply.kind == KIND_REPLY and reply.in_reply_to_id == "700000000000002_900000000000002"


def test_fb_comment_without_from_is_anonymous_not_an_error():
    comment = {k: v for k, v in fx("fb_comments_page1")["data"][0].items() if k != "from"}
    assert mapping.map_fb_comment(comment).author.display_name == "Facebook user"


def test_fb_tagged_page_and_metrics():
    tagged = mapping.map_fb_tagged_post(fx("fb_tagged")["data"][0])
    assert tagged.kind == KIND_MENTION and tagged.author.display_name == "Riverside Residents Association"
    page = mapping.map_fb_page(fx("fb_page"))
    assert page.followers == 48210 and page.verified and page.handle == "ExampleCityEM"
    metrics = mapping.map_fb_post_metrics(next(iter(fx("fb_post_metrics").values())))
    assert (metrics.likes, metrics.replies, metrics.reposts) == (31, 3, 7)


def test_ig_mapping():
    comments = fx("ig_comments")["data"]
    top = mapping.map_ig_comment(comments[0], media_id="17895695668004550")
    assert top.network == "instagram" and top.kind == KIND_COMMENT and top.author.handle == "@resident_a"
    reply = mapping.map_ig_comment(comments[0]["replies"]["data"][1], media_id="m", parent_id=comments[0]["id"], parent_is_ours=True)
    assert reply.kind == KIND_REPLY and reply.in_reply_to_id == comments[0]["id"]
    tagged = mapping.map_ig_tagged_media(fx("ig_tags")["data"][0])
    assert tagged.kind == KIND_MENTION and tagged.url.startswith("https://www.instagram.com/p/")
    profile = mapping.map_ig_profile_metrics(fx("ig_user"))
    assert (profile.followers, profile.following, profile.posts) == (12840, 210, 388)
    assert mapping.container_status(fx("ig_container_finished")) == "FINISHED"


def test_time_cursor():
    assert str(TimeCursor.parse("")) == "" and TimeCursor.parse("junk") == TimeCursor()
    cursor = TimeCursor.parse("1705314600:a,b")
    assert cursor.since == 1705314600 and cursor.ids == {"a", "b"}
    assert str(TimeCursor.parse(str(cursor))) == str(cursor)


_SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    "fixture, path, fn",
    [
        ("fb_comments_page1", ("data", 0), lambda v: mapping.map_fb_comment(v, post_id="p", page_id=PAGE)),
        ("fb_tagged", ("data", 0), mapping.map_fb_tagged_post),
        ("fb_page", (), mapping.map_fb_page),
        ("fb_page", (), mapping.map_fb_profile_metrics),
        ("fb_post_metrics", (f"{PAGE}_700000000000002",), mapping.map_fb_post_metrics),
        ("ig_comments", ("data", 0), lambda v: mapping.map_ig_comment(v, media_id="m", parent_id="p", parent_is_ours=True)),
        ("ig_tags", ("data", 0), mapping.map_ig_tagged_media),
        ("ig_user", (), mapping.map_ig_user),
        ("ig_user", (), mapping.map_ig_profile_metrics),
        ("ig_post_metrics", ("17920238422030506",), mapping.map_ig_post_metrics),
        ("ig_container_finished", (), mapping.container_status),
        ("fb_comments_page1", (), mapping.graph_page),
    ],
)
def test_mapping_malformed_is_permanent_or_valid(fixture, path, fn):
    base = fx(fixture)
    for key in path:
        base = base[key]

    @_SETTINGS
    @given(json_mutants(base))
    def check(value):
        try:
            result = fn(value)
        except PermanentError:
            return
        if isinstance(result, InboundMessage):
            assert result.created_at.tzinfo is not None

    check()
