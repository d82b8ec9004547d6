"""Inbox pages on both databases: cards in a fixed number of statements whatever the page holds, every card detail
still right, the VIP filter's per-member plan on PostgreSQL paging like the plain filter, and migration 0013's
indexes as the models declare them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, text

from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import Claim, ClaimMatch, Message, MessageModeration, MessageVersion, Team
from govsocial_app.services.inbox import stream, vip
from tests.inbox.conftest import T0, msg
from tests.schema_diff import model_diff


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")
    return request.param


@pytest.fixture
def page_store(backend, request):
    return request.getfixturevalue("store")


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
    assert stream.detail(ids[0]).card == first


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
