"""The connect form on the profiles page is what the connector package declares, in the reader's language."""

from __future__ import annotations

import reflex as rx

from connectors.registry import NETWORKS
from govsocial_app.services import auth

PASSWORD = "correct horse battery"


def _admin_profiles_state(actor_factory, lang: str):
    from govsocial_app.state.app_state import AppState
    from govsocial_app.state.profiles import ProfilesState

    actor = actor_factory("admin")
    auth.update_preferences(actor.user_id, actor, locale=lang)
    root = rx.State(_reflex_internal_init=True)
    app_state = root.substates[AppState.get_name()]
    app_state.auth_token, _ = auth.sign_in(actor.label.split("<")[1].rstrip(">"), PASSWORD)
    return app_state.substates[ProfilesState.get_name()]


def test_the_form_follows_the_declaration_and_the_readers_language(actor_factory):
    state = _admin_profiles_state(actor_factory, "ar")
    state.load()
    state.choose_network("mastodon")
    declared = NETWORKS["mastodon"]
    assert [f.name for f in state.fields] == [f.name for f in declared.config_fields + declared.secret_fields]
    assert {f.name for f in state.fields if f.secret} == {"access_token", "client_id", "client_secret"}
    assert state.fields[0].label == "عنوان الخادم" and "social.example.gov" in state.fields[0].help
    assert dict(state.networks)["facebook"] == "صفحة فيسبوك"
    assert [n for n, _ in state.networks] == list(NETWORKS)


def test_english_readers_see_the_packages_own_words(actor_factory):
    state = _admin_profiles_state(actor_factory, "en")
    state.load()
    state.choose_network("bluesky")
    assert [(f.label, f.secret) for f in state.fields] == [("Handle", False), ("PDS address", False), ("App password", True)]


def test_a_connected_profile_is_listed_with_its_rate_budget_in_the_readers_language(actor_factory, profile):
    """The page used to fail on load as soon as one profile existed (it read `h.rate`, which the service never had)."""
    from datetime import datetime, timedelta, timezone

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SocialProfile

    with session_scope() as s:
        row = s.get(SocialProfile, profile)
        row.rate_limit = {"limit": 300, "remaining": 120}
        row.last_success_at = datetime.now(timezone.utc) - timedelta(minutes=2)
    state = _admin_profiles_state(actor_factory, "ar")
    state.load()
    [listed] = state.rows
    assert (listed.id, listed.handle, listed.status) == (profile, "@cityofriverton", "active")
    assert listed.rate == "بقي 120 من 300"
    assert listed.last_success == "قبل دقيقتين"
