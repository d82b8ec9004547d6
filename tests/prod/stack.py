"""A production-mode GovSocial on this machine for tests and the load benchmark: a fresh PostgreSQL database,
a dedicated Redis database, N Reflex workers, `python -m jobs` (plus standbys) and, optionally, nginx in front."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.browser.conftest import free_port, reflex_env, start_app, stop_app
from tests.prod.helpers import PY, REPO, start_jobs, stop

PG_ADMIN = os.environ.get("GOVSOCIAL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Its own Redis database: the unit tests flush theirs (15 by default) between tests.
PROD_REDIS = os.environ.get("GOVSOCIAL_TEST_REDIS_PROD", os.environ.get("GOVSOCIAL_TEST_REDIS", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/14")
NGINX_EXAMPLE = REPO / "govsocial_app/deploy/nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# Separate from .web (make run) and .web-test (the other browser tests): builds never collide.
WEB_DIR, STATES_DIR = REPO / ".web-prod", REPO / ".states-prod"


def missing() -> str | None:
    """Why the stack cannot run here, or None."""
    try:
        import psycopg

        psycopg.connect(PG_ADMIN.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
    except Exception as exc:
        return f"PostgreSQL is not reachable ({exc})"
    try:
        import redis

        redis.Redis.from_url(PROD_REDIS, socket_timeout=2).ping()
    except Exception as exc:
        return f"Redis is not reachable ({exc})"
    return None


def create_database() -> tuple[str, str]:
    import psycopg

    from tests.conftest import pg_database_name

    name = pg_database_name("prod")
    with psycopg.connect(PG_ADMIN.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- nginx, from the worked example


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def nginx_site(app_port: int, http_port: int, https_port: int, cert: Path, key: Path, log_dir: Path) -> str:
    """The example with only its addresses rewritten for loopback; every rewrite must hit, so the example cannot drift."""
    site = NGINX_EXAMPLE.read_text()
    rewrites = {
        "server 127.0.0.1:3000;": f"server 127.0.0.1:{app_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "/etc/ssl/certs/social.example.gov.pem": str(cert),
        "/etc/ssl/private/social.example.gov.key": str(key),
        "/var/log/nginx/govsocial.access.log": str(log_dir / "govsocial.access.log"),
    }
    for old, new in rewrites.items():
        assert old in site, f"{NGINX_EXAMPLE} no longer contains {old!r}: update the example and this rewrite together"
        site = site.replace(old, new)
    return site


def start_nginx(tmp: Path, app_port: int, https_port: int) -> tuple[subprocess.Popen, int]:
    prefix = tmp / "nginx"
    prefix.mkdir()
    cert, key = self_signed_cert(prefix)
    http_port = free_port()
    (prefix / "govsocial.conf").write_text(nginx_site(app_port, http_port, https_port, cert, key, prefix))
    temp_paths = "\n".join(f"  {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (prefix / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} info;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n  access_log {prefix / 'access.log'};\n{temp_paths}\n  include {prefix / 'govsocial.conf'};\n}}\n"
    )
    args = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx rejects the example configuration:\n{check.stderr}")
    proc = subprocess.Popen([*args, "-g", "daemon off;"], stdout=(prefix / "stdout.log").open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            httpx.get(f"https://127.0.0.1:{https_port}/ping", verify=False, timeout=2)
            return proc, http_port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"nginx did not answer:\n{(prefix / 'error.log').read_text()[-3000:]}")


# ---------------------------------------------------------------- the whole stack


def adopt_demo_accounts(database_url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text('UPDATE "user" SET is_demo = false'))
    finally:
        engine.dispose()


@dataclass
class Stack:
    tmp: Path
    database_url: str
    database_name: str
    redis_url: str
    workers: int
    env: dict
    app: object = None  # tests.browser.conftest.LiveApp
    nginx: subprocess.Popen | None = None
    public_url: str = ""
    jobs: list[subprocess.Popen] = field(default_factory=list)
    health_token: str = ""

    def health(self, **kwargs) -> dict:
        """/api/health with its details (they need the health token)."""
        return httpx.get(self.url + "/api/health", headers={"Authorization": f"Bearer {self.health_token}"}, verify=False, timeout=10,
                         **kwargs).json()

    @property
    def url(self) -> str:
        """Where browsers go: nginx when it runs, else the app's own port."""
        return self.public_url or self.app.url

    def start_jobs(self, name: str) -> subprocess.Popen:
        proc = start_jobs(self.env, self.tmp / f"{name}.log")
        self.jobs.append(proc)
        return proc

    def worker_of(self, token: str) -> str | None:
        """Which web worker holds this client's websocket: Reflex's token manager records it in Redis."""
        import redis

        raw = redis.Redis.from_url(self.redis_url).get(f"token_manager_socket_record_{token}")
        return pickle.loads(raw).instance_id if raw else None

    def stop(self) -> None:
        for proc in self.jobs:
            stop(proc)
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish open requests
            try:
                self.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        if self.app is not None:
            stop_app(self.app.proc)
        try:
            drop_database(self.database_name)
        finally:
            import redis

            redis.Redis.from_url(self.redis_url).flushdb()


def start_stack(tmp: Path, *, workers: int = 3, nginx: bool = True, seed_days: int = 1, standbys: int = 1,
                before_app=None, extra_env: dict | None = None) -> Stack:
    """Fresh database → migrate → seed (demo data) → jobs process (+ standbys) → N workers → nginx.
    `before_app(stack)` runs after seeding, before anything starts (the benchmark sets its scenario there)."""
    import redis
    from cryptography.fernet import Fernet

    import secrets

    redis.Redis.from_url(PROD_REDIS).flushdb()
    url, name = create_database()
    health_token = secrets.token_urlsafe(16)
    https_port = free_port()
    public = f"https://127.0.0.1:{https_port}" if nginx else ""
    common = {
        "DATABASE_URL": url,
        "REDIS_URL": PROD_REDIS,
        "GOVSOCIAL_DATA_DIR": str(tmp / "data"),
        "GOVSOCIAL_KEY_FILE": str(tmp / "secret.key"),
        "GOVSOCIAL_SECRET_KEY": Fernet.generate_key().decode(),
        "GOVSOCIAL_EMBEDDED_JOBS": "0",
        "GOVSOCIAL_LOG_JSON": "1",
        "GRANIAN_WORKERS": str(workers),
        "GOVSOCIAL_HEALTH_TOKEN": health_token,
        "REFLEX_WEB_WORKDIR": str(WEB_DIR),
        "REFLEX_STATES_WORKDIR": str(STATES_DIR),
        # Behind the example nginx, as its header says: one trusted proxy.
        **({"REFLEX_API_URL": public, "GOVSOCIAL_PUBLIC_URL": public, "GOVSOCIAL_TRUSTED_PROXY_HOPS": "1"} if public else {}),
        **(extra_env or {}),
    }
    env = reflex_env(common)
    stack = Stack(tmp, url, name, PROD_REDIS, workers, env, public_url=public, health_token=health_token)
    try:
        # Demo data needs demo mode; everything after runs as production would.
        seed_env = {**env, "GOVSOCIAL_MODE": "demo"}
        subprocess.run([PY, "-m", "govsocial_app.cli", "migrate"], cwd=REPO, env=seed_env, check=True, capture_output=True)
        subprocess.run([PY, "-m", "govsocial_app.cli", "seed", "--days", str(seed_days)], cwd=REPO, env=seed_env, check=True, capture_output=True)
        env["GOVSOCIAL_MODE"] = "production"
        # Production refuses demo accounts. The tests stand for an agency that made these people's accounts itself.
        adopt_demo_accounts(url)
        if before_app is not None:
            before_app(stack)
        stack.start_jobs("jobs-primary")
        from tests.prod.helpers import holder_of, wait_for_holder

        wait_for_holder(url, lambda h: h == holder_of(stack.jobs[0]), timeout=60)
        for i in range(standbys):
            stack.start_jobs(f"jobs-standby-{i + 1}")
        stack.app = start_app(tmp, extra_env={k: env[k] for k in (*common, "GOVSOCIAL_MODE")})
        if nginx:
            stack.nginx, _ = start_nginx(tmp, int(stack.app.url.rsplit(":", 1)[1]), https_port)
    except BaseException:
        stack.stop()
        raise
    return stack
