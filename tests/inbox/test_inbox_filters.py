"""Every inbox filter, combined filters, URL round trips, and keyset pagination that stays still while messages arrive."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl

import pytest

from govsocial_app.services.inbox import stream, vip
from govsocial_app.services.errors import UserError
from tests.inbox.conftest import T0, msg


def ids(f: stream.InboxFilter, user_id: int = 0, **kw) -> list[int]:
    return [c.id for c in stream.list_page(f, user_id, **kw).cards]


def test_newest_first_and_keyset_pages(store):
    all_ids = store([msg(n) for n in range(120)])
    first = stream.list_page(stream.InboxFilter(), 0, limit=50)
    assert [c.id for c in first.cards] == sorted(all_ids, reverse=True)[:50]
    second = stream.list_page(stream.InboxFilter(), 0, before_id=first.next_before_id, limit=50)
    third = stream.list_page(stream.InboxFilter(), 0, before_id=second.next_before_id, limit=50)
    seen = [c.id for p in (first, second, third) for c in p.cards]
    assert sorted(seen) == sorted(all_ids) and len(seen) == len(set(seen))
    assert third.next_before_id is None


def test_pages_are_stable_while_new_messages_arrive(store):
    store([msg(n) for n in range(100)])
    first = stream.list_page(stream.InboxFilter(), 0, limit=30)
    store([msg(n) for n in range(100, 140)])  # 40 arrive while the user reads
    again = stream.list_page(stream.InboxFilter(), 0, max_id=first.top_id, limit=30)
    assert [c.id for c in again.cards] == [c.id for c in first.cards]
    second = stream.list_page(stream.InboxFilter(), 0, before_id=first.next_before_id, max_id=first.top_id, limit=30)
    assert not set(c.id for c in second.cards) & set(c.id for c in first.cards)
    assert stream.count_newer(stream.InboxFilter(), 0, first.top_id) == 40


def test_status_assigned_and_kind_filters(store, actor_factory):
    me = actor_factory("responder", "Ana Responder")
    other = actor_factory("responder", "Ben Responder")
    a, b, c, d = store([msg(1), msg(2, kind="dm"), msg(3, kind="comment"), msg(4)])
    stream.set_status([a], "completed", me)
    stream.assign([b], me.user_id, me)
    stream.assign([c], other.user_id, me)
    assert ids(stream.InboxFilter(status="completed")) == [a]
    assert set(ids(stream.InboxFilter(status="open"))) == {b, c, d}
    assert ids(stream.InboxFilter(assigned="me"), me.user_id) == [b]
    assert set(ids(stream.InboxFilter(assigned="unassigned"), me.user_id)) == {a, d}
    assert ids(stream.InboxFilter(kind="dm")) == [b]
    assert ids(stream.InboxFilter(kind="comment", assigned="me"), other.user_id) == [c]


def test_network_profile_lang_and_date_filters(store, profile):
    a, b, c = store([msg(1, lang="ar", text="متى تفتح الطرق"), msg(2, network="mastodon"), msg(3, when=T0 + timedelta(days=2))])
    assert ids(stream.InboxFilter(lang="ar")) == [a]
    assert ids(stream.InboxFilter(network="mastodon")) == [b]
    assert set(ids(stream.InboxFilter(profile_id=profile))) == {a, b, c}
    assert ids(stream.InboxFilter(profile_id=profile + 999)) == []
    # received_at drives the date filter; these were stored with received_at = T0.
    assert set(ids(stream.InboxFilter(since=T0 - timedelta(hours=1), until=T0 + timedelta(hours=1)))) == {a, b, c}
    assert ids(stream.InboxFilter(since=T0 + timedelta(hours=1))) == []


def test_a_link_may_name_a_tag_instead_of_its_id(store, actor_factory):
    """`/inbox?tag=Roads` is what a person writes in a message to a colleague; it must open that tag's messages."""
    me = actor_factory("responder")
    a, _b = store([msg(1), msg(2)])
    tag_id = stream.add_tag([a], "Roads", me)
    for raw in ("Roads", "roads", str(tag_id)):
        params = stream.canonical_params({"tag": raw, "status": "open"})
        assert params == {"tag": str(tag_id), "status": "open"}
        assert ids(stream.filter_from_params(params)) == [a]
    with pytest.raises(UserError, match="no tag called “Bridges”"):
        stream.canonical_params({"tag": "Bridges"})
    assert stream.canonical_params({"status": "open"}) == {"status": "open"}


def test_tag_filter_and_untag(store, actor_factory):
    me = actor_factory("responder")
    a, b = store([msg(1), msg(2)])
    tag_id = stream.add_tag([a, b], "Roads", me)
    assert set(ids(stream.InboxFilter(tag_id=tag_id))) == {a, b}
    stream.remove_tag([b], tag_id, me)
    assert ids(stream.InboxFilter(tag_id=tag_id)) == [a]
    assert stream.list_page(stream.InboxFilter(), 0).cards[-1].tags == ("Roads",)


def test_vip_filter_and_label(store, actor_factory):
    manager = actor_factory("manager")
    a, b = store([msg(1, handle="@Dana_Reports", name="Dana Whitfield"), msg(2)])
    list_id = vip.create_list("Reporters", manager)
    vip.add_member(list_id, "simulator", "@dana_reports", "Dana", manager)
    assert ids(stream.InboxFilter(vip_list_id=list_id)) == [a]
    cards = {c.id: c for c in stream.list_page(stream.InboxFilter(), 0).cards}
    assert cards[a].vip_lists == ("Reporters",) and cards[b].vip_lists == ()


@pytest.mark.parametrize(
    "query, expected",
    [("bins", {1, 2}), ("flood", {3}), ("فيضان", {4}), ("Whitfield", {2}), ("#floodwatch", {3}), ("bin", {1, 2}), ("nothing-like-this", set())],
)
def test_free_text_search_over_text_and_author(store, query, expected):
    got = store([
        msg(1, "When do the bins get collected?"),
        msg(2, "Bins were missed on Elm St", handle="@dana", name="Dana Whitfield"),
        msg(3, "Water rising fast #FloodWatch near the bridge"),
        msg(4, "الفيضان وصل إلى الشارع الرئيسي", lang="ar"),
    ])
    number = dict(zip(got, (1, 2, 3, 4)))
    assert {number[i] for i in ids(stream.InboxFilter(q=query))} == expected


def test_arabic_search_ignores_diacritics(store):
    (a,) = store([msg(1, "الفَيَضَانُ قادمٌ", lang="ar")])
    assert ids(stream.InboxFilter(q="فيضان")) == [a]


def test_combined_filters(store, actor_factory):
    me = actor_factory("responder")
    a, b, c = store([msg(1, "bins late", kind="dm"), msg(2, "bins late"), msg(3, "roads closed", kind="dm")])
    stream.assign([a, c], me.user_id, me)
    assert ids(stream.InboxFilter(q="bins", kind="dm", assigned="me", status="open"), me.user_id) == [a]


def test_filters_round_trip_through_the_url():
    f = stream.InboxFilter(network="simulator", profile_id=3, tag_id=4, status="open", assigned="me", vip_list_id=2,
                          lang="ar", kind="dm", since=T0, until=T0 + timedelta(days=1), q="water main")
    assert stream.filter_from_params(dict(parse_qsl(f.to_query()))) == f


@pytest.mark.parametrize(
    "params, message",
    [({"status": "pending"}, "Status"), ({"profile": "abc"}, "profile"), ({"since": "yesterday"}, "from"),
     ({"since": "2026-11-24", "until": "2026-11-23"}, "after"), ({"kind": "fax"}, "Message type")],
)
def test_bad_filter_values_get_clear_messages(params, message):
    with pytest.raises(UserError, match=message):
        stream.filter_from_params(params)


def test_saved_views_are_per_user(db, actor_factory):
    a, b = actor_factory("responder"), actor_factory("responder")
    assert [v.name for v in stream.saved_views(a.user_id)][:1] == ["My open"]
    stream.save_view(a.user_id, "Arabic", stream.InboxFilter(lang="ar"), a)
    assert "Arabic" in [v.name for v in stream.saved_views(a.user_id)]
    assert "Arabic" not in [v.name for v in stream.saved_views(b.user_id)]
    with pytest.raises(UserError):
        stream.delete_view(next(v.id for v in stream.saved_views(a.user_id) if v.name == "Arabic"), b)


def test_two_first_stores_at_once_on_postgresql_write_the_starter_views_once(pg_db, actor_factory, monkeypatch):
    """A new person's starter views are stored by their first saved view or records scope; two at once (a phone and a
    desk, on two workers) both find no stored views, and only one writes the starter views; the other reads them."""
    import threading

    from sqlmodel import func, select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SavedView

    person = actor_factory("responder")
    both_read = threading.Barrier(2, timeout=10)
    seen = threading.local()
    real = stream._views_of

    def views_of(s, user_id):
        rows = real(s, user_id)
        if not getattr(seen, "first", False):
            seen.first = True
            both_read.wait()  # each has seen no views before either writes any
        return rows

    monkeypatch.setattr(stream, "_views_of", views_of)
    got: list[list[str]] = []
    errors: list[BaseException] = []

    def first_store():
        try:
            got.append([v.name for v in stream.stored_views(person.user_id)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_store) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    assert got == [["My open", "Crisis"], ["My open", "Crisis"]]
    with session_scope() as s:
        assert s.exec(select(func.count()).select_from(SavedView).where(SavedView.user_id == person.user_id)).one() == 2


def _stored(user_id: int) -> list[tuple[str, int]]:
    from sqlmodel import select

    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SavedView

    with session_scope() as s:
        return [(v.name, v.position) for v in s.exec(select(SavedView).where(SavedView.user_id == user_id).order_by(SavedView.position))]


def test_a_first_inbox_load_shows_the_starter_views_and_writes_nothing(db, actor_factory):
    from tests.statements import sent_statements

    person = actor_factory("responder")
    stream.saved_views(person.user_id)  # the starter views' menu read is kept per process; this test is about writes
    with sent_statements() as seen:
        views = stream.saved_views(person.user_id)
    assert [(v.name, v.id) for v in views] == [("My open", stream.STARTER_VIEW_ID), ("Crisis", stream.STARTER_VIEW_ID)]
    assert views[0].query == "status=open&assigned=me"
    assert not [q for q in seen if q.startswith(("insert", "update", "delete")) or "for update" in q]
    assert _stored(person.user_id) == []


def test_the_first_saved_view_stores_the_starter_views_before_it(db, actor_factory):
    person = actor_factory("responder")
    stream.save_view(person.user_id, "Arabic", stream.InboxFilter(lang="ar"), person)
    assert _stored(person.user_id) == [("My open", 0), ("Crisis", 1), ("Arabic", 2)]
    views = stream.saved_views(person.user_id)
    assert [v.name for v in views] == ["My open", "Crisis", "Arabic"]
    assert all(v.id != stream.STARTER_VIEW_ID for v in views)
    stream.save_view(person.user_id, "Roads", stream.InboxFilter(status="open"), person)  # stored once, not again
    assert [n for n, _ in _stored(person.user_id)] == ["My open", "Crisis", "Arabic", "Roads"]


def test_starter_views_not_yet_stored_follow_a_new_vip_list(db, actor_factory):
    from govsocial_app.services.inbox import vip

    admin, person, early = actor_factory("admin"), actor_factory("responder"), actor_factory("responder")
    assert [v.name for v in stream.stored_views(early.user_id)] == ["My open", "Crisis"]  # stored before the list
    assert "VIPs" not in [v.name for v in stream.saved_views(person.user_id)]
    list_id = vip.create_list("Councillors", admin)
    views = {v.name: v.query for v in stream.saved_views(person.user_id)}
    assert views.get("VIPs") == f"vip={list_id}"  # audited here: seen at once, not after the menus' TTL
    assert "VIPs" not in [v.name for v in stream.saved_views(early.user_id)]  # stored views are the person's own


def test_a_records_scope_lists_stored_views_with_their_ids(db, actor_factory):
    from govsocial_app.db.engine import session_scope
    from govsocial_app.db.models import SavedView

    person = actor_factory("responder")
    views = stream.stored_views(person.user_id)
    assert [v.name for v in views] == ["My open", "Crisis"]
    with session_scope() as s:
        assert [s.get(SavedView, v.id).query for v in views] == [v.query for v in views]
    assert [v.id for v in stream.saved_views(person.user_id)] == [v.id for v in views]
