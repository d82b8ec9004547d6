"""Tests for Mastodon JSON mapping, limits and HTML-to-text, including malformed input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import KIND_DM, KIND_KEYWORD, KIND_MENTION, KIND_REPLY, InboundMessage, Limits, PermanentError
from connectors.mastodon import mapping
from connectors.mastodon.limits import DEFAULT_LIMITS, limits_from_instance

from tests.connectors.connector_testkit import json_mutants, load_fixture


def fx(name):
    return load_fixture("mastodon", name)


def test_map_status_from_docs_example():
    message = mapping.map_status(fx("status"), instance_host="mastodon.social")
    assert message.network == "mastodon"
    assert message.external_id == "103270115826048975"
    assert message.kind == KIND_KEYWORD
    assert message.author.handle == "@Gargron@mastodon.social"
    assert message.author.display_name == "Eugen"
    assert message.author.followers == 322930
    assert message.created_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)
    assert message.text == (
        '"I lost my inheritance with one wrong digit on my sort code"\n\n'
        "https://www.theguardian.com/money/2019/dec/07/i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
    )
    assert (message.likes, message.reposts, message.replies) == (11, 6, 5)
    assert message.url == "https://mastodon.social/@Gargron/103270115826048975"
    assert message.lang == "en"
    assert message.edited_at is None and message.deleted is False


def test_map_notification_reply_to_us():
    notification = fx("notifications_mention")[0]
    message = mapping.map_notification(notification, own_account_id="14715", instance_host="mastodon.social")
    assert message.kind == KIND_REPLY  # in_reply_to_account_id is ours
    assert message.text == "@trwnh sup!"
    assert message.in_reply_to_id == "103186038209478945"
    assert message.author.handle == "@zsc@mastodon.social"


def test_map_notification_plain_mention_and_dm():
    notification = fx("notifications_mention")[0]
    assert mapping.map_notification(notification, own_account_id="1").kind == KIND_MENTION
    direct = {**notification, "status": {**notification["status"], "visibility": "direct"}}
    assert mapping.map_notification(direct, own_account_id="1").kind == KIND_DM


def test_map_notification_with_deleted_status_is_permanent():
    notification = {**fx("notifications_mention")[0], "status": None}
    with pytest.raises(PermanentError, match="deleted"):
        mapping.map_notification(notification)


def test_edited_status_keeps_edit_time():
    status = {**fx("status"), "edited_at": "2019-12-08T04:00:00.000Z"}
    assert mapping.map_status(status).edited_at == datetime(2019, 12, 8, 4, 0, tzinfo=UTC)


def test_boost_maps_to_boosted_status():
    boosted = fx("status")
    wrapper = {**boosted, "id": "1", "content": "", "reblog": boosted}
    assert mapping.map_status(wrapper).external_id == boosted["id"]


def test_content_warning_is_kept_visible():
    status = {**fx("status"), "spoiler_text": "flooding", "content": "<p>Road closed</p>"}
    assert mapping.map_status(status).text == "CW: flooding\n\nRoad closed"


def test_remote_account_handle_unchanged():
    account = {**fx("status")["account"], "acct": "someone@other.example"}
    assert mapping.map_account(account, "mastodon.social").handle == "@someone@other.example"


@pytest.mark.parametrize(
    "html, text",
    [
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>line1<br>line2<br />line3</p>", "line1\nline2\nline3"),
        ("<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;</p>", "<script>alert(1)</script> & \"x\" 'y'"),
        ("<p>a<script>evil()</script>b</p>", "ab"),
        ('<p><span class="h-card"><a href="https://x/@a" class="u-url mention">@<span>a</span></a></span> hi</p>', "@a hi"),
        ("<ul><li>one</li><li>two</li></ul>", "• one\n• two"),
        ("plain text\nwith newline", "plain text\nwith newline"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("<p>  spaced   out  </p>", "spaced out"),
        ("", ""),
        (None, ""),
        ("<p>مرحبا بالعالم</p>", "مرحبا بالعالم"),
    ],
)


def test_html_to_text(html, text):
    assert mapping.html_to_text(html) == text


@settings(max_examples=1000, deadline=None)


@given(st.text())


def test_html_to_text_never_raises_on_any_text(html):
    assert isinstance(mapping.html_to_text(html), str)


@settings(max_examples=1000, deadline=None)


@given(st.lists(st.sampled_from(["<p>", "</p>", "<br>", "<br/>", "<a href='x'>", "</a>", "&amp;", "&#x26;", "&bogus;",
                                 "<", ">", "<!--", "-->", "<script>", "</script>", "text", " ", "\n", "<![CDATA[", "&#99999999;"])))
def test_html_to_text_never_raises_on_tag_soup(parts):
    assert isinstance(mapping.html_to_text("".join(parts)), str)


def test_limits_from_instance_v2_and_v1():
    v2 = limits_from_instance(fx("instance_v2"))
    assert v2.max_chars == 500 and v2.url_length == 23 and v2.max_images == 4
    assert v2.max_image_bytes == 16777216 and v2.alt_text_max == 1500
    assert "image/avif" in v2.image_types and "video/mp4" not in v2.image_types
    assert v2.supports_idempotency
    v1 = limits_from_instance(fx("instance_v1"))
    assert v1.max_chars == 500 and v1.max_image_bytes == 10485760


def test_limits_from_instance_with_raised_limit():
    instance = fx("instance_v2")
    instance["configuration"]["statuses"]["max_characters"] = 5000
    assert limits_from_instance(instance).max_chars == 5000


def test_publish_result_and_metrics():
    status = fx("status")
    result = mapping.map_publish_result(status)
    assert result.external_id == status["id"] and result.url == status["url"]
    metrics = mapping.map_post_metrics(status)
    assert (metrics.likes, metrics.reposts, metrics.replies) == (11, 6, 5)
    profile = mapping.map_profile_metrics(fx("verify_credentials"))
    assert (profile.followers, profile.following, profile.posts) == (821, 178, 33120)


_SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS


@given(st.data())


def test_map_status_malformed_is_permanent_or_valid(data):
    value = data.draw(json_mutants(fx("status")))
    try:
        message = mapping.map_status(value, own_account_id="1", instance_host="h")
    except PermanentError:
        return
    assert isinstance(message, InboundMessage)
    assert message.created_at.tzinfo is not None
    assert message.external_id and message.author.external_id


@_SETTINGS


@given(st.data())


def test_map_notification_malformed_is_permanent_or_valid(data):
    value = data.draw(json_mutants(fx("notifications_mention")[0]))
    try:
        assert isinstance(mapping.map_notification(value, own_account_id="14715"), InboundMessage)
    except PermanentError:
        pass


@_SETTINGS


@given(st.data())


def test_map_account_and_metrics_malformed(data):
    value = data.draw(json_mutants(fx("verify_credentials")))
    for fn in (mapping.map_account, mapping.map_profile_metrics):
        try:
            fn(value)
        except PermanentError:
            pass


@_SETTINGS


@given(st.data())


def test_map_publish_result_and_post_metrics_malformed(data):
    value = data.draw(json_mutants(fx("status")))
    for fn in (mapping.map_publish_result, mapping.map_post_metrics):
        try:
            fn(value)
        except PermanentError:
            pass


@_SETTINGS


@given(st.data())


def test_limits_from_malformed_instance_never_raises(data):
    value = data.draw(json_mutants(fx("instance_v1")))
    limits = limits_from_instance(value)
    assert isinstance(limits, Limits) and limits.max_chars > 0


def test_default_limits():
    assert DEFAULT_LIMITS.max_chars == 500 and DEFAULT_LIMITS.counting == "graphemes"
