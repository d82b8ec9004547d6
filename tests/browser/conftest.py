"""Browser-test harness: builds and serves the real app in prod mode on a spare port, and drives Debian's Chromium."""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import missing_service

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GOVSOCIAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
DEMO_PASSWORD = "govsocial-demo"
# `make test` runs two pytest-xdist workers, and each may start the live app: every worker but the first builds in
# its own directory (.web-test-gw1, …), since a second `reflex run --env prod` in a build directory that an app is
# serving re-exports the frontend under it.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKER_SUFFIX = "" if _WORKER in ("", "gw0") else f"-{_WORKER}"
# Only one app builds at a time on this checkout, whichever worker starts it (builds share bun's cache and the cores).
_BUILD_LOCK = Path(tempfile.gettempdir()) / f"govsocial-build-{hashlib.sha256(str(REPO).encode()).hexdigest()[:12]}.lock"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reflex_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_CHECK_LATEST_VERSION="0",
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_HTTP_CLIENT_BIND_ADDRESS="0.0.0.0",
        REFLEX_USE_GRANIAN="1",
        # Its own build directory, so `make run` and `make test` never fight over .web.
        REFLEX_WEB_WORKDIR=str(REPO / f".web-test{_WORKER_SUFFIX}"),
        REFLEX_STATES_WORKDIR=str(REPO / f".states-test{_WORKER_SUFFIX}"),
        PATH=f"{REPO / '.tools/node_modules/.bin'}:{REPO / '.venv/bin'}:{env.get('PATH', '')}",
    )
    env.pop("REFLEX_PERF_MODE", None)
    env.update(extra or {})
    return env


class LiveApp:
    def __init__(self, url: str, data_dir: Path, proc: subprocess.Popen, log: Path):
        self.url, self.data_dir, self.proc, self.log = url, data_dir, proc, log


def start_app(tmp: Path, extra_env: dict | None = None, timeout: float = 420, port: int | None = None) -> LiveApp:
    """Migrate, seed and `reflex run --env prod` (which compiles and builds the frontend) in the app's build
    directory; returns once the app answers. Builds wait for each other (_BUILD_LOCK); the timeout starts after."""
    with _BUILD_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start_app(tmp, extra_env, timeout, port)


def _start_app(tmp: Path, extra_env: dict | None, timeout: float, port: int | None) -> LiveApp:
    port = port or free_port()  # given when a peer must know the app's address first (the identity provider)
    data_dir = tmp / "data"
    env = reflex_env({"GOVSOCIAL_DATA_DIR": str(data_dir), "GOVSOCIAL_PORT": str(port), **(extra_env or {})})
    env.pop("DATABASE_URL", None) if "DATABASE_URL" not in (extra_env or {}) else None
    py = str(REPO / ".venv/bin/python")
    subprocess.run([py, "-m", "govsocial_app.cli", "migrate"], cwd=REPO, env=env, check=True, capture_output=True)
    subprocess.run([py, "-m", "govsocial_app.cli", "seed", "--days", "2"], cwd=REPO, env=env, check=True, capture_output=True)
    log = tmp / "reflex.log"
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/reflex"), "run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited while starting:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url + "/login", timeout=2, follow_redirects=True).status_code == 200 and httpx.get(url + "/ping", timeout=2).status_code == 200:
                return LiveApp(url, data_dir, proc, log)
        except httpx.HTTPError:
            pass
        time.sleep(1)
    stop_app(proc)
    raise RuntimeError(f"the app did not answer within {timeout} s:\n{log.read_text()[-4000:]}")


def stop_app(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        missing_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    # GOVSOCIAL_TEST_HOOKS: the load-shedding test saturates this worker's loop on purpose (govsocial_app/loadshed.py).
    app = start_app(tmp_path_factory.mktemp("live"), {"GOVSOCIAL_TEST_HOOKS": "1"})
    yield app
    stop_app(app.proc)


# The session-wide `browser` fixture lives in tests/conftest.py: Playwright's sync API allows one instance per
# thread, and both tests/browser and tests/prod drive Chromium.


def phone_context(browser, **options):
    """A browser context the size of a phone (390×844, touch): where browser tests start unless a test is about
    the desktop layout."""
    return browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, **options)


def sign_in(page, base_url: str, email: str, password: str = DEMO_PASSWORD, *, start: str = "/", lands: str = "**/inbox**") -> None:
    """Sign in the way a person does: open an address signed out (the root by default), get sent to the sign-in
    page, and land where they were going (the inbox from the root; a deep link comes back to itself)."""
    page.goto(base_url + start)
    page.wait_for_url("**/login**")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lands, timeout=20_000)


@pytest.fixture
def phone_page(browser, live_app):
    ctx = phone_context(browser)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    yield page
    ctx.close()


@pytest.fixture
def desktop_page(browser, live_app):
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    yield page
    ctx.close()
