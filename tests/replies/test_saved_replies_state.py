"""Saved replies on the real state classes: the reply box's "/" list (server-side search, at most eight, the message's
language, one use per pick), the management page (staff read, curators change, refusals on the server, errors in the
reader's language), and a claim's correction prefilled into the reply box counted as a use."""

from __future__ import annotations

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Claim, SavedReply, SavedReplyUse
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.inbox import replies, saved_replies as sr
from tests.inbox.conftest import msg
from tests.signed_in import signed_in  # noqa: F401 - fixture


@pytest.fixture
def states(signed_in):
    from govsocial_app.state.inbox import InboxState
    from govsocial_app.state.reply_picker import ReplyPickerState
    from govsocial_app.state.saved_replies import SavedRepliesState

    # The role as a page's load reads it, then the reader's language.
    return lambda role, lang="en": signed_in(role, InboxState, ReplyPickerState, SavedRepliesState, lang=lang, load_user=True)


@pytest.fixture
def pothole(actor_factory) -> int:
    return sr.create(actor_factory("manager"), "Pothole reported", "Thanks {author_name}, logged.", "شكرًا {author_name}، سجّلنا الحفرة.", "", "Roads")


def _open(inbox, message_id: int) -> None:
    inbox.open_id = message_id
    inbox._load_detail()


def _uses(reply_id: int) -> int:
    with session_scope() as s:
        return s.get(SavedReply, reply_id).use_count


async def test_slash_offers_matches_and_picking_fills_the_arabic_text_once(states, store, pothole):
    (mid,) = store([msg(1, "حفرة في الشارع", lang="ar", name="ليلى حسن")])
    inbox, picker, _ = states("responder")
    _open(inbox, mid)
    await picker.type_draft("مرحبًا /poth")
    assert inbox.draft == "مرحبًا /poth" and picker.for_id == mid and picker.query == "poth"
    assert [o.name for o in picker.options] == ["Pothole reported"]
    option = picker.options[0]
    assert option.lang == "ar" and option.preview.startswith("شكرًا {author_name}")
    await picker.pick(option.id)
    assert inbox.draft == "مرحبًا شكرًا ليلى حسن، سجّلنا الحفرة."
    assert picker.options == [] and picker.for_id == 0
    assert inbox.used == replies.char_count(inbox.d_card.network, inbox.draft).used > 0
    await picker.pick(option.id)  # a second event for the same pick (a double tap): the list is closed, nothing counted
    assert _uses(pothole) == 1
    assert inbox.draft == "مرحبًا شكرًا ليلى حسن، سجّلنا الحفرة."
    # Typing on (no slash at the end) keeps the list closed, and the text stays the person's to edit.
    await picker.type_draft(inbox.draft + " نعتذر")
    assert picker.for_id == 0 and inbox.draft.endswith("نعتذر")


async def test_the_list_holds_at_most_eight_and_says_when_nothing_matches(states, store, actor_factory):
    manager = actor_factory("manager")
    for i in range(20):
        sr.create(manager, f"Bins {i}", f"Bin note {i}", "", "", "")
    (mid,) = store([msg(2)])
    inbox, picker, _ = states("publisher")
    _open(inbox, mid)
    await picker.type_draft("/")
    assert len(picker.options) == 8
    await picker.type_draft("/zebra crossing")
    assert picker.options == [] and picker.searched and picker.for_id == mid
    await picker.type_draft("see https://x.gov/bins")  # a web address is not a "/" command
    assert picker.for_id == 0


async def test_a_viewer_gets_no_list_and_cannot_insert(states, store, pothole):
    (mid,) = store([msg(3)])
    inbox, picker, _ = states("viewer")
    _open(inbox, mid)
    await picker.type_draft("/pot")
    assert picker.options == [] and picker.for_id == 0
    with pytest.raises(PermissionDenied):
        await picker.pick(pothole)
    assert _uses(pothole) == 0


async def test_a_pick_not_on_the_list_is_ignored(states, store, pothole, actor_factory):
    other = sr.create(actor_factory("manager"), "Other", "Other text", "", "", "")
    (mid,) = store([msg(4)])
    inbox, picker, _ = states("responder")
    _open(inbox, mid)
    await picker.type_draft("/pothole")
    await picker.pick(other)  # a crafted event for a reply the list never offered
    assert _uses(other) == 0 and inbox.draft == "/pothole"


def test_management_page_staff_read_curators_change(states, pothole):
    _, _, page = states("responder")
    page.load()
    assert [r.name for r in page.rows] == ["Pothole reported"] and page.rows[0].tags == ["Roads"] and not page.can_curate
    page.search({"q": "حفره"})
    assert [r.name for r in page.rows] == ["Pothole reported"]
    for handler, args in ((page.save, ({"name": "Mine", "text_en": "Hi"},)), (page.delete, (pothole,)), (page.edit, (pothole,)), (page.new, ())):
        with pytest.raises(PermissionDenied):
            handler(*args)
    assert _uses(pothole) == 0
    with session_scope() as s:
        assert s.get(SavedReply, pothole).deleted_at is None and len(s.exec(select(SavedReply)).all()) == 1


def test_a_viewer_is_refused_the_page_quietly(states, pothole):
    _, _, page = states("viewer")
    assert page.load() is None
    assert page.rows == []


def test_a_manager_adds_edits_and_deletes_and_errors_read_in_arabic(states, pothole):
    _, _, page = states("manager", "ar")
    page.load()  # reads the person's saved language (English); they switch to Arabic
    page.parent_state.lang = "ar"
    assert page.can_curate
    page.new()
    assert page.form_open and page.edit_id == 0
    page.save({"name": "Road closed", "text_en": "Hi {name}", "text_ar": "", "link": "", "tags": ""})
    assert page.form_open and page.form_error == "متغيرات غير معروفة: {name}. استخدم {author_name}, {agency}, {profile_handle}, {link}."
    assert page.f_en == "Hi {name}"  # what was typed stays in the form
    page.save({"name": "Road closed", "text_en": "Hi {author_name}", "text_ar": "مرحبًا", "link": "", "tags": "Roads"})
    assert not page.form_open and page.form_error == ""
    assert {r.name for r in page.rows} == {"Pothole reported", "Road closed"}
    page.edit(pothole)
    assert page.edit_id == pothole and page.f_ar.startswith("شكرًا") and page.f_tags == "Roads"
    page.save({"name": "Pothole logged", "text_en": "Logged.", "text_ar": "", "link": "https://r.example.gov", "tags": "Roads, Urgent"})
    assert "Pothole logged" in {r.name for r in page.rows}
    page.delete(pothole)
    assert {r.name for r in page.rows} == {"Road closed"}


def test_a_claim_correction_prefilled_in_the_reply_box_counts_once(states, store):
    (mid,) = store([msg(5, "The dam burst!", handle="@worried")])
    with session_scope() as s:
        claim = Claim(text="The dam burst", correction="The dam is safe.", link="https://riverton.example.gov/dam")
        s.add(claim)
        s.flush()
        claim_id = claim.id
    inbox, _, _ = states("responder")
    _open(inbox, mid)
    inbox._prefill_correction(f"correction-{claim_id}")
    assert inbox.draft == "@worried The dam is safe. https://riverton.example.gov/dam"
    inbox._prefill_correction(f"correction-{claim_id}")  # a reload with the same link: the box is not empty, no count
    assert sr.uses(claim_id=claim_id) == 1
    viewer, _, _ = states("viewer")
    _open(viewer, mid)
    viewer._prefill_correction(f"correction-{claim_id}")  # shown, not counted: a viewer cannot reply
    assert sr.uses(claim_id=claim_id) == 1
    with session_scope() as s:
        assert s.exec(select(SavedReplyUse)).one().claim_id == claim_id


async def test_up_down_highlight_enter_inserts_escape_closes_and_keeps_the_text(states, store, actor_factory):
    manager = actor_factory("manager")
    for name in ("Road closed", "Road works", "Road repaired"):
        sr.create(manager, name, f"{name}: see the map.", "", "", "")
    (mid,) = store([msg(5)])
    inbox, picker, _ = states("responder")
    _open(inbox, mid)
    await picker.type_draft("Hello /road")
    names = [o.name for o in picker.options]
    assert len(names) == 3 and picker.active == -1  # nothing highlighted until an arrow
    await picker.choose()  # Enter with nothing highlighted inserts nothing
    assert inbox.draft == "Hello /road" and picker.for_id == mid
    await picker.move(1)
    assert picker.active == 0
    await picker.move(1)
    await picker.move(1)
    await picker.move(1)  # wraps from the last to the first
    assert picker.active == 0
    await picker.move(-1)  # and from the first to the last
    assert picker.active == 2
    await picker.move(-1)
    assert picker.active == 1
    await picker.type_draft("Hello /road")  # the same search again (a late debounce) keeps the highlight
    assert picker.active == 1
    await picker.choose()
    assert inbox.draft == f"Hello {names[1]}: see the map." and picker.for_id == 0 and picker.active == -1

    # Escape: the list closes, the text stays, and typing on after the same "/" does not reopen it.
    await picker.type_draft(inbox.draft + " /ro")
    assert picker.for_id == mid and picker.options
    await picker.move(1)
    typed = inbox.draft
    await picker.close()
    assert inbox.draft == typed and picker.for_id == 0 and picker.options == [] and picker.active == -1
    await picker.type_draft(typed + "ad")
    assert picker.for_id == 0 and inbox.draft == typed + "ad"
    await picker.move(1)
    await picker.choose()  # keys reaching a closed list do nothing
    assert inbox.draft == typed + "ad"
    # A new "/" opens it again.
    await picker.type_draft(typed + "ad /road")
    assert picker.for_id == mid and len(picker.options) == 3 and picker.active == -1


async def test_a_viewer_cannot_move_or_choose(states, store, pothole):
    (mid,) = store([msg(6)])
    inbox, picker, _ = states("viewer")
    _open(inbox, mid)
    with pytest.raises(PermissionDenied):
        await picker.move(1)
    with pytest.raises(PermissionDenied):
        await picker.choose()


def test_the_page_reaches_every_reply_in_a_large_library_with_the_true_total(states, actor_factory):
    from govsocial_app.state.saved_replies import PAGE_SIZE

    manager = actor_factory("manager")
    for i in range(120):
        sr.create(manager, f"Reply {i:03d}", f"Standard text number {i}", "", "", "Parks" if i == 117 else "General")
    _, _, page = states("responder")
    page.load()
    assert page.total == 120 and len(page.rows) == PAGE_SIZE == 50
    assert page.range_text == "Showing 1–50 of 120" and not page.has_prev and page.has_next
    seen = [r.name for r in page.rows]
    page.next_page()
    assert page.page == 1 and page.range_text == "Showing 51–100 of 120" and page.has_prev and page.has_next
    seen += [r.name for r in page.rows]
    page.next_page()
    seen += [r.name for r in page.rows]
    assert page.range_text == "Showing 101–120 of 120" and not page.has_next
    page.next_page()  # a crafted event past the end stays on the last page
    assert page.page == 2 and len(page.rows) == 20
    assert sorted(seen) == [f"Reply {i:03d}" for i in range(120)]  # every reply once: no overlap, nothing skipped
    page.prev_page()
    assert page.page == 1

    # A reply far past the first page is found by its name, its text and its tag, and the search starts on page one.
    first_page = [r.name for r in sr.search("", manager, limit=PAGE_SIZE)]
    late = next(f"Reply {i:03d}" for i in range(119, -1, -1) if f"Reply {i:03d}" not in first_page)
    page.search({"q": late})
    assert [r.name for r in page.rows] == [late] and page.total == 1 and page.page == 0 and page.range_text == "Showing 1–1 of 1"
    page.search({"q": "number 117"})
    assert [r.name for r in page.rows] == ["Reply 117"]
    page.search({"q": "parks"})
    assert [r.name for r in page.rows] == ["Reply 117"]
    page.search({"q": "standard text"})
    assert page.total == 120 and len(page.rows) == 50 and page.has_next
    page.search({"q": "zebra"})
    assert page.total == 0 and page.rows == [] and page.range_text == ""


def test_the_range_reads_in_arabic_and_a_viewer_cannot_page(states, actor_factory):
    manager = actor_factory("manager")
    for i in range(55):
        sr.create(manager, f"Note {i}", f"Text {i}", "", "", "")
    _, _, page = states("manager")
    page.load()
    page.parent_state.lang = "ar"
    page.next_page()
    assert page.range_text == "عرض 51–55 من 55"
    # Deleting the only reply on the last page moves back to the page before.
    for r in list(page.rows):
        page.delete(r.id)
    assert page.page == 0 and page.total == 50 and len(page.rows) == 50
    _, _, viewer_page = states("viewer")
    with pytest.raises(PermissionDenied):
        viewer_page.next_page()
    assert viewer_page.rows == []
