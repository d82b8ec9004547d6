"""The long-running processes tune the garbage collector once start-up is done (govsocial_app/gctune.py)."""

from __future__ import annotations

import gc

import pytest

from govsocial_app import gctune


@pytest.fixture
def restore_gc():
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tune_freezes_what_exists_and_raises_the_youngest_threshold(restore_gc):
    kept = [object() for _ in range(10)]  # noqa: F841 - alive across the freeze
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    gctune.tune()
    assert gc.get_freeze_count() > 1000, "start-up's objects are in the permanent generation"
    assert gc.get_threshold() == gctune.THRESHOLDS and gctune.THRESHOLDS[0] > 700


def test_cycles_made_after_tuning_are_still_collected(restore_gc):
    gctune.tune()

    class Node:
        pass

    import weakref

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect(0)
    assert gone() is None


def test_the_web_workers_and_the_jobs_process_tune_it(monkeypatch):
    import jobs.__main__ as jobs_main
    from govsocial_app import config
    from govsocial_app import govsocial_app as web

    assert gctune.tune_after_start in web.app.get_lifespan_tasks()
    calls = []
    monkeypatch.setattr(gctune, "tune", lambda: calls.append("tune"))

    def run(coro):
        coro.close()
        calls.append("run")
        return 0

    monkeypatch.setattr(jobs_main.asyncio, "run", run)
    monkeypatch.setenv("GOVSOCIAL_EMBEDDED_JOBS", "0")
    config.reset_settings_cache()
    try:
        assert jobs_main.main([]) == 0
    finally:
        config.reset_settings_cache()
    assert calls == ["tune", "run"], "tuned once, before the scheduler starts"


def test_tune_configures_the_database_mappers_a_first_sign_in_would_otherwise_configure():
    """In a fresh process (this one's mappers were configured by earlier tests): nothing is configured until tune(),
    which leaves every table's mapper configured, so no person's first query in a surge pays for it."""
    import subprocess
    import sys

    probe = (
        "import govsocial_app.db.models as m\n"
        "from sqlalchemy import inspect\n"
        "from sqlmodel import SQLModel\n"
        "mappers = [mp for reg in [SQLModel._sa_registry] for mp in reg.mappers]\n"
        "assert len(mappers) > 30, len(mappers)\n"
        "before = sum(mp.configured for mp in mappers)\n"
        "from govsocial_app import gctune\n"
        "gctune.tune()\n"
        "print(before, sum(mp.configured for mp in mappers), len(mappers))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True).stdout.split()
    before, after, total = map(int, out)
    assert before < total and after == total
