"""State tests reuse the inbox's real-ingest fixtures."""

from tests.inbox.conftest import profile, sim_store, store  # noqa: F401

# Register every state while collecting, in the main context: Reflex keeps its registry in a ContextVar, so the
# first import must not happen inside an asyncio test's copied context.
import govsocial_app.govsocial_app  # noqa: E402, F401
