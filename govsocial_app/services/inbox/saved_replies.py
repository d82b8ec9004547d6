"""Saved replies (issue 17 item 1): the shared library of replies in English and Arabic, with variables.

Managers and admins curate it (replies.curate); anyone on staff searches and inserts (replies.use). `text_for`
picks the message's language; `fill` puts in the variables. Untrusted content (an author's name) is only ever
inserted as plain text in a reply box, never rendered as HTML. Every insertion is a SavedReplyUse row and bumps
`use_count`; a claim's approved correction inserted into a reply is a use too (with `claim_id`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, SavedReply, SavedReplyUse, SocialProfile
from govsocial_app.services import audit, textnorm
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError

VARIABLES = ("author_name", "agency", "profile_handle", "link")
_VAR = re.compile(r"\{([a-z_]+)\}")
_ANY_VAR = re.compile(r"\{([^{}\s]{1,40})\}")  # what a person may have meant as a variable, for the refusal

MAX_NAME = 120
MAX_TEXT = 1000
MAX_LINK = 500
MAX_TAGS = 10
MAX_TAG = 40
SUGGEST_LIMIT = 8  # what the reply box's "/" list holds at most: never the whole library in state


class SavedReplyError(UserError):
    """A refusal with a catalogue msgid and its parameters, so the state can say it in the reader's language."""

    def __init__(self, msgid: str, **params: object):
        super().__init__(msgid.format(**params) if params else msgid)
        self.msgid, self.params = msgid, params


@dataclass(frozen=True)
class ReplySummary:
    id: int
    name: str
    text_en: str
    text_ar: str
    link: str
    tags: tuple[str, ...]
    use_count: int


@dataclass(frozen=True)
class Inserted:
    """What the reply box receives: the filled text in the chosen language, and the use row's id."""

    text: str
    lang: str
    use_id: int


def text_for(reply: SavedReply | ReplySummary, lang: str) -> str:
    """Arabic for a message in Arabic when the reply has it, otherwise English (or whichever text it has)."""
    if (lang or "").lower().startswith("ar") and reply.text_ar.strip():
        return reply.text_ar
    return reply.text_en if reply.text_en.strip() else reply.text_ar


def lang_for(reply: SavedReply | ReplySummary, lang: str) -> str:
    if (lang or "").lower().startswith("ar") and reply.text_ar.strip():
        return "ar"
    return "en" if reply.text_en.strip() else "ar"


def fill(template: str, values: dict[str, str]) -> str:
    """Replace the known variables; an unknown `{name}` stays as written so the person sees it and edits it."""

    def one(m: re.Match) -> str:
        name = m.group(1)
        if name in VARIABLES and name in values:
            return values[name]
        return m.group(0)

    return _VAR.sub(one, template)


def unknown_variables(template: str) -> list[str]:
    return sorted({name for name in _ANY_VAR.findall(template) if name not in VARIABLES})


def fold(text: str) -> str:
    """textnorm's folding (case, Arabic letter forms and marks, digits), then Latin accents off: "Café" meets "cafe".
    textnorm keeps accents for the message search; a short library of replies is better served without them."""
    decomposed = unicodedata.normalize("NFKD", textnorm.normalize(text))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def search_text(name: str, text_en: str, text_ar: str, tags: list[str] | tuple[str, ...] = ()) -> str:
    """Folded name, texts and tags, " | " between them (`|` never survives folding, so no match spans two). The
    `{variables}` are left out: every reply has them, so "/link" would otherwise find the whole library."""
    parts = (name, _VAR.sub(" ", text_en), _VAR.sub(" ", text_ar), " ".join(tags))
    return " | ".join(f for f in (fold(x) for x in parts) if f)


def _like(word: str) -> str:
    for ch in ("\\", "%", "_"):
        word = word.replace(ch, "\\" + ch)
    return f"%{word}%"


# ---------------------------------------------------------------- validation


def _clean_tags(tags: str | list[str] | tuple[str, ...]) -> list[str]:
    raw = tags.split(",") if isinstance(tags, str) else list(tags)
    out: list[str] = []
    for t in raw:
        t = " ".join(str(t).split())
        if not t:
            continue
        if len(t) > MAX_TAG:
            raise SavedReplyError("A tag is at most {n} characters.", n=MAX_TAG)
        if t.lower() not in {x.lower() for x in out}:
            out.append(t)
    if len(out) > MAX_TAGS:
        raise SavedReplyError("A saved reply has at most {n} tags.", n=MAX_TAGS)
    return out


def validate(name: str, text_en: str, text_ar: str, link: str = "", tags: str | list[str] = "") -> dict:
    """The cleaned fields, or a SavedReplyError that says what to fix."""
    name = " ".join((name or "").split())
    text_en, text_ar, link = (text_en or "").strip(), (text_ar or "").strip(), (link or "").strip()
    if not name:
        raise SavedReplyError("A saved reply needs a name.")
    if len(name) > MAX_NAME:
        raise SavedReplyError("A saved reply's name is at most {n} characters.", n=MAX_NAME)
    if not text_en and not text_ar:
        raise SavedReplyError("Write the reply in English, Arabic or both.")
    for text in (text_en, text_ar):
        if len(text) > MAX_TEXT:
            raise SavedReplyError("A saved reply's text is at most {n} characters (this one has {used}).", n=MAX_TEXT, used=len(text))
    unknown = sorted(set(unknown_variables(text_en)) | set(unknown_variables(text_ar)))
    if unknown:
        raise SavedReplyError("Unknown variables: {names}. Use {known}.", names=", ".join("{" + u + "}" for u in unknown),
                              known=", ".join("{" + v + "}" for v in VARIABLES))
    if link and (len(link) > MAX_LINK or not re.fullmatch(r"https?://\S+", link)):
        raise SavedReplyError("The link must be a web address starting with https:// (at most {n} characters).", n=MAX_LINK)
    return {"name": name, "text_en": text_en, "text_ar": text_ar, "link": link, "tags": _clean_tags(tags)}


# ---------------------------------------------------------------- curating


def _summary(r: SavedReply) -> ReplySummary:
    return ReplySummary(r.id, r.name, r.text_en, r.text_ar, r.link, tuple(r.tags or ()), r.use_count)


def _live(s: Session, reply_id: int) -> SavedReply:
    row = s.get(SavedReply, reply_id) if reply_id else None
    if row is None or row.deleted_at is not None:
        raise SavedReplyError("That saved reply no longer exists.")
    return row


def create(actor: Actor, name: str, text_en: str = "", text_ar: str = "", link: str = "", tags: str | list[str] = "") -> int:
    require(actor, "replies.curate")
    fields = validate(name, text_en, text_ar, link, tags)
    with session_scope() as s:
        row = SavedReply(**fields, search_text=search_text(fields["name"], fields["text_en"], fields["text_ar"], fields["tags"]),
                         created_by=actor.user_id)
        s.add(row)
        s.flush()
        audit.record(s, actor, "saved_reply.create", "saved_reply", row.id, name=row.name, tags=row.tags)
        return row.id


def edit(reply_id: int, actor: Actor, name: str, text_en: str = "", text_ar: str = "", link: str = "", tags: str | list[str] = "") -> None:
    require(actor, "replies.curate")
    fields = validate(name, text_en, text_ar, link, tags)
    with session_scope() as s:
        row = _live(s, reply_id)
        changed = sorted(k for k, v in fields.items() if getattr(row, k) != v)
        for k, v in fields.items():
            setattr(row, k, v)
        row.search_text = search_text(row.name, row.text_en, row.text_ar, row.tags)
        row.updated_at = datetime.now(timezone.utc)
        audit.record(s, actor, "saved_reply.edit", "saved_reply", reply_id, name=row.name, changed=changed)


def delete(reply_id: int, actor: Actor) -> None:
    """A soft delete: the row and its usage stay for the record; it leaves the library and the search."""
    require(actor, "replies.curate")
    with session_scope() as s:
        row = _live(s, reply_id)
        row.deleted_at = datetime.now(timezone.utc)
        audit.record(s, actor, "saved_reply.delete", "saved_reply", reply_id, name=row.name)


def get(reply_id: int, actor: Actor) -> ReplySummary:
    require(actor, "replies.use")
    with session_scope() as s:
        return _summary(_live(s, reply_id))


# ---------------------------------------------------------------- searching


def _matching(stmt, query: str):
    """Only live replies whose search text holds every word typed (at most eight words)."""
    stmt = stmt.where(col(SavedReply.deleted_at).is_(None))
    for w in fold(query).split()[:8]:
        stmt = stmt.where(col(SavedReply.search_text).like(_like(w), escape="\\"))
    return stmt


def _search_stmt(query: str, limit: int, offset: int = 0):
    stmt = _matching(select(SavedReply), query)
    words = fold(query).split()
    order = [col(SavedReply.use_count).desc(), SavedReply.name, SavedReply.id]
    if words:
        # A reply whose name starts with what was typed comes first: "/wat" → "Water outage update".
        first = _like(words[0])[1:]
        order.insert(0, case((col(SavedReply.search_text).like(first, escape="\\"), 0), else_=1))
    return stmt.order_by(*order).offset(offset).limit(limit)


def search(query: str, actor: Actor, limit: int = SUGGEST_LIMIT, offset: int = 0) -> list[ReplySummary]:
    """Replies whose name, texts or tags hold every word typed (case-, accent- and Arabic-form-insensitive),
    most used first. An empty query lists the most used. `offset` pages through the rest (the order ends in the id,
    so pages neither overlap nor skip)."""
    require(actor, "replies.use")
    limit = max(1, min(int(limit), 200))
    offset = max(0, int(offset))
    with session_scope() as s:
        return [_summary(r) for r in s.exec(_search_stmt(query, limit, offset)).all()]


def count(query: str, actor: Actor) -> int:
    """How many replies `search(query, …)` finds in all, across every page."""
    require(actor, "replies.use")
    with session_scope() as s:
        return int(s.exec(_matching(select(func.count()).select_from(SavedReply), query)).one())


_SLASH = re.compile(r"(?:^|\s)/([^/\n]{0,40})$")


def slash_query(text: str) -> tuple[int, str] | None:
    """`(where the slash is, what follows it)` when the reply box ends in "/query" typed at its start or after a
    space; None otherwise (a web address's slashes never count: they follow no space)."""
    m = _SLASH.search(text or "")
    return (m.start(1) - 1, m.group(1)) if m else None


# ---------------------------------------------------------------- using


def values_for(s: Session, message: Message, reply: SavedReply | None) -> dict[str, str]:
    handle = ""
    if message.profile_id:
        p = s.get(SocialProfile, message.profile_id)
        handle = p.handle if p else ""
    return {
        "author_name": (message.author_name or message.author_handle or "").strip(),
        "agency": get_settings().agency_name,
        "profile_handle": handle,
        "link": reply.link if reply else "",
    }


def _count(s: Session, actor: Actor, message_id: int, lang: str, *, reply_id: int | None = None, claim_id: int | None = None) -> int:
    use = SavedReplyUse(saved_reply_id=reply_id, claim_id=claim_id, message_id=message_id, user_id=actor.user_id, lang=lang)
    s.add(use)
    if reply_id:
        # In SQL, so two people inserting at once both count.
        s.execute(update(SavedReply).where(col(SavedReply.id) == reply_id).values(use_count=SavedReply.use_count + 1))
    s.flush()
    return use.id


def insert(reply_id: int, message_id: int, actor: Actor) -> Inserted:
    """The reply's text for this message: in the message's language when the reply has it, variables filled.
    Counts one use (a SavedReplyUse row and use_count + 1) and audits it."""
    require(actor, "replies.use")
    with session_scope() as s:
        reply = _live(s, reply_id)
        message = s.get(Message, message_id) if message_id else None
        if message is None:
            raise SavedReplyError("Open a message first.")
        lang = lang_for(reply, message.lang)
        text = fill(text_for(reply, message.lang), values_for(s, message, reply))
        use_id = _count(s, actor, message_id, lang, reply_id=reply_id)
        audit.record(s, actor, "saved_reply.use", "saved_reply", reply_id, message_id=message_id, lang=lang)
        return Inserted(text, lang, use_id)


def record_claim_use(claim_id: int, message_id: int, actor: Actor, lang: str = "") -> int:
    """A claim's approved correction put into a reply counts as a saved-reply use (claim_id, no saved reply)."""
    require(actor, "replies.use")
    with session_scope() as s:
        use_id = _count(s, actor, message_id, lang, claim_id=claim_id)
        audit.record(s, actor, "saved_reply.use", "claim", claim_id, message_id=message_id, correction=True)
        return use_id


def uses(reply_id: int | None = None, claim_id: int | None = None) -> int:
    with session_scope() as s:
        stmt = select(SavedReplyUse.id)
        if reply_id is not None:
            stmt = stmt.where(SavedReplyUse.saved_reply_id == reply_id)
        if claim_id is not None:
            stmt = stmt.where(SavedReplyUse.claim_id == claim_id)
        return len(s.exec(stmt).all())


# ---------------------------------------------------------------- demo data

DEMO_REPLIES = (
    ("Pothole reported", "Roads",
     "Thanks {author_name}, we have logged this pothole and sent it to the roads crew. Track it here: {link}",
     "شكرًا {author_name}، سجّلنا هذه الحفرة وأحلناها إلى فريق الطرق. تابع البلاغ هنا: {link}",
     "https://riverton.example.gov/roads/report"),
    ("Water outage update", "Water",
     "Hi {author_name}, crews are working on the water outage. Updates are posted at {link} and by {profile_handle}.",
     "مرحبًا {author_name}، تعمل الفرق على إصلاح انقطاع المياه. ننشر التحديثات على {link} وعبر {profile_handle}.",
     "https://riverton.example.gov/water/outages"),
    ("Thanks for reporting", "General",
     "Thank you for letting {agency} know, {author_name}. We have passed this to the right team.",
     "شكرًا لإبلاغك {agency} يا {author_name}. أحلنا الأمر إلى الفريق المختص.",
     ""),
    ("Send us a direct message", "General",
     "Hi {author_name}, please send us a direct message with the address so we can look into it.",
     "مرحبًا {author_name}، يرجى مراسلتنا برسالة خاصة مع العنوان لنتابع الأمر.",
     ""),
    ("Flood safety", "Flooding,Emergency",
     "Stay safe {author_name}: do not walk or drive through flood water. Latest advice: {link}",
     "ابقَ آمنًا يا {author_name}: لا تمشِ ولا تقُد عبر مياه الفيضانات. آخر الإرشادات: {link}",
     "https://riverton.example.gov/flood"),
    ("Bin collection delayed", "Waste",
     "Sorry {author_name}, collections in some areas are running a day late this week. Please leave bins out.",
     "نعتذر يا {author_name}، جمع النفايات في بعض المناطق متأخر يومًا هذا الأسبوع. يرجى ترك الحاويات في الخارج.",
     ""),
)


def seed_saved_replies(session: Session) -> int:
    """A handful of useful replies in English and Arabic for the demo (nothing when the library has any)."""
    if session.exec(select(SavedReply.id).limit(1)).first() is not None:
        return 0
    for name, tags, en, ar, link in DEMO_REPLIES:
        tag_list = _clean_tags(tags)
        session.add(SavedReply(name=name, text_en=en, text_ar=ar, link=link, tags=tag_list,
                               search_text=search_text(name, en, ar, tag_list)))
    session.flush()
    audit.record(session, Actor.system("demo seed"), "saved_reply.seed", "saved_reply", "", count=len(DEMO_REPLIES))
    return len(DEMO_REPLIES)
