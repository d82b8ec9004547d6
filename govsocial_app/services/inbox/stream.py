"""The smart inbox: one filtered, keyset-paged stream of every profile's inbound messages, and the actions on them."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from operator import attrgetter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode

from sqlalchemy import bindparam, exists, func, literal, literal_column, null, or_, text, true, tuple_, union_all
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Row
from sqlmodel import Session, col, select

from govsocial_app.db.engine import get_engine, read_connection, session_scope
from govsocial_app.db.types import UtcDateTime
from govsocial_app.db.models import (
    Claim,
    ClaimMatch,
    KeywordSearch,
    Message,
    MessageModeration,
    MessageNote,
    MessageTag,
    MessageVersion,
    SavedView,
    SocialProfile,
    Tag,
    Team,
    User,
    VipList,
    VipMember,
)
from govsocial_app.services import audit, bus
from govsocial_app.services.authz import Actor, require
from govsocial_app.services.errors import UserError
from govsocial_app.services.events import InboxChanged
from govsocial_app.services.inbox import targets, teams
from govsocial_app.services.links import web_link
from govsocial_app.services.textnorm import excerpt, initials, normalize

PAGE_SIZE = 50
EXCERPT = 180
STATUSES = ("open", "completed")
KINDS = ("mention", "comment", "dm", "reply", "keyword")


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class InboxFilter:
    network: str = ""
    profile_id: int | None = None
    tag_id: int | None = None
    status: str = ""  # "", open, completed
    assigned: str = ""  # "", me, unassigned
    vip_list_id: int | None = None
    lang: str = ""
    kind: str = ""
    since: datetime | None = None
    until: datetime | None = None
    q: str = ""
    team: str = ""  # "", "mine" (the reader's teams) or a team id
    target: str = ""  # "", overdue (response-time targets: services/inbox/targets.py)

    def to_params(self) -> dict[str, str]:
        out = {
            "network": self.network,
            "profile": str(self.profile_id or ""),
            "tag": str(self.tag_id or ""),
            "status": self.status,
            "assigned": self.assigned,
            "vip": str(self.vip_list_id or ""),
            "lang": self.lang,
            "kind": self.kind,
            "since": self.since.strftime("%Y-%m-%dT%H:%M") if self.since else "",
            "until": self.until.strftime("%Y-%m-%dT%H:%M") if self.until else "",
            "q": self.q,
            "team": self.team,
            "target": self.target,
        }
        return {k: v for k, v in out.items() if v}

    def to_query(self) -> str:
        return urlencode(self.to_params())

    @property
    def active_count(self) -> int:
        return len(self.to_params())


def _int(raw: str | None, name: str) -> int | None:
    if raw in (None, "", "all"):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise UserError(f"The {name} filter must be a number.") from exc


def _when(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise UserError(f"The {name} date must look like 2026-11-24 or 2026-11-24T09:30.")


def filter_from_params(params: dict[str, str]) -> InboxFilter:
    """Parse URL query parameters; unknown values get a clear message instead of a silent empty inbox."""
    status = params.get("status", "")
    if status not in ("", "all", *STATUSES):
        raise UserError("Status must be open or completed.")
    assigned = params.get("assigned", "")
    if assigned not in ("", "all", "me", "unassigned"):
        raise UserError("Assigned must be me or unassigned.")
    kind = params.get("kind", "")
    if kind not in ("", "all", *KINDS):
        raise UserError(f"Message type must be one of {', '.join(KINDS)}.")
    since, until = _when(params.get("since"), "from"), _when(params.get("until"), "to")
    if since and until and until <= since:
        raise UserError("The 'to' date must be after the 'from' date.")
    return InboxFilter(
        network=("" if params.get("network") in (None, "all") else params["network"])[:20],
        profile_id=_int(params.get("profile"), "profile"),
        tag_id=_int(params.get("tag"), "tag"),
        status="" if status == "all" else status,
        assigned="" if assigned == "all" else assigned,
        vip_list_id=_int(params.get("vip"), "VIP list"),
        lang=("" if params.get("lang") in (None, "all") else params["lang"])[:8],
        kind="" if kind == "all" else kind,
        since=since,
        until=until,
        q=(params.get("q") or "").strip()[:200],
        team=_team_param(params.get("team")),
        target=targets.parse_filter(params.get("target", "")),
    )


def _team_param(raw: str | None) -> str:
    if raw in (None, "", "all"):
        return ""
    if raw == "mine":
        return raw
    return str(_int(raw, "team"))


def _fts_param(q: str, dialect: str) -> str | None:
    """The text search's one parameter: an FTS5 MATCH expression (SQLite) or a tsquery (PostgreSQL); None if no terms."""
    terms = normalize(q).split()
    if not terms:
        return None
    if dialect == "sqlite":
        # Quote every term (FTS5 syntax characters in user input become literal); prefix-match the last one.
        match = " ".join(f'"{t.replace(chr(34), "")}"' for t in terms[:-1])
        return f'{match} "{terms[-1].replace(chr(34), "")}"*'.strip()
    # The same meaning as FTS5 above: every term a quoted lexeme (user input stays literal), the last one a prefix.
    return " & ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in terms) + ":*"


def _text_search(q: str, dialect: str, *, name: str = "fts"):
    """One service-level text search: FTS5 on SQLite, tsvector on PostgreSQL, over the normalised search_text."""
    fts = _fts_param(q, dialect)
    if fts is None:
        return None
    if dialect == "sqlite":
        return col(Message.id).in_(text(f"SELECT rowid FROM message_fts WHERE message_fts MATCH :{name}").bindparams(**{name: fts}))
    # message.search_tsv is to_tsvector('simple', search_text), stored (migration 0013): no parsing per row checked.
    return text(f"message.search_tsv @@ to_tsquery('simple', :{name})").bindparams(**{name: fts})


def _binds(f: InboxFilter, user_id: int, dialect: str, now: datetime | None = None) -> dict:
    """The page statement's parameters, by name: the filter's values (and the clock, for the overdue filter). Which
    names are present, with `_shape`, decides the statement's text; the values are bound per call."""
    b: dict = {}
    if f.network:
        b["f_network"] = f.network
    if f.profile_id:
        b["f_profile"] = f.profile_id
    if f.status:
        b["f_status"] = f.status
    if f.assigned == "me":
        b["f_user"] = user_id
    if f.lang:
        b["f_lang"] = f.lang
    if f.kind:
        b["f_kind"] = f.kind
    if f.since:
        b["f_since"] = f.since
    if f.until:
        b["f_until"] = f.until
    if f.tag_id:
        b["f_tag"] = f.tag_id
    if f.vip_list_id:
        b["f_vip"] = f.vip_list_id
    if f.team == "mine":
        b["f_user"] = user_id
    elif f.team:
        b["f_team"] = int(f.team)
    if f.target == "overdue":
        b["f_now"] = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    if f.q:
        fts = _fts_param(f.q, dialect)
        if fts is not None:
            b["f_fts"] = fts
    return b


def _shape(f: InboxFilter, binds: dict) -> tuple:
    """What the page statement's text depends on besides the dialect: which parameters there are, and the two
    filters whose values change the SQL (assigned me/unassigned, team mine/one team)."""
    return (tuple(binds), f.assigned, f.team == "mine")


def _conditions(f: InboxFilter, user_id: int, dialect: str, *, vip: bool = True, binds: dict | None = None) -> list:
    """The filter as SQL conditions on Message. With `binds` (from _binds) every value is a named parameter, so one
    compiled statement serves every filter of the same shape (list_page); without, values are inlined as usual."""
    def v(name: str, value, type_=None):
        if binds is None:
            return value
        return bindparam(name, binds[name], type_=type_) if type_ is not None else bindparam(name, binds[name])

    when = Message.__table__.c.received_at.type
    # "in" stays a literal: the partial indexes' predicate (direction = 'in') must match in a prepared plan too.
    conds = [Message.direction == (literal_column("'in'") if binds is not None else "in"), col(Message.deleted_at).is_(None)]
    if f.network:
        conds.append(Message.network == v("f_network", f.network))
    if f.profile_id:
        conds.append(Message.profile_id == v("f_profile", f.profile_id))
    if f.status:
        conds.append(Message.status == v("f_status", f.status))
    if f.assigned == "me":
        conds.append(Message.assignee_id == v("f_user", user_id))
    elif f.assigned == "unassigned":
        conds.append(col(Message.assignee_id).is_(None))
    if f.lang:
        conds.append(Message.lang == v("f_lang", f.lang))
    if f.kind:
        conds.append(Message.kind == v("f_kind", f.kind))
    if f.since:
        conds.append(Message.received_at >= v("f_since", f.since, when))
    if f.until:
        conds.append(Message.received_at < v("f_until", f.until, when))
    if f.tag_id:
        conds.append(
            exists().where(MessageTag.message_id == Message.id, MessageTag.tag_id == v("f_tag", f.tag_id), col(MessageTag.removed_at).is_(None))
        )
    if f.vip_list_id and vip:
        members = select(VipMember.network, VipMember.handle).where(VipMember.list_id == v("f_vip", f.vip_list_id),
                                                                     col(VipMember.deleted_at).is_(None))
        conds.append(tuple_(Message.network, Message.author_key).in_(members))
    if f.team == "mine":
        conds.append(col(Message.team_id).in_(teams.my_team_ids(v("f_user", user_id))))
    elif f.team:
        conds.append(Message.team_id == v("f_team", int(f.team)))  # ix_message_team_id (team_id, id) serves it newest-first
    if f.target:
        now = binds.get("f_now") if binds is not None else None
        conds.extend(targets.filter_conditions(f.target, now, bound=binds is not None))
    if f.q:
        search = _text_search(f.q, dialect, name="f_fts" if binds is not None else "fts")
        if search is not None:
            conds.append(search)
    return conds


# ---------------------------------------------------------------- listing


@dataclass(frozen=True)
class MessageCard:
    """A short summary for the list: never the whole body of every message."""

    id: int
    network: str
    profile: str
    kind: str
    author_name: str
    author_handle: str
    initials: str
    excerpt: str
    lang: str
    received_at: datetime
    status: str
    assignee: str
    tags: tuple[str, ...]
    vip_lists: tuple[str, ...]
    claims: tuple[str, ...]  # "Claim: …" labels from the misinformation tracker
    replied_by: str
    replied_at: datetime | None
    edited: bool
    network_deleted: bool
    moderation: str = ""  # "", hidden, hidden_in_app, deleted (records/moderation.py writes message_moderation)
    moderation_clause: str = ""
    team: str = ""  # the team it is assigned to (services/inbox/teams.py), English and Arabic names
    team_ar: str = ""
    # What inbox rules did: (rule name, actions as recorded), oldest first; services/intake/rules.describe words it.
    rules_applied: tuple[tuple[str, tuple[dict, ...]], ...] = ()
    # response-time targets (services/inbox/targets.py): the card's clock is worked out from these
    priority: str = "normal"
    sla_first_due_at: datetime | None = None
    sla_done_due_at: datetime | None = None
    first_response_at: datetime | None = None


@dataclass(frozen=True)
class InboxPage:
    cards: list[MessageCard]
    next_before_id: int | None  # pass back as before_id for the next (older) page
    top_id: int  # newest id in the stream matching the filter when the page was read


CLAIM_LABEL_CHARS = 60


def _claim_label(claim_text: str) -> str:
    words = " ".join(claim_text.split())
    return "Claim: " + (words if len(words) <= CLAIM_LABEL_CHARS else words[: CLAIM_LABEL_CHARS - 1] + "…")


def _claim_labels(s: Session, message_ids: list[int]) -> dict[int, list[str]]:
    """Each message's "Claim: …" badges (only messages that match a live claim). Listening writes the matches; the
    card reads them here, so the inbox never imports listening (the domain order is listening > inbox)."""
    if not message_ids:
        return {}
    rows = s.execute(
        select(ClaimMatch.message_id, Claim.text).join(Claim, Claim.id == ClaimMatch.claim_id)
        .where(col(ClaimMatch.message_id).in_(list(message_ids)), col(Claim.deleted_at).is_(None)).order_by(Claim.id)
    ).all()
    out: dict[int, list[str]] = {}
    for mid, claim_text in rows:
        out.setdefault(mid, []).append(_claim_label(claim_text))
    return out


def claim_labels(message_ids: list[int]) -> dict[int, list[str]]:
    """The "Claim: …" badges the inbox shows for these messages."""
    with session_scope() as s:
        return _claim_labels(s, message_ids)


@lru_cache(maxsize=8192)  # authors write again and again: a page's initials are mostly ones worked out before
def _initials(name: str) -> str:
    return initials(name)


# The columns a card needs. The page query reads them as plain rows (no ORM objects: building 50 Message entities
# cost more than the query); detail() passes its Message, which has the same attributes.
CARD_COLUMNS = (
    Message.id, Message.network, Message.profile_id, Message.kind, Message.author_name, Message.author_handle,
    Message.text, Message.lang, Message.received_at, Message.status, Message.assignee_id, Message.replied_by_id,
    Message.replied_at, Message.version, Message.network_deleted_at, Message.team_id, Message.rule_log,
    Message.priority, Message.sla_first_due_at, Message.sla_done_due_at, Message.first_response_at,
)

# What one page's cards need besides the message rows, as one statement (one round trip, whatever the page holds):
# each branch yields (kind, key, a, b, c, n), sorted by kind, n, a: tags by name and claims by claim id, in the
# database's collation, as separate queries did. It is plain SQL written once per dialect, the page's ids and author
# keys passed as one array (PostgreSQL) or JSON (SQLite) parameter each: building and compiling the eight-branch
# statement through SQLAlchemy cost more than running it.
_TAG, _VIP, _USER, _PROFILE, _CLAIM, _TEAM, _MODERATION, _MOD_VERSIONS = range(1, 9)


def _extras_sql(dialect: str) -> str:
    if dialect == "postgresql":
        ids, users, profiles, teams_ = (f"ANY(%({n})s::bigint[])" for n in ("ids", "users", "profiles", "teams"))
        pairs = "(SELECT * FROM unnest(%(networks)s::text[], %(handles)s::text[]))"
        in_ = "= "
    else:
        ids, users, profiles, teams_ = (f"(SELECT value FROM json_each(:{n}))" for n in ("ids", "users", "profiles", "teams"))
        pairs = "(SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:pairs))"
        in_ = "IN "
    return f"""
SELECT 1 AS k, mt.message_id AS i, t.name AS a, '' AS b, '' AS c, 0 AS n FROM messagetag mt JOIN tag t ON t.id = mt.tag_id
 WHERE mt.message_id {in_}{ids} AND mt.removed_at IS NULL
UNION ALL SELECT 2, 0, vm.network, vm.handle, vl.name, 0 FROM vipmember vm JOIN viplist vl ON vl.id = vm.list_id
 WHERE (vm.network, vm.handle) IN {pairs} AND vm.deleted_at IS NULL AND vl.deleted_at IS NULL
UNION ALL SELECT 3, u.id, u.display_name, '', '', 0 FROM "user" u WHERE u.id {in_}{users}
UNION ALL SELECT 4, p.id, p.handle, '', '', 0 FROM socialprofile p WHERE p.id {in_}{profiles}
UNION ALL SELECT 5, cm.message_id, c.text, '', '', c.id FROM claimmatch cm JOIN claim c ON c.id = cm.claim_id
 WHERE cm.message_id {in_}{ids} AND c.deleted_at IS NULL
UNION ALL SELECT 6, tm.id, tm.name, tm.name_ar, '', 0 FROM team tm WHERE tm.id {in_}{teams_}
UNION ALL SELECT 7, mm.message_id, mm.state, mm.clause, '', 0 FROM message_moderation mm WHERE mm.message_id {in_}{ids}
UNION ALL SELECT 8, mv.message_id, '', '', '', count(*) FROM messageversion mv JOIN message_moderation mm ON mm.message_id = mv.message_id
 WHERE mm.message_id {in_}{ids} AND mv.change = 'moderation' GROUP BY mv.message_id
ORDER BY 1, 6, 3"""


_EXTRAS_SQL = {"postgresql": _extras_sql("postgresql"), "sqlite": _extras_sql("sqlite")}


def _extras_params(dialect: str, ids: list[int], keys: list[tuple[str, str]], user_ids: list[int], profile_ids: list[int],
                   team_ids: list[int]) -> dict:
    if dialect == "postgresql":
        return {"ids": ids, "users": user_ids, "profiles": profile_ids, "teams": team_ids,
                "networks": [n for n, _ in keys], "handles": [h for _, h in keys]}
    return {"ids": json.dumps(ids), "users": json.dumps(user_ids), "profiles": json.dumps(profile_ids),
            "teams": json.dumps(team_ids), "pairs": json.dumps(keys)}


_CARD_FIELDS = attrgetter(*(c.key for c in CARD_COLUMNS))
_new = object.__new__
_ROW_PROCS: dict[tuple[str, str], list] = {}


def _row_procs(dialect) -> list:
    """(column index, result processor) for the CARD_COLUMNS that need one on this driver: what SQLAlchemy would do
    to a row (SQLite's datetime strings, UtcDateTime's time zone, JSON), done on plain driver rows."""
    key = (dialect.name, dialect.driver)
    procs = _ROW_PROCS.get(key)
    if procs is None:
        table = Message.__table__
        procs = [(i, _sqlite_utc if dialect.name == "sqlite" and isinstance(table.c[c.key].type, UtcDateTime) else p)
                 for i, c in enumerate(CARD_COLUMNS)
                 if (p := table.c[c.key].type._cached_result_processor(dialect, None)) is not None]
        _ROW_PROCS[key] = procs
    return procs


def _sqlite_utc(value: str, _parse=datetime.fromisoformat, _utc=timezone.utc) -> datetime:
    """UtcDateTime's value as stored on SQLite ("2026-11-01 09:30:00.000000", naive UTC): what SQLAlchemy's
    processor and UtcDateTime return, in one C call (theirs were a tenth of a page)."""
    return _parse(value).replace(tzinfo=_utc)


def _driver_rows(conn: Connection, sql: str, params) -> list:
    """Run `sql`, written in the driver's own parameter style, on the connection's DBAPI cursor and return its rows
    as tuples: no SQLAlchemy execution context, result or Row objects (for a page they cost more than the query)."""
    cur = conn.connection.cursor()
    try:
        cur.execute(sql, params)
        return cur.fetchall()
    finally:
        cur.close()


_FIXED = ("received_at", "replied_at", "rule_log", "sla_first_due_at", "sla_done_due_at", "first_response_at")


@lru_cache(maxsize=8)
def _fixers(dialect) -> tuple:
    """The result processors of the card columns that have one, in _FIXED order (None: the driver's value is it).
    network_deleted_at is only ever tested against None, so its value is never converted."""
    by_index = dict(_row_procs(dialect))
    keys = [c.key for c in CARD_COLUMNS]
    return tuple(by_index.get(keys.index(k)) for k in _FIXED)


@dataclass
class _Extras:
    """What cards show besides their message rows, keyed as _cards looks it up."""
    tags: dict[int, list[str]] = field(default_factory=dict)
    vips: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    profiles: dict[int, str] = field(default_factory=dict)
    claims: dict[int, list[str]] = field(default_factory=dict)
    team_names: dict[int, tuple[str, str]] = field(default_factory=dict)
    moderated: dict[int, tuple[str, str]] = field(default_factory=dict)
    mod_versions: dict[int, int] = field(default_factory=dict)


def _vip_key(network: str, handle: str) -> tuple[str, str]:
    return network, handle.lstrip("@").lower()


def _page_extras(conn: Connection, rows: list[tuple]) -> _Extras:
    """The extras of a page's rows (CARD_COLUMNS tuples) in one statement."""
    x = _Extras()
    ids = [m[0] for m in rows]
    keys = sorted({_vip_key(m[1], m[5]) for m in rows})
    user_ids = sorted({m[10] for m in rows if m[10]} | {m[11] for m in rows if m[11]})
    profile_ids = sorted({m[2] for m in rows if m[2]})
    team_ids = sorted({m[15] for m in rows if m[15]})
    dialect = conn.dialect.name
    params = _extras_params(dialect, ids, keys, user_ids, profile_ids, team_ids)
    tags, vips, claims = x.tags, x.vips, x.claims
    for k, i, a, b, c, n in _driver_rows(conn, _EXTRAS_SQL[dialect], params):
        if k == _TAG:
            tags.setdefault(i, []).append(a)
        elif k == _VIP:
            vips.setdefault((a, b), []).append(c)
        elif k == _USER:
            x.names[i] = a
        elif k == _PROFILE:
            x.profiles[i] = a
        elif k == _CLAIM:
            claims.setdefault(i, []).append(_claim_label(a))
        elif k == _TEAM:
            x.team_names[i] = (a, b)
        elif k == _MODERATION:
            x.moderated[i] = (a, b)
        elif k == _MOD_VERSIONS:
            x.mod_versions[i] = n
    return x


def _cards(conn: Connection | Session, rows, *, driver_rows: bool = False, extras: _Extras | None = None) -> list[MessageCard]:
    """Cards for these rows (CARD_COLUMNS rows or Message objects) in two statements per page whatever they hold:
    the rows themselves, and one for every tag, VIP label, name, claim, team and moderation state on them.
    `driver_rows`: plain DBAPI rows (_driver_rows), converted here as SQLAlchemy would have (dates, JSON).
    `extras`: already read (an opened message reads its card's with the rest of it, stream.detail)."""
    if isinstance(conn, Session):
        conn = conn.connection()
    if not rows:
        return []
    fix_recv, fix_replied, fix_rules, fix_first, fix_done, fix_response = _fixers(conn.dialect) if driver_rows else (None,) * 6
    # Plain tuples in CARD_COLUMNS order: unpacking them costs a fraction of 25 attribute reads on each row.
    rows = [m if type(m) is tuple else tuple(m) if isinstance(m, Row) else _CARD_FIELDS(m) for m in rows]
    keys = [_vip_key(m[1], m[5]) for m in rows]
    x = extras if extras is not None else _page_extras(conn, rows)
    tags, vips, names, profiles, claims = x.tags, x.vips, x.names, x.profiles, x.claims
    team_names, moderated, mod_versions = x.team_names, x.moderated, x.mod_versions
    no_team = ("", "")
    cards = []
    append = cards.append
    for (mid, network, profile_id, kind, author_name, author_handle, text_, lang, received_at, status, assignee_id,
         replied_by_id, replied_at, version, network_deleted_at, team_id, rule_log, priority, first_due, done_due,
         first_response_at), key in zip(rows, keys):
        if driver_rows:
            if fix_recv is not None:
                received_at = fix_recv(received_at)
            if fix_replied is not None and replied_at is not None:
                replied_at = fix_replied(replied_at)
            if fix_rules is not None and rule_log is not None:
                rule_log = fix_rules(rule_log)
            if fix_first is not None and first_due is not None:
                first_due = fix_first(first_due)
            if fix_done is not None and done_due is not None:
                done_due = fix_done(done_due)
            if fix_response is not None and first_response_at is not None:
                first_response_at = fix_response(first_response_at)
        name = author_name or author_handle
        mod = moderated.get(mid)
        gone = network_deleted_at is not None
        team = team_names.get(team_id, no_team) if team_id else no_team
        vip_lists = vips.get(key)
        # The frozen dataclass's fields set straight into its __dict__: its __init__ sets each one through
        # object.__setattr__, which for 50 cards of 29 fields cost about as much as the page's query.
        card = _new(MessageCard)
        card.__dict__.update(
            id=mid,
            network=network,
            profile=profiles.get(profile_id, ""),
            kind=kind,
            author_name=name,
            author_handle=author_handle,
            initials=_initials(name),
            excerpt=excerpt(text_, EXCERPT),
            lang=lang,
            received_at=received_at,
            status=status,
            assignee=names.get(assignee_id, "") if assignee_id else "",
            tags=tuple(tags.get(mid, ())),
            vip_lists=tuple(sorted(vip_lists)) if vip_lists else (),
            claims=tuple(claims.get(mid, ())),
            replied_by=names.get(replied_by_id, "") if replied_by_id else "",
            replied_at=replied_at,
            edited=version - (mod_versions.get(mid, 0) if mod else 0) > 1 and not gone,
            network_deleted=gone,
            moderation=mod[0] if mod and mod[0] != "visible" else "",
            moderation_clause=mod[1] if mod else "",
            team=team[0],
            team_ar=team[1],
            rules_applied=tuple((e.get("rule", ""), tuple(e.get("actions") or ())) for e in rule_log) if rule_log else (),
            priority=priority, sla_first_due_at=first_due, sla_done_due_at=done_due,
            first_response_at=first_response_at,
        )
        append(card)
    return cards


def _page_select(f: InboxFilter, user_id: int, dialect: str, *, before_id: int | None, max_id: int | None, limit: int,
                 binds: dict | None = None):
    """The page query (see page_statement). With `binds`, every value is a named parameter (f_before and f_max
    for the bounds) and the statement's text depends only on the filter's shape: list_page compiles it once."""
    def v(name: str, value):
        return bindparam(name, binds[name]) if binds is not None else value

    ident = col(Message.id)
    recv = Message.__table__.c.received_at
    bounds = []
    by_date = bool(f.until)
    if before_id:
        if by_date:
            # Keyset on (received_at, id): the page continues below the last row read, in the same order.
            keyset = Message.__table__.alias("keyset")
            last = core_select(keyset.c.received_at).where(keyset.c.id == v("f_before", before_id)).scalar_subquery()
            bounds += [recv <= last, or_(recv < last, ident < v("f_before", before_id))]
        else:
            bounds.append(ident < v("f_before", before_id))
    if max_id:
        bounds.append(ident <= v("f_max", max_id))
    # With an upper date bound the page is ordered by arrival time, newest first: the index on received_at is then
    # read from the bound downwards and the walk stops after one page. In id order (every other filter) the rows newer
    # than the bound would all be read and thrown away first (issue 20: 164-232 ms a page a month back in 1,000,000).
    # History stored late (backfill: received_at = when it was written) sorts by its date here, as a date view should.
    order = (recv.desc(), ident.desc()) if by_date else (ident.desc(),)
    lim = literal_column(str(int(limit)))  # a literal: PostgreSQL plans a prepared LIMIT $1 as if it read 10% of rows
    if f.vip_list_id and dialect == "postgresql":
        members = (core_select(VipMember.network, VipMember.handle)
                   .where(VipMember.list_id == v("f_vip", f.vip_list_id), col(VipMember.deleted_at).is_(None)).subquery("vip"))
        per_member = (
            core_select(Message.id, recv)
            .where(*_conditions(f, user_id, dialect, vip=False, binds=binds), *bounds,
                   Message.network == members.c.network, Message.author_key == members.c.handle)
            .order_by(*order).limit(lim).correlate(members).lateral("per_member")
        )
        inner_order = (per_member.c.received_at.desc(), per_member.c.id.desc()) if by_date else (per_member.c.id.desc(),)
        ids = core_select(per_member.c.id).select_from(members.join(per_member, true())).order_by(*inner_order).limit(lim)
        return core_select(*CARD_COLUMNS).where(ident.in_(ids)).order_by(*order)
    return core_select(*CARD_COLUMNS).where(*_conditions(f, user_id, dialect, binds=binds), *bounds).order_by(*order).limit(lim)


_FROM = "\nFROM message \n"


def _by_date_index(f: InboxFilter) -> bool:
    """A `to` date whose other conditions select a large share of the stream (status, unassigned, a `from` date):
    reading ix_message_received from the bound down finds a page within a few rows. A selective condition (a
    person's assignments, a profile, a team, a tag, a text search...) keeps SQLite's own choice: its index, then a
    sort of its few matches."""
    return bool(f.until) and f.assigned != "me" and not (f.network or f.profile_id or f.tag_id or f.vip_list_id or f.lang
                                                         or f.kind or f.team or f.target or f.q)


def _with_hints(sql: str, f: InboxFilter, dialect: str) -> str:
    """SQLite without statistics (the app never ANALYZEs it) prefers any equality index (direction, status) for a
    `to` date and sorts every match; INDEXED BY makes it read ix_message_received from the bound down instead
    (_by_date_index). SQLAlchemy renders no FROM hints for SQLite, so the compiled text gets it."""
    if dialect == "sqlite" and _by_date_index(f) and _FROM in sql:
        return sql.replace(_FROM, "\nFROM message INDEXED BY ix_message_received \n", 1)
    return sql


def page_sql(f: InboxFilter, user_id: int, engine, *, before_id: int | None = None, max_id: int | None = None,
             limit: int = PAGE_SIZE + 1) -> str:
    """The page statement as literal SQL, exactly as list_page sends it (bench_inbox's floor and EXPLAIN, the tests)."""
    stmt = page_statement(f, user_id, engine.dialect.name, before_id=before_id, max_id=max_id, limit=limit)
    return _with_hints(str(stmt.compile(engine, compile_kwargs={"literal_binds": True})), f, engine.dialect.name)


def page_statement(f: InboxFilter, user_id: int, dialect: str, *, before_id: int | None = None, max_id: int | None = None,
                   limit: int = PAGE_SIZE + 1):
    """The page query: CARD_COLUMNS of the newest `limit` messages matching the filter, below `before_id`.

    Every filter walks an index ending in id backwards and stops after one page (bench_inbox prints the plans); an
    upper date bound (`until`) walks ix_message_received down from the bound instead. A VIP list on PostgreSQL would
    otherwise walk the whole stream probing each author against the list (its members are a small share of all
    authors), so there each member's newest `limit` messages come from ix_message_author_id (author_key, network, id)
    and the page is the newest `limit` of those: work bound by the list, not the stream."""
    return _page_select(f, user_id, dialect, before_id=before_id, max_id=max_id, limit=limit)


@dataclass(frozen=True)
class _PageSQL:
    sql: str
    names: tuple[str, ...] | None  # the parameters in order for a positional driver (SQLite's qmark), else None
    procs: dict  # parameter name -> the type's bind processor (SQLite's datetime strings, UtcDateTime)
    const: dict  # parameters SQLAlchemy added itself, with their values (SQLite's OFFSET after a literal LIMIT)


_PAGE_SQL: dict[tuple, _PageSQL] = {}


def _page_sql(f: InboxFilter, user_id: int, dialect, binds: dict, limit: int) -> _PageSQL:
    """The page statement for this filter's shape, compiled once per process and dialect (building and compiling
    it through SQLAlchemy cost several times the query on every page)."""
    key = (dialect.name, dialect.driver, limit, _shape(f, binds))
    hit = _PAGE_SQL.get(key)
    if hit is None:
        stmt = _page_select(f, user_id, dialect.name, before_id=binds.get("f_before"), max_id=binds.get("f_max"),
                            limit=limit, binds=binds)
        compiled = stmt.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:  # an expanding IN or a literal rendered at execution: not cacheable
            raise RuntimeError("the inbox page statement must have plain parameters only")
        names = tuple(compiled.positiontup) if compiled.positional else None
        const = {k: x for k, x in compiled.params.items() if not k.startswith("f_")}
        hit = _PAGE_SQL[key] = _PageSQL(_with_hints(compiled.string, f, dialect.name), names, dict(compiled._bind_processors), const)
        if len(_PAGE_SQL) > 512:  # shapes are few (a dozen filters, on or off); this only bounds a pathological mix
            _PAGE_SQL.clear()
    return hit


def _page_rows(conn: Connection, f: InboxFilter, user_id: int, *, before_id: int | None, max_id: int | None,
               limit: int) -> list[tuple]:
    dialect = conn.dialect
    binds = _binds(f, user_id, dialect.name)
    if before_id:
        binds["f_before"] = before_id
    if max_id:
        binds["f_max"] = max_id
    ps = _page_sql(f, user_id, dialect, binds, limit)
    procs = ps.procs
    if ps.const:
        binds.update(ps.const)
    values = {k: (procs[k](x) if k in procs and x is not None else x) for k, x in binds.items()} if procs else binds
    params = tuple(values[n] for n in ps.names) if ps.names is not None else values
    return _driver_rows(conn, ps.sql, params)


def list_page(
    f: InboxFilter, user_id: int, *, before_id: int | None = None, max_id: int | None = None, limit: int = PAGE_SIZE
) -> InboxPage:
    """Newest first, keyset-paged on id (ids rise in arrival order; on (received_at, id) with a `to` date).
    `max_id` pins the top of the stream while the user reads, so new arrivals never shift a page: they are counted
    for the "N new" pill instead. Two statements whatever the page holds: the page's rows, then everything else its
    cards show (_cards); with a `to` date, a first page also reads the stream's newest id (its top)."""
    with read_connection() as conn:  # read only: a Session would add nothing but its own bookkeeping
        rows = _page_rows(conn, f, user_id, before_id=before_id, max_id=max_id, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        if max_id:
            top = max_id
        elif before_id:
            top = 0
        elif f.until:
            # Ordered by date, the first row need not be the newest id: the top is the stream's newest id, so later
            # pages (max_id) keep history stored late and "N new" counts only what arrives after this read.
            top = _driver_rows(conn, "SELECT max(id) FROM message", ())[0][0] or 0
        else:
            top = rows[0][0] if rows else 0
        return InboxPage(_cards(conn, rows, driver_rows=True), rows[-1][0] if more and rows else None, top)


def count_newer(f: InboxFilter, user_id: int, after_id: int) -> int:
    """How many messages matching the filter arrived after `after_id` (the "N new" pill)."""
    with read_connection() as conn:
        conds = _conditions(f, user_id, conn.dialect.name)
        return conn.execute(core_select(func.count()).select_from(Message).where(*conds, Message.id > after_id)).scalar_one()


def newer_ids(f: InboxFilter, user_id: int, after_id: int, *, limit: int = 1000) -> list[int]:
    """Ids (newest first, at most `limit`) of messages matching the filter that arrived after `after_id`:
    one query answers the "N new" count of every person reading the same filter from any page top."""
    with read_connection() as conn:
        conds = _conditions(f, user_id, conn.dialect.name)
        q = core_select(Message.id).where(*conds, Message.id > after_id).order_by(col(Message.id).desc()).limit(limit)
        return list(conn.execute(q).scalars())


def cards_by_id(ids: list[int]) -> dict[int, MessageCard]:
    """The cards of these messages (a live refresh, the card after an action), read as a page's are."""
    with read_connection() as conn:
        rows = conn.execute(core_select(*CARD_COLUMNS).where(col(Message.id).in_(ids))).all()
        return {c.id: c for c in _cards(conn, rows)}


# ---------------------------------------------------------------- thread


@dataclass(frozen=True)
class ThreadItem:
    id: int
    direction: str
    author_name: str
    author_handle: str
    text: str
    created_at: datetime
    url: str
    sent_by: str
    status: str


@dataclass(frozen=True)
class NoteItem:
    id: int
    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class VersionItem:
    version: int
    change: str
    text: str
    captured_at: datetime


@dataclass(frozen=True)
class MessageDetail:
    card: MessageCard
    text: str
    url: str
    conversation: list[ThreadItem]
    notes: list[NoteItem]
    versions: list[VersionItem]
    last_reply_id: int  # the newest outbound reply in the thread when read: the reply guard's baseline
    tag_ids: tuple[int, ...]
    assignee_id: int | None


_REPLY = Message.__table__.alias("reply")
_SENDER = User.__table__.alias("sender")
_NOTE_AUTHOR = User.__table__.alias("note_author")
_M = Message.__table__.c

# The opened message: its card's columns, what the detail adds, and the reply guard's baseline (the newest outbound
# reply in its thread that did not fail) as a correlated subquery, so the first statement answers all three.
_DETAIL_ROW = core_select(
    *CARD_COLUMNS, Message.text, Message.url, Message.conversation_key, Message.deleted_at,
    core_select(func.max(_REPLY.c.id)).where(
        _REPLY.c.direction == "out", _REPLY.c.network == _M.network,
        or_(_REPLY.c.in_reply_to_external_id == _M.external_id, _REPLY.c.conversation_key == _M.conversation_key),
        _REPLY.c.status != "failed",
    ).scalar_subquery(),
).where(Message.id == bindparam("mid"))

# Everything else an opened message shows, as one statement of (kind, i, a, b, c, d, e, f, g, at, s) rows, ordered by
# kind, then at, s and i: its thread (at most 60 messages, oldest first, each with the name of the person who sent it
# if one of us did), notes, archived versions and live tags (by name), and what its card shows besides its row (VIP
# lists, names, profile, claims by id, team, moderation state), which a page reads in a statement of its own.
(_D_THREAD, _D_NOTE, _D_VERSION, _D_TAG, _D_VIP, _D_USER, _D_PROFILE, _D_CLAIM, _D_TEAM, _D_MODERATION) = range(10)
_THREAD = (
    core_select(Message.id, Message.direction, Message.author_name, Message.author_handle, Message.text, Message.url,
                func.coalesce(_SENDER.c.display_name, "").label("sender"), Message.status, Message.created_at)
    .select_from(Message.__table__.outerjoin(_SENDER, _SENDER.c.id == Message.sent_by_id))
    .where(Message.network == bindparam("network"), Message.conversation_key == bindparam("ckey"),
           col(Message.deleted_at).is_(None))
    .order_by(Message.created_at, Message.id).limit(60)
    .subquery("thread")
)
_E = literal("")


def _branch(kind: int, i, a, b=_E, *, at=None, s=_E):
    """One branch of _DETAIL_EXTRAS: unused columns are empty strings."""
    return core_select(literal(kind), i, a, b, _E, _E, _E, _E, _E, null() if at is None else at, s)


_DETAIL_EXTRAS = union_all(
    core_select(literal(_D_THREAD).label("k"), _THREAD.c.id.label("i"), _THREAD.c.direction.label("a"),
                _THREAD.c.author_name.label("b"), _THREAD.c.author_handle.label("c"), _THREAD.c.text.label("d"),
                _THREAD.c.url.label("e"), _THREAD.c.sender.label("f"), _THREAD.c.status.label("g"),
                _THREAD.c.created_at.label("at"), _E.label("s")),
    _branch(_D_NOTE, MessageNote.id, _NOTE_AUTHOR.c.display_name, MessageNote.text, at=MessageNote.created_at)
    .select_from(MessageNote.__table__.join(_NOTE_AUTHOR, _NOTE_AUTHOR.c.id == MessageNote.user_id))
    .where(MessageNote.message_id == bindparam("mid"), col(MessageNote.deleted_at).is_(None)),
    _branch(_D_VERSION, MessageVersion.version, MessageVersion.change, MessageVersion.text, at=MessageVersion.captured_at)
    .where(MessageVersion.message_id == bindparam("mid")),
    _branch(_D_TAG, MessageTag.tag_id, Tag.name, s=Tag.name)
    .select_from(MessageTag.__table__.join(Tag, Tag.id == MessageTag.tag_id))
    .where(MessageTag.message_id == bindparam("mid"), col(MessageTag.removed_at).is_(None)),
    _branch(_D_VIP, literal(0), VipList.name)
    .select_from(VipMember.__table__.join(VipList, VipList.id == VipMember.list_id))
    .where(VipMember.network == bindparam("network"), VipMember.handle == bindparam("vip_handle"),
           col(VipMember.deleted_at).is_(None), col(VipList.deleted_at).is_(None)),
    _branch(_D_USER, User.id, User.display_name).where(col(User.id).in_([bindparam("assignee"), bindparam("replier")])),
    _branch(_D_PROFILE, SocialProfile.id, SocialProfile.handle).where(SocialProfile.id == bindparam("profile")),
    _branch(_D_CLAIM, Claim.id, Claim.text)
    .select_from(ClaimMatch.__table__.join(Claim, Claim.id == ClaimMatch.claim_id))
    .where(ClaimMatch.message_id == bindparam("mid"), col(Claim.deleted_at).is_(None)),
    _branch(_D_TEAM, Team.id, Team.name, Team.name_ar).where(Team.id == bindparam("team")),
    _branch(_D_MODERATION, MessageModeration.message_id, MessageModeration.state, MessageModeration.clause)
    .where(MessageModeration.message_id == bindparam("mid")),
).order_by(literal_column("k"), literal_column("at"), literal_column("s"), literal_column("i"))


def detail(message_id: int) -> MessageDetail:
    """One message as opened: its card, body, thread, notes, archive and tags, in two Core statements on a read
    connection: its row, then everything else (_DETAIL_EXTRAS). The ORM's nine statements cost a fifth of a web
    worker's CPU under bench-load, most of it SQLAlchemy's own bookkeeping; under load each statement's round trip
    also holds the worker's event loop while the database gets its turn on the CPU."""
    with read_connection() as conn:
        row = conn.execute(_DETAIL_ROW, {"mid": message_id}).first()
        if row is None or row.deleted_at is not None:
            raise UserError("That message does not exist.")
        card_row = tuple(row)[: len(CARD_COLUMNS)]
        thread: list[ThreadItem] = []
        notes: list[NoteItem] = []
        versions: list[VersionItem] = []
        tag_ids: list[int] = []
        x = _Extras()
        tag_names: list[str] = []
        vip_lists: list[str] = []
        claims: list[str] = []
        params = {"mid": message_id, "network": row.network, "ckey": row.conversation_key,
                  "vip_handle": _vip_key(row.network, row.author_handle)[1], "assignee": row.assignee_id or 0,
                  "replier": row.replied_by_id or 0, "profile": row.profile_id or 0, "team": row.team_id or 0}
        for k, i, a, b, c, d, e, f, g, at, _s in conn.execute(_DETAIL_EXTRAS, params):
            if k == _D_THREAD:
                thread.append(ThreadItem(i, a, b, c, d, at, web_link(e), f, g))
            elif k == _D_NOTE:
                notes.append(NoteItem(i, a, b, at))
            elif k == _D_VERSION:
                versions.append(VersionItem(i, a, b, at))
            elif k == _D_TAG:
                tag_ids.append(i)
                tag_names.append(a)
            elif k == _D_VIP:
                vip_lists.append(a)
            elif k == _D_USER:
                x.names[i] = a
            elif k == _D_PROFILE:
                x.profiles[i] = a
            elif k == _D_CLAIM:
                claims.append(_claim_label(a))
            elif k == _D_TEAM:
                x.team_names[i] = (a, b)
            else:
                x.moderated[i] = (a, b)
        versions.sort(key=attrgetter("version"))
        x.tags[message_id], x.claims[message_id] = tag_names, claims
        x.vips[_vip_key(row.network, row.author_handle)] = vip_lists
        x.mod_versions[message_id] = sum(1 for v in versions if v.change == "moderation")
        return MessageDetail(
            card=_cards(conn, [card_row], extras=x)[0],
            text=row.text,
            url=web_link(row.url),  # rows stored before links were checked at intake are checked here too
            conversation=thread,
            notes=notes,
            versions=versions,
            last_reply_id=row[-1] or 0,
            tag_ids=tuple(tag_ids),
            assignee_id=row.assignee_id,
        )


# ---------------------------------------------------------------- actions


def _messages(s: Session, ids: list[int]) -> list[Message]:
    if not ids:
        raise UserError("Select at least one message.")
    if len(ids) > 200:
        raise UserError("Bulk actions take at most 200 messages at a time.")
    # Lock the messages first (a key-share lock: it blocks only a reply's claim of the same message, which takes
    # FOR UPDATE): every transaction then locks messages before the audit chain, never the other way round. A tag
    # that took the chain first and its message second deadlocked against a reply doing the opposite (bench-load).
    rows = list(s.exec(select(Message).where(col(Message.id).in_(ids), col(Message.deleted_at).is_(None))
                       .order_by(Message.id).with_for_update(key_share=True)).all())
    if len(rows) != len(set(ids)):
        raise UserError("Some of the selected messages no longer exist.")
    return rows


def _changed(ids: list[int]) -> None:
    bus.publish(InboxChanged.of(changed_ids=ids))


def find_or_create_tag(s: Session, name: str, actor: Actor) -> Tag:
    name = " ".join((name or "").split())
    if not name:
        raise UserError("A tag needs a name.")
    if len(name) > 60:
        raise UserError("Tag names are at most 60 characters.")
    tag = s.exec(select(Tag).where(func.lower(Tag.name) == name.lower())).first()
    if tag is None:
        tag = Tag(name=name)
        s.add(tag)
        s.flush()
        audit.record(s, actor, "tag.create", "tag", tag.id, name=name)
    elif tag.deleted_at is not None:
        tag.deleted_at = None
        audit.record(s, actor, "tag.restore", "tag", tag.id, name=name)
    return tag


def add_tag(ids: list[int], tag_name: str, actor: Actor) -> int:
    require(actor, "inbox.act")
    with session_scope() as s:
        rows = _messages(s, ids)
        tag = find_or_create_tag(s, tag_name, actor)
        present = set(
            s.exec(select(MessageTag.message_id).where(MessageTag.tag_id == tag.id, col(MessageTag.message_id).in_(ids), col(MessageTag.removed_at).is_(None))).all()
        )
        added = [m.id for m in rows if m.id not in present]
        for mid in added:
            s.add(MessageTag(message_id=mid, tag_id=tag.id, created_by=actor.user_id))
        if added:
            audit.record(s, actor, "message.tag", "message", ",".join(map(str, added[:50])), tag=tag.name, count=len(added))
        tag_id = tag.id
    _changed(ids)
    return tag_id


def remove_tag(ids: list[int], tag_id: int, actor: Actor) -> None:
    require(actor, "inbox.act")
    now = datetime.now(timezone.utc)
    with session_scope() as s:
        _messages(s, ids)
        links = s.exec(select(MessageTag).where(MessageTag.tag_id == tag_id, col(MessageTag.message_id).in_(ids), col(MessageTag.removed_at).is_(None))).all()
        for link in links:
            link.removed_at, link.removed_by = now, actor.user_id
        if links:
            tag = s.get(Tag, tag_id)
            audit.record(s, actor, "message.untag", "message", ",".join(str(x.message_id) for x in links[:50]), tag=tag.name if tag else tag_id)
    _changed(ids)


def assign(ids: list[int], assignee_id: int | None, actor: Actor) -> None:
    require(actor, "inbox.act")
    with session_scope() as s:
        rows = _messages(s, ids)
        label = "nobody"
        if assignee_id is not None:
            user = s.get(User, assignee_id)
            if user is None or not user.is_active or user.deleted_at:
                raise UserError("That person cannot be assigned messages.")
            if user.role == "viewer":
                raise UserError("Viewers cannot be assigned messages; pick someone who can reply.")
            label = user.display_name
        for m in rows:
            m.assignee_id = assignee_id
        audit.record(s, actor, "message.assign", "message", ",".join(str(m.id) for m in rows[:50]), assignee=label, count=len(rows))
    _changed(ids)


def set_status(ids: list[int], status: str, actor: Actor) -> None:
    require(actor, "inbox.act")
    if status not in STATUSES:
        raise UserError("Status must be open or completed.")
    now = datetime.now(timezone.utc)
    with session_scope() as s:
        rows = _messages(s, ids)
        for m in rows:
            m.status = status
            m.completed_at, m.completed_by = (now, actor.user_id) if status == "completed" else (None, None)
        audit.record(s, actor, "message.complete" if status == "completed" else "message.reopen", "message",
                     ",".join(str(m.id) for m in rows[:50]), count=len(rows))
    _changed(ids)


def add_note(message_id: int, note: str, actor: Actor) -> None:
    require(actor, "inbox.act")
    note = (note or "").strip()
    if not note:
        raise UserError("The note is empty.")
    if len(note) > 4000:
        raise UserError("Notes are at most 4,000 characters.")
    with session_scope() as s:
        _messages(s, [message_id])
        row = MessageNote(message_id=message_id, user_id=actor.user_id, text=note)
        s.add(row)
        s.flush()
        audit.record(s, actor, "message.note", "message", message_id, note_id=row.id)
    _changed([message_id])


# ---------------------------------------------------------------- reference data for the UI


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


# The audited domains whose changes show in the choices: profiles, tags, VIP lists, people (created, renamed, a new
# role, (de)activated, or made by single sign-on) and the demo seed. A sign-in, a reply or a tag on a message does not.
CHOICES_DOMAINS = ("profile", "tag", "vip", "user", "demo")
CHOICES_TTL_S = 15.0  # changes made by other processes (a new language seen by the jobs process) show within this


def choices() -> dict[str, list[Choice]]:
    """The filter and action options (profiles, tags, VIP lists, assignees, languages). Every inbox load shows
    them, so they are kept per process until this process audits a change, or for CHOICES_TTL_S."""
    return choices_and_version()[0]


def choices_and_version() -> tuple[dict[str, list[Choice]], str]:
    """The choices and a fingerprint of their content, the same in every process that reads the same choices: a
    client's menus are sent again only when the fingerprint it was sent last differs (state/inbox.py InboxMenus)."""
    return _kept_choices.get()


def _choices_with_version() -> tuple[dict[str, list[Choice]], str]:
    value = _choices()
    flat = json.dumps({k: [(c.value, c.label) for c in v] for k, v in value.items()}, sort_keys=True, ensure_ascii=False)
    return value, hashlib.blake2b(flat.encode(), digest_size=12).hexdigest()


_kept_choices = audit.KeptUntilAudited(CHOICES_DOMAINS, CHOICES_TTL_S, _choices_with_version)


def canonical_params(params: dict[str, str]) -> dict[str, str]:
    """A link may name a tag (`/inbox?tag=Roads`, any case) as well as give its id; the name becomes the id."""
    raw = params.get("tag", "")
    if not raw or raw.isdigit() or raw == "all":
        return params
    match = next((c.value for c in choices()["tag"] if c.label.casefold() == raw.casefold()), None)
    if match is None:
        raise UserError(f"There is no tag called “{raw[:60]}”.")
    return {**params, "tag": match}


def _choices() -> dict[str, list[Choice]]:
    with session_scope() as s:
        profiles = s.exec(select(SocialProfile).where(col(SocialProfile.deleted_at).is_(None)).order_by(SocialProfile.id)).all()
        tags = s.exec(select(Tag).where(col(Tag.deleted_at).is_(None)).order_by(Tag.name)).all()
        lists = s.exec(select(VipList).where(col(VipList.deleted_at).is_(None)).order_by(VipList.name)).all()
        users = s.exec(select(User.id, User.display_name)  # two columns, not whole rows: every active person is here
                       .where(col(User.is_active).is_(True), col(User.deleted_at).is_(None), User.role != "viewer").order_by(User.display_name)).all()
        langs = [l for l in s.exec(select(Message.lang).where(Message.lang != "").distinct().limit(30)).all()]
        return {
            "network": [Choice(n, n.title()) for n in sorted({p.network for p in profiles})],
            "profile": [Choice(str(p.id), p.display_name or p.handle) for p in profiles],
            "tag": [Choice(str(t.id), t.name) for t in tags],
            "vip": [Choice(str(v.id), v.name) for v in lists],
            "assignee": [Choice(str(uid), name) for uid, name in users],
            "lang": [Choice(l, l) for l in sorted(langs)],
        }


# ---------------------------------------------------------------- saved views

def default_views(session: Session) -> list[tuple[str, str]]:
    """Starter views for a new user: "VIPs" needs a list id and "Crisis" the crisis keyword's tag, when they exist."""
    views = [("My open", "status=open&assigned=me")]
    first_list = session.exec(select(VipList.id).where(col(VipList.deleted_at).is_(None)).order_by(VipList.id)).first()
    if first_list:
        views.append(("VIPs", f"vip={first_list}"))
    crisis = session.exec(
        select(KeywordSearch.name).where(KeywordSearch.priority == "crisis", col(KeywordSearch.deleted_at).is_(None)).order_by(KeywordSearch.id)
    ).first()
    views.append(("Crisis", urlencode({"status": "open", "q": crisis}) if crisis else "status=open&kind=keyword"))
    return views


@dataclass(frozen=True)
class ViewItem:
    id: int
    name: str
    query: str


def _views_of(s: Session, user_id: int) -> list[SavedView]:
    return list(s.exec(select(SavedView).where(SavedView.user_id == user_id).order_by(SavedView.position, SavedView.id)).all())


STARTER_VIEW_ID = 0  # the id of a starter view nobody has stored yet (stored_views gives real ids)
# The starter views follow the VIP lists and crisis keywords, so they are kept until one of those is audited (or
# the demo seed runs), like the menus.
_STARTER_DOMAINS = ("vip", "keyword", "demo")


def _read_starter_views() -> tuple[tuple[str, str], ...]:
    with session_scope() as s:
        return tuple(default_views(s))


_kept_starter_views = audit.KeptUntilAudited(_STARTER_DOMAINS, CHOICES_TTL_S, _read_starter_views)


def saved_views(user_id: int) -> list[ViewItem]:
    """A person's saved views, to show. Reading writes nothing: a person who has never saved a view sees the starter
    views (with STARTER_VIEW_ID), which are stored the first time they save one (save_view) or name one as a records
    scope (stored_views). A surge of newcomers' first inbox loads therefore costs one read each, and no lock, insert
    or commit (issue 20: seeding them here was a third of the event loop's work while 200 people signed in)."""
    with read_connection() as conn:
        rows = conn.execute(core_select(SavedView.id, SavedView.name, SavedView.query, SavedView.deleted_at)
                            .where(SavedView.user_id == user_id).order_by(SavedView.position, SavedView.id)).all()
    if rows:  # deleted rows count: a person who deleted the starter views keeps them deleted
        return [ViewItem(r.id, r.name, r.query) for r in rows if r.deleted_at is None]
    return [ViewItem(STARTER_VIEW_ID, name, query) for name, query in _kept_starter_views.get()]


def _stored_views(s: Session, user_id: int) -> list[SavedView]:
    """The person's views as rows, the starter views written first if they have none."""
    rows = _views_of(s, user_id)
    if not rows:
        # Store the starter views once. Two first writes at once (a save on a phone and a records scope at a desk, on
        # two workers) must not both store them: the person's row is locked and the views read again under the lock.
        # (SQLite renders no FOR UPDATE; its embedded app runs every handler on one event loop.)
        s.exec(select(User.id).where(User.id == user_id).with_for_update())
        rows = _views_of(s, user_id)
    if not rows:
        rows = [SavedView(user_id=user_id, name=name, query=query, position=pos) for pos, (name, query) in enumerate(default_views(s))]
        s.add_all(rows)
        s.flush()
    return rows


def stored_views(user_id: int) -> list[ViewItem]:
    """The person's views with the ids of stored rows (a records request or hold names one by id)."""
    with session_scope() as s:
        return [ViewItem(v.id, v.name, v.query) for v in _stored_views(s, user_id) if v.deleted_at is None]


def save_view(user_id: int, name: str, f: InboxFilter, actor: Actor) -> int:
    require(actor, "views.save")
    name = " ".join((name or "").split())
    if not name:
        raise UserError("Give the view a name.")
    if len(name) > 80:
        raise UserError("View names are at most 80 characters.")
    with session_scope() as s:
        _stored_views(s, user_id)  # the starter views the person has seen so far are kept, before the new one
        count = s.exec(select(func.count()).select_from(SavedView).where(SavedView.user_id == user_id, col(SavedView.deleted_at).is_(None))).one()
        if count >= 20:
            raise UserError("You can keep at most 20 saved views.")
        view = SavedView(user_id=user_id, name=name, query=f.to_query(), position=count)
        s.add(view)
        s.flush()
        audit.record(s, actor, "view.save", "saved_view", view.id, name=name, query=view.query)
        return view.id


def delete_view(view_id: int, actor: Actor) -> None:
    with session_scope() as s:
        view = s.get(SavedView, view_id)
        if view is None or view.user_id != actor.user_id or view.deleted_at:
            raise UserError("That view does not exist.")
        view.deleted_at = datetime.now(timezone.utc)
        audit.record(s, actor, "view.delete", "saved_view", view_id, name=view.name)
