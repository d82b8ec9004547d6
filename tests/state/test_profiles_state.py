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
