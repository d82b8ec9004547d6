"""The ingest path on both databases: PostgreSQL stores new messages through its own bulk statement, SQLite
through SQLAlchemy's bulk insert, and both must dedupe, archive and search alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone

import pytest
from sqlmodel import select

from connectors.base import Author, InboundMessage
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, MessageVersion, SocialProfile
from govsocial_app.services.inbox import ingest, stream
from tests.inbox.conftest import T0, msg


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")
    return request.param


@pytest.fixture
def profile_id(backend) -> int:
    with session_scope() as s:
        p = SocialProfile(network="simulator", handle="@cityofriverton", display_name="City of Riverton", external_id="riverton")
        s.add(p)
        s.flush()
        return p.id


def _store(messages, **kw) -> ingest.IngestResult:
    with session_scope() as s:
        return ingest.store(s, messages, **kw)


def _utc(dt):
    return dt.replace(tzinfo=timezone.utc) if dt is not None and dt.tzinfo is None else dt  # SQLite gives naive UTC


def _versions(message_id: int) -> list[tuple[int, str, str]]:
    with session_scope() as s:
        rows = s.exec(select(MessageVersion).where(MessageVersion.message_id == message_id).order_by(MessageVersion.version)).all()
        return [(v.version, v.change, v.text) for v in rows]


AWKWARD = ['NULL', 'null', 'a "quoted" word', 'back\\slash', '{braces}, commas', 'line\nbreak\ttab', "it's", 'فيضان 🌊']


def test_new_messages_are_stored_once_with_their_created_version(profile_id):
    page = [msg(n, text) for n, text in enumerate(AWKWARD, start=1)] + [replace(msg(40), text='')]
    page.append(replace(msg(50), deleted=True))  # first seen already deleted
    page.append(replace(msg(51), author=Author("a51", "@Big", "", followers=2_000_000_000)))
    first = _store(page, profile_id=profile_id, now=T0)
    assert len(first.new_ids) == len(page) and first.versioned_ids == [] and first.skipped == 0
    with session_scope() as s:
        rows = {m.id: m for m in s.exec(select(Message)).all()}
    # new_ids follow the page's order, and each id is the row of that message
    assert [rows[i].external_id for i in first.new_ids] == [m.external_id for m in page]
    for m, mid in zip(page, first.new_ids):
        row = rows[mid]
        assert (row.text, row.profile_id, row.keyword_id, row.version, row.status) == (m.text, profile_id, None, 1, "open")
        assert _utc(row.received_at) == T0 and _utc(row.network_deleted_at) == (T0 if m.deleted else None)
        assert _versions(mid) == [(1, "created", m.text)]
    assert rows[first.new_ids[-1]].author_followers == 2_000_000_000 and rows[first.new_ids[-1]].author_name == "@Big"
    # a re-poll of the same page (plus one new message) stores only the new one
    again = _store([*page, msg(60)], profile_id=profile_id, now=T0 + timedelta(minutes=5))
    assert len(again.new_ids) == 1 and again.versioned_ids == []
    with session_scope() as s:
        assert len(s.exec(select(Message)).all()) == len(page) + 1
        assert len(s.exec(select(MessageVersion)).all()) == len(page) + 1


def test_edits_and_deletions_in_and_across_pages_keep_every_version(profile_id):
    original = msg(7, "The shelter on Elm St is full")
    edited = replace(original, text="The shelter on Elm St is full; use the school gym")
    other = msg(8, "Power is out on 5th Ave")
    result = _store([original, other, edited, replace(edited, likes=4)], profile_id=profile_id, now=T0)
    a, b = result.new_ids
    assert result.versioned_ids == []  # new this page: its edit is part of arriving
    later = _store([replace(edited, deleted=True), replace(other, text="Power is back on 5th Ave")], profile_id=profile_id, now=T0)
    assert later.new_ids == [] and sorted(later.versioned_ids) == sorted([a, b])
    assert _versions(a) == [
        (1, "created", "The shelter on Elm St is full"),
        (2, "edited", "The shelter on Elm St is full; use the school gym"),
        (3, "deleted", "The shelter on Elm St is full; use the school gym"),
    ]
    assert _versions(b) == [(1, "created", "Power is out on 5th Ave"), (2, "edited", "Power is back on 5th Ave")]
    with session_scope() as s:
        row = s.get(Message, a)
        assert (row.likes, row.version, _utc(row.network_deleted_at)) == (4, 3, T0)


def test_pages_larger_than_one_chunk_and_duplicates_across_chunks(profile_id):
    n = ingest._CHUNK * 2 + 37
    page = [msg(i, f"Report {i} of fallen trees", network="simulator" if i % 3 else "mastodon") for i in range(n)]
    page += page[::7]  # the same messages again, later in the page
    page.append(InboundMessage(network="simulator", external_id="", author=Author("x", "@x"), text="no id", created_at=T0))
    result = _store(page, profile_id=profile_id, keyword_id=None, now=T0, backfill=True)
    assert len(result.new_ids) == n and len(set(result.new_ids)) == n and result.skipped == 1
    with session_scope() as s:
        stored = s.exec(select(Message)).all()
        assert len(stored) == n
        assert all(_utc(m.received_at) == _utc(m.created_at) for m in stored)  # backfill keeps the times of writing
        assert len(s.exec(select(MessageVersion)).all()) == n


def test_long_external_ids_dedupe_on_the_stored_prefix(profile_id):
    long_id = "x" * 400
    first = _store([replace(msg(1), external_id=long_id)], profile_id=profile_id, now=T0)
    again = _store([replace(msg(1), external_id=long_id[:300] + "y" * 50)], profile_id=profile_id, now=T0)
    assert len(first.new_ids) == 1 and again.new_ids == []


def test_search_finds_what_ingest_stored(profile_id, backend):
    a, b, c = _store([
        msg(1, "Water rising fast #FloodWatch near the bridge"),
        msg(2, "Bins were missed on Elm St", handle="@dana", name="Dana Whitfield"),
        msg(3, "الفيضان وصل إلى الشارع الرئيسي", lang="ar"),
    ], profile_id=profile_id, now=T0).new_ids
    found = lambda q: [card.id for card in stream.list_page(stream.InboxFilter(q=q), 0).cards]  # noqa: E731
    assert found("flood") == [a] and found("watch") == [a] and found("whitfield") == [b] and found("فيضان") == [c]
    _store([msg(2, "Bins collected on Elm St now", handle="@dana", name="Dana Whitfield")], profile_id=profile_id, now=T0)
    assert found("collected") == [b] and found("missed") == []


def test_postgresql_table_is_analysed_on_first_ingest(pg_db):
    from govsocial_app.db import partitions

    with session_scope() as s:
        tables = ["message"]
        if partitions.message_partitioned(s.connection()):  # GOVSOCIAL_TEST_PARTITIONED=1: message_key and T0's month
            month = partitions.month_start(T0)
            partitions.ensure(s.connection(), [month])  # there whenever the test runs
            tables = ["message_key", partitions.partition_name("message", month)]

        def reltuples() -> list[float]:
            return [s.connection().exec_driver_sql(f"SELECT reltuples FROM pg_class WHERE relname = '{t}'").scalar() for t in tables]

        assert all(n < 0 for n in reltuples())  # never analysed
        ingest.store(s, [msg(i) for i in range(20)], profile_id=None, now=T0)
        assert reltuples() == [20] * len(tables)
