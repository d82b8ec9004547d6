"""Legal holds: a matter name on a scope (profiles, authors, dates, tags, a saved search). Held records cannot be
disposed of, whatever path asks (the disposal itself re-checks inside its transaction)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from sqlalchemy import and_, exists, false, or_
from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import LegalHold, Message, MessageTag, SavedView, utcnow
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor
from govsocial_app.services.errors import UserError
from govsocial_app.services.records.access import require_officer


@dataclass(frozen=True)
class HoldScope:
    """Every part given must match (an empty part matches everything); a scope with no part at all is refused."""

    profile_ids: list[int] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)  # author keys: lower case, no leading @
    since: datetime | None = None
    until: datetime | None = None
    tag_ids: list[int] = field(default_factory=list)
    saved_view_id: int | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["since"] = self.since.isoformat() if self.since else None
        d["until"] = self.until.isoformat() if self.until else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "HoldScope":
        def when(v):
            return datetime.fromisoformat(v) if v else None

        return cls([int(x) for x in d.get("profile_ids") or []], [str(a) for a in d.get("authors") or []],
                   when(d.get("since")), when(d.get("until")), [int(x) for x in d.get("tag_ids") or []],
                   d.get("saved_view_id"))

    @property
    def empty(self) -> bool:
        return not (self.profile_ids or self.authors or self.since or self.until or self.tag_ids or self.saved_view_id)

    def covers_dates_only(self) -> bool:
        return not (self.profile_ids or self.authors or self.tag_ids or self.saved_view_id)


@dataclass(frozen=True)
class HoldItem:
    id: int
    matter: str
    scope: dict
    reason: str
    created_at: datetime
    released_at: datetime | None
    release_reason: str


def _saved_view_condition(s: Session, view_id: int):
    from govsocial_app.services.inbox import stream

    view = s.get(SavedView, view_id)
    if view is None:
        raise UserError("That saved search no longer exists.")
    f = stream.filter_from_params(dict(parse_qsl(view.query)))
    # The saved search's own conditions, but held messages stay held when completed, deleted in GovSocial or
    # assigned: "assigned=me" is read as the person who saved the search.
    return and_(*stream._conditions(f, view.user_id, s.get_bind().dialect.name)[2:])


def message_condition(s: Session, scope: HoldScope):
    """A SQL condition on Message true for the messages this scope holds."""
    conds = []
    if scope.profile_ids:
        conds.append(col(Message.profile_id).in_(scope.profile_ids))
    if scope.authors:
        conds.append(col(Message.author_key).in_([a.lstrip("@").lower() for a in scope.authors]))
    if scope.since:
        conds.append(Message.created_at >= scope.since)
    if scope.until:
        conds.append(Message.created_at < scope.until)
    if scope.tag_ids:
        conds.append(exists().where(MessageTag.message_id == Message.id, col(MessageTag.tag_id).in_(scope.tag_ids)))
    if scope.saved_view_id:
        conds.append(_saved_view_condition(s, scope.saved_view_id))
    return and_(*conds) if conds else false()


def active_scopes(s: Session) -> list[HoldScope]:
    rows = s.exec(select(LegalHold).where(col(LegalHold.released_at).is_(None))).all()
    return [HoldScope.from_dict(h.scope) for h in rows]


def held_messages_condition(s: Session):
    """True for a message any active hold covers."""
    scopes = active_scopes(s)
    return or_(*[message_condition(s, sc) for sc in scopes]) if scopes else false()


def holds_date(s: Session, at: datetime) -> bool:
    """Whether a record of any type dated `at` falls in an active hold's date range (holds without other parts)."""
    at = at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    for sc in active_scopes(s):
        if sc.covers_dates_only() and (sc.since is None or at >= _aware(sc.since)) and (sc.until is None or at < _aware(sc.until)):
            return True
    return False


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def place(matter: str, scope: HoldScope, actor: Actor, reason: str = "") -> int:
    matter = (matter or "").strip()
    if not matter:
        raise UserError("A hold needs a matter name.")
    if scope.empty:
        raise UserError("Choose what the hold covers: profiles, authors, dates, tags or a saved search.")
    if scope.since and scope.until and scope.until <= scope.since:
        raise UserError("The hold's end date must be after its start date.")
    with session_scope() as s:
        require_officer(actor, s)
        if scope.saved_view_id:
            _saved_view_condition(s, scope.saved_view_id)  # refuses a search that is gone or no longer parses
        hold = LegalHold(matter=matter[:200], scope=scope.to_dict(), reason=reason.strip()[:2000], created_by=actor.user_id)
        s.add(hold)
        s.flush()
        audit.record(s, actor, "records.hold_place", "legal_hold", hold.id, matter=hold.matter, scope=hold.scope)
        return hold.id


def release(hold_id: int, actor: Actor, reason: str) -> None:
    if not (reason or "").strip():
        raise UserError("Say why the hold is released.")
    with session_scope() as s:
        require_officer(actor, s)
        hold = s.get(LegalHold, hold_id)
        if hold is None:
            raise UserError("That hold does not exist.")
        if hold.released_at is not None:
            raise UserError("That hold was already released.")
        hold.released_at, hold.released_by, hold.release_reason = utcnow(), actor.user_id, reason.strip()[:2000]
        audit.record(s, actor, "records.hold_release", "legal_hold", hold.id, matter=hold.matter, reason=hold.release_reason)


def list_holds(actor: Actor, *, include_released: bool = True) -> list[HoldItem]:
    with session_scope() as s:
        require_officer(actor, s)
        q = select(LegalHold).order_by(col(LegalHold.id).desc()).limit(200)
        if not include_released:
            q = q.where(col(LegalHold.released_at).is_(None))
        return [HoldItem(h.id, h.matter, h.scope, h.reason, h.created_at, h.released_at, h.release_reason) for h in s.exec(q).all()]


def is_message_held(s: Session, message_id: int) -> bool:
    return s.exec(select(Message.id).where(Message.id == message_id, held_messages_condition(s))).first() is not None
