"""The inbox's Moderate sheet on the real state class: a responder hides a reply citing a clause, the card says so in
the reader's language, a viewer is refused, and a bad choice gets a clear message."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors.base import Credentials
from connectors.simulator import SimulatorConnector
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import SocialProfile
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.inbox import ingest
from govsocial_app.services.records import policy
from tests.signed_in import signed_in  # noqa: F401 - fixture


@pytest.fixture
def inbox_as(signed_in):
    from govsocial_app.state.inbox import InboxState

    return lambda role, lang="en": signed_in(role, InboxState, lang=lang)


@pytest.fixture
def reply(profile) -> int:  # noqa: F811 - the inbox profile fixture, via tests/state/conftest.py
    until = datetime.now(timezone.utc) - timedelta(minutes=5)
    with session_scope() as s:
        config = dict(s.get(SocialProfile, profile).config)
    sim = SimulatorConnector(Credentials(network="simulator", config=config), clock=lambda: until)
    later = SimulatorConnector(Credentials(network="simulator", config=config), clock=lambda: until + timedelta(minutes=30))
    # A whole day back: the simulator is quiet at night, and six hours before dawn can hold no reply or comment at all.
    doomed = {m.external_id for m in later.history(until - timedelta(hours=24), until + timedelta(minutes=30)) if m.deleted}
    pick = next(m for m in sim.history(until - timedelta(hours=24), until)
                if m.kind in ("reply", "comment") and not m.deleted and m.external_id not in doomed)
    with session_scope() as s:
        return ingest.store(s, [pick], profile_id=profile, now=until).new_ids[0]


@pytest.fixture
def clauses(actor_factory):
    policy.publish([policy.Clause("3.2", "Threats of violence", "التهديد بالعنف")], actor_factory("records"))


async def test_a_responder_hides_a_reply_and_the_card_says_hidden_with_the_clause(inbox_as, reply, clauses):
    st = inbox_as("responder")
    st.open_id = reply
    st._load_detail()
    assert st.d_moderatable
    st.open_moderation()
    assert st.mod_open and st.mod_action == "hide"
    assert [c.value for c in st.mod_clauses] == ["3.2"]
    assert {o.value for o in st.mod_options} >= {"hide", "delete", "block", "mute", "report"}
    await st.moderate({"clause": "", "note": ""})
    assert "clause" in st.mod_result and st.d_card.moderation == ""
    await st.moderate({"clause": "3.2", "note": "threat"})
    assert st.mod_result.startswith("Done") and st.d_card.moderation == "hidden"
    assert st.d_card.moderation_label == "Hidden (clause 3.2)"
    st.open_moderation()  # now it offers unhide, not hide
    assert st.mod_action == "unhide" and "hide" not in {o.value for o in st.mod_options}
    await st.moderate({"clause": "3.2", "note": "appeal"})
    assert st.d_card.moderation == ""


async def test_the_card_reads_in_arabic(inbox_as, reply, clauses):
    st = inbox_as("manager", "ar")
    st.open_id = reply
    st._load_detail()
    st.open_moderation()
    await st.moderate({"clause": "3.2", "note": ""})
    assert st.d_card.moderation_label == "مخفي (البند 3.2)"


async def test_a_viewer_cannot_moderate(inbox_as, reply, clauses):
    st = inbox_as("viewer")
    st.open_id = reply
    with pytest.raises(PermissionDenied):
        st.open_moderation()
    with pytest.raises(PermissionDenied):
        await st.moderate({"clause": "3.2", "note": ""})
