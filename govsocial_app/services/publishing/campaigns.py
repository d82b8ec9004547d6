"""Campaigns: a name, a colour and dates; posts and inbox messages can be tagged to one, and the calendar overlays them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import col, or_, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Campaign, Message, Post, utcnow
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError

COLORS = ("blue", "green", "orange", "red", "purple", "teal", "pink", "amber", "cyan", "gray")


@dataclass(frozen=True)
class CampaignView:
    id: int
    name: str
    color: str
    starts_on: date | None
    ends_on: date | None


def _view(c: Campaign) -> CampaignView:
    return CampaignView(c.id, c.name, c.color, c.starts_on, c.ends_on)


def _check(name: str, color: str, starts_on: date | None, ends_on: date | None) -> None:
    if not name.strip():
        raise UserError("Give the campaign a name.")
    if color not in COLORS:
        raise UserError("Choose one of the campaign colours.")
    if starts_on and ends_on and ends_on < starts_on:
        raise UserError("The campaign ends before it starts.")


def save(actor: Actor, name: str, color: str = "blue", starts_on: date | None = None, ends_on: date | None = None,
         campaign_id: int | None = None) -> CampaignView:
    require(actor, "campaigns.edit")
    _check(name, color, starts_on, ends_on)
    with session_scope() as s:
        c = s.get(Campaign, campaign_id) if campaign_id else Campaign(name=name, created_by=actor.user_id)
        if c is None or c.deleted_at is not None:
            raise UserError("This campaign no longer exists.")
        c.name, c.color, c.starts_on, c.ends_on = name.strip()[:120], color, starts_on, ends_on
        s.add(c)
        s.flush()
        audit.record(s, actor, "campaign.save", "campaign", c.id, name=c.name, color=color, starts_on=starts_on, ends_on=ends_on)
        return _view(c)


def archive(actor: Actor, campaign_id: int) -> None:
    require(actor, "campaigns.edit")
    with session_scope() as s:
        c = s.get(Campaign, campaign_id)
        if c is None:
            raise UserError("This campaign no longer exists.")
        c.deleted_at = utcnow()
        audit.record(s, actor, "campaign.archive", "campaign", campaign_id)


def list_active() -> list[CampaignView]:
    with session_scope() as s:
        rows = s.exec(select(Campaign).where(col(Campaign.deleted_at).is_(None)).order_by(col(Campaign.starts_on).is_(None), col(Campaign.starts_on), col(Campaign.id))).all()
        return [_view(c) for c in rows]


def overlapping(first: date, last: date) -> list[CampaignView]:
    """Campaigns running on any day from `first` to `last` inclusive (open-ended dates count as running)."""
    with session_scope() as s:
        rows = s.exec(
            select(Campaign).where(
                col(Campaign.deleted_at).is_(None),
                or_(col(Campaign.starts_on).is_(None), col(Campaign.starts_on) <= last),
                or_(col(Campaign.ends_on).is_(None), col(Campaign.ends_on) >= first),
            ).order_by(col(Campaign.starts_on), col(Campaign.id))
        ).all()
        return [_view(c) for c in rows]


def _live(s, campaign_id: int | None) -> None:
    if campaign_id is None:
        return
    c = s.get(Campaign, campaign_id)
    if c is None or c.deleted_at is not None:
        raise UserError("This campaign no longer exists.")


def tag_post(actor: Actor, post_id: int, campaign_id: int | None) -> None:
    require(actor, "publish.compose")
    with session_scope() as s:
        _live(s, campaign_id)
        post = s.get(Post, post_id)
        if post is None:
            raise UserError("This post no longer exists.")
        old, post.campaign_id = post.campaign_id, campaign_id
        audit.record(s, actor, "campaign.tag_post", "post", post_id, old=old, new=campaign_id)


def tag_message(actor: Actor, message_id: int, campaign_id: int | None) -> None:
    require(actor, "inbox.act")
    with session_scope() as s:
        _live(s, campaign_id)
        m = s.get(Message, message_id)
        if m is None:
            raise UserError("This message no longer exists.")
        old, m.campaign_id = m.campaign_id, campaign_id
        audit.record(s, actor, "campaign.tag_message", "message", message_id, old=old, new=campaign_id)
