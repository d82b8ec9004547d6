"""Saved replies, the service: curating (managers and admins only, with clear refusals), searching by name or text
in either language whatever the case, accents or Arabic letter forms, the message's language, variables, usage
counts, and a claim's correction counted as a use."""

from __future__ import annotations

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, Claim, SavedReply, SavedReplyUse
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.inbox import saved_replies as sr
from tests.inbox.conftest import msg

POTHOLE_AR = "شكرًا {author_name}، سجّلنا هذه الحفرة. تابع: {link}"


@pytest.fixture
def library(actor_factory):
    manager = actor_factory("manager")
    ids = {
        "pothole": sr.create(manager, "Pothole reported", "Thanks {author_name}, the pothole is logged. Track it: {link}", POTHOLE_AR,
                             "https://riverton.example.gov/roads", "Roads, roads ,Urgent"),
        "water": sr.create(manager, "Water outage update", "Crews are fixing the water main. Updates from {profile_handle}.",
                           "تعمل الفرق على إصلاح انقطاع المياه في المدينة.", "", "Water"),
        "cafe": sr.create(manager, "Café opening", "The Café at City Hall reopens Monday. {agency}", "", "", ""),
        "ar_only": sr.create(manager, "رد عربي فقط", "", "نشكرك على تواصلك مع {agency}.", "", ""),
    }
    return manager, ids


def _names(results) -> list[str]:
    return [r.name for r in results]


def test_search_by_name_and_text_in_both_languages_ignoring_case_accents_and_letter_forms(library, actor_factory):
    _, ids = library
    responder = actor_factory("responder")
    assert _names(sr.search("POTHOLE", responder)) == ["Pothole reported"]
    assert _names(sr.search("pot rep", responder)) == ["Pothole reported"]  # every word, in any place
    assert _names(sr.search("water main", responder)) == ["Water outage update"]  # by English text
    assert _names(sr.search("cafe", responder)) == ["Café opening"]  # accent-insensitive
    assert _names(sr.search("الحفره", responder)) == ["Pothole reported"]  # Arabic text, taa marbuta typed as haa
    assert _names(sr.search("انقطاع المياة", responder)) == ["Water outage update"]
    assert _names(sr.search("urgent", responder)) == ["Pothole reported"]  # by tag
    assert sr.search("nothing like this", responder) == []
    assert sr.search("author_name", responder) == []  # the variables are not what a reply is about
    assert len(sr.search("", responder)) == 4  # "/" alone lists the library (most used first)
    # A reply whose name starts with what was typed comes before one that only mentions it in its text.
    sr.create(library[0], "Leak report", "About the water outage, please send the street name.", "", "", "")
    assert _names(sr.search("wat", responder))[0] == "Water outage update"


def test_search_holds_at_most_eight_and_skips_deleted(library, actor_factory):
    manager, ids = library
    for i in range(12):
        sr.create(manager, f"Bins {i}", f"Bin collection note {i}", "", "", "")
    assert len(sr.search("bin", manager)) == sr.SUGGEST_LIMIT == 8
    sr.delete(ids["water"], manager)
    assert sr.search("water outage", manager) == []
    with session_scope() as s:  # a soft delete: the row stays for the record
        assert s.get(SavedReply, ids["water"]).deleted_at is not None
    with pytest.raises(sr.SavedReplyError, match="no longer exists"):
        sr.insert(ids["water"], 1, manager)


def test_editing_keeps_the_search_text_up_to_date(library):
    manager, ids = library
    sr.edit(ids["cafe"], manager, "Library hours", "The library opens at nine.", "تفتح المكتبة في التاسعة.", "", "Culture")
    assert sr.search("cafe", manager) == []
    assert _names(sr.search("المكتبه", manager)) == ["Library hours"]
    assert _names(sr.search("culture", manager)) == ["Library hours"]


def test_insert_picks_the_message_language_and_fills_the_variables(library, store, actor_factory):
    _, ids = library
    responder = actor_factory("responder")
    ar_id, en_id = store([msg(1, "في حفرة كبيرة في شارعنا", lang="ar", name="ليلى حسن"),
                          msg(2, "Big pothole on Elm St", lang="en", name="Dana Whitfield")])
    got = sr.insert(ids["pothole"], ar_id, responder)
    assert got.lang == "ar"
    assert got.text == "شكرًا ليلى حسن، سجّلنا هذه الحفرة. تابع: https://riverton.example.gov/roads"
    got = sr.insert(ids["pothole"], en_id, responder)
    assert got.lang == "en" and got.text.startswith("Thanks Dana Whitfield, the pothole is logged.")
    # No Arabic text: an Arabic message gets the English; Arabic only: an English message gets the Arabic.
    water = sr.insert(ids["water"], en_id, responder).text
    assert water == "Crews are fixing the water main. Updates from @cityofriverton."
    from govsocial_app.config import get_settings

    cafe = sr.insert(ids["cafe"], ar_id, responder)
    assert cafe.lang == "en" and cafe.text.endswith(get_settings().agency_name)
    only = sr.insert(ids["ar_only"], en_id, responder)
    assert only.lang == "ar" and only.text == f"نشكرك على تواصلك مع {get_settings().agency_name}."


def test_each_insert_counts_one_use_and_is_audited(library, store, actor_factory):
    _, ids = library
    responder = actor_factory("responder")
    (mid,) = store([msg(3, "pothole again")])
    for _ in range(3):
        sr.insert(ids["pothole"], mid, responder)
    with session_scope() as s:
        assert s.get(SavedReply, ids["pothole"]).use_count == 3
        rows = s.exec(select(SavedReplyUse).where(SavedReplyUse.saved_reply_id == ids["pothole"])).all()
        assert {(r.message_id, r.user_id, r.lang) for r in rows} == {(mid, responder.user_id, "en")}
        assert len(rows) == 3
        audited = s.exec(select(AuditLog).where(AuditLog.action == "saved_reply.use")).all()
        assert len(audited) == 3
    # The most used comes first when nothing is typed.
    assert sr.search("", responder)[0].name == "Pothole reported"
    assert sr.search("", responder)[0].use_count == 3


def test_a_claim_correction_counts_as_a_saved_reply_use(db, store, actor_factory):
    responder = actor_factory("responder")
    (mid,) = store([msg(4, "The dam has burst!")])
    with session_scope() as s:
        claim = Claim(text="The dam has burst", correction="The dam is safe and inspected daily.", link="https://riverton.example.gov/dam")
        s.add(claim)
        s.flush()
        claim_id = claim.id
    sr.record_claim_use(claim_id, mid, responder, "en")
    assert sr.uses(claim_id=claim_id) == 1
    with session_scope() as s:
        use = s.exec(select(SavedReplyUse).where(SavedReplyUse.claim_id == claim_id)).one()
        assert use.saved_reply_id is None and use.message_id == mid and use.user_id == responder.user_id


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(name="  ", text_en="Hello"), "needs a name"),
        (dict(name="x" * 121, text_en="Hello"), "at most 120 characters"),
        (dict(name="Empty", text_en=" ", text_ar=""), "English, Arabic or both"),
        (dict(name="Long", text_en="a" * 1001), "at most 1000 characters (this one has 1001)"),
        (dict(name="Vars", text_en="Hi {author}, see {url} and {link}", text_ar="{agncy}"), "Unknown variables: {agncy}, {author}, {url}"),
        (dict(name="Link", text_en="Hi", link="javascript:alert(1)"), "https://"),
        (dict(name="Tags", text_en="Hi", tags=",".join(f"t{i}" for i in range(11))), "at most 10 tags"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(actor_factory, fields, words):
    manager = actor_factory("manager")
    with pytest.raises(sr.SavedReplyError) as err:
        sr.create(manager, **fields)
    assert words in str(err.value)
    with session_scope() as s:
        assert s.exec(select(SavedReply)).all() == []


def test_only_managers_and_admins_curate_and_viewers_cannot_use(library, store, actor_factory):
    manager, ids = library
    (mid,) = store([msg(5)])
    for role in ("responder", "publisher", "viewer", "records"):
        actor = actor_factory(role)
        with pytest.raises(PermissionDenied):
            sr.create(actor, "Mine", "text")
        with pytest.raises(PermissionDenied):
            sr.edit(ids["pothole"], actor, "Changed", "text")
        with pytest.raises(PermissionDenied):
            sr.delete(ids["pothole"], actor)
    for role in ("viewer", "records"):
        with pytest.raises(PermissionDenied):
            sr.search("pothole", actor_factory(role))
        with pytest.raises(PermissionDenied):
            sr.insert(ids["pothole"], mid, actor_factory(role))
    admin = actor_factory("admin")
    sr.edit(ids["pothole"], admin, "Pothole logged", "Thanks {author_name}.", "", "", "")
    assert _names(sr.search("logged", admin)) == ["Pothole logged"]
    with session_scope() as s:
        assert s.get(SavedReply, ids["pothole"]).use_count == 0  # nothing refused was counted
        assert {a.action for a in s.exec(select(AuditLog).where(AuditLog.object_type == "saved_reply")).all()} >= {
            "saved_reply.create", "saved_reply.edit"}


def test_slash_query_only_at_the_start_or_after_a_space():
    assert sr.slash_query("/pot") == (0, "pot")
    assert sr.slash_query("Hello /water out") == (6, "water out")
    assert sr.slash_query("/") == (0, "")
    assert sr.slash_query("see https://x.gov/a") is None
    assert sr.slash_query("a/b") is None
    assert sr.slash_query("/pot\nnext line") is None


def test_demo_seed_adds_english_and_arabic_replies_once(db):
    with session_scope() as s:
        assert sr.seed_saved_replies(s) >= 3
    with session_scope() as s:
        assert sr.seed_saved_replies(s) == 0
        rows = s.exec(select(SavedReply)).all()
    assert {"Pothole reported", "Water outage update", "Thanks for reporting"} <= {r.name for r in rows}
    assert all(r.text_en and r.text_ar and not sr.unknown_variables(r.text_en + r.text_ar) for r in rows)


def test_count_and_offset_page_through_the_whole_library(actor_factory):
    manager = actor_factory("manager")
    for i in range(30):
        sr.create(manager, f"Bulk {i:02d}", f"Bulk text {i}", "", "", "Parks" if i % 10 == 0 else "")
    assert sr.count("", manager) == 30 and sr.count("bulk", manager) == 30 and sr.count("parks", manager) == 3
    pages = [sr.search("bulk", manager, limit=8, offset=o) for o in (0, 8, 16, 24)]
    assert [len(p) for p in pages] == [8, 8, 8, 6]
    assert sorted(r.name for p in pages for r in p) == [f"Bulk {i:02d}" for i in range(30)]
    sr.delete(pages[0][0].id, manager)
    assert sr.count("bulk", manager) == 29  # deleted replies leave the count
    with pytest.raises(PermissionDenied):
        sr.count("", actor_factory("viewer"))
