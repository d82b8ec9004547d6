"""Saved-reply tests reuse the inbox's real-ingest fixtures (a simulator profile; messages through ingest)."""

from tests.inbox.conftest import profile, store  # noqa: F401

import govsocial_app.govsocial_app  # noqa: E402, F401  (registers every state in the main context)
