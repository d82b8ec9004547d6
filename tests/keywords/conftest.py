"""Keyword tests reuse the inbox's real-ingest fixtures."""

from tests.inbox.conftest import profile, sim_store, store  # noqa: F401
