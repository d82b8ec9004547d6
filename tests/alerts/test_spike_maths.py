"""The spike maths as pure functions: baselines, time zones, threshold crossing, cool-down and re-alerting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial_app.services.alerting import spikes
from govsocial_app.services.alerting.spikes import RuleState, SpikeSettings, decide, is_crossing, threshold

UTC = timezone.utc
T0 = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)  # a Tuesday
DEFAULT = SpikeSettings()


# ---------------------------------------------------------------- baselines


def test_previous_days_are_the_same_utc_time_when_the_zone_has_no_dst():
    days = spikes.same_time_on_previous_days(T0, UTC)
    assert days == [T0 - timedelta(days=d) for d in range(1, 8)]


def test_previous_days_cover_each_weekday_once_and_not_last_week_same_day():
    days = spikes.same_time_on_previous_days(T0, UTC)
    assert sorted(d.weekday() for d in days) == list(range(7))
    assert T0 - timedelta(days=7) in days  # last Tuesday is in
    assert T0 - timedelta(days=8) not in days  # the Monday before it is out


def test_previous_days_follow_local_hours_across_a_dst_change():
    ny = ZoneInfo("America/New_York")
    # 2026-11-01 02:00 EDT -> 01:00 EST: on 2026-11-03 at 09:30 local, "the same time" on 2026-10-31 was EDT.
    now = datetime(2026, 11, 3, 9, 30, tzinfo=ny)
    days = spikes.same_time_on_previous_days(now.astimezone(UTC), ny)
    assert [d.astimezone(ny).strftime("%Y-%m-%d %H:%M") for d in days[:4]] == [
        "2026-11-02 09:30", "2026-11-01 09:30", "2026-10-31 09:30", "2026-10-30 09:30",
    ]
    # In UTC terms the pre-change days are 25 hours further back, not 24.
    assert days[2] == datetime(2026, 10, 31, 13, 30, tzinfo=UTC)
    assert now.astimezone(UTC) - days[2] == timedelta(days=3, hours=1)


def test_baseline_windows_in_the_profile_zone_differ_from_utc_across_dst():
    ny = ZoneInfo("America/New_York")
    now = datetime(2026, 11, 3, 14, 30, tzinfo=UTC)
    assert spikes.same_time_on_previous_days(now, ny)[2] != spikes.same_time_on_previous_days(now, UTC)[2]


def test_full_history_needs_the_oldest_window_covered():
    oldest_window_start = T0 - timedelta(days=7) - spikes.WINDOW
    assert spikes.has_full_history(oldest_window_start, T0, UTC)
    assert not spikes.has_full_history(oldest_window_start + timedelta(seconds=1), T0, UTC)
    assert not spikes.has_full_history(None, T0, UTC)


def test_hour_of_day_baseline_is_the_mean_of_the_seven_days():
    assert spikes.hour_of_day_baseline([7, 0, 14, 7, 7, 7, 7]) == 7.0
    assert spikes.hour_of_day_baseline([]) == 0.0


def test_short_history_uses_the_24_hours_before_the_window():
    earliest = T0 - timedelta(days=3)
    span = spikes.short_history_span(earliest, T0)
    assert span == (T0 - spikes.WINDOW - timedelta(hours=24), T0 - spikes.WINDOW)
    assert spikes.trailing_baseline(240, span) == 10.0


def test_short_history_of_a_few_hours_averages_over_those_hours():
    earliest = T0 - spikes.WINDOW - timedelta(hours=4)
    span = spikes.short_history_span(earliest, T0)
    assert span == (earliest, T0 - spikes.WINDOW)
    assert spikes.trailing_baseline(40, span) == 10.0


def test_minutes_of_history_count_as_one_hour():
    earliest = T0 - spikes.WINDOW - timedelta(minutes=10)
    assert spikes.trailing_baseline(5, spikes.short_history_span(earliest, T0)) == 5.0


def test_no_history_before_the_window_means_no_baseline():
    assert spikes.short_history_span(None, T0) is None
    assert spikes.short_history_span(T0 - timedelta(minutes=30), T0) is None


# ---------------------------------------------------------------- crossing


def test_crossing_needs_both_the_multiplier_and_the_minimum():
    assert not is_crossing(19, 1.0, DEFAULT)  # far above 2x, below the minimum
    assert is_crossing(20, 1.0, DEFAULT)
    assert not is_crossing(40, 20.0, DEFAULT)  # exactly 2x is not above it
    assert is_crossing(41, 20.0, DEFAULT)
    assert threshold(20.0, DEFAULT) == 41
    assert threshold(1.0, DEFAULT) == 20


def test_sensitivity_is_a_multiplier():
    s = SpikeSettings(sensitivity=3.0, min_count=1)
    assert not is_crossing(30, 10.0, s)
    assert is_crossing(31, 10.0, s)


# ---------------------------------------------------------------- cool-down and re-alerting


def _run(counts, baseline=10.0, settings=DEFAULT, step=timedelta(minutes=1), state=RuleState(), start=T0):
    alerts = []
    now = start
    for c in counts:
        d = decide(c, baseline, settings, state, now)
        if d.alert:
            alerts.append((now, c, d.reason))
        state = d.state
        now += step
    return alerts, state


def test_a_surge_alerts_once_then_cools_down():
    alerts, state = _run([5, 30, 35, 60, 100])
    assert [(c, r) for _, c, r in alerts] == [(30, "surge")]
    assert state.surge_active and state.last_alert_count == 30


def test_after_cool_down_a_continuing_surge_alerts_only_when_doubled():
    # 30 at minute 0; cool-down 60 min; counts stay high but below 60 until minute 70.
    counts = [30] + [59] * 69 + [60]
    alerts, _ = _run(counts)
    assert [(c, r) for _, c, r in alerts] == [(30, "surge"), (60, "doubled")]
    assert alerts[1][0] - alerts[0][0] == timedelta(minutes=70)


def test_a_doubled_surge_inside_the_cool_down_waits_for_it_to_end():
    counts = [30] + [200] * 59 + [200]
    alerts, _ = _run(counts)
    assert [(t - T0, r) for t, _, r in alerts] == [(timedelta(0), "surge"), (timedelta(minutes=60), "doubled")]


def test_after_the_surge_ends_and_the_cool_down_passes_a_new_crossing_alerts_without_doubling():
    counts = [30] + [5] * 70 + [25]
    alerts, _ = _run(counts)
    assert [(c, r) for _, c, r in alerts] == [(30, "surge"), (25, "surge")]


def test_a_surge_that_dips_and_returns_inside_the_cool_down_stays_one_surge():
    counts = [30, 5, 5, 40] + [45] * 70
    alerts, _ = _run(counts)
    assert [(c, r) for _, c, r in alerts] == [(30, "surge")]


# ---------------------------------------------------------------- properties

baselines = st.floats(min_value=0, max_value=500, allow_nan=False)
setting_strategy = st.builds(
    SpikeSettings,
    sensitivity=st.floats(min_value=1.1, max_value=10, allow_nan=False),
    min_count=st.integers(min_value=1, max_value=200),
    cooldown_min=st.integers(min_value=5, max_value=240),
)


@settings(max_examples=300)
@given(baselines, setting_strategy, st.data())
def test_no_alert_while_the_stream_stays_within_the_threshold(baseline, s, data):
    limit = threshold(baseline, s)
    counts = data.draw(st.lists(st.integers(min_value=0, max_value=limit - 1), max_size=200))
    alerts, state = _run(counts, baseline, s)
    assert alerts == []
    assert not state.surge_active


@settings(max_examples=300)
@given(baselines, setting_strategy, st.data())
def test_exactly_one_alert_per_surge_while_cooling_down(baseline, s, data):
    limit = threshold(baseline, s)
    first = data.draw(st.integers(min_value=limit, max_value=limit * 10))
    # Anything at all may happen during the cool-down: surges, dips, doubling, tenfold.
    rest = data.draw(st.lists(st.integers(min_value=0, max_value=limit * 50), max_size=s.cooldown_min - 1))
    alerts, _ = _run([first, *rest], baseline, s)
    assert len(alerts) == 1 and alerts[0][0] == T0


@settings(max_examples=200)
@given(baselines, setting_strategy, st.data())
def test_after_cool_down_a_surge_that_never_ended_alerts_again_only_when_doubled(baseline, s, data):
    limit = threshold(baseline, s)
    first = data.draw(st.integers(min_value=limit, max_value=limit * 4))
    later = data.draw(st.integers(min_value=limit, max_value=limit * 12))
    state = RuleState(T0, first, True)
    d = decide(later, baseline, s, state, T0 + timedelta(minutes=s.cooldown_min))
    assert d.alert == (later >= 2 * first)


# ---------------------------------------------------------------- top terms and links


def test_top_terms_count_each_message_once_and_skip_stopwords_and_mentions():
    texts = [
        "The river is flooding on Mill Road @cityofriverton #FloodWatch",
        "Flooding again on mill road, the water is rising",
        "Is the bridge closed? @cityofriverton",
        "الفيضان في الشارع والفيضان يزداد",
        "فيضان على الطريق",
    ]
    terms = dict(spikes.top_terms(texts, limit=10))
    assert terms["flooding"] == 2
    assert terms["mill"] == 2 and terms["road"] == 2
    assert terms["فيضان"] == 2  # الفيضان / والفيضان / فيضان are one word, counted once per message
    for gone in ("the", "is", "on", "cityofriverton", "@cityofriverton", "في", "علي", "#floodwatch"):
        assert gone not in terms
    assert "floodwatch" in terms


def test_inbox_link_uses_profile_since_and_q():
    link = spikes.inbox_link(3, datetime(2026, 11, 24, 10, 0, 42, tzinfo=UTC), q="flood")
    assert link == "/inbox?profile=3&since=2026-11-24T10%3A00&q=flood"
    assert spikes.inbox_link(None, datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("Asia/Dubai"))) == "/inbox?since=2026-11-24T08%3A00"
