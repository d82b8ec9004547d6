"""Installs (npm, into a git-ignored cache), starts and stops web-push-testing, a third-party Web Push service mock."""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
VERSION = "1.2.2"
# tests/peers/.cache/ is git-ignored; GOVSOCIAL_PEERS_CACHE lets CI keep it elsewhere.
CACHE = Path(os.environ.get("GOVSOCIAL_PEERS_CACHE", HERE.parent / ".cache")).resolve()
PREFIX = CACHE / f"web-push-testing-{VERSION}"
SERVER_JS = PREFIX / "node_modules" / "web-push-testing" / "src" / "bin" / "server.js"
START_TIMEOUT_S = 30


class PeerUnavailable(RuntimeError):
    """Node, npm or the npm registry is missing; the message says which."""


def install() -> None:
    """npm-install web-push-testing by itself into the cache, unless an earlier run already did."""
    if (PREFIX / ".installed").exists():
        return
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise PeerUnavailable(f"{tool} is not installed; it runs web-push-testing@{VERSION}")
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".webpush-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two sessions started together must not install over each other
        if (PREFIX / ".installed").exists():
            return
        shutil.rmtree(PREFIX, ignore_errors=True)
        PREFIX.mkdir(parents=True)
        # Without a package.json here npm would walk up and install into whatever project it finds.
        (PREFIX / "package.json").write_text('{"private": true}\n')
        log = PREFIX / "npm-install.log"
        with log.open("w") as out:
            result = subprocess.run(
                ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", f"web-push-testing@{VERSION}"],
                cwd=PREFIX, stdout=out, stderr=subprocess.STDOUT, timeout=300, check=False,
            )
        if result.returncode != 0 or not SERVER_JS.exists():
            raise PeerUnavailable(f"npm install web-push-testing@{VERSION} failed:\n{log.read_text()[-2000:]}")
        (PREFIX / ".installed").write_text(VERSION + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PushService:
    process: subprocess.Popen
    url: str
    log_path: Path
    client: httpx.Client = field(repr=False)

    def _post(self, path: str, body: dict) -> dict:
        r = self.client.post(self.url + path, json=body)
        r.raise_for_status()
        return r.json() if r.content else {}

    def subscribe(self, application_server_key: str) -> dict:
        """A browser-like subscription: endpoint, keys {p256dh, auth}, and the mock's clientHash."""
        data = self._post("/subscribe", {"applicationServerKey": application_server_key, "userVisibleOnly": "true"})["data"]
        # The mock names itself "localhost"; it listens on 127.0.0.1 only (see loopback.cjs).
        data["endpoint"] = data["endpoint"].replace("://localhost:", "://127.0.0.1:")
        return data

    def messages(self, client_hash: str) -> list[str]:
        """The decrypted payloads the mock accepted for this subscription."""
        return self._post("/get-notifications", {"clientHash": client_hash})["data"]["messages"]

    def expire(self, client_hash: str) -> None:
        """From now on the mock answers pushes to this subscription with 410 Gone."""
        self.client.post(f"{self.url}/expire-subscription/{client_hash}").raise_for_status()


def start() -> PushService:
    port = free_port()
    log_path = PREFIX / f"server-{port}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            ["node", "--require", str(HERE / "loopback.cjs"), str(SERVER_JS), str(port)],
            cwd=PREFIX, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(timeout=5.0)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if client.post(url + "/status").status_code == 200:
                return PushService(proc, url, log_path, client)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_process(proc)
    client.close()
    raise RuntimeError(f"web-push-testing did not start; log:\n{log_path.read_text()[-2000:]}")


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM by PID, SIGKILL if it hangs."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop(service: PushService) -> None:
    service.client.close()
    stop_process(service.process)
