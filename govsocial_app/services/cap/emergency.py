"""Emergency posts: the composer's bilingual draft from an official alert, the alert's expiry that a post may not
outlive, twin posts (an English and an Arabic version approved as one post: per network one combined post or one
post per language, as admins chose), the admins' blocking accessibility items, and the gate the publisher calls
right before sending."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlmodel import Session, select

from connectors import textcount
from connectors.registry import NETWORKS, limits_for
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import CapAlert, MediaAsset, Post, PostEmergency
from govsocial_app.services import audit, settings_store
from govsocial_app.services.publishing import composer, lifecycle, views
from govsocial_app.services.authz import Actor, can, require
from govsocial_app.services.cap import store
from govsocial_app.services.cap.accessibility import CHECKS, Checklist, Media, PostContent, check_post
from govsocial_app.services.cap.drafts import RTL_LANGUAGES, build_drafts, fit_text
from govsocial_app.services.cap.parse import parse_alert
from govsocial_app.services.errors import UserError
from govsocial_app.services.publishing.composer import ComposerInput, ComposerInvalid, Issue

BLOCKING_SETTING = "cap.accessibility.blocking"  # [check keys] that stop publishing
TWIN_MODES_SETTING = "cap.twin.modes"  # {network: "combined" | "separate"}: how a twin post goes out there
SEPARATOR = "\n\n"
PRIMARY_LANGUAGE = "en"
SECOND_LANGUAGE = "ar"
COMBINED, SEPARATE = "combined", "separate"
TWIN_MODES = (COMBINED, SEPARATE)
COMBINED_LANGUAGE = f"{PRIMARY_LANGUAGE}+{SECOND_LANGUAGE}"  # a combined post's PostTarget.language
# Defaults. X (280) and Bluesky (300) leave each language of a combined post about 135 characters, which cuts a
# warning's instruction to a fragment: there each language goes out whole as its own post. Mastodon (500), Facebook
# (63,206), Instagram (2,200) and the simulator (500) fit both versions of a typical warning, and one post keeps them
# together: one link card, one set of images (Instagram needs one per post), one thing to boost or share.
DEFAULT_SEPARATE = frozenset({"x", "bluesky"})

EXPIRED = "The official alert expired at {expires}: this post cannot go out after it."
AFTER_EXPIRY = "The official alert expires at {expires}. Choose a time before then."
NO_QUEUE = "An emergency post cannot wait in the queue: post it now or schedule it before the alert expires."
BLOCKED = "Accessibility: {item}. {message}"
BLOCKED_SEND = "Not sent: the accessibility check \"{item}\" failed and an admin made it blocking."
UNKNOWN_NETWORK = "Unknown network."
CHOOSE_MODE = "Choose one combined post or separate posts."
MSGIDS = (EXPIRED, AFTER_EXPIRY, NO_QUEUE, BLOCKED, BLOCKED_SEND, UNKNOWN_NETWORK, CHOOSE_MODE)


def _fmt(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------- the composer's draft


@dataclass(frozen=True)
class EmergencyDraft:
    cap_alert_id: int
    cap_ref: str
    texts: Mapping[str, str]  # "en" / "ar" -> the full text of that language
    directions: Mapping[str, str]
    link: str
    expires: datetime | None
    msg_type: str


def draft_for_alert(actor: Actor, cap_alert_id: int) -> EmergencyDraft:
    """One text per language (English and Arabic where the alert has them) from headline, instruction, description
    and web, with the alert's expiry."""
    require(actor, "publish.compose")
    draft = store.drafts_for(cap_alert_id, networks=())
    with session_scope() as s:
        row = s.get(CapAlert, cap_alert_id)
        raw = row.raw_xml
    alert = parse_alert(raw.encode("utf-8"), validate_schema=False)
    texts, dirs = {}, {}
    for lang in draft.languages:
        texts.setdefault(lang.base_language, lang.full_text)
        dirs.setdefault(lang.base_language, lang.direction)
    web = next((d.web for d in draft.languages if d.web), "")
    return EmergencyDraft(cap_alert_id, str(alert.reference), texts, dirs, web, draft.expires, draft.msg_type)


def direction(lang: str) -> str:
    return "rtl" if lang.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


# ---------------------------------------------------------------- twin posts


def combined(primary: str, second: str) -> str:
    """One post carrying both versions, the primary language first."""
    return SEPARATOR.join(t.strip() for t in (primary, second) if t and t.strip())


def fitted_combined(primary: str, second: str, link: str, network: str) -> str:
    """Both versions in one post within the network's limit: each language keeps as much as fits (whole sentences
    first, as the CAP drafts do), the primary language taking at most half when both cannot fit whole."""
    return combined(*_fit_combined(primary, second, link, network))


def _fit_combined(primary: str, second: str, link: str, network: str) -> tuple[str, str]:
    limits = limits_for(network)
    if textcount.count(views.body_for(combined(primary, second), link), limits) <= limits.max_chars:
        return primary.strip(), second.strip()
    half = dataclasses.replace(limits, max_chars=max(1, (limits.max_chars - len(SEPARATOR)) // 2))
    first = fit_text(primary, lambda cut: views.body_for(cut, link), half) or primary[:1]
    rest = fit_text(second, lambda cut: views.body_for(combined(first, cut), link), limits)
    return first, rest


def twin_modes() -> dict[str, str]:
    """How a twin post goes out on each network: the admins' choice, else the default (see DEFAULT_SEPARATE)."""
    stored = settings_store.get(TWIN_MODES_SETTING, {}) or {}
    return {n: stored.get(n) if stored.get(n) in TWIN_MODES else (SEPARATE if n in DEFAULT_SEPARATE else COMBINED) for n in NETWORKS}


def twin_mode(network: str, modes: Mapping[str, str] | None = None) -> str:
    modes = twin_modes() if modes is None else modes
    return modes.get(network) or (SEPARATE if network in DEFAULT_SEPARATE else COMBINED)


def set_twin_mode(actor: Actor, network: str, mode: str) -> dict[str, str]:
    """An admin chooses, for one network, one combined post or one post per language (audited)."""
    require(actor, "settings.manage")
    if network not in NETWORKS:
        raise UserError(UNKNOWN_NETWORK)
    if mode not in TWIN_MODES:
        raise UserError(CHOOSE_MODE)
    modes = twin_modes()
    before, modes[network] = modes[network], mode
    with session_scope() as s:
        settings_store.put(s, TWIN_MODES_SETTING, modes, actor, audit_action="cap.twin.mode", network=network, mode=mode, before=before)
    return modes


def fitted_separate(text: str, link: str, network: str) -> str:
    """One language's own post within the network's whole limit (cut at a sentence, else a word, as the CAP drafts are)."""
    return fit_text(text, lambda cut: views.body_for(cut, link), limits_for(network)) or text


def twin_posts(primary: str, second: str, link: str, network: str, mode: str, own_text: str = "") -> dict[str, str]:
    """The posts a twin post makes on one network: {"en+ar": combined} or {"en": ..., "ar": ...}. The author's own
    text for the network, if any, is the combined post (combined mode) or the primary language's post (separate)."""
    own = own_text if own_text.strip() else ""
    if mode == SEPARATE:
        # Two posts that stand alone, not a reply thread: each language's readers can share theirs on its own, and
        # a failure, an unknown outcome or a pause on one never holds back the other (the second would otherwise
        # need the first's id before it could be sent).
        return {PRIMARY_LANGUAGE: own or fitted_separate(primary, link, network), SECOND_LANGUAGE: fitted_separate(second, link, network)}
    return {COMBINED_LANGUAGE: own or fitted_combined(primary, second, link, network)}


def twin_input(inp: ComposerInput, networks: Sequence[str], second_text: str, modes: Mapping[str, str] | None = None) -> ComposerInput:
    """The post with its second language: per network one combined post (both languages, cut to fit) or separate
    posts, one per language, as the admins chose. All of them belong to one post, so they are approved as one unit."""
    if not second_text.strip():
        return inp
    modes = twin_modes() if modes is None else modes
    twin = {n: twin_posts(inp.text, second_text, inp.link, n, twin_mode(n, modes), (inp.variants or {}).get(n, ""))
            for n in dict.fromkeys(networks)}
    variants = dict(inp.variants)
    for network, posts in twin.items():
        if COMBINED_LANGUAGE in posts:
            variants[network] = posts[COMBINED_LANGUAGE]
    return dataclasses.replace(inp, variants=variants, twin=twin)


@dataclass(frozen=True)
class LanguageCount:
    language: str
    direction: str
    network: str
    used: int
    limit: int
    preview: str  # that language's text as it goes out on the network (cut to fit)
    mode: str = COMBINED

    @property
    def over(self) -> bool:
        return self.used > self.limit


def language_counts(texts: Mapping[str, str], link: str, networks: Sequence[str],
                    modes: Mapping[str, str] | None = None) -> list[LanguageCount]:
    """Counters and previews per language and network, in the network's mode. Separate: each language's own post
    (with the link) against the whole limit. Combined: the shared budget, so a language's limit is what the other
    language, the separator and the link leave it (over in both exactly when the combined post is too long)."""
    modes = twin_modes() if modes is None else modes
    primary, second = texts.get(PRIMARY_LANGUAGE, ""), texts.get(SECOND_LANGUAGE, "")
    out = []
    for network in dict.fromkeys(networks):
        limits = limits_for(network)
        mode = twin_mode(network, modes)
        if mode == SEPARATE:
            for lang, text in texts.items():
                body = views.body_for(text, link)
                fitted = views.body_for(fitted_separate(text, link, network), link)
                out.append(LanguageCount(lang, direction(lang), network, textcount.count(body, limits), limits.max_chars, fitted, mode))
            continue
        used = {lang: textcount.count(text.strip(), limits) for lang, text in texts.items()}
        shared = textcount.count(views.body_for(combined(primary, second), link), limits) - sum(used.values())
        parts = _combined_parts(primary, second, link, network)
        for lang in texts:
            others = sum(v for k, v in used.items() if k != lang)
            out.append(LanguageCount(lang, direction(lang), network, used[lang], limits.max_chars - shared - others,
                                     parts.get(lang, ""), mode))
    return out


def _combined_parts(primary: str, second: str, link: str, network: str) -> dict[str, str]:
    """Each language's part of the combined post as it goes out (the link stays with the post's end)."""
    first, rest = _fit_combined(primary, second, link, network)
    return {PRIMARY_LANGUAGE: first, SECOND_LANGUAGE: rest}


def suggestions(text: str, source_lang: str = "en", target_lang: str = SECOND_LANGUAGE, limit: int = 3) -> list[tuple[str, str, float]]:
    """Previously approved translations of the same or a close sentence: (source sentence, translation, score)."""
    from govsocial_app.services.cap.translation_memory import split_sentences

    memory = store.load_translation_memory()
    out = []
    for sentence in split_sentences(text):
        for found in memory.suggest(sentence, source_lang, target_lang, limit=1):
            out.append((found.entry.source, found.entry.target, found.score))
    return out[:limit]


# ---------------------------------------------------------------- accessibility


def blocking_items() -> list[str]:
    return [k for k in settings_store.get(BLOCKING_SETTING, []) or [] if k in CHECKS]


def set_blocking_items(actor: Actor, keys: Sequence[str]) -> list[str]:
    require(actor, "settings.manage")
    unknown = [k for k in keys if k not in CHECKS]
    if unknown:
        raise UserError(f"Unknown accessibility check: {', '.join(unknown)}.")
    chosen = [k for k in CHECKS if k in set(keys)]
    with session_scope() as s:
        settings_store.put(s, BLOCKING_SETTING, chosen, actor, audit_action="cap.accessibility.blocking", items=chosen)
    return chosen


def checklists(texts: Mapping[str, str], alts: Sequence[str] = ()) -> dict[str, Checklist]:
    media = tuple(Media("image", alt) for alt in alts)
    return {lang: check_post(PostContent(text, lang, media)) for lang, text in texts.items() if text.strip()}


def blocking_issues(texts: Mapping[str, str], alts: Sequence[str] = (), keys: Sequence[str] | None = None) -> list[Issue]:
    keys = blocking_items() if keys is None else list(keys)
    if not keys:
        return []
    from govsocial_app.services.cap.accessibility import TITLES

    issues = []
    for lang, checklist in checklists(texts, alts).items():
        for item in checklist.blocking(keys):
            issues.append(Issue(BLOCKED, {"item": TITLES[item.key], "message": item.english()}, "", "accessibility"))
    return issues


# ---------------------------------------------------------------- saving an emergency post


def _emergency(s: Session, post_id: int) -> PostEmergency | None:
    return s.exec(select(PostEmergency).where(PostEmergency.post_id == post_id)).first()


def expiry_issues(expires: datetime | None, action: str, when: datetime | None, now: datetime) -> list[Issue]:
    if expires is None:
        return []
    if now >= expires:
        return [Issue(EXPIRED, {"expires": _fmt(expires)}, "", "when")]
    if action == "queue":
        return [Issue(NO_QUEUE, {}, "", "when")]
    if action == "schedule" and when is not None and when > expires:
        return [Issue(AFTER_EXPIRY, {"expires": _fmt(expires)}, "", "when")]
    return []


def save(actor: Actor, inp: ComposerInput, *, action: str, second_text: str = "", cap_alert_id: int | None = None,
         when: datetime | None = None, post_id: int | None = None, now: datetime | None = None) -> composer.SaveResult:
    """publishing.save for a post that carries an official alert's expiry and/or a second language: refuses a time
    after the expiry and the admins' blocking accessibility items (each language checked), then records both."""
    require(actor, "publish.compose")
    now = now or datetime.now(timezone.utc)
    expires, cap_ref = None, ""
    with session_scope() as s:
        existing = _emergency(s, post_id) if post_id else None
        cap_id = cap_alert_id or (existing.cap_alert_id if existing else None)
        if cap_id:
            row = s.get(CapAlert, cap_id)
            if row is None:
                raise UserError("That official alert no longer exists.")
            alert = parse_alert(row.raw_xml.encode("utf-8"), validate_schema=False)
            expires = build_drafts(alert, info_indexes=row.info_indexes or None, networks=()).expires
            cap_ref = str(alert.reference)
        networks = [p.network for p in lifecycle.load_profiles(s, inp.profile_ids)] if inp.profile_ids else []
        alts = [a for (a,) in s.exec(select(MediaAsset.alt_text).where(MediaAsset.id.in_([m.media_id for m in inp.media])))] if inp.media else []
    alts = [m.alt_text for m in inp.media] or alts
    if action != "draft":
        issues = expiry_issues(expires, action, when, now)
        issues += blocking_issues({"en": inp.text, SECOND_LANGUAGE: second_text}, alts)
        if issues:
            raise ComposerInvalid(issues)
    result = composer.save(actor, twin_input(inp, networks, second_text), action=action, when=when, post_id=post_id, now=now)
    with session_scope() as s:
        em = _emergency(s, result.post_id) or PostEmergency(post_id=result.post_id, created_at=now)
        em.cap_alert_id, em.cap_ref, em.expires_at = cap_id, cap_ref or em.cap_ref, expires
        em.languages = {SECOND_LANGUAGE: {"text": second_text, "dir": direction(SECOND_LANGUAGE)}} if second_text.strip() else {}
        s.add(em)
        audit.record(s, actor, "post.emergency", "post", result.post_id, cap_alert=cap_id, expires=expires,
                     languages=["en", *em.languages])
    if action != "draft" and result.status != "pending_approval" and can(actor.role, store.APPROVE_PERMISSION):
        remember_pair(actor, result.post_id)  # someone who may approve posts sent it out without a workflow
    return result


def remember_pair(actor: Actor, post_id: int) -> int | None:
    """Once a twin post is approved, its two versions enter the translation memory (sentence by sentence where the
    two versions have as many sentences, else as a whole)."""
    from govsocial_app.services.cap.translation_memory import split_sentences

    texts, _alts = post_texts(post_id)
    if SECOND_LANGUAGE not in texts or not texts["en"].strip():
        return None
    first, second = split_sentences(texts["en"]), split_sentences(texts[SECOND_LANGUAGE])
    pairs = list(zip(first, second)) if first and len(first) == len(second) else [(texts["en"], texts[SECOND_LANGUAGE])]
    added = None
    for source, target in pairs:
        added = store.remember_translation(actor, "en", SECOND_LANGUAGE, source, target, post_id=post_id) or added
    return added


def post_texts(post_id: int) -> tuple[dict[str, str], list[str]]:
    """A saved post's versions by language and its images' alt texts (for the approver's checklist)."""
    with session_scope() as s:
        post = s.get(Post, post_id)
        if post is None:
            return {}, []
        em = _emergency(s, post_id)
        texts = {"en": post.text}
        if em and (em.languages.get(SECOND_LANGUAGE) or {}).get("text", "").strip():
            texts[SECOND_LANGUAGE] = em.languages[SECOND_LANGUAGE]["text"]
        alts = [a for a in s.exec(select(MediaAsset.alt_text).where(MediaAsset.post_id == post_id, MediaAsset.deleted_at.is_(None)))]
        return texts, alts


def approval_refusal(post_id: int) -> list[Issue]:
    """The blocking accessibility items that stop an approval (checked again by the publisher before sending)."""
    texts, alts = post_texts(post_id)
    return blocking_issues(texts, alts) if texts else []


# ---------------------------------------------------------------- the publisher's last check


def refusal(post_id: int, text: str, alts: Sequence[str] = (), now: datetime | None = None) -> str:
    """Called by the publisher right before sending one target: "" to send, else the reason it must not go out
    (the official alert has expired, or a blocking accessibility item fails)."""
    now = now or datetime.now(timezone.utc)
    with session_scope() as s:
        em = _emergency(s, post_id)
        expires = em.expires_at if em else None
    if expires is not None and now >= expires:
        return EXPIRED.format(expires=_fmt(expires))
    keys = blocking_items()
    if not keys:
        return ""
    texts = {"en": text}
    if em and em.languages.get(SECOND_LANGUAGE, {}).get("text", "").strip():
        texts = post_texts(post_id)[0]  # each version on its own (the network's text combines them, cut to fit)
    issues = blocking_issues(texts, alts, keys)
    return BLOCKED_SEND.format(item=issues[0].params["item"]) if issues else ""


# ---------------------------------------------------------------- what the composer shows of a saved post


@dataclass(frozen=True)
class EmergencyView:
    post_id: int
    cap_alert_id: int | None
    expires: datetime | None
    second_text: str
    follow_up: str  # "", "update", "cancel"
    follow_up_alert_id: int | None
    withdrawn: bool


def view(post_id: int) -> EmergencyView | None:
    with session_scope() as s:
        em = _emergency(s, post_id)
        if em is None:
            return None
        return EmergencyView(post_id, em.cap_alert_id, em.expires_at, (em.languages.get(SECOND_LANGUAGE) or {}).get("text", ""),
                             em.follow_up, em.follow_up_alert_id, em.withdrawn_at is not None)


def acknowledge_follow_up(actor: Actor, post_id: int) -> None:
    require(actor, "publish.compose")
    with session_scope() as s:
        em = _emergency(s, post_id)
        if em is None or not em.follow_up:
            return
        audit.record(s, actor, "post.cap_follow_up_done", "post", post_id, kind=em.follow_up)
        em.follow_up = ""
        s.add(em)


def flagged_posts(limit: int = 20) -> list[tuple[int, str]]:
    """Published emergency posts whose official alert was updated or cancelled: (post id, "update"|"cancel")."""
    with session_scope() as s:
        rows = s.exec(select(PostEmergency).where(PostEmergency.follow_up != "").order_by(PostEmergency.follow_up_at.desc()).limit(limit)).all()
        return [(r.post_id, r.follow_up) for r in rows]


def withdraw(actor: Actor, post_id: int, note: str, now: datetime | None = None) -> None:
    """Withdraw a published emergency post's warning: the CAP feed carries a Cancel (the social posts stay)."""
    require(actor, "publish.compose")
    note = (note or "").strip()[:500]
    if not note:
        raise UserError("Say why the warning is withdrawn: the note goes out with the cancellation.")
    with session_scope() as s:
        em = _emergency(s, post_id)
        if em is None:
            raise UserError("This post is not an emergency post.")
        if em.withdrawn_at is None:
            em.withdrawn_at, em.withdrawn_note = now or datetime.now(timezone.utc), note
            s.add(em)
            audit.record(s, actor, "post.emergency_withdraw", "post", post_id, note=note)


def update_published(actor: Actor, post_id: int, texts: Mapping[str, str]) -> int:
    """Correct a published warning: the CAP feed carries an Update with these texts. Returns the new version."""
    require(actor, "publish.compose")
    clean = {k: v.strip() for k, v in texts.items() if k in ("en", SECOND_LANGUAGE) and v and v.strip()}
    if "en" not in clean:
        raise UserError("The English text of the warning is needed.")
    with session_scope() as s:
        em = _emergency(s, post_id)
        post = s.get(Post, post_id)
        if em is None or post is None:
            raise UserError("This post is not an emergency post.")
        if em.withdrawn_at is not None:
            raise UserError("This warning was withdrawn; it can no longer be changed.")
        em.out_texts, em.out_version = clean, em.out_version + 1
        s.add(em)
        audit.record(s, actor, "post.emergency_update", "post", post_id, version=em.out_version)
        return em.out_version
