"""Inbox rules (issue 17 item 3): an ordered list of rules, each with conditions and actions, run by the intake
pipeline on every newly stored message, plus their validation, the dry run and the rules page's reads and writes.

Why here and not in services/inbox: a rule's keyword condition is the brand-keyword query language
(services/listening/keyword_query.py) and a rule may queue a moderation request (services/records/moderation.py);
the domain contract puts listening and records above inbox, so the engine lives in intake, which sits above both.

Conditions (all must hold; each optional) and actions are JSON on InboxRule; `validate` is the one gate for both.
A rule that throws for a message is skipped for that message (its actions run in a savepoint), counted on the rule
(error_count, last_error, last_error_at) and logged; ingest never fails because of a rule."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from operator import attrgetter
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import (
    Alert, AutoReply, Claim, ClaimMatch, InboxRule, Message, MessageTag, SavedReply, Tag, SocialProfile, Team, User, VipList,
    VipMember, utcnow,
)
from govsocial_app.i18n import translate
from govsocial_app.services import audit, pause_flag, settings_store, timefmt
from govsocial_app.services.alerting import alerts as alerting
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.inbox import replies, saved_replies, targets, teams
from govsocial_app.services.inbox.stream import find_or_create_tag
from govsocial_app.services.inbox.vip import normalize_handle
from govsocial_app.services.links import inbox_link
from govsocial_app.db.sql import dialect_of, insert_rows
from govsocial_app.services.listening.keyword_query import Query, QuerySyntaxError, parse, prepare, required_words
from govsocial_app.services.records import moderation

log = logging.getLogger(__name__)

SYSTEM = Actor.system("rules")
AUTO_REPLY_SETTING = "rules.auto_reply_enabled"  # off unless an admin turns it on
TIMEZONE_SETTING = "agency.timezone"  # the agency's time zone, for office-hours windows; UTC when unset
NETWORKS = ("x", "bluesky", "mastodon", "meta", "simulator")
KINDS = ("mention", "comment", "dm", "reply", "keyword")
ACTION_TYPES = ("tag", "assign", "priority", "complete", "moderate", "alert", "auto_reply")
SEVERITIES = ("info", "warning", "critical")
MAX_RULES = 200
MAX_ACTIONS = 6
DRY_RUN_DAYS = 7
DRY_RUN_SCAN = 5000  # the dry run reads at most this many of the newest messages and says so when capped
DRY_RUN_EXAMPLES = 5
ALERT_TITLE = "Rule “{name}” matched {count} new messages"
ALERT_BODY = "The inbox rule “{name}” matched new messages."

# The words a card uses to say what a rule did, as catalogue msgids (translated per reader).
RULE_SENTENCE = "Rule “{name}” {actions}"
ACTION_WORDS = {
    "tag": "tagged {tag}",
    "assign_user": "assigned {user}",
    "assign_team": "assigned {team} team",
    "assign_team_user": "assigned {user} ({team} team)",
    "priority": "set priority {priority}",
    "complete": "completed it",
    "moderate": "asked to hide it (clause {clause})",
    "alert": "raised an alert",
    "auto_reply": "queued the automatic reply “{reply}”",
}
PRIORITY_LABELS = {"urgent": "Urgent", "high": "High", "normal": "Normal", "low": "Low"}
AND = " and "
MSGIDS = (ALERT_TITLE, ALERT_BODY, RULE_SENTENCE, AND, *ACTION_WORDS.values(), *PRIORITY_LABELS.values())


class RuleError(UserError):
    """Bad rule input. `msgid`/`params` let the page say it in the reader's language; `position` (0-based) is set
    for a keyword-query error, where the problem is in the query."""

    def __init__(self, msgid: str, *, position: int | None = None, **params: Any):
        super().__init__(msgid.format(**params) if params else msgid)
        self.msgid, self.params, self.position = msgid, params, position
        self.inner: tuple[str, dict[str, Any]] | None = None  # the query parser's own msgid and params

    def said(self, lang: str) -> str:
        """The message in the reader's language."""
        params = dict(self.params)
        if "what" in params:
            params["what"] = translate(str(params["what"]), lang)
        if self.inner is not None:
            params["error"] = translate(self.inner[0], lang, **self.inner[1])
        return translate(self.msgid, lang, **params)


# ---------------------------------------------------------------- validation


def _ids(value: Any, what: str) -> list[int]:
    if value in (None, "", []):
        return []
    if not isinstance(value, (list, tuple)):
        raise RuleError("{what} must be a list.", what=what)
    try:
        return sorted({int(v) for v in value})
    except (TypeError, ValueError):
        raise RuleError("{what} must be a list of numbers.", what=what) from None


def _strs(value: Any, allowed: tuple[str, ...] | None, what: str) -> list[str]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split()]
    if not isinstance(value, (list, tuple)):
        raise RuleError("{what} must be a list.", what=what)
    out = sorted({str(v).strip().lower() for v in value if str(v).strip()})
    if allowed is not None and (bad := [v for v in out if v not in allowed]):
        raise RuleError("Unknown {what}: {values}.", what=what, values=", ".join(bad))
    return out


def _hhmm(value: Any, what: str) -> str:
    try:
        t = time.fromisoformat(str(value).strip()[:5])
    except ValueError:
        raise RuleError("{what} must be a time like 09:00.", what=what) from None
    return t.strftime("%H:%M")


def _number(value: Any, what: str, lo: float, hi: float, *, whole: bool = False) -> float | int | None:
    if value in (None, ""):
        return None
    try:
        n = int(value) if whole else float(value)
    except (TypeError, ValueError):
        raise RuleError("{what} must be a number.", what=what) from None
    if not lo <= n <= hi:
        raise RuleError("{what} must be between {lo} and {hi}.", what=what, lo=lo, hi=hi)
    return n


def parse_query(text: str) -> Query:
    """The brand-keyword query language; a query that does not parse is refused with the position of the error."""
    try:
        return parse(text)
    except QuerySyntaxError as exc:
        err = RuleError("The keyword query has an error: {error}", position=exc.position, error=translate(exc.msgid, "en", **exc.params))
        err.inner = (exc.msgid, exc.params)
        raise err from None


def validate_conditions(s: Session, raw: dict[str, Any]) -> dict[str, Any]:
    raw = dict(raw or {})
    out: dict[str, Any] = {}
    if v := _strs(raw.get("networks"), NETWORKS, "networks"):
        out["networks"] = v
    if v := _ids(raw.get("profile_ids"), "Profiles"):
        known = set(s.exec(select(SocialProfile.id).where(col(SocialProfile.id).in_(v), col(SocialProfile.deleted_at).is_(None))).all())
        if missing := [i for i in v if i not in known]:
            raise RuleError("Unknown profile: {ids}.", ids=", ".join(map(str, missing)))
        out["profile_ids"] = v
    if v := _strs(raw.get("kinds"), KINDS, "message types"):
        out["kinds"] = v
    query = " ".join(str(raw.get("query") or "").split())
    if query:
        parse_query(query)
        out["query"] = query
    if v := _ids(raw.get("vip_list_ids"), "VIP lists"):
        known = set(s.exec(select(VipList.id).where(col(VipList.id).in_(v), col(VipList.deleted_at).is_(None))).all())
        if missing := [i for i in v if i not in known]:
            raise RuleError("Unknown VIP list: {ids}.", ids=", ".join(map(str, missing)))
        out["vip_list_ids"] = v
    if v := _strs(raw.get("langs"), None, "languages"):
        out["langs"] = v
    lo = _number(raw.get("sentiment_min"), "The lowest sentiment", -1, 1)
    hi = _number(raw.get("sentiment_max"), "The highest sentiment", -1, 1)
    if lo is not None and hi is not None and lo > hi:
        raise RuleError("The lowest sentiment must not be above the highest.")
    if lo is not None:
        out["sentiment_min"] = lo
    if hi is not None:
        out["sentiment_max"] = hi
    claims = raw.get("claims")
    if claims == "any":
        out["claims"] = "any"
    elif v := _ids(claims, "Claims"):
        known = set(s.exec(select(Claim.id).where(col(Claim.id).in_(v))).all())
        if missing := [i for i in v if i not in known]:
            raise RuleError("Unknown claim: {ids}.", ids=", ".join(map(str, missing)))
        out["claims"] = v
    fmin = _number(raw.get("followers_min"), "The fewest followers", 0, 10**12, whole=True)
    fmax = _number(raw.get("followers_max"), "The most followers", 0, 10**12, whole=True)
    if fmin is not None and fmax is not None and fmin > fmax:
        raise RuleError("The fewest followers must not be above the most.")
    if fmin is not None:
        out["followers_min"] = fmin
    if fmax is not None:
        out["followers_max"] = fmax
    days = _ids(raw.get("days"), "Days")
    if any(d < 0 or d > 6 for d in days):
        raise RuleError("Days are numbered 0 (Monday) to 6 (Sunday).")
    has_window = bool(days) or raw.get("time_from") not in (None, "") or raw.get("time_to") not in (None, "")
    if has_window:
        out["days"] = days or list(range(7))
        out["time_from"] = _hhmm(raw.get("time_from") or "00:00", "The start time")
        out["time_to"] = _hhmm(raw.get("time_to") or "23:59", "The end time")
        if out["time_from"] >= out["time_to"] and out["time_to"] != "00:00":
            raise RuleError("The start time must be before the end time.")
        if raw.get("outside"):
            out["outside"] = True
    return out


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def validate_actions(s: Session, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(raw, (list, tuple)) or not raw:
        raise RuleError("A rule needs at least one action.")
    if len(raw) > MAX_ACTIONS:
        raise RuleError("A rule can have at most {n} actions.", n=MAX_ACTIONS)
    out: list[dict[str, Any]] = []
    for a in raw:
        kind = str((a or {}).get("type") or "")
        if kind not in ACTION_TYPES:
            raise RuleError("Unknown action: {kind}.", kind=kind or "—")
        if any(x["type"] == kind for x in out):
            raise RuleError("Each action can be used once per rule.")
        if kind == "tag":
            name = " ".join(str(a.get("tag") or "").split())
            if not name or len(name) > 60:
                raise RuleError("The tag needs a name of at most 60 characters.")
            out.append({"type": "tag", "tag": name})
        elif kind == "assign":
            user_id, team_id = a.get("user_id"), a.get("team_id")
            if user_id not in (None, ""):
                u = s.get(User, _int(user_id))
                if u is None or not u.is_active or u.deleted_at is not None:
                    raise RuleError("That person cannot be assigned.")
                out.append({"type": "assign", "user_id": u.id})
            elif team_id not in (None, ""):
                t = s.get(Team, _int(team_id))
                if t is None or t.deleted_at is not None:
                    raise RuleError("That team does not exist.")
                out.append({"type": "assign", "team_id": t.id, "round_robin": bool(a.get("round_robin"))})
            else:
                raise RuleError("Choose a person or a team to assign.")
        elif kind == "priority":
            if a.get("priority") not in targets.PRIORITIES:
                raise RuleError("Choose a priority.")
            out.append({"type": "priority", "priority": a["priority"]})
        elif kind == "complete":
            out.append({"type": "complete"})
        elif kind == "moderate":
            clause = str(a.get("clause") or "").strip()
            if not clause:
                raise RuleError("Choose the policy clause the rule hides messages under.")
            out.append({"type": "moderate", "action": "hide", "clause": clause[:20], "note": str(a.get("note") or "")[:500]})
        elif kind == "alert":
            severity = a.get("severity") or "warning"
            if severity not in SEVERITIES:
                raise RuleError("Choose how serious the alert is.")
            cooldown = _number(a.get("cooldown_min", 30), "The alert cool-down", 0, 7 * 24 * 60, whole=True)
            out.append({"type": "alert", "severity": severity, "cooldown_min": 30 if cooldown is None else cooldown})
        elif kind == "auto_reply":
            r = s.get(SavedReply, _int(a.get("saved_reply_id")))
            if r is None or r.deleted_at is not None:
                raise RuleError("Choose a saved reply for the automatic reply.")
            out.append({"type": "auto_reply", "saved_reply_id": r.id})
    return out


# ---------------------------------------------------------------- compiled rules (one load per page)


@dataclass
class _Compiled:
    id: int
    name: str
    position: int
    stop: bool
    updated_at: datetime
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    query: Query | None
    networks: frozenset[str] = frozenset()
    profiles: frozenset[int] = frozenset()
    kinds: frozenset[str] = frozenset()
    langs: tuple[str, ...] = ()
    vip_lists: frozenset[int] = frozenset()
    rare: bool = False  # has any of the conditions that are less common (followers, sentiment, hours, VIP, claims)
    listening: bool = False  # reads what listening adds after the insert (sentiment, matched claims)
    defers: bool = False  # has an action that needs the stored message: a loud one (alert, auto-reply, moderate) or round-robin
    defers_history: bool = False  # the same for history, which gets no loud actions: round-robin only
    words: frozenset[str] | None = None  # a message must have one of these for the query to match (None: any may)
    history_actions: list[dict[str, Any]] = field(default_factory=list)  # the actions without the loud ones
    at_once: tuple[bool, bool] = (False, False)  # (live, history): an action writes at once, so they run in a savepoint


_RARE = ("followers_min", "followers_max", "sentiment_min", "sentiment_max", "days", "vip_list_ids", "claims")
_LISTENING = ("sentiment_min", "sentiment_max", "claims")
_MSG_COLUMNS = ("id", "network", "external_id", "profile_id", "direction", "kind", "conversation_key", "in_reply_to_external_id",
                "author_handle", "author_key", "author_name", "author_followers", "text", "lang", "received_at", "sentiment",
                "status", "priority", "assignee_id", "team_id", "completed_at", "completed_by", "sla_first_due_at",
                "sla_done_due_at", "rule_log")
_MUTABLE = ("priority", "assignee_id", "team_id", "status", "completed_at", "completed_by", "sla_first_due_at", "sla_done_due_at",
            "rule_log")
_mutable = attrgetter(*_MUTABLE)


class _Msg:
    """A new message as rules see it: its columns as plain attributes (no ORM tracking, which costs more than the
    rules themselves). What rules change is written back in one bulk UPDATE by `_Run.write`."""

    __slots__ = (*_MSG_COLUMNS, "_original")

    def __init__(self, row: Any):
        for name, value in zip(_MSG_COLUMNS, row):
            object.__setattr__(self, name, value)
        self._original = tuple(getattr(self, f) for f in _MUTABLE)

    def changes(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f, old in zip(_MUTABLE, self._original) if getattr(self, f) != old}


_cache: dict[int, _Compiled] = {}  # rule id → compiled, reused while the rule's updated_at is unchanged


def _compile(r: InboxRule) -> _Compiled:
    c = r.conditions or {}
    query = parse(c["query"]) if c.get("query") else None
    actions = list(r.actions or [])
    return _Compiled(r.id, r.name, r.position, r.stop_processing, r.updated_at, dict(c), actions, query,
                     frozenset(c.get("networks") or ()), frozenset(c.get("profile_ids") or ()), frozenset(c.get("kinds") or ()),
                     tuple(c.get("langs") or ()), frozenset(c.get("vip_list_ids") or ()), any(k in c for k in _RARE),
                     any(k in c for k in _LISTENING),
                     any(a["type"] in LOUD_ACTIONS or (a["type"] == "assign" and a.get("round_robin")) for a in actions),
                     any(a["type"] == "assign" and a.get("round_robin") for a in actions),
                     required_words(query) if query is not None else None,
                     quiet := [a for a in actions if a["type"] not in LOUD_ACTIONS],
                     (any(_writes_at_once(a) for a in actions), any(_writes_at_once(a) for a in quiet)))


def _writes_at_once(a: dict[str, Any]) -> bool:
    return a["type"] in _IN_DATABASE or (a["type"] == "assign" and bool(a.get("round_robin")))


def _load(s: Session) -> list[_Compiled]:
    rows = s.exec(select(InboxRule.id, InboxRule.updated_at).where(
        col(InboxRule.enabled).is_(True), col(InboxRule.deleted_at).is_(None))).all()
    stale = [i for i, at in rows if i not in _cache or _cache[i].updated_at != at]
    if stale:
        for r in s.exec(select(InboxRule).where(col(InboxRule.id).in_(stale))).all():
            try:
                _cache[r.id] = _compile(r)
            except Exception as exc:  # noqa: BLE001 - a rule stored before a parser change: counted, never fatal
                _count_error(s, r.id, f"{type(exc).__name__}: {exc}")
                _cache.pop(r.id, None)
    out = [_cache[i] for i, _ in rows if i in _cache]
    return sorted(out, key=lambda c: (c.position, c.id))


@dataclass
class _Facts:
    """What conditions read beyond the message row, loaded once per page."""

    vip_lists: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    claims: dict[int, set[int]] = field(default_factory=dict)
    zone: Any = None
    message_ids: list[int] = field(default_factory=list)
    analysed: dict[int, Any] = field(default_factory=dict)  # message id → keyword_query.prepare(...)
    query_hits: dict[tuple[int, str], bool] = field(default_factory=dict)


def _facts(s: Session, messages: list[Any], rules: list[_Compiled], *, stored: bool = True) -> _Facts:
    """`stored=False`: rows not inserted yet (`Plan.decide`), which have no claims."""
    ids = [m.id for m in messages]
    f = _Facts(zone=timefmt.zone(settings_store.get(TIMEZONE_SETTING, "UTC", session=s)), message_ids=ids)
    if any(r.vip_lists for r in rules) or any(a["type"] == "auto_reply" for r in rules for a in r.actions):
        handles = sorted({normalize_handle(m.author_handle) for m in messages if m.author_handle})
        for start in range(0, len(handles), 500):
            for network, handle, list_id in s.exec(
                select(VipMember.network, VipMember.handle, VipMember.list_id).join(VipList, VipList.id == VipMember.list_id)
                .where(col(VipMember.handle).in_(handles[start:start + 500]), col(VipMember.deleted_at).is_(None),
                       col(VipList.deleted_at).is_(None))).all():
                f.vip_lists.setdefault((network, handle), set()).add(list_id)
    if stored and any("claims" in r.conditions for r in rules):
        for start in range(0, len(ids), 500):
            for mid, claim_id in s.exec(select(ClaimMatch.message_id, ClaimMatch.claim_id).join(Claim, Claim.id == ClaimMatch.claim_id)
                                        .where(col(ClaimMatch.message_id).in_(ids[start:start + 500]), col(Claim.deleted_at).is_(None))).all():
                f.claims.setdefault(mid, set()).add(claim_id)
    return f


def _basic(r: _Compiled, m: Any) -> bool:
    """The conditions on the message's own columns that cost nothing: network, profile, type, language."""
    if r.networks and m.network not in r.networks:
        return False
    if r.profiles and m.profile_id not in r.profiles:
        return False
    if r.kinds and m.kind not in r.kinds:
        return False
    if r.langs:
        lang = (m.lang or "").lower()
        if lang not in r.langs and not ("-" in lang and any(lang.startswith(code + "-") for code in r.langs)):
            return False
    return True


def _matches(r: _Compiled, m: Any, f: _Facts) -> bool:
    """All of the rule's conditions hold for the message; cheap checks first, the keyword query last."""
    c = r.conditions
    if not _basic(r, m):
        return False
    if r.rare and not _rare_conditions(r, c, m, f):
        return False
    if r.query is not None:
        # Several rules often share one query with different conditions: each query is tested once per message.
        key = (m.id, c["query"])
        hit = f.query_hits.get(key)
        if hit is None:
            hit = f.query_hits[key] = r.query.matches_prepared(_prepared(m, f))
        if not hit:
            return False
    return True


def _prepared(m: Any, f: _Facts) -> Any:
    msg = f.analysed.get(m.id)
    if msg is None:
        msg = f.analysed[m.id] = prepare(m.text or "", m.lang or "", m.author_handle or "")
    return msg


class _Order:
    """Which rules a message can match, in position order: a rule whose query needs words the message lacks is
    passed over without being tested (keyword_query.required_words); rules with no such words are always tested.

    The rules a word can wake are kept as the bits of an int (bit i: rule i), so a message's candidates are the OR of
    its words' masks, read back lowest bit first: position order without building and sorting a set per message."""

    def __init__(self, rules: list[_Compiled]):
        self.count = len(rules)
        self.always = 0
        self.by_word: dict[str, int] = {}
        for i, r in enumerate(rules):
            if r.words is None:
                self.always |= 1 << i
            for w in r.words or ():
                self.by_word[w] = self.by_word.get(w, 0) | 1 << i
        self.words = frozenset(self.by_word)
        self.mentions = frozenset(w for w in self.words if w.startswith("@"))  # the only words an author's forms meet

    def of(self, m: Any, f: _Facts, start: int = 0) -> list[int]:
        if not self.by_word:
            return list(range(start, self.count))
        found = self.always
        by_word, words = self.by_word, self.words
        msg = _prepared(m, f)
        # keyword_query.words_of, without making their union; the set intersection walks the smaller side in C
        for w in words.intersection(msg.text.forms):
            found |= by_word[w]
        if self.mentions:
            for w in self.mentions.intersection(msg.author):
                found |= by_word[w]
        found >>= start
        out = []
        i = start
        while found:
            low = found & -found  # the lowest rule left
            i += low.bit_length() - 1
            out.append(i)
            found >>= low.bit_length()
            i += 1
        return out


def _rare_conditions(r: _Compiled, c: dict[str, Any], m: Any, f: _Facts) -> bool:
    if "followers_min" in c and (m.author_followers or 0) < c["followers_min"]:
        return False
    if "followers_max" in c and (m.author_followers or 0) > c["followers_max"]:
        return False
    if "sentiment_min" in c or "sentiment_max" in c:
        if m.sentiment is None:
            return False
        if m.sentiment < c.get("sentiment_min", -1.0) or m.sentiment > c.get("sentiment_max", 1.0):
            return False
    if "days" in c and _in_window(c, m.received_at, f.zone) == bool(c.get("outside")):
        return False
    if r.vip_lists and not (f.vip_lists.get((m.network, normalize_handle(m.author_handle)), set()) & r.vip_lists):
        return False
    if "claims" in c:
        found = f.claims.get(m.id, set())
        if not found or (c["claims"] != "any" and not found & set(c["claims"])):
            return False
    return True


def _in_window(c: dict[str, Any], when: datetime, zone: Any) -> bool:
    local = when.astimezone(zone)
    hhmm = local.strftime("%H:%M")
    end = c["time_to"] if c["time_to"] != "00:00" else "24:00"
    return local.weekday() in c["days"] and c["time_from"] <= hhmm < end


# ---------------------------------------------------------------- running (inside the intake transaction)


@dataclass
class RulesResult:
    changed_ids: list[int] = field(default_factory=list)
    alert_ids: list[int] = field(default_factory=list)
    applied: int = 0
    errors: int = 0


LOUD_ACTIONS = frozenset({"alert", "auto_reply", "moderate"})  # never for history (`live=False`)


def apply_rules(s: Session, new_ids: list[int], now: datetime | None = None, *, live: bool = True,
                plan: Plan | None = None) -> RulesResult:
    """Run every enabled rule, in position order, on the newly stored messages `new_ids`, in the caller's
    transaction. Never raises: a failure is counted on the rule and the message keeps going. `live=False` (history,
    the demo's month of backfill) skips what speaks to people: alerts, automatic replies and moderation.

    With a `plan` (the pipeline's, given to `ingest.store`), most rules were already decided on the rows before
    their insert: this writes what they did and runs only the rest (see `Plan`)."""
    if plan is not None:
        return plan.finish(new_ids)
    out = RulesResult()
    if not new_ids:
        return out
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    try:
        rules = _load(s)
    except Exception:  # noqa: BLE001 - rules never block ingest
        log.exception("rules: could not load the rules; %d new messages keep going without them", len(new_ids))
        return out
    if not rules:
        return out
    messages = _stored(s, new_ids)
    run = _Run(s, now, _facts(s, messages, rules), live)
    run.tag_names = _tag_names(rules)
    run.messages = messages
    matched: dict[int, list[int]] = {}
    _loop(run, rules, messages, {}, out, matched)
    _close(run, rules, out, matched)
    return out


def _stored(s: Session, ids: list[int]) -> list[Any]:
    s.flush()
    columns = [getattr(Message, c) for c in _MSG_COLUMNS]
    messages: list[Any] = []
    for start in range(0, len(ids), 500):
        messages += [_Msg(row) for row in s.execute(select(*columns).where(col(Message.id).in_(ids[start:start + 500]),
                                                                           Message.direction == "in")).all()]
    messages.sort(key=lambda m: m.id)
    return messages


def _tag_names(rules: list[_Compiled]) -> set[str]:
    return {a["tag"].lower() for r in rules for a in r.actions if a["type"] == "tag"}


def _loop(run: _Run, rules: list[_Compiled], messages: list[Any], start_at: dict[int, int], out: RulesResult,
          matched: dict[int, list[int]]) -> None:
    """Each message through the rules in order, from its `start_at` rule (0 unless a plan got that far)."""
    s = run.s
    order = _Order(rules)
    for m in messages:
        for i in order.of(m, run.facts, start_at.get(m.id, 0)):
            r = rules[i]
            try:
                hit = _matches(r, m, run.facts)
            except Exception as exc:  # noqa: BLE001
                out.errors += 1
                _fail(s, r, m, exc)
                continue
            if not hit:
                continue
            if _apply(run, r, m, out, matched) and r.stop:
                break


def _apply(run: _Run, r: _Compiled, m: Any, out: RulesResult, matched: dict[int, list[int]]) -> bool:
    """Run a matching rule's actions and count it; False when it threw (run.apply put the message back as it was:
    the rule is skipped for this message, counted on the rule, and the next rule runs)."""
    try:
        done = run.apply(r, m)
    except Exception as exc:  # noqa: BLE001
        out.errors += 1
        _fail(run.s, r, m, exc)
        return False
    matched.setdefault(r.id, []).append(m.id)
    out.applied += 1
    if done:
        out.changed_ids.append(m.id)
    return True


def _close(run: _Run, rules: list[_Compiled], out: RulesResult, matched: dict[int, list[int]]) -> None:
    """Write the page's rows and rule counts, and raise the rules' alerts."""
    s = run.s
    run.write()
    if matched:  # every rule's count in one statement (PostgreSQL) or one executemany (SQLite)
        counts = sorted((rule_id, len(ids)) for rule_id, ids in matched.items())
        if dialect_of(s) == "postgresql":
            s.connection().exec_driver_sql(
                "UPDATE inbox_rule SET match_count = inbox_rule.match_count + v.n "
                "FROM unnest(CAST(%(ids)s AS integer[]), CAST(%(ns)s AS integer[])) AS v(id, n) WHERE inbox_rule.id = v.id",
                {"ids": [i for i, _ in counts], "ns": [n for _, n in counts]})
        else:
            table = InboxRule.__table__
            s.execute(update(table).where(table.c.id == bindparam("_id")).values(match_count=table.c.match_count + bindparam("_n")),
                      [{"_id": rule_id, "_n": n} for rule_id, n in counts])
    out.alert_ids = run.raise_alerts(matched, {r.id: r for r in rules})


# The columns rules may set that ingest leaves to the database's defaults when no rule runs.
_ROW_DEFAULTS = {"assignee_id": None, "team_id": None, "completed_at": None, "completed_by": None, "rule_log": None}


class _Row:
    """A row about to be inserted, as rules see it: `__dict__` is the insert dict itself, so reading an attribute
    reads the row and an action's change (priority, assignee, status...) is the value that will be inserted. The
    columns ingest leaves to the database's defaults read as those defaults until an action sets them."""

    assignee_id = team_id = completed_at = completed_by = rule_log = None


class Plan:
    """The pipeline's rules for one page, decided before the insert where they can be.

    Rules used to run after the insert and UPDATE what they changed: on PostgreSQL that re-wrote every indexed
    column (priority, assignee, status: no HOT update) and re-did the full-text index of rows inserted moments
    before, which cost more than the rules themselves. Now `ingest.store` hands each batch of new rows to `decide`
    before inserting them; each row goes through the rules in order, and the quiet actions (tag, assign to a
    person or a team, priority with its due times, complete) change the row itself. A row stops being decided at
    the first rule that needs the stored message: one that reads listening's results (sentiment, matched claims)
    or that matched with an action that writes at once (alert, automatic reply, moderation, round-robin). `finish`
    (after listening, in `apply_rules`) writes the tags and audit rows once ids exist (what each rule did went in with
    the row, in its rule_log, and is corrected there if a brand keyword gave a tag first), then runs
    the rest of the rules for those rows from that rule on, exactly as before. Same order, same results."""

    def __init__(self, s: Session, now: datetime | None = None, *, live: bool = True):
        self.s, self.live = s, live
        self.now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        self.rules: list[_Compiled] | None = None
        self.run: _Run | None = None
        self.out = RulesResult()
        self.matched: dict[int, list[int]] = {}  # rule id → row keys
        self.keys: dict[tuple[str, str], int] = {}  # (network, external id) → row key (negative: never a real id)
        self.ids: dict[int, int] = {}  # row key → message id, once inserted
        self.resume: dict[int, int] = {}  # row key → index of the first rule left for `finish`
        self.order: _Order | None = None
        self.rows: dict[int, dict] = {}  # row key → the insert dict of each row the rules did something to
        # The (message id, tag id) pairs the pipeline's brand keywords gave the new messages after their insert, when
        # it says (`take_in` does): then the tags need no query. None: read them from the database.
        self.tagged: set[tuple[int, int]] | None = None

    def decide(self, rows: list[dict], edited: dict[tuple[str, str], str] | None = None) -> None:
        """Run the rules on rows about to be inserted. A row that the same page edits right after its insert is
        decided on the text it will be stored with (`edited`: network, external id → that text), as the rules
        would have seen it after the insert; the row keeps its first text, which the archive keeps first."""
        edited = edited or {}
        s = self.s
        if self.rules is None:
            try:
                self.rules = _load(s)
            except Exception:  # noqa: BLE001 - rules never block ingest
                log.exception("rules: could not load the rules; %d new messages keep going without them", len(rows))
                self.rules = []
        if not self.rules:
            return
        rules, live = self.rules, self.live
        views = []
        for row in rows:
            v = _Row()
            v.__dict__ = row
            v.id = -(len(self.keys) + 1)
            self.keys[(row["network"], row["external_id"])] = v.id
            views.append(v)
        try:
            facts = _facts(s, views, rules, stored=False)
            if self.run is None:
                self.run = _Run(s, self.now, facts, live)
                self.run.tag_names = _tag_names(rules)
                self.run._present = set()  # new rows have no tags yet; the brand keywords' are checked in `finish`
            self.run.facts = facts
            order = self.order = self.order or _Order(rules)
            for v in views:
                first = None
                if (final := edited.get((v.network, v.external_id))) is not None:
                    first, v.text = v.text, final
                try:
                    self._decide_row(v, facts, order, rules, live)
                finally:
                    if first is not None:
                        v.text = first
        finally:
            # Every row of a batch has the same columns (one insert statement): the columns an action set on any row
            # go in for all of them; the others stay out, as without rules (each is a conversion per row).
            for column in [c for c in _ROW_DEFAULTS if any(c in row for row in rows)]:
                for row in rows:
                    row.setdefault(column, None)
            for row in rows:
                row.pop("id", None)

    def _decide_row(self, v: _Row, facts: _Facts, order: _Order, rules: list[_Compiled], live: bool) -> None:
        s, run, out, matched = self.s, self.run, self.out, self.matched
        for i in order.of(v, facts):
            r = rules[i]
            try:
                if r.listening:  # sentiment and claims exist only after the insert
                    if _basic(r, v):
                        self.resume[v.id] = i
                        break
                    continue
                hit = _matches(r, v, facts)
            except Exception as exc:  # noqa: BLE001
                out.errors += 1
                _fail(s, r, v, exc)
                continue
            if not hit:
                continue
            if r.defers if live else r.defers_history:
                self.resume[v.id] = i
                break
            if not _apply(run, r, v, out, matched):
                continue
            if v.rule_log:
                self.rows[v.id] = v.__dict__
            if r.stop:
                break

    def inserted(self, ids: dict[tuple[str, str], int]) -> None:
        for key, message_id in ids.items():
            if (k := self.keys.get(key)) is not None:
                self.ids[k] = message_id

    def finish(self, new_ids: list[int]) -> RulesResult:
        """After listening: write what `decide` did, with the messages' ids, and run the rules it left."""
        run, out = self.run, self.out
        if run is None or not self.rules:
            return out
        s, ids = self.s, self.ids
        new = set(new_ids)
        known = {k for k, i in ids.items() if i in new}
        run.audits = [(action, kind, ids[mid], detail) for action, kind, mid, detail in run.audits if mid in known]
        self.matched = {rule_id: [ids[k] for k in keys if k in known] for rule_id, keys in self.matched.items()}
        out.changed_ids = [ids[k] for k in out.changed_ids if k in known]
        resume = {ids[k]: i for k, i in self.resume.items() if k in known}
        decided = {ids[k]: row for k, row in self.rows.items() if k in known}
        # Tags: a brand keyword may have tagged the message since (tag_with_keywords runs after the insert).
        if self.tagged is not None:
            run.facts.message_ids = sorted(resume)  # only the rules left for after listening may meet other tags
            run._present = None if resume else set()
            present = run._present_tags()
            present |= self.tagged
        else:
            run.facts.message_ids = sorted(set(decided) | set(resume))
            run._present = None
            present = run._present_tags()
        decided_tags, run.new_tags = run.new_tags, []  # decide's tag rows, by row key (it never repeats a pair)
        claimed: set[tuple[int, int]] = set()  # pairs a brand keyword gave first
        for t in decided_tags:
            if (k := t["message_id"]) not in known:
                continue
            pair = (ids[k], t["tag_id"])
            if pair in present:
                claimed.add(pair)
                continue
            present.add(pair)
            t["message_id"] = pair[0]
            run.new_tags.append(t)
        fixed = []  # messages whose inserted rule_log claimed a tag a brand keyword gave first
        for mid in sorted({mid for mid, _ in claimed}):
            row = decided[mid]
            for entry in row["rule_log"]:
                # the audit row holds the same list
                entry["actions"][:] = [d for d in entry["actions"]
                                       if d["type"] != "tag" or (mid, run.tag_ids[d["tag"].lower()]) not in claimed]
            fixed.append({"_id": mid, "rule_log": [e for e in row["rule_log"] if e["actions"]] or None})
        if fixed:
            table = Message.__table__
            s.execute(update(table).where(table.c.id == bindparam("_id")).values(rule_log=bindparam("rule_log")), fixed)
        run.audits = [a for a in run.audits if a[3]["actions"]]
        run.messages = []
        if resume:
            messages = _stored(s, sorted(resume))
            facts = _facts(s, messages, self.rules)
            facts.message_ids = run.facts.message_ids
            run.facts = facts
            run.messages = messages
            _loop(run, self.rules, messages, resume, out, self.matched)
        _close(run, self.rules, out, self.matched)
        return out


def _fail(s: Session, r: _Compiled, m: Message, exc: Exception) -> None:
    log.warning("rules: rule %s (%s) failed for message %s and was skipped: %s: %s", r.id, r.name, m.id, type(exc).__name__, exc)
    _count_error(s, r.id, f"{type(exc).__name__}: {exc}")


def _count_error(s: Session, rule_id: int, error: str) -> None:
    s.execute(update(InboxRule).where(InboxRule.id == rule_id).values(
        error_count=InboxRule.error_count + 1, last_error=error[:500], last_error_at=utcnow())
        .execution_options(synchronize_session=False))


_IN_DATABASE = frozenset({"moderate", "auto_reply"})  # actions that write at once: they run in a savepoint


class _Run:
    """One page's run. Quiet actions change the loaded messages in memory (and add to their rule_log) and queue their
    rows (tags,
    audit entries), written together at the end (`write`); a rule that throws has its changes to that message put
    back (the fields in _MUTABLE and its queued rows). Actions that write at once (moderation, automatic replies,
    round-robin's turn) run inside a savepoint as well."""

    def __init__(self, s: Session, now: datetime, facts: _Facts, live: bool = True):
        self.s, self.now, self.facts, self.live = s, now, facts, live
        self.tag_ids: dict[str, int] = {}
        self.tag_names: set[str] = set()  # every rule's tag, lower case
        self.alerting: dict[int, dict[str, Any]] = {}
        self._auto_reply_on: bool | None = None
        self._present: set[tuple[int, int]] | None = None
        self._added: list[tuple[int, int]] = []  # pairs added to _present, in order, to put back a rule that throws
        self._targets: dict[str, tuple[int, int]] | None = None
        self.new_tags: list[dict[str, Any]] = []  # MessageTag rows (message_id, tag_id), inserted in bulk by `write`
        self.at = now.isoformat()  # when, in each message's rule_log
        self.users: dict[int, tuple[str, bool]] = {}  # id → (name, can be assigned)
        self.teams: dict[int, Team | None] = {}
        self.audits: list[tuple[str, str, Any, dict[str, Any]]] = []
        self.messages: list[Any] = []  # the page's _Msg rows
        # What a quiet action did, one dict per distinct result, shared by every message it was done to: the page's
        # audit rows group messages by what was done (`_audit_rows`), by identity. Never changed once made.
        self._done: dict[tuple, dict[str, Any]] = {}
        self._tags: dict[str, tuple[int, dict[str, Any]]] = {}  # a rule's tag name → (tag id, what tagging did)

    def _did(self, *pairs: tuple[str, Any]) -> dict[str, Any]:
        d = self._done.get(pairs)
        if d is None:
            d = self._done[pairs] = dict(pairs)
        return d

    def apply(self, r: _Compiled, m: Message) -> list[dict[str, Any]]:
        """Run the rule's actions on the message; record what was done (its rule_log, and an audit row)."""
        actions = r.actions if self.live else r.history_actions
        at_once = r.at_once[0] if self.live else r.at_once[1]
        before = _mutable(m)
        marks = (len(self.new_tags), len(self._added))
        done: list[dict[str, Any]] = []
        try:
            if at_once:
                with self.s.begin_nested():
                    done = self._run(r, m, actions)
            else:
                done = self._run(r, m, actions)
        except Exception:
            for f, v in zip(_MUTABLE, before):
                setattr(m, f, v)
            del self.new_tags[marks[0]:]
            for pair in self._added[marks[1]:]:
                self._present.discard(pair)
            del self._added[marks[1]:]
            raise
        if done:
            # A new list, never appended in place: `_Msg.changes` compares it with the one loaded.
            m.rule_log = [*(m.rule_log or ()), {"rule_id": r.id, "rule": r.name, "actions": done, "at": self.at}]
            self.audits.append(("rule.apply", "message", m.id, {"rule_id": r.id, "rule": r.name, "actions": done}))
        return done

    def _run(self, r: _Compiled, m: Message, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        done = []
        for a in actions:
            result = getattr(self, _RUN_ACTIONS[a["type"]])(r, m, a)
            if result:
                done.append(result)
        return done

    def write(self) -> None:
        """The page's queued rows, in one go: changed messages (after the insert only), tags, and the audit rows sealed
        together."""
        # Core statements, executemany: the ORM's bulk paths cost more per row than the rules themselves.
        table = Message.__table__
        changed = [{"_id": m.id, **c} for m in self.messages if (c := m.changes())]
        for fields in {tuple(sorted(k for k in c if k != "_id")) for c in changed}:  # one UPDATE per shape of change
            stmt = update(table).where(table.c.id == bindparam("_id")).values({f: bindparam(f) for f in fields})
            self.s.execute(stmt, [c for c in changed if tuple(sorted(k for k in c if k != "_id")) == fields])
        insert_rows(self.s, MessageTag.__table__, self.new_tags, same={"created_at": self.now})
        audit.record_many(self.s, SYSTEM, self._audit_rows())

    def _audit_rows(self) -> list[tuple[str, str, Any, dict[str, Any]]]:
        """One audit row per rule per page, naming every message it changed and what it did to each (the way a
        bulk assign is audited): `done` groups the messages by what was done, which is nearly always the same for
        all of them. Each message's own record is its rule_log, shown on the card. One row per
        application cost more than the rules themselves: every audit row is sealed into the hash chain."""
        by_rule: dict[int, dict[tuple, tuple[list[dict[str, Any]], list[int]]]] = {}
        names: dict[int, str] = {}
        for _action, _type, message_id, detail in self.audits:
            groups = by_rule.setdefault(detail["rule_id"], {})
            key = tuple(map(id, detail["actions"]))  # the quiet actions' results are shared (`_did`): equal is same
            groups.setdefault(key, (detail["actions"], []))[1].append(message_id)
            names[detail["rule_id"]] = detail["rule"]
        rows = []
        for rule_id, groups in by_rule.items():
            done: list[tuple[list[dict[str, Any]], list[int]]] = []
            for actions, mids in groups.values():  # results made apart (round-robin's turn) but equal: one group
                same = next((g for g in done if g[0] == actions), None)
                if same is None:
                    done.append((actions, mids))
                else:
                    same[1].extend(mids)
            ids = sorted(mid for _, mids in done for mid in mids)
            rows.append(("rule.apply", "inbox_rule", rule_id,
                         {"rule_id": rule_id, "rule": names[rule_id], "count": len(ids), "message_ids": ids,
                          "done": [{"actions": actions, "message_ids": sorted(mids)} for actions, mids in done]}))
        return rows

    def _user(self, user_id: int) -> tuple[str, bool]:
        if user_id not in self.users:
            row = self.s.exec(select(User.display_name, User.is_active, User.deleted_at).where(User.id == user_id)).first()
            self.users[user_id] = (row[0], bool(row[1]) and row[2] is None) if row else ("", False)
        return self.users[user_id]

    def _present_tags(self) -> set[tuple[int, int]]:
        if self._present is None:
            ids = list(self.facts.message_ids)
            self._present = set()
            for start in range(0, len(ids), 500):
                self._present |= set(self.s.exec(select(MessageTag.message_id, MessageTag.tag_id).where(
                    col(MessageTag.message_id).in_(ids[start:start + 500]), col(MessageTag.removed_at).is_(None))).all())
        return self._present

    def _tag(self, r: _Compiled, m: Message, a: dict[str, Any]) -> dict[str, Any] | None:
        name = a["tag"]
        known = self._tags.get(name)
        if known is None:
            known = self._tags[name] = (self._tag_id(name), self._did(("type", "tag"), ("tag", name)))
        tag_id, did = known
        present = self._present if self._present is not None else self._present_tags()
        pair = (m.id, tag_id)
        if pair in present:
            return None
        present.add(pair)
        self._added.append(pair)
        self.new_tags.append({"message_id": m.id, "tag_id": tag_id})
        return did

    def _tag_id(self, name: str) -> int:
        if not self.tag_ids and self.tag_names:
            # One query for every rule's tag on the first tag of the page; missing or deleted ones are made below.
            for tid, tname in self.s.exec(select(Tag.id, Tag.name).where(func.lower(Tag.name).in_(sorted(self.tag_names)),
                                                                         col(Tag.deleted_at).is_(None))).all():
                self.tag_ids[tname.lower()] = tid
        tag_id = self.tag_ids.get(name.lower())
        if tag_id is None:
            tag_id = self.tag_ids[name.lower()] = find_or_create_tag(self.s, name, SYSTEM).id
        return tag_id

    def _assign(self, r: _Compiled, m: Message, a: dict[str, Any]) -> dict[str, Any] | None:
        if "user_id" in a:
            name, ok = self._user(a["user_id"])
            if not ok:
                raise RuntimeError(f"the person {a['user_id']} can no longer be assigned")
            m.assignee_id = a["user_id"]
            return self._did(("type", "assign"), ("user_id", a["user_id"]), ("user", name))
        if a["team_id"] not in self.teams:
            self.teams[a["team_id"]] = self.s.get(Team, a["team_id"])
        team = self.teams[a["team_id"]]
        if team is None or team.deleted_at is not None:
            raise RuntimeError(f"the team {a['team_id']} no longer exists")
        m.team_id = team.id
        if not a.get("round_robin"):
            return self._did(("type", "assign"), ("team_id", team.id), ("team", team.name), ("team_ar", team.name_ar))
        out: dict[str, Any] = {"type": "assign", "team_id": team.id, "team": team.name, "team_ar": team.name_ar}
        if a.get("round_robin"):
            chosen = teams.pick_round_robin(self.s, team.id, now=self.now)
            if chosen is not None:
                m.assignee_id = chosen
                out.update(user_id=chosen, user=self._user(chosen)[0])
        return out

    def _priority(self, r: _Compiled, m: Message, a: dict[str, Any]) -> dict[str, Any] | None:
        if m.priority == a["priority"]:
            return None
        if self._targets is None:
            self._targets = targets.targets(self.s)
        m.priority = a["priority"]
        targets.set_due(m, self._targets)  # as targets.set_priority does, with the page's one read of the targets
        return self._did(("type", "priority"), ("priority", a["priority"]))

    def _complete(self, r: _Compiled, m: Message, a: dict[str, Any]) -> dict[str, Any] | None:
        if m.status == "completed":
            return None
        m.status, m.completed_at, m.completed_by = "completed", self.now, None
        return self._did(("type", "complete"),)

    def _moderate(self, r: _Compiled, m: Message, a: dict[str, Any]) -> dict[str, Any] | None:
        if not moderation.is_moderatable(m):
            return None  # only comments and replies on the agency's own posts can be hidden
        self.s.flush()
        action_id, _ = moderation.request_in(self.s, m.id, "hide", a["clause"], a.get("note") or f"Inbox rule “{r.name}”", SYSTEM)
        return {"type": "moderate", "clause": a["clause"], "action_id": action_id}

    def _alert(self, r: _Compiled, m: Message, a: dict[str, Any]) -> dict[str, Any] | None:
        self.alerting.setdefault(r.id, a)
        return {"type": "alert"}

    def _auto_reply(self, r: _Compiled, m: Message, a: dict[str, Any]) -> dict[str, Any] | None:
        """Off unless enabled; never while publishing is paused; never to a VIP-listed author; at most once per
        author per conversation per day (the AutoReply unique key, inserted first); sent by the ordinary reply
        sender's job (queued, so it is retried like any reply and never sent twice)."""
        s = self.s
        if self._auto_reply_on is None:
            self._auto_reply_on = bool(settings_store.get(AUTO_REPLY_SETTING, False, session=s))
        if not self._auto_reply_on or pause_flag.is_paused(s):
            return None
        if self.facts.vip_lists.get((m.network, normalize_handle(m.author_handle))):
            return None
        reply = s.get(SavedReply, a["saved_reply_id"])
        if reply is None or reply.deleted_at is not None:
            raise RuntimeError("the saved reply no longer exists")
        profile = s.get(SocialProfile, m.profile_id) if m.profile_id else None
        if profile is None or profile.deleted_at is not None or profile.status != "active":
            return None
        row = AutoReply(rule_id=r.id, message_id=m.id, saved_reply_id=reply.id, network=m.network,
                        author_key=(m.author_key or normalize_handle(m.author_handle))[:200],
                        conversation_key=(m.conversation_key or m.external_id)[:300], day=self.now.date())
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
        except IntegrityError:
            return None  # this author already had one in this conversation today
        values = {"author_name": m.author_name or m.author_handle, "agency": _agency_name(),
                  "profile_handle": profile.handle, "link": reply.link}
        text = saved_replies.fill(saved_replies.text_for(reply, m.lang), values)
        row.reply_message_id = replies.queue_automatic(s, m, profile, text, SYSTEM)
        s.add(row)
        return {"type": "auto_reply", "saved_reply_id": reply.id, "reply": reply.name, "outbound_id": row.reply_message_id}

    def raise_alerts(self, matched: dict[int, list[int]], rules: dict[int, _Compiled]) -> list[int]:
        ids = []
        for rule_id, a in self.alerting.items():
            hits = matched.get(rule_id) or []
            if not hits:
                continue
            try:
                with self.s.begin_nested():
                    alert_id = _raise_alert(self.s, rules[rule_id], a, hits, self.now)
            except Exception as exc:  # noqa: BLE001
                _count_error(self.s, rule_id, f"alert: {type(exc).__name__}: {exc}")
                continue
            if alert_id is not None:
                ids.append(alert_id)
        return ids


# Each action type's method name, looked up when it runs: a table of bound methods kept on the run would make every
# run a reference cycle, which kept the page's rows, audit entries and tag pairs alive until the collector's next
# pass (and made those passes the costliest part of running rules).
_RUN_ACTIONS = {kind: "_" + kind for kind in ACTION_TYPES}


def _agency_name() -> str:
    from govsocial_app.config import get_settings

    return get_settings().agency_name


def _raise_alert(s: Session, r: _Compiled, a: dict[str, Any], hits: list[int], now: datetime) -> int | None:
    """One alert per rule per page, through the alerting service (push, email), unless the rule's alert is cooling
    down: the same cool-down idea as keyword alerts, kept on the alerts the rule raised."""
    cutoff = now - timedelta(minutes=int(a.get("cooldown_min", 30)))
    recent = s.exec(select(Alert.data).where(Alert.kind == "system", Alert.created_at > cutoff)).all()
    if any((d or {}).get("rule_id") == r.id for d in recent):
        return None
    since = min(m.received_at for m in s.exec(select(Message).where(col(Message.id).in_(hits))).all())
    spec = alerting.AlertSpec(kind="system", severity=a.get("severity", "warning"), title=ALERT_TITLE, body=ALERT_BODY,
                              params={"name": r.name, "count": len(hits)},
                              link=inbox_link(since=since.astimezone(timezone.utc).replace(second=0, microsecond=0)),
                              data={"rule_id": r.id, "count": len(hits)})
    return alerting.create_alert(s, spec, alerting.audience_for("system", s), now).id


# ---------------------------------------------------------------- what a card says a rule did


def describe(rule_name: str, actions: list[dict[str, Any]], lang: str = "en") -> str:
    """"Rule 'Potholes' tagged Roads and assigned Roads team", with the action words in the reader's language."""
    parts = []
    for a in actions:
        kind = a.get("type")
        if kind == "assign":
            team = (a.get("team_ar") if lang == "ar" and a.get("team_ar") else a.get("team")) or ""
            if a.get("user") and team:
                parts.append(translate(ACTION_WORDS["assign_team_user"], lang, user=a["user"], team=team))
            elif team:
                parts.append(translate(ACTION_WORDS["assign_team"], lang, team=team))
            else:
                parts.append(translate(ACTION_WORDS["assign_user"], lang, user=a.get("user", "")))
        elif kind == "priority":
            parts.append(translate(ACTION_WORDS["priority"], lang, priority=translate(PRIORITY_LABELS.get(a.get("priority"), ""), lang)))
        elif kind in ACTION_WORDS:
            parts.append(translate(ACTION_WORDS[kind], lang, tag=a.get("tag", ""), clause=a.get("clause", ""), reply=a.get("reply", "")))
    return translate(RULE_SENTENCE, lang, name=rule_name, actions=translate(AND, lang).join(parts))


# ---------------------------------------------------------------- the rules page: reads and writes


@dataclass(frozen=True)
class RuleView:
    id: int
    position: int
    name: str
    enabled: bool
    stop_processing: bool
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    match_count: int
    error_count: int
    last_error: str
    last_error_at: datetime | None
    named_actions: list[dict[str, Any]] = field(default_factory=list)  # actions with team, person and reply names


def list_rules(actor: Actor) -> list[RuleView]:
    require(actor, "inbox.view")
    with session_scope() as s:
        rows = s.exec(select(InboxRule).where(col(InboxRule.deleted_at).is_(None)).order_by(col(InboxRule.position), col(InboxRule.id))).all()
        teams_ = {t.id: t for t in s.exec(select(Team)).all()}
        users = dict(s.exec(select(User.id, User.display_name)).all())
        saved = dict(s.exec(select(SavedReply.id, SavedReply.name)).all())

        def named(a: dict[str, Any]) -> dict[str, Any]:
            t = teams_.get(a.get("team_id"))
            return {**a, "team": t.name if t else "", "team_ar": t.name_ar if t else "", "user": users.get(a.get("user_id"), ""),
                    "reply": saved.get(a.get("saved_reply_id"), "")}

        return [RuleView(r.id, r.position, r.name, r.enabled, r.stop_processing, dict(r.conditions or {}), list(r.actions or []),
                         r.match_count, r.error_count, r.last_error, r.last_error_at, [named(a) for a in r.actions or []]) for r in rows]


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise RuleError("A rule needs a name.")
    if len(name) > 120:
        raise RuleError("Rule names are at most 120 characters.")
    return name


def save_rule(s: Session, actor: Actor, *, rule_id: int | None, name: str, conditions: dict[str, Any],
              actions: list[dict[str, Any]], enabled: bool = True, stop_processing: bool = False) -> InboxRule:
    """Create or change a rule inside the caller's transaction, after validating everything; audited."""
    require(actor, "rules.manage")
    name = _name(name)
    clean_c = validate_conditions(s, conditions)
    clean_a = validate_actions(s, actions)
    now = utcnow()
    if rule_id is None:
        count = s.exec(select(func.count()).select_from(InboxRule).where(col(InboxRule.deleted_at).is_(None))).one()
        if count >= MAX_RULES:
            raise RuleError("There can be at most {n} rules.", n=MAX_RULES)
        last = s.exec(select(func.max(InboxRule.position)).where(col(InboxRule.deleted_at).is_(None))).one()
        r = InboxRule(position=(last or 0) + 1, name=name, created_by=actor.user_id, created_at=now)
        action = "rule.create"
    else:
        r = _live(s, rule_id)
        action = "rule.update"
    r.name, r.conditions, r.actions, r.enabled, r.stop_processing, r.updated_at = name, clean_c, clean_a, bool(enabled), bool(stop_processing), now
    for a in clean_a:
        if a["type"] == "tag":
            find_or_create_tag(s, a["tag"], actor)  # the tag exists from now on, so running the rule only looks it up
    s.add(r)
    s.flush()
    audit.record(s, actor, action, "inbox_rule", r.id, name=name, conditions=clean_c, actions=clean_a, enabled=r.enabled,
                 stop_processing=r.stop_processing)
    return r


def save(actor: Actor, *, rule_id: int | None, name: str, conditions: dict[str, Any], actions: list[dict[str, Any]],
         enabled: bool = True, stop_processing: bool = False) -> int:
    require(actor, "rules.manage")
    with session_scope() as s:
        return save_rule(s, actor, rule_id=rule_id, name=name, conditions=conditions, actions=actions, enabled=enabled,
                         stop_processing=stop_processing).id


def _live(s: Session, rule_id: int) -> InboxRule:
    r = s.get(InboxRule, rule_id)
    if r is None or r.deleted_at is not None:
        raise RuleError("That rule does not exist.")
    return r


def set_enabled(rule_id: int, enabled: bool, actor: Actor) -> None:
    require(actor, "rules.manage")
    with session_scope() as s:
        r = _live(s, rule_id)
        r.enabled, r.updated_at = bool(enabled), utcnow()
        s.add(r)
        audit.record(s, actor, "rule.enable" if enabled else "rule.disable", "inbox_rule", r.id, name=r.name)


def delete(rule_id: int, actor: Actor) -> None:
    require(actor, "rules.manage")
    with session_scope() as s:
        r = _live(s, rule_id)
        r.deleted_at, r.enabled = utcnow(), False
        s.add(r)
        audit.record(s, actor, "rule.delete", "inbox_rule", r.id, name=r.name)


def move(rule_id: int, step: int, actor: Actor) -> None:
    """Move a rule one place up (step -1) or down (+1); positions are renumbered 1..n."""
    require(actor, "rules.manage")
    with session_scope() as s:
        rows = list(s.exec(select(InboxRule).where(col(InboxRule.deleted_at).is_(None)).order_by(col(InboxRule.position), col(InboxRule.id))).all())
        i = next((k for k, r in enumerate(rows) if r.id == rule_id), None)
        if i is None:
            raise RuleError("That rule does not exist.")
        j = i + (1 if step > 0 else -1)
        if not 0 <= j < len(rows):
            return
        rows[i], rows[j] = rows[j], rows[i]
        now = utcnow()
        for k, r in enumerate(rows, start=1):
            if r.position != k:
                r.position, r.updated_at = k, now
                s.add(r)
        audit.record(s, actor, "rule.move", "inbox_rule", rule_id, name=rows[j].name, position=j + 1)


def auto_reply_enabled() -> bool:
    return bool(settings_store.get(AUTO_REPLY_SETTING, False))


def set_auto_reply_enabled(enabled: bool, actor: Actor) -> None:
    """Automatic replies speak for the agency without a person: an admin decision."""
    require(actor, "settings.manage")
    settings_store.set_value(AUTO_REPLY_SETTING, bool(enabled), actor)


def agency_timezone() -> str:
    return settings_store.get(TIMEZONE_SETTING, "UTC") or "UTC"


def set_agency_timezone(name: str, actor: Actor) -> None:
    """The agency's time zone, which office-hours conditions read (an admin setting)."""
    require(actor, "settings.manage")
    name = (name or "").strip()
    timefmt.checked_zone(name)
    settings_store.set_value(TIMEZONE_SETTING, name, actor)


# ---------------------------------------------------------------- the dry run


@dataclass(frozen=True)
class DryRunExample:
    id: int
    author: str
    text: str


@dataclass(frozen=True)
class DryRun:
    count: int
    scanned: int
    capped: bool  # only the newest DRY_RUN_SCAN messages of the window were read
    examples: list[DryRunExample]


def dry_run(conditions: dict[str, Any], now: datetime | None = None, *, actor: Actor | None = None,
            scan_cap: int = DRY_RUN_SCAN) -> DryRun:
    """How many of the last 7 days' inbound messages the conditions match, with up to 5 examples, changing nothing.
    Reads the newest `scan_cap` messages of the window through the received_at index."""
    if actor is not None:
        require(actor, "inbox.view")
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    with session_scope() as s:
        clean = validate_conditions(s, conditions)
        probe = InboxRule(id=0, name="", conditions=clean, actions=[], updated_at=now)
        rule = _compile(probe)
        columns = [getattr(Message, c) for c in _MSG_COLUMNS]
        rows = [_Msg(row) for row in s.execute(
            select(*columns).where(Message.received_at >= now - timedelta(days=DRY_RUN_DAYS), Message.received_at <= now,
                                   Message.direction == "in", col(Message.deleted_at).is_(None))
            .order_by(col(Message.received_at).desc()).limit(scan_cap + 1)).all()]
        capped = len(rows) > scan_cap
        rows = rows[:scan_cap]
        count, examples = 0, []
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            facts = _facts(s, chunk, [rule])
            for m in chunk:
                if _matches(rule, m, facts):
                    count += 1
                    if len(examples) < DRY_RUN_EXAMPLES:
                        words = " ".join((m.text or "").split())
                        examples.append(DryRunExample(m.id, m.author_name or m.author_handle, words[:120] + ("…" if len(words) > 120 else "")))
        s.rollback()
        return DryRun(count, len(rows), capped, examples)


# ---------------------------------------------------------------- demo data


def seed_rules(s: Session) -> None:
    """Two sensible rules for the demo: potholes to the Roads team (tag only when there is no Roads team), and
    obvious spam completed."""
    if s.exec(select(InboxRule.id).limit(1)).first() is not None:
        return
    roads = s.exec(select(Team).where(func.lower(Team.name) == "roads", col(Team.deleted_at).is_(None))).first()
    pothole = [{"type": "tag", "tag": "Roads"}]
    if roads is not None:
        pothole.append({"type": "assign", "team_id": roads.id, "round_robin": True})
    demo = Actor(user_id=None, label="demo", role="system")
    save_rule(s, demo, rule_id=None, name="Potholes", conditions={"query": "pothole OR potholes OR حفرة OR حفر"}, actions=pothole)
    save_rule(s, demo, rule_id=None, name="Spam", conditions={"query": '"free followers" OR "click here to win" OR "crypto giveaway"'},
              actions=[{"type": "tag", "tag": "Spam"}, {"type": "complete"}], stop_processing=True)


# ---------------------------------------------------------------- the rules page's form


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormChoices:
    profiles: list[Choice]
    vip_lists: list[Choice]
    claims: list[Choice]
    assignees: list[Choice]  # "user:3", "team:2", "rr:2" (team, round-robin among its online members)
    saved_replies: list[Choice]
    clauses: list[Choice]


def form_choices(actor: Actor, lang: str = "en") -> FormChoices:
    """Everything the rule form offers in its lists, read in one session."""
    require(actor, "inbox.view")
    with session_scope() as s:
        profiles = [Choice(str(i), f"{h} ({n})") for i, h, n in s.exec(
            select(SocialProfile.id, SocialProfile.handle, SocialProfile.network).where(col(SocialProfile.deleted_at).is_(None))
            .order_by(SocialProfile.handle)).all()]
        vips = [Choice(str(i), n) for i, n in s.exec(select(VipList.id, VipList.name).where(col(VipList.deleted_at).is_(None))
                                                       .order_by(VipList.name)).all()]
        claims = [Choice(str(i), t if len(t) <= 60 else t[:59] + "…") for i, t in s.exec(
            select(Claim.id, Claim.text).where(col(Claim.deleted_at).is_(None)).order_by(col(Claim.id).desc()).limit(50)).all()]
        people = [Choice(f"user:{i}", n) for i, n in s.exec(
            select(User.id, User.display_name).where(col(User.is_active).is_(True), col(User.deleted_at).is_(None),
                                                    col(User.role).in_(["admin", "manager", "publisher", "responder"]))
            .order_by(User.display_name)).all()]
        team_rows = s.exec(select(Team.id, Team.name, Team.name_ar).where(col(Team.deleted_at).is_(None)).order_by(Team.name)).all()
        team_choices = []
        for i, n, n_ar in team_rows:
            name = n_ar if lang == "ar" and n_ar else n
            team_choices += [Choice(f"team:{i}", translate("{team} team", lang, team=name)),
                             Choice(f"rr:{i}", translate("{team} team, taking turns", lang, team=name))]
        replies_ = [Choice(str(i), n) for i, n in s.exec(select(SavedReply.id, SavedReply.name).where(col(SavedReply.deleted_at).is_(None))
                                                         .order_by(SavedReply.name).limit(200)).all()]
    from govsocial_app.services.records import policy

    pol = policy.current()
    clauses = [Choice(c.number, f"{c.number} {c.title(lang)}") for c in (pol.clauses if pol else ())]
    return FormChoices(profiles, vips, claims, team_choices + people, replies_, clauses)


def from_form(form: dict[str, Any]) -> tuple[str, dict[str, Any], list[dict[str, Any]], bool, bool]:
    """The rule form's fields → (name, conditions, actions, enabled, stop_processing), for `validate` to check."""
    f = {k: (v.strip() if isinstance(v, str) else v) for k, v in (form or {}).items()}
    on = lambda key: f.get(key) in (True, "on", "true", "1", "yes")  # noqa: E731
    pick = lambda key: "" if f.get(key) in (None, "", "any", "none") else f[key]  # noqa: E731
    c: dict[str, Any] = {}
    if pick("network"):
        c["networks"] = [f["network"]]
    if pick("profile_id"):
        c["profile_ids"] = [f["profile_id"]]
    if pick("kind"):
        c["kinds"] = [f["kind"]]
    if f.get("query"):
        c["query"] = f["query"]
    if pick("vip_list_id"):
        c["vip_list_ids"] = [f["vip_list_id"]]
    if f.get("langs"):
        c["langs"] = f["langs"]
    for key in ("sentiment_min", "sentiment_max", "followers_min", "followers_max"):
        if f.get(key) not in (None, ""):
            c[key] = f[key]
    if pick("claim"):
        c["claims"] = "any" if f["claim"] == "anyclaim" else [f["claim"]]
    days = [d for d in range(7) if on(f"day{d}")]
    if days or f.get("time_from") or f.get("time_to"):
        c.update(days=days, time_from=f.get("time_from") or "", time_to=f.get("time_to") or "", outside=on("outside"))
    a: list[dict[str, Any]] = []
    if f.get("tag"):
        a.append({"type": "tag", "tag": f["tag"]})
    if pick("assign"):
        kind, _, ident = str(f["assign"]).partition(":")
        if not ident.isdigit():
            raise RuleError("Choose a person or a team to assign.")
        a.append({"type": "assign", "user_id": int(ident)} if kind == "user" else
                 {"type": "assign", "team_id": int(ident), "round_robin": kind == "rr"})
    if pick("priority"):
        a.append({"type": "priority", "priority": f["priority"]})
    if on("complete"):
        a.append({"type": "complete"})
    if pick("clause"):
        a.append({"type": "moderate", "clause": f["clause"]})
    if pick("alert"):
        a.append({"type": "alert", "severity": f["alert"], "cooldown_min": f.get("cooldown_min") or 30})
    if pick("saved_reply_id"):
        a.append({"type": "auto_reply", "saved_reply_id": f["saved_reply_id"]})
    return str(f.get("name") or ""), c, a, not on("disabled"), on("stop")


def to_form(v: RuleView) -> dict[str, str]:
    """A stored rule as the form's default values (the inverse of `from_form`)."""
    c, out = v.conditions, {"name": v.name, "stop": "on" if v.stop_processing else "", "disabled": "" if v.enabled else "on"}
    out["network"] = (c.get("networks") or ["any"])[0]
    out["profile_id"] = str((c.get("profile_ids") or ["any"])[0])
    out["kind"] = (c.get("kinds") or ["any"])[0]
    out["query"] = c.get("query", "")
    out["vip_list_id"] = str((c.get("vip_list_ids") or ["any"])[0])
    out["langs"] = ", ".join(c.get("langs") or [])
    for key in ("sentiment_min", "sentiment_max", "followers_min", "followers_max"):
        out[key] = "" if c.get(key) is None else str(c[key])
    claims = c.get("claims")
    out["claim"] = "anyclaim" if claims == "any" else str(claims[0]) if claims else "any"
    for d in range(7):
        out[f"day{d}"] = "on" if d in (c.get("days") or []) else ""
    out["time_from"], out["time_to"] = c.get("time_from", ""), c.get("time_to", "")
    out["outside"] = "on" if c.get("outside") else ""
    for a in v.actions:
        if a["type"] == "tag":
            out["tag"] = a["tag"]
        elif a["type"] == "assign":
            out["assign"] = f"user:{a['user_id']}" if "user_id" in a else f"{'rr' if a.get('round_robin') else 'team'}:{a['team_id']}"
        elif a["type"] == "priority":
            out["priority"] = a["priority"]
        elif a["type"] == "complete":
            out["complete"] = "on"
        elif a["type"] == "moderate":
            out["clause"] = a["clause"]
        elif a["type"] == "alert":
            out["alert"], out["cooldown_min"] = a["severity"], str(a.get("cooldown_min", 30))
        elif a["type"] == "auto_reply":
            out["saved_reply_id"] = str(a["saved_reply_id"])
    return out


def summary(v: RuleView, lang: str = "en") -> str:
    """One line for the rules list: what the rule does, in the reader's language."""
    return describe(v.name, v.named_actions, lang)
