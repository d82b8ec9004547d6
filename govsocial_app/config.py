"""Runtime configuration, read once from environment variables (documented in README.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent


def _list(name: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in os.environ.get(name, "").replace(";", ",").split(",") if x.strip())


def _number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    mode: str  # "demo" or "production"
    data_dir: Path
    database_url: str
    redis_url: str
    secret_key: str
    key_file: Path
    public_url: str
    agency_name: str
    embedded_jobs: bool
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_starttls: bool
    smtp_from: str
    vapid_private_key: str
    vapid_public_key: str
    vapid_subject: str
    log_json: bool
    # How many reverse proxies in front of the app append to X-Forwarded-For. 0 (the default) ignores that
    # header, which is right when browsers reach the app directly; behind the example nginx it is 1.
    trusted_proxy_hops: int = 0
    # A session ends after this long without any activity, and in any case this long after sign-in.
    session_idle_hours: float = 12.0
    session_max_days: float = 14.0
    # Networks (CIDR) the server may contact although they are private, loopback or link-local: push services and
    # connector instances on the agency's own network, or local test servers. Empty: only public addresses.
    allow_private_networks: tuple[str, ...] = ()
    # Other origins allowed to call the app's HTTP routes from a browser (its own public origin always is).
    cors_origins: tuple[str, ...] = ()
    # A bearer token that unlocks the details of /api/health (profiles, errors, the jobs host). Unset: up/down only.
    health_token: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def demo(self) -> bool:
        return self.mode != "production"

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def media_dir(self) -> Path:
        """Private media waiting for approval: never under the public /_upload mount."""
        return self.data_dir / "media"


def stale_after_s() -> float:
    """A publishing claim older than this belongs to a sender that died. It must exceed 2 x CALL_TIMEOUT_S of
    services/publishing/sender.py (a reconciling send looks, then publishes, each bounded by CALL_TIMEOUT_S).
    Read on every call (tests and operators change GOVSOCIAL_PUBLISH_STALE_S at run time). Here, not in the sender,
    so pause.py and sender.py both read it without importing each other."""
    try:
        return max(float(os.environ.get("GOVSOCIAL_PUBLISH_STALE_S", "180")), 0.5)
    except ValueError:
        return 180.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    # Demo mode is what `make run` gives with zero set-up (SQLite, no Redis). A server configured with a database or
    # Redis of its own is a real deployment: it runs in production mode unless GOVSOCIAL_MODE says demo.
    default_mode = "production" if env.get("DATABASE_URL") or env.get("REDIS_URL") else "demo"
    mode = env.get("GOVSOCIAL_MODE", default_mode).strip().lower() or default_mode
    if mode not in ("demo", "production"):
        raise ValueError(f"GOVSOCIAL_MODE must be 'demo' or 'production', not {mode!r}")
    data_dir = Path(env.get("GOVSOCIAL_DATA_DIR") or REPO_ROOT / "data").resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'govsocial.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    redis_url = env.get("REDIS_URL", "")
    key_file = Path(env.get("GOVSOCIAL_KEY_FILE") or Path.home() / ".config" / "govsocial" / "secret.key")
    return Settings(
        mode=mode,
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=env.get("GOVSOCIAL_SECRET_KEY", ""),
        key_file=key_file,
        public_url=env.get("GOVSOCIAL_PUBLIC_URL", "http://127.0.0.1:3000").rstrip("/"),
        agency_name=env.get("GOVSOCIAL_AGENCY_NAME", "City of Riverton"),
        embedded_jobs=_bool("GOVSOCIAL_EMBEDDED_JOBS", not redis_url),
        smtp_host=env.get("SMTP_HOST", ""),
        smtp_port=int(env.get("SMTP_PORT", "587") or 587),
        smtp_user=env.get("SMTP_USER", ""),
        smtp_password=env.get("SMTP_PASSWORD", ""),
        smtp_starttls=_bool("SMTP_STARTTLS", True),
        smtp_from=env.get("SMTP_FROM", "GovSocial <alerts@localhost>"),
        vapid_private_key=env.get("VAPID_PRIVATE_KEY", ""),
        vapid_public_key=env.get("VAPID_PUBLIC_KEY", ""),
        vapid_subject=env.get("VAPID_SUBJECT", "mailto:admin@localhost"),
        log_json=_bool("GOVSOCIAL_LOG_JSON", mode == "production"),
        trusted_proxy_hops=int(_number("GOVSOCIAL_TRUSTED_PROXY_HOPS", 0, 0)),
        session_idle_hours=_number("GOVSOCIAL_SESSION_IDLE_HOURS", 12.0, 0.05),
        session_max_days=_number("GOVSOCIAL_SESSION_MAX_DAYS", 14.0, 0.01),
        allow_private_networks=_list("GOVSOCIAL_ALLOW_PRIVATE_NETWORKS"),
        cors_origins=_list("GOVSOCIAL_CORS_ORIGINS"),
        health_token=env.get("GOVSOCIAL_HEALTH_TOKEN", ""),
    )


def reset_settings_cache() -> None:
    """Tests change the environment and need a fresh read."""
    get_settings.cache_clear()
