"""A real websocket client (python-socketio, speaking to the running app as the browser's state.js does) that never
signs in sends every handler of every page, InboxState.show_new and CalendarState.today first, and gets no message,
no post and no count back: only default values and the trip to sign in."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid

import pytest
import reflex as rx
import socketio

from tests.state.test_handler_guard import all_handlers, arguments

FIELD_MARKER = "_rx_state_"
NAMESPACE = "/_event"
ROUTES = {"InboxState": "/inbox", "CalendarState": "/calendar", "PublishState": "/publish", "ApprovalsState": "/approvals",
          "AlertsState": "/alerts", "ReportsState": "/reports", "ListeningState": "/listening", "LoginState": "/login"}
# Values that say nothing about the agency's data: the shown language and direction, the sign-in check, the mode,
# Reflex's echo of the address the client said it was on, and the sign-in form's "email and password do not match".
NOT_DATA = {"lang", "device_lang", "dir", "checked", "demo_mode", "is_hydrated", "router", "rx_router_url", "rx_router_route_id",
            "rx_router_page", "login_state.error"}


def defaults() -> dict[str, dict[str, object]]:
    """Every var of every state as a fresh tab holds it, serialised as the app serialises a delta."""
    from reflex_base.utils.format import json_dumps

    root = rx.State(_reflex_internal_init=True)
    out, stack = {}, [root]
    while stack:
        st = stack.pop()
        stack.extend(st.substates.values())
        values = {}
        for var in list(st.base_vars) + list(st.computed_vars):
            try:
                values[var] = json.loads(json_dumps(getattr(st, var)))
            except Exception:  # noqa: BLE001 (a computed var that needs a request; compared as "empty" only)
                continue
        out[st.get_full_name()] = values
    return out


def empty(value) -> bool:
    return value in (None, "", 0, False, [], {}) or (isinstance(value, dict) and all(empty(v) for v in value.values()))


def db_texts(live_app) -> list[str]:
    """Texts of messages and posts in the running app's database: none may reach the signed-out client."""
    path = next(p for p in live_app.data_dir.rglob("*.db") if "simulator" not in p.name)
    con = sqlite3.connect(path)
    try:
        msgs = [r[0] for r in con.execute("select text from message where length(text) > 20 limit 200")]
        posts = [r[0] for r in con.execute("select text from post where length(text) > 20 limit 200")]
    finally:
        con.close()
    assert msgs and posts, "the demo seed should have given the app messages and posts"
    return msgs + posts


async def test_a_client_that_never_signed_in_gets_no_data_from_any_event(live_app):
    first = ["InboxState.show_new", "CalendarState.today", "InboxState.older", "InboxState.newer", "CalendarState.step",
             "CalendarState.set_filter", "CalendarState.toggle_overlay", "CalendarState.more_list"]
    handlers = sorted(((c, n) for c, n in all_handlers() if n != "setvar"),
                      key=lambda cn: (f"{cn[0].__name__}.{cn[1]}" not in first, cn[0].__name__, cn[1]))
    updates: list[dict] = []
    client = socketio.AsyncClient(reconnection=False)

    # state.js connects to `<backend>/_event`: Socket.IO path and namespace are both "/_event".
    @client.on("event", namespace=NAMESPACE)
    async def on_event(update):
        updates.append(update)

    token = str(uuid.uuid4())
    await client.connect(f"{live_app.url}?token={token}", namespaces=[NAMESPACE], socketio_path=NAMESPACE,
                         transports=["websocket"], wait_timeout=20)
    try:
        for cls, name in handlers:
            handler = cls.event_handlers[name]
            path = ROUTES.get(cls.__name__, "/")
            await client.emit("event", {
                "name": f"{cls.get_full_name()}.{name}",
                "payload": arguments(handler),
                "router_data": {"pathname": path, "asPath": path, "query": {}},
            }, namespace=NAMESPACE)
        # Events of one client run in order: once the last one's answer is in and a quiet second passed, all are.
        for _ in range(60):
            seen = len(updates)
            await asyncio.sleep(1)
            if updates and len(updates) == seen:
                break
    finally:
        await client.disconnect()

    raw = json.dumps(updates)
    assert "/login" in raw, "the app should have answered the events (sent the client to sign in)"
    fresh = defaults()
    leaks = []
    for update in updates:
        for state_name, delta in (update.get("delta") or {}).items():
            for key, value in delta.items():
                var = key.removesuffix(FIELD_MARKER)
                if var in NOT_DATA or var.startswith("rx_router_") or f"{state_name.rsplit('____', 1)[-1]}.{var}" in NOT_DATA or empty(value) or fresh.get(state_name, {}).get(var, object()) == value:
                    continue
                leaks.append(f"{state_name.rsplit('.', 1)[-1]}.{var} = {json.dumps(value)[:120]}")
    assert not leaks, "\n".join(leaks)
    for text in db_texts(live_app):
        assert text[:40] not in raw, f"a message or post reached a client that never signed in: {text[:60]!r}"
