"""Reflex's state-lock trace reaches the app's log when an operator turns it on, and stays out of it otherwise."""

import logging

from govsocial_app import logs

TRACE = "reflex.istate.manager.redis"


def _trace_line_logged(caplog) -> bool:
    caplog.clear()
    logging.getLogger(TRACE).debug("abc_lock waiting for tag:123")
    return any(r.name == TRACE and "waiting for" in r.getMessage() for r in caplog.records)


def test_the_lock_trace_is_logged_only_when_reflex_s_switch_is_on(monkeypatch, caplog):
    root, trace = logging.getLogger(), logging.getLogger(TRACE)
    levels = root.level, trace.level
    try:
        root.setLevel(logging.INFO)  # the root level in production
        trace.setLevel(logging.NOTSET)
        monkeypatch.delenv("REFLEX_STATE_MANAGER_REDIS_DEBUG", raising=False)
        logs.configure("web")
        assert not _trace_line_logged(caplog)

        monkeypatch.setenv("REFLEX_STATE_MANAGER_REDIS_DEBUG", "true")
        logs.configure("web")  # idempotent for the root handler, but it still honours the switch
        assert _trace_line_logged(caplog)
    finally:
        root.setLevel(levels[0])
        trace.setLevel(levels[1])
