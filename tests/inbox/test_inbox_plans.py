"""Inbox pages on both databases: cards in a fixed number of statements whatever the page holds, every card detail
still right, the VIP filter's per-member plan on PostgreSQL paging like the plain filter, and migration 0013's
indexes as the models declare them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, text
from sqlmodel import select

from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import (
    Claim, ClaimMatch, Message, MessageModeration, MessageVersion, ModerationAction, Tag, Team,
)
from govsocial_app.services.inbox import stream, vip
from govsocial_app.services.records import moderation
from tests.inbox.conftest import T0, msg
from tests.schema_diff import model_diff


@pytest.fixture(params=["sqlite", "postgresql"])
def _dialect(request) -> str:
    return request.param


@pytest.fixture
def db(_dialect, request, _migrated_template, tmp_path):
    """This module's database is the parameter's, for every fixture that asks for `db` (the inbox's `profile`,
    `actor_factory`): asking for `pg_db` and then for a fixture that takes `db` ran the PostgreSQL cases on SQLite."""
    if _dialect == "postgresql":
        yield request.getfixturevalue("pg_db")
        return
    from tests.conftest import fresh_sqlite

    yield from fresh_sqlite(_migrated_template, tmp_path)


@pytest.fixture
def backend(_dialect, db) -> str:
    assert get_engine().dialect.name == _dialect
    return _dialect


@pytest.fixture
def page_store(backend, store):
    yield store
    assert get_engine().dialect.name == backend  # nothing pointed the app at another database on the way


class _Statements:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args) -> None:
        self.count += 1


def _statements_for(fn) -> int:
    """Statements sent to the database while fn runs: through SQLAlchemy (its cursor event) and through the page's
    driver cursors (stream._driver_rows, which SQLAlchemy's events do not see)."""
    counter = _Statements()
    engine = get_engine()
    driver_rows = stream._driver_rows

    def counted(conn, sql, params):
        counter()
        return driver_rows(conn, sql, params)

    event.listen(engine, "before_cursor_execute", counter)
    stream._driver_rows = counted
    try:
        fn()
    finally:
        stream._driver_rows = driver_rows
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count


def _decorate(ids: list[int], actor) -> dict[str, int]:
    """Give these messages every kind of card detail: tags, a VIP label, an assignee, a claim, a team, moderation."""
    stream.add_tag(ids, "Roads", actor)
    stream.add_tag(ids[:2], "Bridges", actor)
    list_id = vip.create_list("Reporters", actor)
    vip.add_member(list_id, "simulator", "@citizen1", "Citizen", actor)
    second = vip.create_list("Alpha list", actor)
    vip.add_member(second, "simulator", "@citizen1", "Citizen", actor)
    stream.assign(ids, actor.user_id, actor)
    with session_scope() as s:
        claim = Claim(text="The   bridge is closed for a whole year because of cracks found in every pillar of it", correction="No")
        team = Team(name="Roads team", name_ar="فريق الطرق")
        s.add_all([claim, team])
        s.flush()
        s.add(ClaimMatch(claim_id=claim.id, message_id=ids[0]))
        s.get(Message, ids[0]).team_id = team.id
        # Moderated once (an archive version that is not an edit), and a second message edited by its author.
        s.add(MessageModeration(message_id=ids[0], state="hidden", clause="3.2"))
        s.add(MessageVersion(message_id=ids[0], version=2, change="moderation", text="x"))
        s.get(Message, ids[0]).version = 2
        s.add(MessageVersion(message_id=ids[1], version=2, change="edited", text="y"))
        s.get(Message, ids[1]).version = 2
        return {"team": team.id, "list": list_id}


def test_cards_carry_every_detail_in_two_statements_whatever_the_page_holds(page_store, actor_factory):
    manager = actor_factory("manager")
    (lone,) = page_store([msg(100, "A plain message", handle="@someone")], T0 - timedelta(days=1))
    bare = _statements_for(lambda: stream.list_page(stream.InboxFilter(), 0))
    ids = page_store([msg(n) for n in range(1, 21)])
    _decorate(ids[:3], manager)

    page = None

    def read():
        nonlocal page
        page = stream.list_page(stream.InboxFilter(), 0)

    full = _statements_for(read)
    assert bare == full == 2, (bare, full)  # the page's rows, then one statement for everything on its cards
    cards = {c.id: c for c in page.cards}
    assert set(cards) == set(ids) | {lone}
    first, second, third = (cards[i] for i in ids[:3])
    assert first.tags == ("Bridges", "Roads") and second.tags == ("Bridges", "Roads") and third.tags == ("Roads",)
    assert first.vip_lists == ("Alpha list", "Reporters") and second.vip_lists == ()
    assert first.assignee == manager.label.split(" <")[0] and cards[ids[5]].assignee == ""
    assert first.claims == ("Claim: The bridge is closed for a whole year because of cracks fou…",)
    assert second.claims == ()
    assert (first.team, first.team_ar) == ("Roads team", "فريق الطرق") and second.team == ""
    assert (first.moderation, first.moderation_clause) == ("hidden", "3.2") and second.moderation == ""
    assert first.edited is False and second.edited is True and third.edited is False
    assert first.profile == "@cityofriverton" and cards[lone].tags == ()
    # A card read on its own (the live relay) and in the message's detail are the same card.
    assert stream.cards_by_id([ids[0]])[ids[0]] == first
    # The detail reads its card's extras with the rest of the message (stream._DETAIL_EXTRAS), not as a page does.
    assert [stream.detail(i).card for i in (ids[0], ids[1], ids[2], ids[5], lone)] == [first, second, third, cards[ids[5]], cards[lone]]


def test_vip_filter_pages_newest_first_across_members(page_store, actor_factory):
    manager = actor_factory("manager")
    handles = ["@vip_a", "@VIP_B", "@vip_c", "@other"]
    ids = page_store([msg(n, handle=handles[n % 4]) for n in range(1, 41)])
    list_id = vip.create_list("Press", manager)
    for h in ("vip_a", "vip_b", "vip_c"):
        vip.add_member(list_id, "simulator", h, h, manager)
    stream.set_status(ids[:10], "completed", manager)
    numbered = list(zip(range(1, 41), ids))  # message n is by handles[n % 4]: n % 4 == 3 is not on the list
    for f, first_n in ((stream.InboxFilter(vip_list_id=list_id), 1), (stream.InboxFilter(vip_list_id=list_id, status="open"), 11)):
        expected = sorted((i for n, i in numbered if n % 4 != 3 and n >= first_n), reverse=True)
        got, before = [], None
        while True:
            page = stream.list_page(f, 0, before_id=before, limit=7)
            got += [c.id for c in page.cards]
            if page.next_before_id is None:
                break
            before = page.next_before_id
        assert got == expected


def test_migration_0013_indexes_match_the_models(backend):
    url = get_engine().url.render_as_string(hide_password=False)
    assert model_diff(url, columns={("message", "author_key")}) == []
    if backend == "postgresql":
        with get_engine().connect() as conn:
            definition = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_message_search'")).scalar_one()
        assert "status" in definition and "profile_id" in definition and "gin_pending_list_limit='512'" in definition, definition


def _uncached_cards(f: stream.InboxFilter, user_id: int, *, before_id=None, max_id=None, limit: int = 50) -> list:
    """The page as SQLAlchemy builds, binds and reads it: what list_page's cached driver path must equal."""
    with get_engine().connect() as conn:
        stmt = stream.page_statement(f, user_id, conn.dialect.name, before_id=before_id, max_id=max_id, limit=limit)
        return stream._cards(conn, conn.execute(stmt).all())


def test_the_cached_statement_binds_each_calls_values(page_store, actor_factory):
    """One compiled statement per filter shape: a second filter of the same shape with other values must get its own
    rows (nothing of the first call's values baked in), and every card equals the one SQLAlchemy's own path reads."""
    manager = actor_factory("manager")
    early = page_store([msg(n, lang="ar" if n % 3 else "en", kind="dm" if n % 2 else "mention",
                            network="mastodon" if n % 5 == 0 else "simulator") for n in range(1, 31)], T0 - timedelta(days=3))
    late = page_store([msg(n, text=f"Water main {n}" if n % 2 else f"Bins {n}") for n in range(31, 61)], T0)
    stream.set_status(early[:12], "completed", manager)
    stream.assign(late[:5], manager.user_id, manager)
    roads = stream.add_tag(early[3:9], "Roads", manager)
    bins = stream.add_tag(late[::3], "Bins", manager)
    pairs = [
        (stream.InboxFilter(status="open"), stream.InboxFilter(status="completed")),
        (stream.InboxFilter(lang="ar", kind="dm"), stream.InboxFilter(lang="en", kind="mention")),
        (stream.InboxFilter(network="mastodon"), stream.InboxFilter(network="simulator")),
        (stream.InboxFilter(tag_id=roads), stream.InboxFilter(tag_id=bins)),
        (stream.InboxFilter(since=T0 - timedelta(days=1)), stream.InboxFilter(since=T0 - timedelta(days=4))),
        (stream.InboxFilter(until=T0 - timedelta(days=1)), stream.InboxFilter(until=T0 + timedelta(days=1))),
        (stream.InboxFilter(q="water"), stream.InboxFilter(q="bins")),
        (stream.InboxFilter(q="water", status="open"), stream.InboxFilter(q="bins", status="completed")),
    ]
    for a, b in pairs:
        got_a = stream.list_page(a, manager.user_id, limit=7)
        got_b = stream.list_page(b, manager.user_id, limit=7)
        assert got_a.cards == _uncached_cards(a, manager.user_id, limit=7), a
        assert got_b.cards == _uncached_cards(b, manager.user_id, limit=7), b
        all_a, all_b = ({c.id for c in stream.list_page(x, manager.user_id, limit=100).cards} for x in (a, b))
        assert all_a and all_b and all_a != all_b, (a, b)
        if got_a.next_before_id:
            nxt = stream.list_page(a, manager.user_id, before_id=got_a.next_before_id, max_id=got_a.top_id, limit=7)
            assert nxt.cards == _uncached_cards(a, manager.user_id, before_id=got_a.next_before_id, max_id=got_a.top_id, limit=7)
    mine = stream.InboxFilter(assigned="me")
    assert {c.id for c in stream.list_page(mine, manager.user_id).cards} == set(late[:5])
    assert stream.list_page(mine, manager.user_id + 1000).cards == []  # the same shape, another reader: nothing baked in
    # A card's dates are aware UTC and its rule log a list, as SQLAlchemy returns them.
    card = stream.list_page(stream.InboxFilter(), 0, limit=1).cards[0]
    assert card.received_at == T0 and card.received_at.utcoffset() == timedelta(0)


def test_a_to_date_pages_by_arrival_time_and_keeps_history_stored_late(page_store):
    """With a `to` date the page is ordered by received_at (the index on it is read from the bound down); history
    stored after newer messages (backfill: received when it was written) takes its place by date, paging reads every
    match exactly once, and what is stored after the first page is counted as new, not slipped into later pages."""
    old = page_store([msg(n) for n in range(1, 6)], T0 - timedelta(days=3))
    page_store([msg(n) for n in range(6, 11)], T0)  # newer than the bound
    history = page_store([msg(n) for n in range(11, 15)], T0 - timedelta(days=2))  # stored last, dated before the bound
    f = stream.InboxFilter(until=T0 - timedelta(days=1))
    first = stream.list_page(f, 0, limit=3)
    assert [c.id for c in first.cards] == sorted(history, reverse=True)[:3]
    assert first.top_id == max(history)  # the stream's newest id, not the first card's
    got, page = [c.id for c in first.cards], first
    while page.next_before_id:
        page = stream.list_page(f, 0, before_id=page.next_before_id, max_id=first.top_id, limit=3)
        got += [c.id for c in page.cards]
    assert got == sorted(history, reverse=True) + sorted(old, reverse=True)
    late = page_store([msg(20)], T0 - timedelta(days=2, hours=12))  # more history arrives while the user reads
    again = stream.list_page(f, 0, max_id=first.top_id, limit=50)
    assert late[0] not in {c.id for c in again.cards}
    assert stream.count_newer(f, 0, first.top_id) == 1


def test_a_to_date_is_served_by_the_received_at_index_without_a_sort(backend, page_store):
    """The plan reads ix_message_received from the bound downwards: no sort of every match (SQLite's plan names the
    index; PostgreSQL, with sorting and sequential scans priced out, still finds a plan without a Sort node)."""
    page_store([msg(n) for n in range(1, 40)], T0 - timedelta(days=3))
    f = stream.InboxFilter(until=T0 - timedelta(days=1))
    with get_engine().connect() as conn:
        for before in (None, stream.list_page(f, 0, limit=5).next_before_id):
            sql = stream.page_sql(f, 0, get_engine(), before_id=before)
            if backend == "sqlite":
                plan = " | ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                assert "ix_message_received" in plan and "TEMP B-TREE" not in plan, plan
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")
                conn.exec_driver_sql("SET enable_sort = off")
                lines = [r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql)]
                nodes = [line.split("->")[-1].strip() for line in lines if "->" in line or line is lines[0]]
                plan = " | ".join(lines)
                # Read backwards from the bound; only ties on one received_at are sorted (an incremental sort).
                # On a database partitioned by month (`cli partitions enable`; GOVSOCIAL_TEST_PARTITIONED=1) each
                # month's copy of the index is its partition, merged in received_at order, and the months after the
                # bound are not read at all.
                months = set(conn.exec_driver_sql(
                    "SELECT relname FROM pg_class WHERE oid = CAST('ix_message_received' AS regclass) OR oid IN "
                    "(SELECT inhrelid FROM pg_inherits WHERE inhparent = CAST('ix_message_received' AS regclass))").scalars())
                used = {n for n in months if f"Index Scan Backward using {n} " in plan}
                assert used and not [n for n in nodes if n.startswith(("Seq Scan", "Bitmap"))], plan
                assert not [n for n in nodes if n.startswith("Sort")] and "Presorted Key: " in plan, plan


def test_an_opened_message_reads_in_two_statements_whatever_it_holds(page_store, actor_factory):
    ana, ben = actor_factory("manager", "Ana Manager"), actor_factory("responder", "Ben Responder")
    first, second, gone = page_store([msg(n, f"Thread message {n}", conversation="thread-1") for n in (1, 2, 3)])
    (other,) = page_store([msg(9, "Another thread", conversation="thread-2")])
    with session_scope() as s:
        m = s.get(Message, first)
        s.get(Message, gone).deleted_at = T0
        key, network, profile_id = m.conversation_key, m.network, m.profile_id
        # Two answers of ours in the thread (one sent by Ben, one that failed) and one in the other thread.
        def out(n, status, by, ckey=key):
            return Message(network=network, external_id=f"out-{n}", profile_id=profile_id, direction="out", kind="reply",
                           conversation_key=ckey, in_reply_to_external_id=m.external_id if ckey == key else "",
                           text=f"Our answer {n}", created_at=T0 + timedelta(minutes=10 + n), status=status,
                           sent_by_id=by, url="javascript:alert(1)" if n == 1 else "https://x.example/out")
        replies_ = [out(1, "sent", ben.user_id), out(2, "failed", ana.user_id), out(3, "sent", ana.user_id, "thread-2")]
        s.add_all(replies_)
        s.add(MessageVersion(message_id=first, version=3, change="edited", text="third text", captured_at=T0 + timedelta(hours=1)))
        s.add(MessageVersion(message_id=first, version=2, change="edited", text="second text", captured_at=T0 + timedelta(hours=2)))
        s.add(MessageModeration(message_id=second, state="hidden", clause="3.2", author_state="muted"))
        s.add(ModerationAction(message_id=second, network=network, action="hide", clause="3.2", status="done",
                               requested_by=ana.user_id, confirmed_by=ben.user_id, response={"state": "hidden"}))
        s.add(ModerationAction(message_id=second, network=network, action="block", clause="3.2", status="awaiting_confirmation"))
        s.flush()
        sent_id = replies_[0].id
    stream.add_tag([first], "Roads", ana)
    stream.add_tag([first], "Bridges", ana)
    stream.add_tag([first], "Old", ana)
    with session_scope() as s:
        tag_names = {t.id: t.name for t in s.exec(select(Tag)).all()}
    stream.remove_tag([first], next(i for i, n in tag_names.items() if n == "Old"), ana)
    stream.add_note(first, "Called the roads team", ben)
    stream.add_note(first, "They will call back", ana)

    d = None

    def read():
        nonlocal d
        d = stream.detail(first)

    assert _statements_for(read) == 2  # the row with its reply baseline; its thread, notes, versions, tags and card extras
    assert d.card == stream.cards_by_id([first])[first] and d.text == "Thread message 1"
    assert [(t.id, t.direction, t.sent_by) for t in d.conversation] == [
        (first, "in", ""), (second, "in", ""), (sent_id, "out", "Ben Responder"), (sent_id + 1, "out", "Ana Manager")]
    assert d.conversation[2].url == "" and d.conversation[3].url == "https://x.example/out"  # links checked on the way out
    assert d.last_reply_id == sent_id  # the failed answer is no baseline for the reply guard
    assert [(n.author, n.text) for n in d.notes] == [("Ben Responder", "Called the roads team"), ("Ana Manager", "They will call back")]
    assert [(v.version, v.text) for v in d.versions][-2:] == [(2, "second text"), (3, "third text")]
    assert [v.version for v in d.versions] == sorted(v.version for v in d.versions)
    assert sorted(tag_names[t] for t in d.tag_ids) == ["Bridges", "Roads"]
    assert d.assignee_id is None
    assert stream.detail(other).last_reply_id == sent_id + 2 and stream.detail(other).notes == []
    # What the opened comment's moderation panel reads, on this database too.
    st = moderation.standing(second, ana)
    assert (st.state, st.clause, st.author_state) == ("hidden", "3.2", "muted")
    assert [(v.action, v.requested_by, v.confirmed_by, v.response) for v in moderation.history(second, ana)] == [
        ("hide", "Ana Manager", "Ben Responder", {"state": "hidden"}), ("block", "system", "", {})]
    assert [v.action for v in st.pending] == ["block"] and st.last == st.pending[0]
    assert moderation.standing(first, ana) == moderation.Standing("visible", "", "", [], None)
    with pytest.raises(stream.UserError, match="does not exist"):
        stream.detail(gone)
    with pytest.raises(stream.UserError, match="does not exist"):
        stream.detail(10**9)
