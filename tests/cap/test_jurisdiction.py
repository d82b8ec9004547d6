"""Jurisdiction boundaries and the raise / store-only decision with its reasons."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from govsocial_app.services.cap.errors import InvalidBoundary
from govsocial_app.services.cap.jurisdiction import MESSAGES, Thresholds, decide, load_boundary
from govsocial_app.services.cap.parse import parse_alert
from tests.cap.helpers import FLOOD_NOW, fixture

BOUNDARY = fixture("riverton_boundary.geojson")
SQUARE = [[-121.6, 38.45], [-121.3, 38.45], [-121.3, 38.7], [-121.6, 38.7], [-121.6, 38.45]]


@pytest.fixture(scope="module")
def riverton():
    return load_boundary(BOUNDARY)


def _alert(name="flood_alert", **info_changes):
    alert = parse_alert(fixture(name))
    if info_changes:
        alert = replace(alert, infos=tuple(replace(info, **info_changes) for info in alert.infos))
    return alert


# ---------------------------------------------------------------- boundaries


def test_feature_collection_polygon_and_multipolygon_load():
    j = load_boundary(BOUNDARY)
    assert j.name == "City of Riverton" and j.geometry.geom_type == "Polygon"
    assert load_boundary({"type": "Polygon", "coordinates": [SQUARE]}, name="X").geometry.bounds == (-121.6, 38.45, -121.3, 38.7)
    east = [[x + 1, y] for x, y in SQUARE]
    multi = load_boundary(json.dumps({"type": "MultiPolygon", "coordinates": [[SQUARE], [east]]}))
    assert multi.geometry.geom_type == "MultiPolygon"
    two_features = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [east]}},
    ]}
    assert load_boundary(two_features).geometry.area == pytest.approx(2 * 0.3 * 0.25)


@pytest.mark.parametrize("data, message", [
    ("{not json", "not valid JSON"),
    ('{"type": "Point", "coordinates": [1, 2]}', "Polygon or MultiPolygon"),
    ('{"type": "FeatureCollection", "features": []}', "no features"),
    (json.dumps({"type": "Polygon", "coordinates": [SQUARE[:-1]]}), "does not close"),
    (json.dumps({"type": "Polygon", "coordinates": [[[38.45, -121.6], [38.45, -121.3], [38.7, -121.3], [38.7, -121.6], [38.45, -121.6]]]}), "latitude first"),
    (json.dumps({"type": "Polygon", "coordinates": [[[500000, 4200000], [510000, 4200000], [510000, 4210000], [500000, 4200000]]]}), "outside longitude"),
    (json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}), "not valid"),
    (json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}), "fewer than 4"),
    (json.dumps({"type": "Polygon", "coordinates": "nope"}), "malformed"),
    ('[1, 2, 3]', "not a GeoJSON object"),
])
def test_bad_boundaries_are_refused_with_a_reason(data, message):
    with pytest.raises(InvalidBoundary, match=message):
        load_boundary(data)


# ---------------------------------------------------------------- decisions


def test_an_alert_in_the_area_is_raised_with_every_language(riverton):
    decision = decide(_alert(), riverton, now=FLOOD_NOW)
    assert decision.action == "raise" and decision.kind == "new"
    assert decision.info_indexes == (0, 1)
    assert [r.code for r in decision.reasons] == ["in_area", "meets_thresholds"]


def test_out_of_area_is_stored_with_the_reason(riverton):
    decision = decide(parse_alert(fixture("a2_thunderstorm")), riverton, now=FLOOD_NOW.replace(year=2003, month=6, day=17, hour=22))
    assert decision.action == "store"
    assert [r.code for r in decision.reasons] == ["outside_area"]
    assert "outside the jurisdiction" in decision.summary()


def test_below_severity_urgency_and_certainty_is_stored_with_each_reason(riverton):
    decision = decide(_alert(severity="Minor", urgency="Future", certainty="Possible"), riverton, now=FLOOD_NOW)
    assert decision.action == "store"
    assert {r.code for r in decision.reasons} == {"below_severity", "below_urgency", "below_certainty"}
    severity = next(r for r in decision.reasons if r.code == "below_severity")
    assert severity.english() == "Severity Minor is below the threshold (Moderate)."


def test_thresholds_are_configurable(riverton):
    minor = _alert(severity="Minor")
    assert decide(minor, riverton, now=FLOOD_NOW).action == "store"
    assert decide(minor, riverton, Thresholds(min_severity="Minor"), now=FLOOD_NOW).action == "raise"
    strict = Thresholds(min_severity="Extreme")
    assert decide(_alert(), riverton, strict, now=FLOOD_NOW).reasons[0].code == "below_severity"
    with pytest.raises(ValueError):
        Thresholds(min_severity="Huge")


def test_unknown_values(riverton):
    unknown = _alert(severity="Unknown")
    assert decide(unknown, riverton, now=FLOOD_NOW).action == "raise"
    decision = decide(unknown, riverton, Thresholds(unknown_passes=False), now=FLOOD_NOW)
    assert decision.action == "store" and decision.reasons[0].code == "unknown_value"


def test_expired_alerts_are_stored(riverton):
    decision = decide(_alert(), riverton, now=FLOOD_NOW + timedelta(days=1))
    assert decision.action == "store" and [r.code for r in decision.reasons] == ["expired"]


def test_exercises_tests_and_system_messages_are_stored(riverton):
    for status in ("Test", "Exercise", "System", "Draft"):
        decision = decide(replace(_alert(), status=status), riverton, now=FLOOD_NOW)
        assert decision.action == "store" and decision.reasons[0].code == "not_actual"
    assert decide(replace(_alert(), status="Exercise"), riverton, Thresholds(statuses=("Actual", "Exercise")), now=FLOOD_NOW).raised
    assert decide(replace(_alert(), msg_type="Ack"), riverton, now=FLOOD_NOW).reasons[0].code == "not_a_warning"
    assert decide(replace(_alert(), scope="Restricted"), riverton, now=FLOOD_NOW).reasons[0].code == "not_public"


def test_update_and_cancel_of_a_raised_alert_are_raised_for_follow_up(riverton):
    raised = {("w-nws.webmaster@noaa.gov", "NWS-FLW-STO-2026-0412"): "raised"}
    update = decide(parse_alert(fixture("flood_update")), riverton, now=FLOOD_NOW, earlier=raised)
    assert (update.action, update.kind) == ("raise", "update")
    assert [r.identifier for r in update.follow_up] == ["NWS-FLW-STO-2026-0412"]
    assert update.reasons[0].code == "updates_raised"
    cancel = decide(parse_alert(fixture("flood_cancel")), riverton, now=FLOOD_NOW, earlier=raised)
    assert (cancel.action, cancel.kind) == ("raise", "cancel")
    assert cancel.reasons[0].code == "cancels_raised"


def test_an_update_of_a_raised_alert_is_raised_even_when_it_moved_away(riverton):
    far = _alert("flood_update")
    moved = replace(far, infos=tuple(replace(i, areas=parse_alert(fixture("a2_thunderstorm")).infos[0].areas) for i in far.infos))
    raised = {("w-nws.webmaster@noaa.gov", "NWS-FLW-STO-2026-0412"): "raised"}
    assert decide(moved, riverton, now=FLOOD_NOW, earlier=raised).raised
    assert not decide(moved, riverton, now=FLOOD_NOW).raised  # never raised before: judged as new


def test_cancel_of_an_unraised_or_unknown_alert_is_stored(riverton):
    cancel = parse_alert(fixture("flood_cancel"))
    stored = decide(cancel, riverton, now=FLOOD_NOW, earlier=lambda ref: "stored")
    assert stored.action == "store" and stored.reasons[0].code == "cancels_unraised"
    unknown = decide(cancel, riverton, now=FLOOD_NOW)
    assert unknown.action == "store" and unknown.reasons[0].code == "references_unknown"


def test_geocode_match_raises_a_geocode_only_alert():
    amber = parse_alert(fixture("a4_amber_alert"))
    la = load_boundary(BOUNDARY, geocodes=[("SAME", "006037")])
    now = amber.sent + timedelta(hours=1)
    decision = decide(amber, la, now=now)
    assert decision.raised and decision.reasons[0].code == "geocode_match"
    assert decide(amber, load_boundary(BOUNDARY), now=now).reasons[0].code == "outside_area"


def test_an_area_in_words_only_cannot_be_placed(riverton):
    hsas = parse_alert(fixture("a1_homeland_security"))
    now = hsas.sent + timedelta(hours=1)
    assert [r.code for r in decide(hsas, riverton, now=now).reasons] == ["no_area"]
    assert decide(hsas, riverton, Thresholds(raise_without_area=True), now=now).raised


def test_without_a_jurisdiction_area_is_not_checked():
    assert decide(parse_alert(fixture("a2_thunderstorm")), None, now=parse_alert(fixture("a2_thunderstorm")).sent).raised


def test_every_reason_code_has_a_message():
    assert all("{" not in code for code in MESSAGES)
