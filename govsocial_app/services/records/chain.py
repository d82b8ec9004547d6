"""Hash chains over the audit log and the message archive: append, seal and verify.

Every writer first advances the chain's head row (`record_chain`). On PostgreSQL that row lock is held until the
transaction ends, and on SQLite the update takes the database's one write lock, so writers take turns and the chain
cannot fork. A transaction that writes to both takes them in one order, audit then archive (the archive is sealed at
the outermost commit), or two of them could deadlock. A row's hash covers its canonical form (`canonical.py`) and the
previous row's hash; the head row keeps the last sequence number and hash, so removing the newest rows is found too."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from govsocial_app.db import partitions
from govsocial_app.db.models import AuditLog, MessageVersion
from govsocial_app.db.sql import insert_rows
from govsocial_app.services.records import canonical

CHAINS = ("audit", "archive")
GENESIS = "0" * 64


def _advance(conn: Connection, chain: str, n: int) -> tuple[int, str]:
    """Reserve `n` places in `chain`; returns (first new seq, hash before them). Takes the chain's lock."""
    row = conn.execute(
        text("UPDATE record_chain SET seq = seq + :n WHERE name = :c RETURNING seq, head_hash"), {"n": n, "c": chain}
    ).first()
    if row is None:  # a database created without the migration's seed rows
        conn.execute(text("INSERT INTO record_chain (name, seq, head_hash) VALUES (:c, 0, :g)"), {"c": chain, "g": GENESIS})
        return _advance(conn, chain, n)
    return int(row[0]) - n + 1, row[1] or GENESIS


def _set_head(conn: Connection, chain: str, head: str) -> None:
    conn.execute(text("UPDATE record_chain SET head_hash = :h, updated_at = :t WHERE name = :c"),
                 {"h": head, "t": datetime.now(timezone.utc), "c": chain})


def seal_audit(session: Session, row: AuditLog) -> None:
    """Give a new audit row its place and hash; called by audit.record before the row is added."""
    conn = session.connection()
    seq, prev = _advance(conn, "audit", 1)
    row.at = (row.at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    row.chain_seq, row.prev_hash = seq, prev
    row.row_hash = canonical.sha256(canonical.audit_form(
        seq, row.at, row.actor_id, row.actor_label, row.action, row.object_type, row.object_id, row.detail,
        row.client_ip, row.user_agent, prev))
    _set_head(conn, "audit", row.row_hash)


def seal_audit_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """seal_audit for several new rows at once, given as column dicts for a bulk insert (one advance of the chain):
    an inbox rules run audits every application of a page together."""
    if not rows:
        return
    conn = session.connection()
    seq, prev = _advance(conn, "audit", len(rows))
    for row in rows:
        row["at"] = (row.get("at") or datetime.now(timezone.utc)).astimezone(timezone.utc)
        row["chain_seq"], row["prev_hash"] = seq, prev
        row["row_hash"] = canonical.sha256(canonical.audit_form(
            seq, row["at"], row["actor_id"], row["actor_label"], row["action"], row["object_type"], row["object_id"],
            row["detail"], row["client_ip"], row["user_agent"], prev))
        seq, prev = seq + 1, row["row_hash"]
    _set_head(conn, "audit", prev)


def seal_archive(session: Session) -> int:
    """Chain the versions queued for this commit (`queue_archive`), then every archive version this transaction can
    see that has no place yet (new ones, in id order), and insert the queued ones with their places and hashes."""
    conn = session.connection()
    queued: list[dict] = session.info.pop("archive_rows", None) or []
    rows = conn.execute(text(
        "SELECT id, message_id, version, change, text, captured_at, raw FROM messageversion "
        "WHERE chain_seq IS NULL ORDER BY id")).all()
    if not rows and not queued:
        return 0
    seq, prev = _advance(conn, "archive", len(queued) + len(rows))
    # Queued versions first: they are the "created" versions of messages new in this transaction, so any other version
    # of the same message (an edit on the same page, stored in the usual way) comes after its first in the chain too.
    for q in queued:
        q["chain_seq"], q["prev_hash"] = seq, prev
        q["row_hash"] = prev = canonical.sha256(canonical.version_form(
            seq, q["message_id"], q["version"], q["change"], q["text"], q["captured_at"], q["raw"], prev))
        seq += 1
    insert_rows(session, MessageVersion.__table__, queued)
    updates = []
    for r in rows:
        h = canonical.sha256(canonical.version_form(seq, r[1], r[2], r[3], r[4], r[5], r[6], prev))
        updates.append({"i": r[0], "s": seq, "p": prev, "h": h, "c": r[5]})
        seq, prev = seq + 1, h
    # A database partitioned by month (`cli partitions enable`) splits messageversion by captured_at: naming it
    # reaches one month's partition instead of probing every month's primary key for the id.
    if updates:
        where = "id = :i AND captured_at = :c" if partitions.message_partitioned(conn) else "id = :i"
        conn.execute(text(f"UPDATE messageversion SET chain_seq = :s, prev_hash = :p, row_hash = :h WHERE {where}"), updates)
    _set_head(conn, "archive", prev)
    return len(queued) + len(rows)


def mark_archive_pending(session: Session) -> None:
    """Versions written with plain SQL (the ingest fast path) ask to be sealed before their transaction commits."""
    session.info["archive_pending"] = True


def queue_archive(session: Session, rows: list[dict]) -> None:
    """New versions (dicts of message_id, version, change, text, captured_at, raw) to insert at the outermost commit,
    chained, rather than now: a version written now and sealed at commit is written twice (an UPDATE gives it its
    place), which cost PostgreSQL ingest a third of its rate. Until the commit nobody can read them, not even this
    transaction; a rollback drops them. Not for use inside a savepoint, whose rollback would not drop them."""
    if rows:
        session.info.setdefault("archive_rows", []).extend(rows)
        session.info["archive_pending"] = True


def install(session_cls: Any = Session) -> None:
    from sqlalchemy import event

    @event.listens_for(session_cls, "after_flush")
    def _note_versions(session: Session, _ctx) -> None:
        if any(isinstance(o, MessageVersion) for o in session.new):
            session.info["archive_pending"] = True

    @event.listens_for(session_cls, "before_commit")
    def _seal(session: Session) -> None:
        # SQLAlchemy fires before_commit when a savepoint is released too (the intake pipeline's listening step
        # runs in one). Sealing there took the archive chain's lock before the page's rules took the audit chain's,
        # while a reply takes audit, then archive at its commit: PostgreSQL found the deadlock only after its 1 s
        # deadlock_timeout, and every web worker waiting on either chain froze with it (bench-load, issue 20, stop 39:
        # the 1-2 s stalls). Sealed only at the outermost commit, every transaction takes audit before archive.
        if session.in_nested_transaction():
            return
        if not session.info.get("archive_pending"):
            session.flush()
            if not session.info.get("archive_pending"):
                return
        session.flush()
        seal_archive(session)
        session.info.pop("archive_pending", None)

    @event.listens_for(session_cls, "after_transaction_end")
    def _forget(session: Session, transaction) -> None:
        # Only the outermost transaction's end: a savepoint rolled back (listening that failed) must not drop the
        # mark of versions stored before it, which commit with the page.
        if transaction.parent is None:
            session.info.pop("archive_pending", None)
            session.info.pop("archive_rows", None)


install()


# ---------------------------------------------------------------- heads and verification


@dataclass(frozen=True)
class Head:
    chain: str
    seq: int
    hash: str
    updated_at: datetime | None


def heads(conn: Connection) -> list[Head]:
    rows = conn.execute(text("SELECT name, seq, head_hash, updated_at FROM record_chain ORDER BY name")).all()
    return [Head(r[0], int(r[1]), r[2] or GENESIS, _aware(r[3])) for r in rows]


def _aware(v: Any) -> datetime | None:
    if v is None:
        return None
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return v if v.tzinfo else v.replace(tzinfo=timezone.utc)


@dataclass
class VerifyResult:
    chain: str
    rows: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_QUERIES = {
    "audit": ("SELECT chain_seq, at, actor_id, actor_label, action, object_type, object_id, detail, client_ip, "
              "user_agent, prev_hash, row_hash, id FROM audit_log WHERE chain_seq IS NOT NULL ORDER BY chain_seq"),
    "archive": ("SELECT chain_seq, message_id, version, change, text, captured_at, raw, prev_hash, row_hash, id "
                "FROM messageversion WHERE chain_seq IS NOT NULL ORDER BY chain_seq"),
}
_TABLES = {"audit": "audit_log", "archive": "messageversion"}
MAX_PROBLEMS = 50


def _rows(conn: Connection, chain: str) -> Iterator[Any]:
    """Plain DB-API tuples, streamed (a named server-side cursor on PostgreSQL): SQLAlchemy's Row objects cost more
    than hashing does over a million rows."""
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cur = raw.cursor(name=f"verify_{chain}")
        cur.itersize = 20000
    else:
        cur = raw.cursor()
        cur.arraysize = 20000
    try:
        cur.execute(_QUERIES[chain])
        while True:
            part = cur.fetchmany(20000)
            if not part:
                break
            yield from part
    finally:
        cur.close()


def _form(chain: str, r: Any, prev: str) -> list:
    if chain == "audit":
        return canonical.audit_form(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], prev)
    return canonical.version_form(r[0], r[1], r[2], r[3], r[4], r[5], r[6], prev)


def verify(conn: Connection, chain: str, anchors: Iterable[tuple[int, str]] = ()) -> VerifyResult:
    """Recompute `chain` from its first row. Finds a changed row (its hash), an inserted or removed row (the sequence
    and the links), removed newest rows (the head), and rows outside the chain. Gaps that a disposal certificate
    covers are followed through the certified hashes. `anchors` are (seq, hash) pairs written down earlier."""
    res = VerifyResult(chain)
    want_anchor = dict(anchors)
    disposed = {int(s): (p, h) for s, p, h in conn.execute(
        text("SELECT seq, prev_hash, row_hash FROM disposed_link WHERE chain = :c"), {"c": chain}).all()}
    hash_ix, prev_ix = (11, 10) if chain == "audit" else (8, 7)
    expected_seq, prev = 1, GENESIS
    seen_hashes: dict[int, str] = {}
    sha, encode, form = hashlib.sha256, canonical._ENCODER.encode, _form

    def problem(msg: str) -> None:
        if len(res.problems) < MAX_PROBLEMS:
            res.problems.append(msg)

    def skip_disposed(upto: int) -> None:
        nonlocal expected_seq, prev
        while expected_seq < upto and expected_seq in disposed:
            dprev, dhash = disposed[expected_seq]
            if dprev != prev:
                problem(f"{chain} #{expected_seq}: the disposal certificate's link does not follow the chain")
            seen_hashes[expected_seq] = dhash
            prev, expected_seq = dhash, expected_seq + 1

    for r in _rows(conn, chain):
        seq = int(r[0])
        skip_disposed(seq)
        if seq < expected_seq:
            problem(f"{chain} #{seq} (row id {r[-1]}): a second row with this place: inserted")
            continue
        if seq > expected_seq:
            problem(f"{chain} #{expected_seq}–#{seq - 1}: missing (removed without a disposal certificate)")
        res.rows += 1
        if r[prev_ix] != prev:
            problem(f"{chain} #{seq} (row id {r[-1]}): does not link to the row before it (a row was removed or inserted)")
        got = sha(encode(form(chain, r, r[prev_ix])).encode("utf-8")).hexdigest()
        if got != r[hash_ix]:
            problem(f"{chain} #{seq} (row id {r[-1]}): its content does not match its hash (changed)")
        if seq in want_anchor:
            seen_hashes[seq] = r[hash_ix]
        prev, expected_seq = r[hash_ix], seq + 1
    head = conn.execute(text("SELECT seq, head_hash FROM record_chain WHERE name = :c"), {"c": chain}).first()
    head_seq, head_hash = (int(head[0]), head[1] or GENESIS) if head else (0, GENESIS)
    skip_disposed(head_seq + 1)
    if expected_seq - 1 < head_seq:
        problem(f"{chain} #{expected_seq}–#{head_seq}: missing at the end (the newest rows were removed)")
    elif expected_seq - 1 > head_seq:
        problem(f"{chain}: rows past the recorded head #{head_seq} (inserted)")
    elif prev != head_hash:
        problem(f"{chain}: the last row's hash is not the recorded head")
    for seq, h in want_anchor.items():
        if seen_hashes.get(seq) != h:
            problem(f"{chain} #{seq}: not the hash written down earlier ({h[:12]}…)")
    unchained = conn.execute(text(f"SELECT count(*) FROM {_TABLES[chain]} WHERE chain_seq IS NULL")).scalar() or 0
    if unchained:
        problem(f"{chain}: {unchained} row(s) outside the chain (inserted)")
    res.head_seq, res.head_hash = head_seq, head_hash
    return res


def current_heads() -> list[Head]:
    """Each chain's head now: what the admin page shows for an outside party to write down and check later."""
    from govsocial_app.db.engine import get_engine

    with get_engine().connect() as conn:
        return heads(conn)
