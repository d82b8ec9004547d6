"""Plain HTTP routes mounted beside the Reflex app: health (up/down for anyone, details with the health token), version."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone
from importlib.metadata import version as pkg_version

from sqlalchemy import text
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from govsocial_app.config import get_settings
from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import JobHeartbeat, SocialProfile

STARTED = time.time()


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).isoformat()


def health_report() -> tuple[bool, dict]:
    settings = get_settings()
    report: dict = {"mode": settings.mode, "uptime_s": round(time.time() - STARTED)}
    ok = True
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        report["database"] = {"ok": True, "dialect": get_engine().dialect.name}
    except Exception as exc:  # report, never raise: this is what an operator reads when things break
        ok = False
        report["database"] = {"ok": False, "error": str(exc)[:300]}
    if settings.redis_url:
        try:
            import redis

            redis.Redis.from_url(settings.redis_url, socket_timeout=2).ping()
            report["redis"] = {"ok": True}
        except Exception as exc:
            ok = False
            report["redis"] = {"ok": False, "error": str(exc)[:300]}
    else:
        report["redis"] = {"ok": None, "detail": "not configured (embedded mode)"}
    if report["database"]["ok"]:
        with session_scope() as s:
            beat = s.get(JobHeartbeat, "scheduler")
            now = datetime.now(timezone.utc)
            if beat is None:
                report["jobs"] = {"ok": False, "detail": "no heartbeat yet"}
            else:
                age = (now - beat.beat_at).total_seconds()
                report["jobs"] = {"ok": age < 90, "last_beat": _iso(beat.beat_at), "age_s": round(age), "holder": beat.holder}
            report["profiles"] = [
                {
                    "id": p.id, "network": p.network, "handle": p.handle, "status": p.status,
                    "last_success_at": _iso(p.last_success_at), "last_error": p.last_error[:200] or None,
                }
                for p in s.exec(select(SocialProfile).where(SocialProfile.deleted_at == None)).all()  # noqa: E711
            ]
    return ok, report


def _may_see_details(request: Request) -> bool:
    """The details (profile handles, error texts, the jobs host) are for monitoring with GOVSOCIAL_HEALTH_TOKEN only."""
    token = get_settings().health_token
    given = request.headers.get("authorization", "")
    return bool(token) and given.startswith("Bearer ") and secrets.compare_digest(given[7:].strip().encode(), token.encode())


async def health(request: Request) -> JSONResponse:
    import anyio

    ok, report = await anyio.to_thread.run_sync(health_report)
    body = {"ok": ok, **report} if _may_see_details(request) else {"ok": ok}
    return JSONResponse(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


async def version(_request: Request) -> JSONResponse:
    return JSONResponse({"name": "GovSocial", "version": pkg_version("govsocial"), "reflex": pkg_version("reflex")})


def build_api() -> Starlette:
    from govsocial_app import api_cap, api_identity, api_policy, api_publishing, loadshed

    return Starlette(routes=[Route("/api/health", health), Route("/api/version", version), *api_publishing.routes(), *api_cap.routes(),
                             *api_identity.routes(), *api_policy.routes(), *loadshed.routes()])
