"""PostgreSQL's monthly partitions, opt in (`python -m govsocial_app.cli partitions enable`, govsocial_app/db/partitions.py
and partition_convert.py): rows land in their month, the default partitions stay empty, an external id is unique
across months, the inbox, reports and records export read across a month boundary, the inbox's date bound prunes
months, the CLI converts a populated database in place and back (refusing while the app is connected), and the job
keeps months ahead created. A migrated database and SQLite stay unpartitioned."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from govsocial_app.db import partitions
from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import Message, MessageNote, MessageVersion, SavedView, User
from govsocial_app.services import audit
from govsocial_app.services.authz import Actor
from govsocial_app.services.records import chain
from tests.conftest import partition
from tests.records.conftest import ingest_messages

pytestmark = pytest.mark.services

NOW = datetime.now(timezone.utc)
THIS_MONTH = partitions.month_start(NOW)
LAST_MONTH = partitions.add_months(THIS_MONTH, -1)


@pytest.fixture
def part_db(pg_db) -> str:
    """A migrated PostgreSQL database converted to monthly partitions."""
    with get_engine().connect() as conn:
        converted = partitions.is_partitioned(conn, "message")  # GOVSOCIAL_TEST_PARTITIONED=1 did it already
    if not converted:
        get_engine().dispose()
        partition(pg_db)
        partitions.forget_layout()
    return pg_db


def _at(month, day: int = 14, hour: int = 12) -> datetime:
    return datetime(month.year, month.month, day, hour, tzinfo=timezone.utc)


def _where(table: str, ids: list[int]) -> dict[int, str]:
    """The partition each row of `table` is stored in."""
    with get_engine().connect() as conn:
        return dict(conn.execute(sa.text(f"SELECT id, tableoid::regclass::text FROM {table} WHERE id = ANY(:ids)"),
                                 {"ids": ids}).all())


def test_rows_land_in_their_months_partition_and_the_default_stays_empty(part_db):
    old = ingest_messages(3, created=_at(LAST_MONTH), prefix="old")  # backfill: received when written
    new = ingest_messages(2, created=NOW - timedelta(minutes=5), prefix="new")
    with session_scope() as s:
        audit.record(s, Actor.system("test"), "test.partitioned")
    assert set(_where("message", old).values()) == {partitions.partition_name("message", LAST_MONTH)}
    assert set(_where("message", new).values()) == {partitions.partition_name("message", THIS_MONTH)}
    with get_engine().connect() as conn:
        versions = {r[0] for r in conn.execute(sa.text("SELECT tableoid::regclass::text FROM messageversion")).all()}
        audits = {r[0] for r in conn.execute(sa.text("SELECT tableoid::regclass::text FROM audit_log")).all()}
        assert versions == {partitions.partition_name("messageversion", THIS_MONTH)}  # archived now
        assert audits == {partitions.partition_name("audit_log", THIS_MONTH)}
        assert partitions.default_rows(conn) == {"message": 0, "messageversion": 0, "audit_log": 0}
        assert conn.execute(sa.text("SELECT count(*) FROM message_key")).scalar() == 5
        for table in partitions.PARTITIONED:
            assert partitions.is_partitioned(conn, table)
        for result in (chain.verify(conn, "archive"), chain.verify(conn, "audit")):
            assert result.ok and result.rows, result.problems


def test_an_external_id_is_unique_across_months(part_db):
    [first] = ingest_messages(1, created=_at(LAST_MONTH), prefix="dup")
    assert ingest_messages(1, created=NOW, prefix="dup") == []  # ingest finds it in last month's partition
    with session_scope() as s:
        row = s.get(Message, first)
        values = {c.name: getattr(row, c.name) for c in Message.__table__.columns if c.name != "id"}
    values["received_at"] = NOW  # the same (network, external id) in this month's partition
    with pytest.raises(IntegrityError, match="uq_message_network_external"):
        with session_scope() as s:
            s.execute(sa.insert(Message.__table__).values(values))
    with get_engine().connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM message")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM message_key")).scalar() == 1


def test_a_version_of_a_message_that_does_not_exist_is_refused(part_db):
    with pytest.raises(IntegrityError, match="messageversion_message_id_fkey"):
        with session_scope() as s:
            s.add(MessageVersion(message_id=987654, version=1, change="created", text="x", captured_at=NOW))


def test_inbox_pages_and_reports_read_across_a_month_boundary(part_db, actor_factory):
    from govsocial_app.services.inbox import stream
    from govsocial_app.services.reporting import metrics

    actor_factory("admin")
    boundary = _at(THIS_MONTH, 1, 0)
    older = ingest_messages(30, created=boundary - timedelta(hours=30), prefix="a")
    newer = ingest_messages(30, created=boundary + timedelta(minutes=1), prefix="b")
    assert len({*_where("message", older).values(), *_where("message", newer).values()}) == 2

    def every_page(f, limit: int) -> list[int]:
        seen, before = [], None
        while True:
            page = stream.list_page(f, 0, before_id=before, limit=limit)
            seen += [c.id for c in page.cards]
            if page.next_before_id is None:
                return seen
            before = page.next_before_id

    assert every_page(stream.InboxFilter(), 25) == sorted(older + newer, reverse=True)
    # paged by arrival time with a `to` date after the boundary
    assert every_page(stream.InboxFilter(until=boundary + timedelta(days=1)), 7) == sorted(older + newer, reverse=True)
    both = metrics.inbox_metrics(metrics.Scope(since=boundary - timedelta(days=2), until=boundary + timedelta(days=2)))
    last = metrics.inbox_metrics(metrics.Scope(since=boundary - timedelta(days=2), until=boundary))
    assert (both.totals.messages, last.totals.messages) == (60, 30)
    assert sum(both.inbound_by_hour.values()) == 60


def test_records_export_reads_versions_across_months(part_db, actor_factory, tmp_path):
    from datetime import date

    from govsocial_app.services.records import export, requests

    officer = actor_factory("records", "Rita Records")
    ids = ingest_messages(2, created=_at(LAST_MONTH), prefix="w", text="water {i}")
    ids += ingest_messages(2, created=NOW - timedelta(minutes=1), prefix="x", text="water late {i}")
    # an edit archived in a later month than the message itself
    with session_scope() as s:
        s.add(MessageVersion(message_id=ids[0], version=2, change="edited", text="water edited", captured_at=_at(THIS_MONTH, 2)))
    with session_scope() as s:
        v = SavedView(user_id=officer.user_id, name="water", query="q=water")
        s.add(v)
        s.flush()
        vid = v.id
    rid = requests.create("Jane Reporter", date(2026, 12, 1), officer, saved_view_id=vid)
    res = export.build(rid, officer, out_dir=tmp_path / "out")
    assert res.records == 4 and export.verify_export(res.path) == []
    with get_engine().connect() as conn:
        assert chain.verify(conn, "archive").ok and chain.verify(conn, "audit").ok


# ---------------------------------------------------------------- the job


def test_the_job_creates_months_ahead_and_again_creates_nothing(part_db):
    from jobs import partitions as partition_job
    from jobs.scheduler import build_scheduler

    later = NOW + timedelta(days=200)
    with get_engine().begin() as conn:
        created = partitions.ensure(conn, now=later)
    ahead = partitions.add_months(partitions.month_start(later), partitions.AHEAD_MONTHS)
    assert partitions.partition_name("message", ahead) in created
    assert partitions.partition_name("audit_log", ahead) in created
    assert partitions.partition_name("messageversion", ahead) in created
    with get_engine().begin() as conn:
        assert partitions.ensure(conn, now=later) == []
    asyncio.run(partition_job.ensure_partitions())  # at start: this month to AHEAD_MONTHS, all there already
    assert partitions.ensure_now() == []
    job = build_scheduler("test").get_job("partitions")
    assert job is not None and job.trigger.interval == timedelta(hours=6)


def test_a_month_backfilled_into_the_default_partition_is_moved_out_when_created(part_db):
    from datetime import date

    [mid] = ingest_messages(1, created=datetime(2019, 3, 5, tzinfo=timezone.utc), prefix="ancient")
    assert _where("message", [mid]) == {mid: "message_default"}
    with get_engine().begin() as conn:
        assert partitions.ensure(conn, [date(2019, 3, 1)]) == ["message_p2019_03", "messageversion_p2019_03", "audit_log_p2019_03"]
        assert partitions.default_rows(conn)["message"] == 0
    assert _where("message", [mid]) == {mid: "message_p2019_03"}
    assert ingest_messages(1, created=datetime(2019, 3, 5, tzinfo=timezone.utc), prefix="ancient") == []  # still known
    with session_scope() as s:
        assert s.get(Message, mid).external_id == "ancient0"


def test_sqlite_is_not_partitioned(db):
    with get_engine().begin() as conn:
        assert partitions.ensure(conn) == [] and partitions.default_rows(conn) == {}
        assert not partitions.is_partitioned(conn, "message")
    assert "message_key" not in sa.inspect(get_engine()).get_table_names()


# ---------------------------------------------------------------- converting a populated database


def populate_old_schema(n_messages: int, months: int = 4) -> None:
    """Messages spread over `months` months up to now (and one older than ten years), each with an archived version,
    some with a note, and audit rows: written by the app's own code on an unpartitioned database."""
    from connectors.base import Author, InboundMessage
    from govsocial_app.services.inbox import ingest, targets

    with session_scope() as s:
        user = User(email="old@example.org", display_name="Old", password_hash="x", role="admin")
        s.add(user)
        s.flush()
        due = targets.targets(s)["normal"]
        rows = []
        for i in range(n_messages):
            at = NOW - timedelta(days=(i % (months * 30)))
            m = InboundMessage(network="simulator", external_id=f"old{i}", author=Author(external_id="c", handle="c", display_name="C"),
                               text=f"old message {i}", created_at=at)
            rows.append(ingest._row(m, None, None, at, due))
        rows[-1]["received_at"] = rows[-1]["created_at"] = NOW - timedelta(days=365 * 11)
        table = Message.__table__
        ids = [r[0] for r in s.execute(sa.insert(table).returning(table.c.id), rows).all()]
        for mid, r in zip(ids, rows):
            s.add(MessageVersion(message_id=mid, version=1, change="created", text=r["text"], captured_at=r["received_at"]))
        for mid in ids[::10]:
            s.add(MessageNote(message_id=mid, user_id=user.id, text="note"))
        for i in range(20):
            audit.record(s, Actor.system("old"), "test.old", "message", ids[i])


_FINGERPRINTS = {
    "message": "SELECT count(*), md5(string_agg(id || '|' || network || '|' || external_id || '|' || received_at || '|' || text, ',' ORDER BY id)) FROM message",
    "messageversion": "SELECT count(*), md5(string_agg(id || '|' || message_id || '|' || captured_at || '|' || row_hash, ',' ORDER BY id)) FROM messageversion",
    "audit_log": ("SELECT count(*), md5(string_agg(id || '|' || at || '|' || action || '|' || row_hash, ',' ORDER BY id)) "
                  "FROM audit_log WHERE action NOT LIKE 'database.partitions_%'"),  # the conversions' own rows aside
    "messagenote": "SELECT count(*), md5(string_agg(id || '|' || message_id, ',' ORDER BY id)) FROM messagenote",
}


def _fingerprint(url: str) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: tuple(conn.execute(sa.text(q)).one()) for t, q in _FINGERPRINTS.items()}
    finally:
        engine.dispose()


def _cli(*argv: str) -> int:
    from govsocial_app import cli

    get_engine().dispose()  # a fresh `python -m govsocial_app.cli` holds no other connection of its own
    try:
        cli.main(list(argv))
        code = 0
    except SystemExit as exit_:
        code = exit_.code or 0
    return code


@pytest.fixture
def plain_db(pg_db) -> str:
    """A migrated PostgreSQL database in the default, unpartitioned layout."""
    with get_engine().begin() as conn:
        if partitions.is_partitioned(conn, "message"):  # GOVSOCIAL_TEST_PARTITIONED=1 converted it
            from govsocial_app.db import partition_convert

            partition_convert.disable(conn)
    return pg_db


def _diff_names(diff: list) -> list:
    """compare_metadata's entries reduced to what they are about (the objects' reprs vary between runs)."""
    out = []
    for d in diff:
        d = d[0] if isinstance(d, list) else d
        out.append((d[0], *(str(getattr(x, "name", x)) for x in d[1:4])))
    return sorted(out)


def test_the_cli_converts_a_populated_database_and_back(plain_db, capsys):
    from tests.schema_diff import compare

    pg_db = plain_db
    baseline = _diff_names(compare(pg_db))
    populate_old_schema(240)
    before = _fingerprint(pg_db)
    assert before["message"][0] == 240 and before["messageversion"][0] == 240 and before["messagenote"][0] == 24
    with get_engine().connect() as conn:
        assert not partitions.is_partitioned(conn, "message")  # migrated databases stay plain
    assert _cli("partitions") == 0
    assert "Not partitioned" in capsys.readouterr().out

    assert _cli("partitions", "enable") == 0
    out = capsys.readouterr().out
    assert "Partitioned by month" in out and "message 240" in out and "audit_log 20" in out, out
    assert _fingerprint(pg_db) == before
    engine = get_engine()
    with engine.connect() as conn:
        for table in partitions.PARTITIONED:
            assert partitions.is_partitioned(conn, table)
        assert partitions.default_rows(conn) == {"message": 1, "messageversion": 1, "audit_log": 0}  # the 11-year-old one
        assert conn.execute(sa.text("SELECT count(*) FROM message_key")).scalar() == 240
        spread = conn.execute(sa.text("SELECT count(DISTINCT tableoid) FROM message")).scalar()
        assert spread >= 5  # four or five months and the default
        misplaced = conn.execute(sa.text(
            "SELECT count(*) FROM message WHERE tableoid::regclass::text <> 'message_default' AND "
            "tableoid::regclass::text <> 'message_p' || to_char(received_at AT TIME ZONE 'UTC', 'YYYY_MM')")).scalar()
        assert misplaced == 0
        assert chain.verify(conn, "archive").ok and chain.verify(conn, "audit").ok
        fks = dict(conn.execute(sa.text(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE conname = 'messagenote_message_id_fkey'")).all())
        assert fks == {"messagenote": "message_key"}
        enabled = conn.execute(sa.text(
            "SELECT actor_label, detail FROM audit_log WHERE action = 'database.partitions_enabled'")).all()
        assert len(enabled) == 1 and "240" in str(enabled[0][1]), enabled
    # new work after the conversion: the ids go on from the old sequence, and the app sees the new layout
    new = ingest_messages(2, created=NOW, prefix="after")
    assert min(new) > 240 and ingest_messages(1, created=NOW, prefix="old") == []  # old0 is known already
    with session_scope() as s:
        s.add(MessageNote(message_id=new[0], user_id=s.exec(select(User.id)).first(), text="after"))
    after = _fingerprint(pg_db)
    assert _cli("partitions", "enable") == 2
    assert "already partitioned" in capsys.readouterr().err

    assert _cli("partitions", "disable") == 0
    assert "Converted back to plain tables" in capsys.readouterr().out
    with engine.connect() as conn:
        assert not partitions.is_partitioned(conn, "message")
        assert "message_key" not in sa.inspect(conn).get_table_names()
        fks = dict(conn.execute(sa.text(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE conname = 'messagenote_message_id_fkey'")).all())
        assert fks == {"messagenote": "message"}
        assert chain.verify(conn, "archive").ok and chain.verify(conn, "audit").ok
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action LIKE 'database.partitions_%'")).scalar() == 2
    assert _fingerprint(pg_db) == after
    # the plain layout refuses a duplicate external id again, and ingest still finds the known ones
    assert ingest_messages(1, created=NOW, prefix="after") == [] and len(ingest_messages(1, created=NOW, prefix="again")) == 1
    assert _diff_names(compare(pg_db)) == baseline  # the same schema as before it was partitioned


def test_the_cli_refuses_to_convert_while_the_app_is_connected(plain_db, capsys):
    import psycopg

    pg_db = plain_db
    ingest_messages(3, created=NOW, prefix="busy")
    worker = psycopg.connect(pg_db.replace("postgresql+psycopg://", "postgresql://"), application_name="govsocial-web")
    try:
        assert _cli("partitions", "enable") == 2
        err = capsys.readouterr().err
        assert "other connection(s)" in err and "govsocial-web" in err and "python -m jobs" in err, err
        with get_engine().connect() as conn:
            assert not partitions.is_partitioned(conn, "message")
            assert conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action LIKE 'database.partitions_%'")).scalar() == 0
    finally:
        worker.close()
    assert _cli("partitions", "enable") == 0
    assert _cli("partitions", "disable") == 0


def test_the_cli_on_sqlite_says_it_is_never_partitioned(db, capsys):
    assert _cli("partitions", "enable") == 2
    assert "never partitioned" in capsys.readouterr().out
    assert _cli("partitions") == 0


def test_the_cli_reports_the_default_partitions_and_creates_a_month(part_db, capsys):
    ingest_messages(1, created=datetime(2019, 7, 5, tzinfo=timezone.utc), prefix="cli")
    assert _cli("partitions") == 1
    out = capsys.readouterr().out
    assert "message_default: 1 row(s)" in out and "audit_log_default: 0 row(s)" in out
    assert _cli("partitions", "--month", "2019-07") == 0
    out = capsys.readouterr().out
    assert "message_p2019_07" in out and "message_default: 0 row(s)" in out
    assert _cli("partitions", "--month", "July") == 2
    assert "--month must look like 2026-03" in capsys.readouterr().err


def test_a_to_date_prunes_the_months_after_the_bound(part_db):
    """The inbox's `to` date reads each month's received_at index backwards from the bound, merged, and never the
    months after it."""
    from govsocial_app.services.inbox import stream

    ahead = partitions.add_months(THIS_MONTH, 2)
    ingest_messages(20, created=_at(LAST_MONTH), prefix="p")
    ingest_messages(20, created=NOW - timedelta(minutes=2), prefix="q")
    f = stream.InboxFilter(until=_at(LAST_MONTH, 20))
    with get_engine().connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + stream.page_sql(f, 0, get_engine())))
    assert f"Index Scan Backward using {partitions.partition_name('message', LAST_MONTH)}" in plan, plan
    for month in (THIS_MONTH, ahead):
        assert f"using {partitions.partition_name('message', month)}" not in plan, plan
    assert len(stream.list_page(f, 0, limit=50).cards) == 20


def test_first_ingest_analyses_message_key_and_the_month(part_db):
    from govsocial_app.services.inbox import ingest  # noqa: F401 (the path under test)

    month = partitions.partition_name("message", THIS_MONTH)
    with get_engine().connect() as conn:
        before = {r[0]: r[1] for r in conn.execute(sa.text(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN ('message_key', :m)"), {"m": month})}
    assert before == {"message_key": -1, month: -1}  # never analysed
    ingest_messages(20, created=NOW, prefix="first")
    with get_engine().connect() as conn:
        after = {r[0]: r[1] for r in conn.execute(sa.text(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN ('message_key', :m)"), {"m": month})}
    assert after == {"message_key": 20, month: 20}


def test_the_schema_check_excuses_only_the_declared_differences(part_db):
    """tests/schema_diff.compare drops the partitioned layout's deliberate differences, and nothing else: a missing
    index, a missing foreign key or a missing unique constraint on these tables is still reported."""
    from tests.schema_diff import compare

    def on_our_tables(diff):
        names = {"message", "messageversion", "audit_log", "message_key", "messagenote"}
        return [d for d in diff if isinstance(d, tuple) and getattr(getattr(d[1], "table", None), "name", None) in names
                and "search_tsv" not in str(d) and "ix_message_search" not in str(d)]  # 0013's, known to the models' tests

    assert on_our_tables(compare(part_db)) == []
    with get_engine().begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_message_lang"))
        conn.execute(sa.text("ALTER TABLE messagenote DROP CONSTRAINT messagenote_message_id_fkey"))
        conn.execute(sa.text("ALTER TABLE messageversion DROP CONSTRAINT uq_message_version"))
    found = {(d[0], getattr(d[1], "name", None) or d[1].table.name) for d in on_our_tables(compare(part_db))}
    assert {("add_index", "ix_message_lang"), ("add_fk", "messagenote"), ("add_constraint", "uq_message_version")} <= found, found
