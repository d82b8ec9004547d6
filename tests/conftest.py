"""Shared fixtures: a fresh migrated database per test, the machine's PostgreSQL and Redis, and the service policy."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="govsocial-tests-"))
# Before any app module reads its settings: keep tests away from the developer's data and key file.
os.environ.setdefault("GOVSOCIAL_DATA_DIR", str(_SESSION_TMP / "data"))
os.environ.setdefault("GOVSOCIAL_KEY_FILE", str(_SESSION_TMP / "secret.key"))
os.environ.setdefault("REFLEX_PERF_MODE", "raise")
# The fixtures point the app at a DATABASE_URL, which alone would mean production mode; tests that need production
# behaviour say so themselves.
os.environ.setdefault("GOVSOCIAL_MODE", "demo")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)

PG_ADMIN_URL = os.environ.get("GOVSOCIAL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Sessions sharing one PostgreSQL server name their databases apart (gs_test_<prefix>_…), so none drops another's.
PG_PREFIX = os.environ.get("GOVSOCIAL_TEST_PG_PREFIX", "").strip().lower()


def pg_database_name(kind: str) -> str:
    """A fresh database name: `gs_<kind>_[<prefix>_]<random>` (the prefix from GOVSOCIAL_TEST_PG_PREFIX)."""
    if PG_PREFIX and not PG_PREFIX.replace("_", "").isalnum():
        raise ValueError(f"GOVSOCIAL_TEST_PG_PREFIX must be letters, digits and underscores, not {PG_PREFIX!r}")
    return f"gs_{kind}_{PG_PREFIX + '_' if PG_PREFIX else ''}{uuid.uuid4().hex[:10]}"
REDIS_TEST_URL = os.environ.get("GOVSOCIAL_TEST_REDIS", "redis://127.0.0.1:6379/15")


def _worker_redis(url: str) -> str:
    """`make test` runs two pytest workers (pytest-xdist): each flushes its own Redis database. gw0 keeps the
    configured one; gw1 takes two below it (one below is tests/prod/stack.py's PROD_REDIS)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or worker == "gw0":
        return url
    base, db = url.rsplit("/", 1)
    return f"{base}/{max(int(db) - 1 - int(worker[2:]), 0)}"


REDIS_TEST_URL = _worker_redis(REDIS_TEST_URL)

# The peers (servers nobody on the team wrote, installed once into tests/peers/.cache) run on one worker, in order.
_SERIAL_GROUPS = {"peers": ("tests/peers/",)}

# Browser tests (everything under tests/browser/, and any test marked `browser`) are split into two groups, one per
# worker, balanced by these measured seconds per module (setup included; one process on the shared 2-core machine,
# `pytest --durations`). A worker whose group uses the live app starts its own (tests/browser/conftest.py), which costs
# _LIVE_APP_START_S more. A module not listed counts as _UNMEASURED_S: measure it and add it here.
_BROWSER_GROUPS = ("browser-1", "browser-2")
_BROWSER_MODULE_SECONDS = {
    "tests/browser/test_accessibility.py": 125, "tests/prod/test_production_mode.py": 122,
    "tests/browser/test_inbox_collision.py": 72, "tests/browser/test_agency_sign_in.py": 56,
    "tests/browser/test_official_alert.py": 46, "tests/browser/test_security_headers.py": 24,
    "tests/browser/test_foundation.py": 15, "tests/browser/test_load_shedding.py": 14, "tests/browser/test_rules.py": 14,
    "tests/browser/test_pwa.py": 13, "tests/browser/test_moderation.py": 12, "tests/browser/test_publish_pause.py": 10,
    "tests/browser/test_saved_replies.py": 9, "tests/browser/test_records_page.py": 9, "tests/browser/test_twin_modes.py": 8,
    "tests/browser/test_sign_in.py": 7, "tests/browser/test_teams.py": 7, "tests/browser/test_approval_trail.py": 6,
    "tests/browser/test_ws_signed_out.py": 4, "tests/browser/test_targets.py": 3, "tests/browser/test_page_weight.py": 4,
    "tests/browser/test_loading_frame.py": 15, "tests/browser/test_charts.py": 8,
}
_LIVE_APP_START_S = 30
_UNMEASURED_S = 20


def _browser_group_of(items) -> dict[str, str]:
    """Module path → browser group. Longest module first, each to the group that would then finish first.
    A module with a test that does not drive Chromium (an asyncio test against the live app) goes to the first
    group, whose tests start before any other browser group's on their worker: Playwright's sync API leaves an event
    loop running in its thread, which breaks every asyncio test after it."""
    uses_live_app: dict[str, bool] = {}
    first_group: set[str] = set()
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        uses_live_app[module] = uses_live_app.get(module, False) or "live_app" in item.fixturenames
        if item.get_closest_marker("browser") is None:
            first_group.add(module)
    totals = [0.0] * len(_BROWSER_GROUPS)
    has_live_app = [False] * len(_BROWSER_GROUPS)
    group_of = {}
    order = sorted(uses_live_app, key=lambda m: (m not in first_group, -_BROWSER_MODULE_SECONDS.get(m, _UNMEASURED_S), m))
    for module in order:
        def finish(g: int) -> float:
            start = _LIVE_APP_START_S if uses_live_app[module] and not has_live_app[g] else 0
            return totals[g] + start + _BROWSER_MODULE_SECONDS.get(module, _UNMEASURED_S)

        g = 0 if module in first_group else min(range(len(_BROWSER_GROUPS)), key=lambda g: (finish(g), g))
        totals[g], has_live_app[g] = finish(g), has_live_app[g] or uses_live_app[module]
        group_of[module] = _BROWSER_GROUPS[g]
    return group_of


def _is_browser_test(item) -> bool:
    return item.nodeid.replace("\\", "/").startswith("tests/browser/") or item.get_closest_marker("browser") is not None


def pytest_collection_modifyitems(config, items):
    """Browser tests run last, first group then second, each group's tests not driving Chromium first: Playwright's
    sync API leaves an event loop running in this thread, which would break every asyncio test after it. Under
    pytest-xdist (`make test`, --dist loadgroup) each group and the peers run on one worker each, in order; the
    scheduler hands out work in this order, so a worker reaches a browser group only when nothing else is left."""
    browser_items = [item for item in items if _is_browser_test(item)]
    group_of = _browser_group_of(browser_items)

    def rank(item) -> tuple[int, bool]:
        if not _is_browser_test(item):
            return 0, False
        group = group_of[item.nodeid.split("::", 1)[0]]
        return 1 + _BROWSER_GROUPS.index(group), item.get_closest_marker("browser") is not None

    items.sort(key=rank)
    for item in items:
        path = item.nodeid.replace("\\", "/")
        if _is_browser_test(item):
            item.add_marker(pytest.mark.xdist_group(group_of[path.split("::", 1)[0]]))
            continue
        for group, prefixes in _SERIAL_GROUPS.items():
            if path.startswith(prefixes):
                item.add_marker(pytest.mark.xdist_group(group))
    _write_groups(items)


# pytest-xdist 3.8 tells its loadgroup scheduler an item's group by appending "@group" to `item._nodeid`, which
# pytest 9 no longer reads (a node's id lives in `item._id`): every test was its own unit and no group held. So the
# workers write the groups they mark (below) to a file, and the controller's scheduler reads them from there.
_GROUPS_FILE_ENV = "GOVSOCIAL_XDIST_GROUPS_FILE"


def pytest_configure(config):
    if getattr(config.option, "numprocesses", None) and _GROUPS_FILE_ENV not in os.environ:
        os.environ[_GROUPS_FILE_ENV] = str(_SESSION_TMP / "xdist-groups.json")  # the workers inherit it


def _write_groups(items) -> None:
    path = os.environ.get(_GROUPS_FILE_ENV)
    if path and os.environ.get("PYTEST_XDIST_WORKER") == "gw0":
        import json

        groups = {item.nodeid: mark.args[0] for item in items if (mark := item.get_closest_marker("xdist_group"))}
        Path(path).write_text(json.dumps(groups))


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    # Units go out in collection order (browser groups last, see above), not largest first: a worker that ran a
    # browser group must get no asyncio test after it.
    config.option.loadscopereorder = False
    import json

    from xdist.scheduler import LoadGroupScheduling

    class FileGroupScheduling(LoadGroupScheduling):
        _groups: dict | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._groups is None:  # first called once every worker has collected (and gw0 has written the file)
                self._groups = json.loads(Path(os.environ[_GROUPS_FILE_ENV]).read_text())
            return self._groups.get(nodeid, nodeid)

    return FileGroupScheduling(config, log)


def services_required() -> bool:
    return os.environ.get("GOVSOCIAL_REQUIRE_SERVICES") == "1"


def missing_service(reason: str):
    """Fail loudly in CI (GOVSOCIAL_REQUIRE_SERVICES=1); skip with the reason elsewhere."""
    if services_required():
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def point_app_at(url: str, redis_url: str = "") -> None:
    from govsocial_app import config
    from govsocial_app.db import engine
    from govsocial_app.services import bus, crypto
    from govsocial_app.services.inbox import presence

    os.environ["DATABASE_URL"] = url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    config.reset_settings_cache()
    engine.reset_engine()
    crypto.reset_cache()
    bus.reset()
    presence.reset()


@pytest.fixture
def loopback_peers(monkeypatch):
    """Real third-party servers run on this machine's loopback: allow it, as an on-premises server would be
    (GOVSOCIAL_ALLOW_PRIVATE_NETWORKS; connectors/netguard.py refuses private addresses otherwise)."""
    monkeypatch.setenv("GOVSOCIAL_ALLOW_PRIVATE_NETWORKS", "127.0.0.0/8,::1/128")


@pytest.fixture(scope="session")
def _migrated_template() -> Path:
    from govsocial_app.db.migrate import upgrade

    path = _SESSION_TMP / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def db(_migrated_template, tmp_path) -> str:
    """A fresh, fully migrated SQLite database for one test; the app's engine points at it."""
    yield from fresh_sqlite(_migrated_template, tmp_path)


def fresh_sqlite(template, tmp_path):
    """A copy of the migrated template that the app's engine points at until the test ends (a fixture's body)."""
    path = tmp_path / "govsocial.db"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    point_app_at(url)
    yield url
    point_app_at(f"sqlite:///{_SESSION_TMP / 'unused.db'}")


@pytest.fixture
def pg_url():
    """A new, empty PostgreSQL database on the machine's server, dropped afterwards."""
    try:
        import psycopg

        admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except Exception as exc:  # pragma: no cover - depends on the machine
        missing_service(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")
    name = pg_database_name("test")
    conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    from govsocial_app.db import engine

    engine.reset_engine()
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def partition(url: str) -> None:
    """Convert the migrated PostgreSQL database at `url` to monthly partitions (what `cli partitions enable` does)."""
    import sqlalchemy as sa

    from govsocial_app.db import partition_convert

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            partition_convert.enable(conn)
    finally:
        engine.dispose()


@pytest.fixture
def pg_db(pg_url) -> str:
    """A migrated PostgreSQL database the app's engine points at. GOVSOCIAL_TEST_PARTITIONED=1 converts each one to
    monthly partitions first (`cli partitions enable`), to run the PostgreSQL tests on that layout too."""
    from govsocial_app.db.migrate import upgrade

    upgrade(pg_url)
    point_app_at(pg_url)
    if os.environ.get("GOVSOCIAL_TEST_PARTITIONED") == "1":
        partition(pg_url)
    yield pg_url
    point_app_at(f"sqlite:///{_SESSION_TMP / 'unused.db'}")


@pytest.fixture
def redis_url():
    try:
        import redis

        client = redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=2)
        client.ping()
    except Exception as exc:  # pragma: no cover
        missing_service(f"Redis is not reachable at 127.0.0.1:6379 ({exc})")
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()


@pytest.fixture
def actor_factory(request):
    """Create a user with a role and return the Actor that service calls take, in the test's own database:
    PostgreSQL when the test asks for `pg_db`, else a fresh SQLite one. (Depending on `db` unconditionally pointed
    the app back at SQLite after `pg_db`, so PostgreSQL tests silently ran on SQLite.)"""
    request.getfixturevalue("pg_db" if "pg_db" in request.fixturenames else "db")
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    def make(role: str = "admin", name: str | None = None) -> Actor:
        name = name or f"{role.title()} Tester"
        email = f"{role}-{uuid.uuid4().hex[:6]}@test.gov"
        uid = auth.create_user(email, name, "correct horse battery", role, Actor.system("test"))
        return Actor(uid, f"{name} <{email}>", role, "127.0.0.1", "pytest")

    return make


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run, shared by tests/browser and tests/prod: Playwright's sync API allows a
    single instance per thread."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        missing_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
