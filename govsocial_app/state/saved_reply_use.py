"""Counting a claim's approved correction, prefilled into the inbox's reply box, as a saved-reply use."""

from __future__ import annotations

from typing import Any

from govsocial_app.services.authz import can
from govsocial_app.services.inbox import saved_replies


def record_correction_use(state: Any, claim_id: int) -> None:
    """Called by the inbox state when `reply=correction-<id>` fills an empty reply box: one use per fill. A role
    that may not reply (a viewer) is shown the text but nothing is counted."""
    actor = state._require("inbox.view")
    if can(actor.role, "replies.use"):
        saved_replies.record_claim_use(claim_id, state.open_id, actor, state.d_card.lang)
