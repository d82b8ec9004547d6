"""The agency's comment policy: numbered clauses in English and Arabic, kept as versions (never edited in place).

Every moderation action cites a clause of the version current when it was taken, so the evidence of viewpoint-neutral
enforcement reads the policy as it stood. Records officers and admins edit; every role reads; the current version is
public (a plain-text route, api_policy.py) so posts can link to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import CommentPolicy, User
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError

NUMBER = re.compile(r"\d{1,3}(\.\d{1,3}){0,3}")
MAX_CLAUSES = 200
TITLE_MAX, TEXT_MAX = 200, 4000


@dataclass(frozen=True)
class Clause:
    number: str
    title_en: str
    title_ar: str
    text_en: str = ""
    text_ar: str = ""

    def title(self, lang: str) -> str:
        return self.title_ar if lang == "ar" and self.title_ar else self.title_en

    def text(self, lang: str) -> str:
        return self.text_ar if lang == "ar" and self.text_ar else self.text_en

    def to_dict(self) -> dict[str, str]:
        return {"number": self.number, "title_en": self.title_en, "title_ar": self.title_ar, "text_en": self.text_en,
                "text_ar": self.text_ar}


@dataclass(frozen=True)
class Policy:
    version: int
    clauses: tuple[Clause, ...]
    intro_en: str
    intro_ar: str
    change_note: str
    created_at: datetime
    created_by: str

    def clause(self, number: str) -> Clause | None:
        return next((c for c in self.clauses if c.number == number), None)


def _sort_key(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.split("."))


def _policy(row: CommentPolicy, s: Session) -> Policy:
    who = s.get(User, row.created_by) if row.created_by else None
    clauses = tuple(Clause(**{k: str(c.get(k, "")) for k in ("number", "title_en", "title_ar", "text_en", "text_ar")})
                    for c in row.clauses)
    return Policy(row.version, clauses, row.intro_en, row.intro_ar, row.change_note, row.created_at,
                  who.display_name if who else "")


def current(session: Session | None = None) -> Policy | None:
    """The policy in force (None before an admin writes one). No permission: it is public."""
    if session is None:
        with session_scope() as s:
            return current(s)
    row = session.exec(select(CommentPolicy).order_by(col(CommentPolicy.version).desc())).first()
    return _policy(row, session) if row else None


def version(number: int, actor: Actor) -> Policy:
    require(actor, "policy.view")
    with session_scope() as s:
        row = s.exec(select(CommentPolicy).where(CommentPolicy.version == number)).first()
        if row is None:
            raise UserError("That policy version does not exist.")
        return _policy(row, s)


def history(actor: Actor, limit: int = 50) -> list[Policy]:
    require(actor, "policy.view")
    with session_scope() as s:
        rows = s.exec(select(CommentPolicy).order_by(col(CommentPolicy.version).desc()).limit(limit)).all()
        return [_policy(r, s) for r in rows]


def _clean(clause: Clause) -> Clause:
    number = (clause.number or "").strip()
    if not NUMBER.fullmatch(number):
        raise UserError("A clause number looks like 3 or 3.2.")
    title_en, title_ar = (clause.title_en or "").strip(), (clause.title_ar or "").strip()
    if not title_en or not title_ar:
        raise UserError("Give every clause a title in English and in Arabic.")
    if len(title_en) > TITLE_MAX or len(title_ar) > TITLE_MAX:
        raise UserError("A clause title can be at most 200 characters.")
    text_en, text_ar = (clause.text_en or "").strip(), (clause.text_ar or "").strip()
    if len(text_en) > TEXT_MAX or len(text_ar) > TEXT_MAX:
        raise UserError("A clause's text can be at most 4000 characters.")
    return Clause(number, title_en, title_ar, text_en, text_ar)


def publish(clauses: list[Clause], actor: Actor, *, change_note: str = "", intro_en: str | None = None,
            intro_ar: str | None = None) -> int:
    """Write a new version of the whole policy; returns its version number. Audited with what changed."""
    require(actor, "policy.edit")
    cleaned = [_clean(c) for c in clauses]
    if not cleaned:
        raise UserError("The policy needs at least one clause.")
    if len(cleaned) > MAX_CLAUSES:
        raise UserError("The policy can have at most 200 clauses.")
    numbers = [c.number for c in cleaned]
    if len(set(numbers)) != len(numbers):
        raise UserError("Each clause number can be used once.")
    cleaned.sort(key=lambda c: _sort_key(c.number))
    with session_scope() as s:
        last = s.exec(select(CommentPolicy).order_by(col(CommentPolicy.version).desc())).first()
        before = {c["number"]: c for c in (last.clauses if last else [])}
        row = CommentPolicy(
            version=(last.version if last else 0) + 1, clauses=[c.to_dict() for c in cleaned],
            intro_en=(intro_en if intro_en is not None else (last.intro_en if last else "")).strip()[:TEXT_MAX],
            intro_ar=(intro_ar if intro_ar is not None else (last.intro_ar if last else "")).strip()[:TEXT_MAX],
            change_note=(change_note or "").strip()[:500], created_by=actor.user_id,
        )
        s.add(row)
        s.flush()
        after = {c.number: c.to_dict() for c in cleaned}
        audit.record(s, actor, "policy.publish", "comment_policy", row.version, change_note=row.change_note,
                     added=sorted(set(after) - set(before), key=_sort_key),
                     removed=sorted(set(before) - set(after), key=_sort_key),
                     changed=sorted((n for n in set(after) & set(before) if after[n] != before[n]), key=_sort_key))
        return row.version


def save_clause(clause: Clause, actor: Actor, *, change_note: str = "") -> int:
    """Add a clause, or replace the clause with the same number: a new version of the policy."""
    require(actor, "policy.edit")
    now = current()
    kept = [c for c in (now.clauses if now else ()) if c.number != (clause.number or "").strip()]
    return publish([*kept, clause], actor, change_note=change_note)


def remove_clause(number: str, actor: Actor, *, change_note: str = "") -> int:
    require(actor, "policy.edit")
    now = current()
    if now is None or now.clause(number) is None:
        raise UserError("That clause is not in the current policy.")
    return publish([c for c in now.clauses if c.number != number], actor, change_note=change_note)


def set_intro(intro_en: str, intro_ar: str, actor: Actor, *, change_note: str = "") -> int:
    require(actor, "policy.edit")
    now = current()
    if now is None:
        raise UserError("Add a clause first; the introduction belongs to a policy.")
    return publish(list(now.clauses), actor, change_note=change_note, intro_en=intro_en, intro_ar=intro_ar)


def as_text(p: Policy | None, lang: str = "en") -> str:
    """The public plain text: title, version and date, introduction, then each numbered clause."""
    ar = lang == "ar"
    if p is None:
        return ("لم تُنشر سياسة التعليقات بعد.\n" if ar else "No comment policy has been published yet.\n")
    head = "سياسة التعليقات" if ar else "Comment policy"
    ver = (f"الإصدار {p.version} · {p.created_at:%Y-%m-%d}" if ar else f"Version {p.version} · {p.created_at:%Y-%m-%d}")
    lines = [head, ver, ""]
    intro = p.intro_ar if ar and p.intro_ar else p.intro_en
    if intro:
        lines += [intro, ""]
    for c in p.clauses:
        lines.append(f"{c.number} {c.title(lang)}")
        if c.text(lang):
            lines.append(c.text(lang))
        lines.append("")
    return "\n".join(lines)
