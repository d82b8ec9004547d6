"""The tamper-evident trail: audit rows and archive versions are hash-chained, and verify-audit finds a row changed,
inserted or removed, even by a database superuser who turned the append-only trigger off."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from govsocial_app import cli
from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor
from govsocial_app.services.records import chain
from tests.records.conftest import ingest_messages


def _write_audit(n: int, label: str = "x") -> None:
    for i in range(n):
        with session_scope() as s:
            audit.record(s, Actor.system(label), "test.event", "thing", i, n=i, word="مرحبا")


def _verify(name: str = "audit") -> chain.VerifyResult:
    with get_engine().connect() as conn:
        return chain.verify(conn, name)


def _cli_verify(*extra: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["verify-audit", *extra])
    return exit_.value.code


def _as_superuser(sql_sqlite: list[str], sql_pg: list[str], any_db: str) -> None:
    """Tamper the way an attacker with database rights would: with the append-only trigger off."""
    with get_engine().begin() as conn:
        for stmt in (sql_sqlite if any_db.startswith("sqlite") else sql_pg):
            conn.execute(text(stmt))


SQLITE_OFF = ["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
PG_OFF = ["ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"]


def test_chain_is_written_and_verifies(any_db, capsys):
    _write_audit(5)
    ingest_messages(3)
    res = _verify()
    assert res.ok, res.problems
    assert res.rows >= 5 and res.head_seq == res.rows
    assert _verify("archive").ok and _verify("archive").rows == 3
    assert _cli_verify() == 0
    assert "audit: OK" in capsys.readouterr().out


def test_append_only_trigger_still_refuses_updates(any_db):
    _write_audit(2)
    with pytest.raises(Exception):
        with get_engine().begin() as conn:
            conn.execute(text("UPDATE audit_log SET action = 'forged' WHERE chain_seq = 1"))
    with pytest.raises(Exception):
        with get_engine().begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE chain_seq = 1"))


def test_changed_row_is_found_with_the_trigger_disabled(any_db, capsys):
    _write_audit(5)
    _as_superuser(SQLITE_OFF + ["UPDATE audit_log SET actor_label = 'someone else' WHERE chain_seq = 3"],
                  PG_OFF + ["UPDATE audit_log SET actor_label = 'someone else' WHERE chain_seq = 3"], any_db)
    res = _verify()
    assert not res.ok
    assert any("#3" in p and "changed" in p for p in res.problems), res.problems
    assert _cli_verify() == 1
    assert "audit: FAILED" in capsys.readouterr().out


def test_removed_row_is_found(any_db):
    _write_audit(5)
    _as_superuser(SQLITE_OFF + ["DELETE FROM audit_log WHERE chain_seq = 2"], PG_OFF + ["DELETE FROM audit_log WHERE chain_seq = 2"], any_db)
    res = _verify()
    assert any("#2" in p and "missing" in p for p in res.problems), res.problems


def test_removed_newest_rows_are_found(any_db):
    _write_audit(5)
    last = _verify().head_seq
    _as_superuser(SQLITE_OFF + [f"DELETE FROM audit_log WHERE chain_seq = {last}"], PG_OFF + [f"DELETE FROM audit_log WHERE chain_seq = {last}"], any_db)
    res = _verify()
    assert any("at the end" in p for p in res.problems), res.problems


def test_inserted_row_is_found(any_db):
    _write_audit(3)
    insert = ("INSERT INTO audit_log (at, actor_label, action, object_type, object_id, detail, client_ip, user_agent, prev_hash, row_hash) "
              "VALUES (CURRENT_TIMESTAMP, 'ghost', 'user.create', '', '', '{}', '', '', '', '')")
    _as_superuser([insert], [insert], any_db)
    res = _verify()
    assert any("outside the chain" in p for p in res.problems), res.problems


def test_a_rewritten_chain_differs_from_the_head_written_down(any_db, capsys):
    """A superuser could recompute every hash after a change; the head an outside party wrote down catches that."""
    _write_audit(4)
    noted = _verify()
    from govsocial_app.services.records import canonical

    with get_engine().begin() as conn:
        for stmt in (SQLITE_OFF if any_db.startswith("sqlite") else PG_OFF):
            conn.execute(text(stmt))
        conn.execute(text("UPDATE audit_log SET actor_label = 'forged' WHERE chain_seq = 2"))
        prev = chain.GENESIS
        for r in conn.execute(text(chain._QUERIES["audit"])).all():
            h = canonical.sha256(chain._form("audit", r, prev))
            conn.execute(text("UPDATE audit_log SET prev_hash = :p, row_hash = :h WHERE id = :i"), {"p": prev, "h": h, "i": r[-1]})
            prev = h
        conn.execute(text("UPDATE record_chain SET head_hash = :h WHERE name = 'audit'"), {"h": prev})
    assert _verify().ok  # internally consistent again...
    assert _cli_verify("--anchor", f"audit:{noted.head_seq}:{noted.head_hash}") == 1  # ...but not what was noted
    assert "not the hash written down" in capsys.readouterr().out


def test_archive_version_changed_is_found(any_db):
    ingest_messages(3)
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE messageversion SET text = 'rewritten' WHERE chain_seq = 2"))
    res = _verify("archive")
    assert any("#2" in p and "changed" in p for p in res.problems), res.problems


def test_edits_are_chained_in_the_same_transaction(any_db):
    from connectors.base import Author, InboundMessage
    from datetime import datetime, timezone
    from govsocial_app.services.inbox import ingest

    ingest_messages(1, prefix="e")
    edit = InboundMessage(network="simulator", external_id="e0", author=Author("citizen", "citizen"), text="edited text",
                          created_at=datetime(2026, 11, 1, 12, tzinfo=timezone.utc))
    with session_scope() as s:
        ingest.store(s, [edit], profile_id=None)
    with get_engine().connect() as conn:
        rows = conn.execute(text("SELECT version, chain_seq FROM messageversion ORDER BY version")).all()
    assert [r[0] for r in rows] == [1, 2] and all(r[1] for r in rows)
    assert _verify("archive").ok


def test_concurrent_writers_never_fork_the_chain(pg_db):
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            _write_audit(25, f"w{k}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    res = _verify()
    assert res.ok, res.problems
    with get_engine().connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT chain_seq FROM audit_log WHERE action = 'test.event' ORDER BY chain_seq"))]
    assert len(seqs) == 150 and len(set(seqs)) == 150


def test_migration_backfills_existing_rows(tmp_path):
    """Rows written before 0007_records get their chain when it runs, and verify-audit passes over them."""
    from govsocial_app.db.migrate import upgrade
    from tests.conftest import point_app_at

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0006_approval_content")
    eng = __import__("sqlalchemy").create_engine(url)
    with eng.begin() as conn:
        for i in range(4):
            conn.execute(text("INSERT INTO audit_log (at, actor_label, action, object_type, object_id, detail, client_ip, user_agent) "
                              "VALUES ('2025-01-0%d 10:00:00.000000', 'old', 'legacy.event', 't', '%d', '{\"k\": %d}', '', '')" % (i + 1, i, i)))
    eng.dispose()
    upgrade(url)
    point_app_at(url)
    try:
        res = _verify()
        assert res.ok and res.rows == 4 and res.head_seq == 4
        _write_audit(1)
        assert _verify().ok and _verify().head_seq == 5
    finally:
        point_app_at(f"sqlite:///{tmp_path / 'unused.db'}")


def test_concurrent_ingests_never_fork_the_archive_chain(pg_db):
    errors: list[BaseException] = []

    def ingester(k: int) -> None:
        try:
            for b in range(5):
                ingest_messages(20, prefix=f"t{k}-{b}-")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ingester, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    res = _verify("archive")
    assert res.ok, res.problems
    assert res.rows == res.head_seq == 400


_NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)


def _chain_seq(name: str) -> int:
    with get_engine().connect() as conn:
        return conn.execute(text("SELECT seq FROM record_chain WHERE name = :c"), {"c": name}).scalar_one()


def test_a_savepoint_does_not_seal_the_archive_before_the_transaction_audits(pg_db):
    """The intake pipeline's order: versions stored, a savepoint (its listening step), then the rules' audit rows.
    The archive chain is advanced only at the commit, after the audit chain, as every other writer does."""
    from govsocial_app.services.inbox import ingest
    from connectors.base import Author, InboundMessage

    msgs = [InboundMessage(network="simulator", external_id=f"sp{i}", author=Author(external_id="a", handle="a", display_name="A"),
                           text=f"Water main burst {i}", created_at=_NOW) for i in range(3)]
    before = _chain_seq("archive")
    order: list[str] = []
    with session_scope() as s:
        ingest.store(s, msgs, profile_id=None)
        with s.begin_nested():  # released here: that is a commit as far as SQLAlchemy's before_commit goes
            s.execute(text("SELECT 1"))
        inside = s.execute(text("SELECT seq FROM record_chain WHERE name = 'archive'")).scalar_one()  # this transaction's view
        order.append("archive advanced at the savepoint" if inside != before else "archive waiting")
        audit.record(s, Actor.system("rules"), "rule.apply", "message", "1")
    assert order == ["archive waiting"]
    assert _chain_seq("archive") == before + 3 and _verify("archive").ok and _verify().ok


def test_an_intake_page_and_a_reply_at_once_never_deadlock_on_the_chains(pg_db):
    """Two transactions that write to both chains, interleaved the way bench-load caught them: one stores versions and
    releases a savepoint, the other audits first; each then reaches for the other chain. With the archive sealed at a
    savepoint, PostgreSQL failed one of them with "deadlock detected" after its deadlock_timeout."""
    from govsocial_app.services.inbox import ingest
    from connectors.base import Author, InboundMessage

    page_saved, reply_audited = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def intake_page() -> None:
        try:
            with session_scope() as s:
                ingest.store(s, [InboundMessage(network="simulator", external_id="dl1", text="Road closed", created_at=_NOW,
                                                author=Author(external_id="b", handle="b", display_name="B"))], profile_id=None)
                with s.begin_nested():
                    s.execute(text("SELECT 1"))
                page_saved.set()
                reply_audited.wait(5)
                audit.record(s, Actor.system("rules"), "rule.apply", "message", "1")  # the rules' audit rows
        except BaseException as exc:
            errors.append(exc)

    def reply() -> None:
        try:
            page_saved.wait(5)
            with session_scope() as s:
                audit.record(s, Actor.system("staff"), "message.reply", "message", "1")
                reply_audited.set()
                ingest.store(s, [InboundMessage(network="simulator", external_id="dl2", text="Thanks, we are on it", created_at=_NOW,
                                                author=Author(external_id="c", handle="c", display_name="C"))], profile_id=None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=intake_page), threading.Thread(target=reply)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert _verify("archive").ok and _verify().ok


def test_versions_stored_before_a_failed_savepoint_are_still_sealed(any_db):
    """The intake pipeline's listening step runs in a savepoint and may fail; the page's versions commit anyway, and
    must carry their place in the archive chain."""
    from govsocial_app.services.inbox import ingest
    from connectors.base import Author, InboundMessage

    msgs = [InboundMessage(network="simulator", external_id=f"fs{i}", author=Author(external_id="d", handle="d", display_name="D"),
                           text=f"Power out on Elm St {i}", created_at=_NOW) for i in range(2)]
    with session_scope() as s:
        ingest.store(s, msgs, profile_id=None)
        with pytest.raises(RuntimeError):
            with s.begin_nested():
                raise RuntimeError("listening failed")
    with get_engine().connect() as conn:
        unsealed = conn.execute(text("SELECT count(*) FROM messageversion WHERE chain_seq IS NULL")).scalar_one()
    assert unsealed == 0 and _verify("archive").ok and _verify("archive").rows == 2


def _inbound(external_id: str, text_: str, *, deleted: bool = False):
    from connectors.base import Author, InboundMessage

    return InboundMessage(network="simulator", external_id=external_id, author=Author(external_id="q", handle="q", display_name="Q"),
                          text=text_, created_at=_NOW, deleted=deleted)


def _versions() -> list[tuple]:
    with get_engine().connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT m.external_id, v.version, v.change, v.text, v.chain_seq FROM messageversion v "
            "JOIN message m ON m.id = v.message_id ORDER BY v.chain_seq"))]


def test_a_new_message_edited_and_deleted_on_one_page_is_chained_in_that_order(any_db):
    """A new message's first version waits for the commit (chain.queue_archive) while the same page's edit and
    deletion of it are stored at once; in the chain the first version still comes first, each written once."""
    from govsocial_app.services.inbox import ingest

    before = _chain_seq("archive")
    with session_scope() as s:
        ingest.store(s, [_inbound("q1", "Bridge closed"), _inbound("q2", "Road open"),
                         _inbound("q1", "Bridge closed until 6pm"), _inbound("q1", "", deleted=True)], profile_id=None)
    rows = _versions()
    assert [r[:4] for r in rows] == [("q1", 1, "created", "Bridge closed"), ("q2", 1, "created", "Road open"),
                                     ("q1", 2, "edited", "Bridge closed until 6pm"), ("q1", 3, "deleted", "Bridge closed until 6pm")]
    assert [r[4] for r in rows] == [before + 1, before + 2, before + 3, before + 4]
    assert _chain_seq("archive") == before + 4
    res = _verify("archive")
    assert res.ok and res.rows == 4, res.problems


def test_a_rolled_back_page_leaves_no_version_for_the_next_commit(any_db):
    """The queued first versions belong to their transaction: after a rollback, the session's next commit writes
    none of them (on SQLite, which does not check the message foreign key here, they would stay as orphans)."""
    from sqlmodel import Session

    from govsocial_app.services.inbox import ingest

    with Session(get_engine()) as s:
        ingest.store(s, [_inbound("rb1", "Gas leak on 5th")], profile_id=None)
        s.rollback()
        ingest.store(s, [_inbound("rb2", "Gas leak fixed")], profile_id=None)
        s.commit()
    assert [r[:4] for r in _versions()] == [("rb2", 1, "created", "Gas leak fixed")]
    with get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM messageversion")).scalar_one() == 1
    assert _chain_seq("archive") == 1 and _verify("archive").ok


@pytest.mark.parametrize("released", [True, False])
def test_a_page_stored_inside_a_savepoint_is_archived_only_if_the_savepoint_holds(any_db, released):
    """Inside a savepoint the first versions go in at once (a queue would not hear of the savepoint's rollback) and
    are sealed at the commit; rolled back with it, they leave nothing behind and the chain has no gap."""
    from govsocial_app.services.inbox import ingest

    with session_scope() as s:
        ingest.store(s, [_inbound("out1", "Shelter at the school")], profile_id=None)
        try:
            with s.begin_nested():
                ingest.store(s, [_inbound("in1", "Shelter full"), _inbound("in2", "Water at the library")], profile_id=None)
                if not released:
                    raise RuntimeError("listening failed")
        except RuntimeError:
            pass
    expected = ["out1", "in1", "in2"] if released else ["out1"]
    assert [r[0] for r in _versions()] == expected
    res = _verify("archive")
    assert res.ok and res.rows == len(expected) == _chain_seq("archive"), res.problems
