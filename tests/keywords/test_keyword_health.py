"""Issue 14: a keyword that cannot work, or has found nothing for days, says so on its health line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import respx

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import KeywordSearch, SocialProfile
from govsocial_app.services.listening import keywords
from govsocial_app.services.intake import searches
from govsocial_app.services.crypto import encrypt_json

BASE = "https://hashtags-only.example"


def test_a_keyword_silent_for_days_says_so(db, actor_factory):
    kid = keywords.create("Flooding", "flooding", ["simulator"], "normal", 60, actor_factory("manager"))
    now = datetime.now(timezone.utc)
    with session_scope() as s:
        row = s.get(KeywordSearch, kid)
        row.created_at, row.last_run_at = now - timedelta(days=5), now
    [view] = keywords.listing(now=now)
    assert "Nothing found for 5 days" in view.last_error
    assert (keywords.NOTHING_FOUND, {"days": 5}) in view.notices
    [fresh] = keywords.listing(now=now - timedelta(days=4))
    assert "Nothing found" not in fresh.last_error


async def test_a_mastodon_server_that_searches_hashtags_only_shows_on_the_keyword(db, actor_factory):
    with session_scope() as s:
        s.add(SocialProfile(network="mastodon", handle="@city", display_name="City", external_id="7", status="active",
                            config={"instance_url": BASE, "account_id": "7"}, secrets_enc=encrypt_json({"access_token": "tok"})))
    kid = keywords.create("Flooding", "flooding", ["mastodon"], "normal", 60, actor_factory("manager"))
    own = {"id": "900", "created_at": "2026-11-30T10:00:00.000Z", "content": "<p>Sandbags available at the depot</p>",
           "account": {"id": "7", "acct": "city", "username": "city"}, "url": f"{BASE}/@city/900"}
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        api.get("/api/v1/accounts/7/statuses").respond(200, json=[own])
        search = api.get("/api/v2/search").respond(200, json={"accounts": [], "statuses": [], "hashtags": []})
        assert await searches.run_keyword(kid) == []
    assert all("min_id" not in c.request.url.params for c in search.calls)
    [view] = keywords.listing()
    assert "this server searches hashtags only" in view.last_error
    assert (keywords.HASHTAGS_ONLY, {}) in view.notices
    with session_scope() as s:
        assert "0" not in s.get(KeywordSearch, kid).cursors.values()


async def test_a_search_refused_with_400_invalid_bearer_token_marks_the_profile(db, actor_factory):
    from sqlmodel import select

    from govsocial_app.db.models import Alert

    actor_factory("admin")
    with session_scope() as s:
        p = SocialProfile(network="mastodon", handle="@city", display_name="City", external_id="7", status="active",
                          config={"instance_url": BASE, "account_id": "7"}, secrets_enc=encrypt_json({"access_token": "revoked"}))
        s.add(p)
        s.flush()
        pid = p.id
    kid = keywords.create("Flooding", "flooding", ["mastodon"], "normal", 60, actor_factory("manager"))
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        api.get("/api/v2/search").respond(400, json={"error": "Invalid Bearer token"})
        assert await searches.run_keyword(kid) == []
    [view] = keywords.listing()
    assert "refused the credentials" in view.last_error
    with session_scope() as s:
        assert s.get(SocialProfile, pid).status == "needs_reconnect"
        assert len(s.exec(select(Alert).where(Alert.kind == "auth")).all()) == 1


def test_the_keywords_page_shows_the_health_notice_in_arabic(db, actor_factory):
    """The notice is the service's English msgid; the Keywords page shows it in the reader's language."""
    import reflex as rx

    import govsocial_app.govsocial_app  # noqa: F401
    from govsocial_app.i18n import translate
    from govsocial_app.services import auth
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.keywords import KeywordsState

    manager = actor_factory("manager")
    kid = keywords.create("Flooding", "flooding", ["simulator"], "normal", 60, manager)
    with session_scope() as s:
        row = s.get(KeywordSearch, kid)
        row.created_at, row.last_run_at = datetime.now(timezone.utc) - timedelta(days=5), datetime.now(timezone.utc)
    root = rx.State(_reflex_internal_init=True)
    app = root.substates[AppState.get_name()]
    app.auth_token, _ = auth.sign_in(manager.label.split("<")[1].rstrip(">"), "correct horse battery")
    page = app.substates[KeywordsState.get_name()]
    app.lang = "ar"
    page._refresh()
    [row] = page.rows
    arabic = translate(keywords.NOTHING_FOUND, "ar", days=5)
    assert arabic != keywords.NOTHING_FOUND.format(days=5) and arabic in row.last_error
    assert "Nothing found" not in row.last_error
