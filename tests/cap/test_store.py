"""CAP persistence on SQLite and PostgreSQL: sources and their visible status, received alerts stored once with
their decision, updates and cancellations linked to what they replace, the jurisdiction, the translation memory."""

from __future__ import annotations

import uuid
from datetime import timedelta, timezone

import pytest
from sqlmodel import select

from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, CapAlert, CapInfo, CapJurisdiction, CapSource, TranslationPair
from govsocial_app.services.authz import Actor, PermissionDenied
from govsocial_app.services.cap import store
from govsocial_app.services.cap.errors import InvalidBoundary, MalformedXML
from govsocial_app.services.cap.feeds import FetchedAlert, IndexEntry, PollResult, PollState
from govsocial_app.services.cap.jurisdiction import Thresholds
from govsocial_app.services.cap.parse import parse_alert
from govsocial_app.services.errors import UserError
from tests.cap.helpers import FLOOD_NOW, fixture


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request):
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


def _actor(role: str) -> Actor:
    from govsocial_app.services import auth

    email = f"{role}-{uuid.uuid4().hex[:6]}@test.gov"
    uid = auth.create_user(email, role.title(), "correct horse battery", role, Actor.system("test"))
    return Actor(uid, f"{role} <{email}>", role, "127.0.0.1", "pytest")


def _fetched(name: str) -> FetchedAlert:
    raw = fixture(name)
    return FetchedAlert(IndexEntry(name, f"https://feed.test/{name}.xml", "t"), alert=parse_alert(raw), raw=raw)


def _audit(action: str) -> list[AuditLog]:
    with session_scope() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action)))


def test_sources_are_admin_only_validated_and_audited(database):
    admin, manager = _actor("admin"), _actor("manager")
    with pytest.raises(PermissionDenied):
        store.create_source(manager, "NWS", "https://alerts.example.gov/feed.atom")
    with pytest.raises(UserError, match="http"):
        store.create_source(admin, "Bad", "file:///etc/passwd")
    with pytest.raises(UserError, match="between"):
        store.create_source(admin, "Fast", "https://alerts.example.gov/feed.atom", interval_s=1)
    with pytest.raises(UserError, match="host name"):
        store.create_source(admin, "Hosts", "https://alerts.example.gov/feed.atom", allowed_hosts=["https://x.gov/path"])
    sid = store.create_source(admin, "IPAWS", "https://apps.fema.gov/IPAWSOPEN_EAS_SERVICE/rest/public/recent", interval_s=30)
    (view,) = store.list_sources()
    assert view.id == sid and view.interval_s == 120 and view.status == "new"  # IPAWS's 2-minute rule
    assert [a.object_id for a in _audit("cap.source.create")] == [str(sid)]
    changed = store.update_source(admin, sid, enabled=False, allowed_hosts=["cdn.fema.gov"])
    assert changed.enabled is False and changed.allowed_hosts == ("cdn.fema.gov",)
    assert store.due_sources(FLOOD_NOW) == []  # disabled
    assert len(_audit("cap.source.update")) == 1


def test_poll_status_is_visible_and_schedules_the_next_poll(database):
    sid = store.create_source(_actor("admin"), "County", "https://county.test/index.atom")
    assert [s.id for s in store.due_sources(FLOOD_NOW)] == [sid]
    down = PollResult("error", PollState(failures=1), 120.0, error="https://county.test/index.atom could not be reached (ConnectError)", error_code="unreachable")
    store.record_poll(sid, down, now=FLOOD_NOW)
    (view,) = store.list_sources()
    assert (view.status, view.status_code, view.failures) == ("error", "unreachable", 1)
    assert "could not be reached" in view.status_message
    assert view.next_poll_at == FLOOD_NOW + timedelta(seconds=120)
    assert store.due_sources(FLOOD_NOW + timedelta(seconds=60)) == []
    broken = FetchedAlert(IndexEntry("x", "https://county.test/x.xml"), error=MalformedXML("The CAP message is not well-formed XML: bad"))
    ok = PollResult("ok", PollState(etag='"v2"', seen=("x\x1ft",)), 60.0, (broken,), 200)
    store.record_poll(sid, ok, now=FLOOD_NOW + timedelta(seconds=120), kind="atom")
    (view,) = store.list_sources()
    assert (view.status, view.status_code, view.failures, view.feed_kind) == ("ok", "malformed_xml", 0, "atom")
    assert view.status_message.startswith("https://county.test/x.xml: The CAP message is not well-formed")
    assert view.poll_state.etag == '"v2"' and view.last_ok_at is not None


def test_alerts_are_decided_stored_once_and_linked_to_their_updates(database):
    admin = _actor("admin")
    store.save_jurisdiction(admin, fixture("riverton_boundary.geojson"), thresholds=Thresholds(min_severity="Severe"))
    sid = store.create_source(admin, "NWS", "https://feed.test/index.atom")

    first = store.ingest_poll(sid, [_fetched("flood_alert"), _fetched("a2_thunderstorm")], now=FLOOD_NOW)
    assert len(first.raised) == 1 and len(first.stored) == 1 and first.duplicates == 0
    with session_scope() as s:
        flood = s.get(CapAlert, first.raised[0])
        storm = s.get(CapAlert, first.stored[0])
        assert (flood.decision, flood.decision_kind, flood.info_indexes) == ("raise", "new", [0, 1])
        assert (storm.decision, [r["code"] for r in storm.reasons]) == ("store", ["expired"])
        infos = s.exec(select(CapInfo).where(CapInfo.alert_id == flood.id).order_by(CapInfo.position)).all()
        assert [i.language for i in infos] == ["en-US", "ar"]
        assert infos[1].headline.startswith("تحذير من الفيضان")
        assert infos[0].areas[0]["circles"] == [[38.575, -121.49, 2.5]]
        assert flood.raw_xml.startswith('<?xml version="1.0" encoding="UTF-8"?>') and flood.expires is not None
        flood.expires = flood.expires.replace(tzinfo=flood.expires.tzinfo or timezone.utc)

    drafts = store.drafts_for(first.raised[0], networks=["mastodon", "x"])
    assert [d.base_language for d in drafts.languages] == ["en", "ar"] and drafts.expires == flood.expires
    assert drafts.language("ar").per_network["x"].length <= 280
    with pytest.raises(UserError):
        store.drafts_for(999_999)

    again = store.ingest_poll(sid, [_fetched("flood_alert")], now=FLOOD_NOW)
    assert again.raised == () and again.duplicates == 1  # the same message from a second source or poll

    later = store.ingest_poll(sid, [_fetched("flood_cancel"), _fetched("flood_update")], now=FLOOD_NOW + timedelta(hours=1))
    assert len(later.raised) == 2  # both refer to the raised alert: posts about it need a follow-up
    assert set(later.follow_up) == {"w-nws.webmaster@noaa.gov,NWS-FLW-STO-2026-0412,2026-11-24T17:05:00-00:00",
                                    "w-nws.webmaster@noaa.gov,NWS-FLW-STO-2026-0413,2026-11-24T20:30:00-00:00"}
    with session_scope() as s:
        rows = {r.identifier: r for r in s.exec(select(CapAlert))}
        update, cancel = rows["NWS-FLW-STO-2026-0413"], rows["NWS-FLW-STO-2026-0414"]
        assert (update.decision_kind, cancel.decision_kind) == ("update", "cancel")
        assert rows["NWS-FLW-STO-2026-0412"].superseded_by_id == update.id  # the update came first (sent order)
        assert update.superseded_by_id == cancel.id
        assert cancel.references == ["w-nws.webmaster@noaa.gov,NWS-FLW-STO-2026-0412,2026-11-24T17:05:00-00:00",
                                     "w-nws.webmaster@noaa.gov,NWS-FLW-STO-2026-0413,2026-11-24T20:30:00-00:00"]


def test_low_severity_and_out_of_area_alerts_are_stored_not_raised(database):
    admin = _actor("admin")
    store.save_jurisdiction(admin, fixture("riverton_boundary.geojson"), thresholds=Thresholds(min_severity="Extreme"))
    report = store.ingest_poll(None, [_fetched("flood_alert"), _fetched("a3_earthquake_update")], now=FLOOD_NOW)
    assert report.raised == () and len(report.stored) == 2
    with session_scope() as s:
        reasons = {r.identifier: [x["code"] for x in r.reasons] for r in s.exec(select(CapAlert))}
    assert reasons["NWS-FLW-STO-2026-0412"] == ["below_severity"]
    assert "outside_area" in reasons["TRI13970876.2"]


def test_jurisdiction_is_admin_only_validated_versioned_and_audited(database):
    admin = _actor("admin")
    with pytest.raises(PermissionDenied):
        store.save_jurisdiction(_actor("publisher"), fixture("riverton_boundary.geojson"))
    with pytest.raises(InvalidBoundary):
        store.save_jurisdiction(admin, '{"type": "Point", "coordinates": [0, 0]}')
    assert store.current_jurisdiction()[0] is None
    first = store.save_jurisdiction(admin, fixture("riverton_boundary.geojson"), geocodes=[("SAME", "006067")], now=FLOOD_NOW)
    second = store.save_jurisdiction(admin, fixture("riverton_boundary.geojson"), name="Greater Riverton",
                                     thresholds=Thresholds(min_urgency="Immediate"), now=FLOOD_NOW + timedelta(days=1))
    jurisdiction, thresholds = store.current_jurisdiction()
    assert jurisdiction.name == "Greater Riverton" and thresholds.min_urgency == "Immediate"
    with session_scope() as s:
        rows = {r.id: r for r in s.exec(select(CapJurisdiction))}
    assert rows[first].deleted_at is not None and rows[second].deleted_at is None  # kept, never hard-deleted
    assert len(_audit("cap.jurisdiction.update")) == 2


def test_translation_memory_is_kept_once_and_serves_both_directions(database):
    manager = _actor("manager")
    with pytest.raises(PermissionDenied):
        store.remember_translation(_actor("publisher"), "en", "ar", "Move to higher ground now.", "انتقلوا إلى مكان مرتفع الآن.")
    pid = store.remember_translation(manager, "en", "ar", "Move to higher ground now.", "انتقلوا إلى مكان مرتفع الآن.")
    assert pid is not None
    assert store.remember_translation(manager, "en", "ar", "move to higher ground now", "انتقلوا الى مكان مرتفع الان") is None
    assert store.remember_translation(manager, "ar", "en", "انتقلوا إلى مكان مرتفع الآن.", "Move to higher ground now.") is None
    with pytest.raises(UserError):
        store.remember_translation(manager, "en", "en-GB", "a", "b")
    memory = store.load_translation_memory()
    (suggestion,) = memory.suggest("Move to high ground now!", "en", "ar")
    assert suggestion.entry.id == pid and suggestion.score > 85
    assert memory.suggest("انتقلوا إلى مكان مرتفع الآن", "ar", "en")[0].entry.target == "Move to higher ground now."
    with session_scope() as s:
        assert len(s.exec(select(TranslationPair)).all()) == 1
    assert len(_audit("translation.remember")) == 1


def test_cap_tables_exist_after_migration(database):
    with session_scope() as s:
        for model in (CapSource, CapAlert, CapInfo, CapJurisdiction, TranslationPair):
            assert s.exec(select(model)).all() == []
