"""The pure parts of make bench-load's surge (tests/bench/bench_load.py): reading the server's answers, the busy
refusal, the retry backoff and the spread of newcomers. The benchmark itself runs only on demand."""

from __future__ import annotations

import asyncio
import random

from tests.bench import bench_load as bl


def test_the_redirect_path_is_read_from_the_updates_events():
    update = {"delta": {}, "events": [{"name": "_redirect", "payload": {"path": "/login", "external": False, "replace": True}}]}
    assert bl._redirect_path(update) == "/login"
    assert bl._redirect_path({"delta": {bl.INBOX: {"cards_rx_state_": []}}, "events": []}) is None
    assert bl._redirect_path({"events": [{"name": "_call_script", "payload": {"javascript_code": "x"}}]}) is None
    assert bl._redirect_path({}) is None


def test_a_sign_in_error_and_the_inbox_cards_are_recognised():
    refused = {"delta": {bl.LOGIN: {"error_rx_state_": "That email and password do not match an active account."}}}
    assert "do not match" in bl._login_error(refused)
    assert bl._login_error({"delta": {bl.LOGIN: {"error_rx_state_": ""}}}) == ""
    assert bl._login_error({"delta": {bl.INBOX: {"error_rx_state_": "inbox trouble"}}}) == ""  # not the sign-in form
    assert bl._has_cards({"delta": {bl.INBOX: {"cards_rx_state_": [{"id": 1}]}}})
    assert not bl._has_cards({"delta": {bl.LOGIN: {"cards_rx_state_": []}}})


def test_only_the_busy_refusal_is_retried():
    assert bl._is_busy({"message": "busy"}) and bl._is_busy("busy") and bl._is_busy({"message": " Busy "})
    assert not bl._is_busy({"message": "not authorised"}) and not bl._is_busy(None) and not bl._is_busy({})


def test_the_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(1)
    waits = [bl._backoff_s(a, rng) for a in range(10)]
    assert all(0.125 <= w <= 4.0 for w in waits)
    assert waits[0] <= 0.25 and waits[-1] >= 2.0  # jitter keeps it within half to all of the cap
    assert max(bl._backoff_s(3, random.Random(s)) for s in range(50)) <= 2.0 < max(bl._backoff_s(9, random.Random(s)) for s in range(50))


def test_newcomers_are_spread_evenly_over_the_surge():
    starts = bl._surge_starts(200, 10.0)
    assert len(starts) == 200 and starts[0] == 0 and starts[-1] < 10.0
    gaps = {round(b - a, 6) for a, b in zip(starts, starts[1:])}
    assert gaps == {0.05}
    assert bl._surge_starts(0, 10.0) == []


def test_a_slow_answer_is_late_and_only_a_missing_one_is_lost(monkeypatch):
    monkeypatch.setattr(bl, "TIMEOUT_S", 0.0)
    monkeypatch.setattr(bl, "LOST_AFTER_S", 0.2)

    async def go():
        loop = asyncio.get_running_loop()
        late, never = loop.create_future(), loop.create_future()
        loop.call_later(0.05, late.set_result, (1.0, {}))
        return await bl._late_or_lost(late), await bl._late_or_lost(never)

    assert asyncio.run(go()) == ("late", "lost")
