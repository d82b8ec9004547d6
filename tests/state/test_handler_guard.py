"""Every event handler of every state, sent by a client that is not signed in, whose session was revoked, or whose
person was deactivated: nothing is read into state or returned, and nothing changes in the database.

Generated from the state classes (Reflex's own `event_handlers` of every `rx.State` subclass of the app), so a new
handler is covered without anyone adding it here; a handler that is neither `@requires(...)` nor `@public(...)`
(govsocial_app/state/guard.py) fails `test_every_handler_declares_its_guard`."""

from __future__ import annotations

import functools
import inspect
import shutil
import typing
from collections.abc import Iterator

import pytest
import reflex as rx
from sqlalchemy import func, select
from sqlmodel import SQLModel

from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import NotSignedIn
from tests.conftest import point_app_at

PASSWORD = "correct horse battery"

# The only handlers that run for a signed-out client, each with the reason declared beside it in the code.
EXPECTED_PUBLIC = {
    "AppState.check_login",
    "AppState.check_login_page",
    "AppState.sign_out",
    "AppState.set_language",
    "LoginState.submit",
    "LoginState.load",  # the sign-in page's on_load: redeems a single sign-on's one-time ticket
    "LoginState.submit_code",  # the second step: holds a server-side challenge from a right password, not a session
    "LoginState.cancel",  # leaves the second step: clears this tab's form only
}
# What a public handler may change for a signed-out client: the sign-in form's message, the device's language,
# and the "checked" flag with the user fields it clears.
PUBLIC_MAY_SET = {"error", "lang", "device_lang", "checked", "auth_token"}
# Every page's on_load marks the tab as checked (the sign-in redirect follows); it carries no data.
ANY_MAY_SET = {"checked"}


def app_states() -> list[type[rx.State]]:
    def walk(cls) -> Iterator[type[rx.State]]:
        for sub in cls.get_substates():
            yield sub
            yield from walk(sub)

    import govsocial_app.govsocial_app  # noqa: F401  (registers every state)

    return sorted((c for c in walk(rx.State) if c.__module__.startswith("govsocial_app")), key=lambda c: c.get_full_name())


def all_handlers() -> list[tuple[type[rx.State], str]]:
    """(state class, handler name) for every handler Reflex exposes on the app's states. `setvar`, which Reflex
    adds to every state, is included: it dispatches to the state's own `set_<name>` handlers."""
    return [(cls, name) for cls in app_states() for name in sorted(cls.event_handlers)]


def label(cls, name: str) -> str:
    return f"{cls.__name__}.{name}"


# ---------------------------------------------------------------- the declaration


def test_every_handler_declares_its_guard():
    from govsocial_app.state.guard import PUBLIC_REASONS, guard_of

    undeclared, public = [], set()
    for cls, name in all_handlers():
        if name == "setvar":
            continue
        guard = guard_of(cls.event_handlers[name].fn)
        if guard is None:
            undeclared.append(label(cls, name))
        elif guard == "public":
            public.add(label(cls, name))
    assert not undeclared, f"handlers with neither @requires nor @public: {undeclared}"
    from govsocial_app.state.guard import undeclared as startup_check

    assert startup_check() == []  # the same walk the app runs when it is built (guard.refuse_undeclared)
    assert public == EXPECTED_PUBLIC
    assert set(PUBLIC_REASONS) >= EXPECTED_PUBLIC and all(PUBLIC_REASONS[p].strip() for p in EXPECTED_PUBLIC)


def test_the_app_refuses_to_start_with_an_unguarded_handler(monkeypatch):
    from govsocial_app.state import guard
    from govsocial_app.state.inbox import InboxState

    guarded = InboxState.event_handlers["show_new"].fn
    monkeypatch.delattr(guarded, guard.GUARD_ATTR)
    with pytest.raises(RuntimeError, match="InboxState.show_new"):
        guard.refuse_undeclared()


def test_helpers_are_private():
    """Reflex exposes every public method of a state as a handler: the helpers the review found callable from any
    websocket are private now (and any other public method would fail the declaration test above)."""
    exposed = {name for cls, name in all_handlers()}
    assert not exposed & {"require", "current_actor", "patch_from_feed", "refresh_from_feed", "visible_ids"}
    for cls in app_states():
        for name, member in vars(cls).items():
            if name.startswith("_") or name in cls.event_handlers or name in cls.computed_vars or name in cls.vars:
                continue
            assert not inspect.isfunction(member), f"{cls.__name__}.{name} is a public method Reflex would expose"


# ---------------------------------------------------------------- sending every handler


@pytest.fixture(scope="module")
def seeded(_migrated_template, tmp_path_factory):
    """One database with demo data (messages, posts, alerts, metrics) and a real admin: every handler has
    something it could leak. Module-scoped: the tests below assert that nothing in it changes."""
    from govsocial_app.services import demo

    path = tmp_path_factory.mktemp("guard") / "govsocial.db"
    shutil.copy(_migrated_template, path)
    point_app_at(f"sqlite:///{path}")
    demo.seed(history_days=2)
    yield f"sqlite:///{path}"


def row_counts() -> dict[str, int]:
    from govsocial_app.db.engine import session_scope

    with session_scope() as s:
        return {t.name: s.execute(select(func.count()).select_from(t)).scalar_one() for t in SQLModel.metadata.sorted_tables}


def session_of(kind: str) -> dict[str, typing.Any]:
    """The AppState a client of this kind holds: no token at all, or the token and user fields of a session that
    was signed in (an admin: every body check would pass) and then revoked, or whose person was deactivated."""
    import uuid

    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    if kind == "no token":
        return {}
    email = f"guard-{uuid.uuid4().hex[:6]}@test.gov"
    uid = auth.create_user(email, "Guard Probe", PASSWORD, "admin", Actor.system("test"))
    token, user = auth.sign_in(email, PASSWORD)
    if kind == "revoked token":
        auth.sign_out(token, user.actor("127.0.0.1", "pytest"))
    else:
        auth.set_active(uid, False, Actor.system("test"))
    assert auth.user_for_token(token) is None
    return {"auth_token": token, "user_id": uid, "user_name": "Guard Probe", "user_email": email, "user_role": "admin", "checked": True}


def plausible(name: str, hint) -> typing.Any:
    """An argument a real page would send: ids of rows that exist, values each handler accepts."""
    origin = typing.get_origin(hint)
    if hint is int or name.endswith("_id") and hint is not str:
        return 1
    if hint is bool:
        return True
    if hint is dict or origin is dict:
        return {"email": "probe@test.gov", "password": "x", "name": "Probe", "tag": "Probe", "note": "probe", "q": "bins",
                "text": "probe", "queries": "bins", "domains": "test.gov", "list_id": "1", "csv": "simulator,@x,X",
                "rule_id": "1", "keyword_id": "1", "action": "all", "kind": "all", "ack": "all", "supported": True}
    if origin is list and hint != list[str]:
        return []
    values = {"key": "status", "value": "1", "lang": "ar", "theme": "dark", "view": "week", "kind": "keyword",
              "decision": "approve", "action": "draft", "network": "simulator", "days": "7", "role": "admin", "active": "yes",
              "outcome": "accepted", "status": "done", "user_id": "me", "text": "probe", "day": "2026-12-01", "time": "09:00"}
    return values.get(name, "1")


def arguments(handler) -> dict[str, typing.Any]:
    fn = handler.fn
    hints = typing.get_type_hints(fn)
    params = list(inspect.signature(fn).parameters.values())[1:]
    return {p.name: plausible(p.name, hints.get(p.name, str)) for p in params}


async def run(bound, kwargs) -> list:
    out = bound(**kwargs)
    if inspect.iscoroutine(out):
        out = await out
    if inspect.isasyncgen(out):
        return [x async for x in out]
    if inspect.isgenerator(out):
        return list(out)
    return [out]


def is_sign_in_redirect(ev) -> bool:
    return (ev is None or (isinstance(ev, rx.event.EventSpec) and ev.handler.fn.__qualname__ == "_redirect"
            and any("/login" in str(getattr(v, "_var_value", "")) for _k, v in ev.args)))


def snapshot(*states) -> dict[tuple[str, str], typing.Any]:
    """Every var, sent to the browser or kept on the server, of these states (the handler's own and the root
    app state it may reach)."""
    import copy

    out = {}
    for st in states:
        for var in list(st.base_vars) + list(st._backend_vars or {}):
            if var not in ("router", "router_data", "is_hydrated"):
                out[(st.get_full_name(), var)] = copy.deepcopy(getattr(st, var))
    return out


def tree(session: dict):
    root = rx.State(_reflex_internal_init=True)
    from govsocial_app.state.app_state import AppState

    app = root.substates[AppState.get_name()]
    for k, v in session.items():
        setattr(app, k, v)
    return root


def state_in(root, cls):
    path = cls.get_full_name().split(".")[1:]
    st = root
    for part in path:
        st = st.substates[part]
    return st


@pytest.mark.parametrize("kind", ["no token", "revoked token", "deactivated user"])
async def test_no_handler_reads_or_changes_anything_without_a_live_session(seeded, kind):
    from govsocial_app.state.guard import guard_of

    from govsocial_app.state.app_state import AppState

    session = session_of(kind)
    counts = row_counts()
    failures, sent = [], []
    for cls, name in all_handlers():
        root = tree(session)
        st, app = state_in(root, cls), state_in(root, AppState)
        before = snapshot(st, app)
        fresh = tree({})
        defaults = snapshot(state_in(fresh, cls), state_in(fresh, AppState))
        handler = cls.event_handlers[name]
        public = guard_of(handler.fn) == "public"
        calls = ([(name, arguments(handler))] if name != "setvar" else
                 [("setvar", {"var_name": v, "value": plausible(v, str)}) for v in sorted(cls.base_vars) if v not in ("router", "is_hydrated")])
        for call, kwargs in calls:
            sent.append(f"{label(cls, name)}({', '.join(map(str, kwargs.values()))})")
            what = f"{label(cls, call)}{'[' + kwargs['var_name'] + ']' if call == 'setvar' else ''}"
            try:
                returned = await run(getattr(st, call) if not handler.is_background else functools.partial(handler.fn, st), kwargs)
            except (NotSignedIn, PermissionDenied):
                returned = []
            except AttributeError as exc:
                if call == "setvar" and "set_" in str(exc):
                    returned = []  # no setter for that var: Reflex refuses it
                else:
                    failures.append(f"{what}: crashed with {exc!r}")
                    continue
            except Exception as exc:  # noqa: BLE001 (a crash before any check is a finding too)
                if not public:
                    failures.append(f"{what}: ran its body and failed with {exc!r}, instead of refusing first")
                continue
            if not public and not all(is_sign_in_redirect(ev) for ev in returned):
                failures.append(f"{what}: returned {returned!r}")
        after = snapshot(st, app)
        changed = [k for k, v in after.items() if v != before[k] and v != defaults.get(k)]
        changed = [k for k in changed if k[1] not in (PUBLIC_MAY_SET if public else ANY_MAY_SET)]
        if changed:
            failures.append(f"{label(cls, name)}: set {[(k[1], str(after[k])[:60]) for k in changed]}")
        now = row_counts()
        if now != counts and not (public and name == "submit"):  # a failed sign-in is audited by design
            failures.append(f"{label(cls, name)}: changed rows {[(t, counts[t], n) for t, n in now.items() if n != counts[t]]}")
        counts = now
    assert len(sent) > 150, sent  # every page's handlers were sent, not just a few
    assert not failures, "\n".join(failures)
