"""GovSocial's own warnings as CAP 1.2: each published emergency post becomes an Alert, a correction an Update, a
withdrawal a Cancel (services/cap/emergency.py), kept once each in CapOutMessage and served as /api/cap.atom and
/api/cap/<id>.xml. `sync` writes the messages that are due; the cap-poll job and the feed route call it."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import CapAlert, CapOutMessage, Post, PostEmergency
from govsocial_app.services.cap.capout import (
    FeedEntry, FeedMeta, OutInfo, OutMessage, cancel_of, make_identifier, to_atom, to_cap_xml, update_of,
)
from govsocial_app.services.cap.parse import parse_alert

FEED_LIMIT = 50


def _domain() -> str:
    return (urlsplit(get_settings().public_url).hostname or "govsocial.local").lower()


def sender() -> str:
    return f"govsocial@{_domain()}"


def _headline(text: str) -> str:
    first = (text or "").strip().split("\n", 1)[0]
    return first[:160]


def _infos(s: Session, post: Post, em: PostEmergency) -> tuple[OutInfo, ...]:
    texts = dict(em.out_texts or {}) or {"en": post.text, **{k: v.get("text", "") for k, v in (em.languages or {}).items()}}
    event, category, severity, urgency, certainty = "Public warning", ("Safety",), "Severe", "Immediate", "Observed"
    if em.cap_alert_id:
        row = s.get(CapAlert, em.cap_alert_id)
        if row is not None:
            source = parse_alert(row.raw_xml.encode("utf-8"), validate_schema=False)
            if source.infos:
                first = source.infos[0]
                event, category = first.event or event, first.categories or category
                severity, urgency, certainty = first.severity, first.urgency, first.certainty
    expires = em.expires_at
    out = []
    for lang, text in texts.items():
        if not (text or "").strip():
            continue
        out.append(OutInfo(language="en-US" if lang == "en" else lang, event=event, headline=_headline(text), description=text.strip(),
                           web=post.link or "", category=tuple(category), urgency=urgency, severity=severity,
                           certainty=certainty, expires=expires))
    return tuple(out)


def _message_of(row: CapOutMessage) -> OutMessage:
    alert = parse_alert(row.xml.encode("utf-8"))
    return OutMessage(alert.identifier, alert.sender, alert.sent, alert.msg_type, alert.status, alert.scope,  # type: ignore[arg-type]
                      (), alert.references, alert.note, alert.incidents)


def sync(now: datetime | None = None) -> list[int]:
    """Write the CAP messages now due: Alert for a newly published emergency post, Update after a correction,
    Cancel after a withdrawal. Idempotent (unique seq per post); returns the new message ids."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    created = []
    with session_scope() as s:
        rows = s.exec(select(PostEmergency, Post).join(Post, col(Post.id) == PostEmergency.post_id)
                      .where(col(Post.status).in_(("published", "publishing")))).all()
        for em, post in rows:
            last = s.exec(select(CapOutMessage).where(CapOutMessage.post_id == post.id).order_by(col(CapOutMessage.seq).desc())).first()
            if last is not None and last.msg_type == "Cancel":
                continue
            seq = (last.seq + 1) if last else 1
            identifier = make_identifier(_domain(), post.id, seq)
            if last is None:
                message = OutMessage(identifier, sender(), now, "Alert", infos=_infos(s, post, em))
            elif em.withdrawn_at is not None:
                message = cancel_of(_message_of(last), identifier=identifier, sent=now, note=em.withdrawn_note or "Withdrawn")
            elif em.out_version > last.content_version:
                message = update_of(_message_of(last), identifier=identifier, sent=now, infos=_infos(s, post, em))
            else:
                continue
            if not message.infos and message.msg_type != "Cancel":
                continue
            xml = to_cap_xml(message).decode("utf-8")
            out = CapOutMessage(post_id=post.id, seq=seq, identifier=identifier, msg_type=message.msg_type,
                                content_version=em.out_version, sent=now, xml=xml)
            try:
                with s.begin_nested():
                    s.add(out)
                    s.flush()
            except IntegrityError:  # another process wrote it first
                continue
            created.append(out.id)
    return created


def document(message_id: int) -> bytes | None:
    with session_scope() as s:
        row = s.get(CapOutMessage, message_id)
        return row.xml.encode("utf-8") if row else None


def feed(base_url: str) -> bytes:
    """The Atom index of the newest messages, each entry linking its CAP document."""
    base = base_url.rstrip("/")
    with session_scope() as s:
        rows = s.exec(select(CapOutMessage).order_by(col(CapOutMessage.id).desc()).limit(FEED_LIMIT)).all()
        entries = []
        for row in rows:
            alert = parse_alert(row.xml.encode("utf-8"))
            message = OutMessage(alert.identifier, alert.sender, alert.sent, alert.msg_type, alert.status, alert.scope,  # type: ignore[arg-type]
                                 tuple(OutInfo(i.language, i.event, i.headline, i.description, i.instruction, i.web, i.categories,
                                               (), i.urgency, i.severity, i.certainty, expires=i.expires) for i in alert.infos),
                                 alert.references, alert.note)
            entries.append(FeedEntry(message, f"{base}/api/cap/{row.id}.xml", updated=row.sent))
    meta = FeedMeta(id=f"{base}/api/cap.atom", title="GovSocial emergency posts", self_url=f"{base}/api/cap.atom",
                    author=_domain(), updated=None if entries else datetime(2026, 1, 1, tzinfo=timezone.utc))
    return to_atom(meta, entries)
