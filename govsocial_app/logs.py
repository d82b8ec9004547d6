"""Root logging for every GovSocial process: one JSON object per line in production (GOVSOCIAL_LOG_JSON), plain text otherwise."""

from __future__ import annotations

import logging
import os
import socket
import sys

from govsocial_app.config import get_settings

_HANDLER_NAME = "govsocial-root"


def json_formatter(process: str) -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    # Field names follow what log shippers (Loki, Elastic, CloudWatch) index without a mapping.
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s %(process)d",
        rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
        static_fields={"service": f"govsocial-{process}", "host": socket.gethostname()},
        timestamp="time",
    )


def configure(process: str = "web") -> None:
    """Install the one root handler (idempotent: the app module is imported again by every worker).

    `process` names the kind of process in each JSON line ("web", "jobs"), so one log stream can hold both."""
    _reflex_lock_trace()
    root = logging.getLogger()
    if any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    if get_settings().log_json:
        handler.setFormatter(json_formatter(process))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(os.environ.get("GOVSOCIAL_LOG_LEVEL", "INFO").upper())
    # APScheduler logs every job added and run at INFO; with a 2-second publishing loop that drowns everything else.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _reflex_lock_trace() -> None:
    """Reflex's own switch for its Redis state-lock trace (each wait, hold and release, by client token and event):
    it writes at DEBUG, which the root level drops unless its logger has a level of its own. README: "Finding a
    stalled event"."""
    if os.environ.get("REFLEX_STATE_MANAGER_REDIS_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}:
        logging.getLogger("reflex.istate.manager.redis").setLevel(logging.DEBUG)
