"""The presence store, in memory (one process) and in Redis (every worker): one message per person, conditional
leave, the server-side keep-alive that replaced the browser heartbeat, and expiry. Same assertions on both."""

from __future__ import annotations

import pytest

from govsocial_app.services.inbox import presence


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def store(request):
    clock = Clock()
    if request.param == "memory":
        return presence.MemoryPresence(clock), clock
    url = request.getfixturevalue("redis_url")
    return presence.RedisPresence(url, clock), clock


def _on(store) -> dict[int, tuple[int, str]]:
    return {e.user_id: (e.message_id, e.status) for e in store.snapshot()}


def test_a_person_is_on_one_message_at_a_time(store):
    s, _ = store
    s.touch(10, 1, "Riley Responder")
    s.touch(10, 2, "Sam Responder", presence.REPLYING)
    s.touch(11, 1, "Riley Responder")  # Riley opens another message
    assert _on(s) == {1: (11, "viewing"), 2: (10, "replying")}
    # what every client showing message 10 is sent: what the chips show (they word the status in the reader's language)
    assert presence.by_message(s.snapshot())["10"] == [{"user_id": 2, "name": "Sam Responder", "initials": "SR", "status": "replying"}]


def test_leave_takes_a_person_off_only_the_message_they_are_still_on(store):
    s, _ = store
    s.touch(10, 1, "Riley Responder")
    s.touch(11, 1, "Riley Responder")
    s.leave(1, 10)  # a late "left message 10" must not remove Riley from 11
    assert _on(s) == {1: (11, "viewing")}
    s.leave(1, 11)
    assert _on(s) == {}
    s.touch(12, 1, "Riley Responder")
    s.leave(1)
    assert _on(s) == {}


def test_an_entry_nobody_keeps_alive_expires(store):
    s, clock = store
    s.touch(10, 1, "Riley Responder")
    clock.now += presence.TTL_S - 1
    assert _on(s) == {1: (10, "viewing")}
    clock.now += 2
    assert _on(s) == {}, "a closed tab lapses by itself"


def test_keep_alive_rearms_keeps_the_status_and_never_undoes_a_move(store):
    s, clock = store
    s.touch(10, 1, "Riley Responder", presence.REPLYING)
    s.touch(11, 2, "Sam Responder")
    s.touch(20, 3, "Dana Duty")
    for _ in range(5):  # a minute of server-side beats, well past TTL_S
        clock.now += presence.HEARTBEAT_S
        # The worker's view of Dana is stale (she moved from 12 to 20 meanwhile): her entry stays where she went.
        assert s.keep_alive([(1, 10, "Riley Responder"), (2, 11, "Sam Responder"), (3, 12, "Dana Duty")]) == 0
    assert _on(s) == {1: (10, "replying"), 2: (11, "viewing")}, "Dana was not re-armed, so she lapsed"


def test_keep_alive_puts_back_an_entry_that_was_lost(store):
    s, clock = store
    s.touch(10, 1, "Riley Responder")
    clock.now += presence.TTL_S + 1  # the beat came too late (or the store restarted)
    assert _on(s) == {}
    assert s.keep_alive([(1, 10, "Riley Responder")]) == 1
    assert _on(s) == {1: (10, "viewing")}
    assert s.keep_alive([]) == 0


def test_arabic_names_and_quotes_survive_the_round_trip(store):
    s, clock = store
    s.touch(10, 1, 'ليلى "الحربي" / Layla')
    clock.now += presence.HEARTBEAT_S
    s.keep_alive([(1, 10, 'ليلى "الحربي" / Layla')])  # re-encoded inside Redis
    (entry,) = s.snapshot()
    assert entry.name == 'ليلى "الحربي" / Layla' and entry.initials == "لا" and entry.message_id == 10
    assert entry.expires == pytest.approx(clock.now + presence.TTL_S, abs=0.01)
