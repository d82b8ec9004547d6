"""The one declared way a state event handler is authorised: `@requires(permission)` or `@public(reason)`.

Reflex makes every public method of a state callable from any websocket, signed in or not. So every event handler
of every state carries exactly one of these decorators, directly under `@rx.event`:
- `@requires("inbox.view")` resolves the session token on the server (revoked, expired and deactivated sessions
  fail) and checks the role *before the handler's body runs*; a page's `load` passes `signed_out="login"`, so a signed-out
  visitor is sent to sign in instead of getting an error;
- `@public("why")` marks the few handlers that must work signed out (sign-in, the sign-in page's language).
The state tests walk every state class and fail for a handler that has neither (tests/state/test_handler_guard.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from typing import Any, Callable

from govsocial_app.services.authz import Actor, PermissionDenied, can
from govsocial_app.services.errors import NotSignedIn

SIGNED_IN = "signed in"  # any active, signed-in person, whatever the role (own notifications, the banners)

GUARD_ATTR = "__govsocial_guard__"
PUBLIC_REASONS: dict[str, str] = {}  # "Class.handler" → why it must work signed out

# The actor the guard resolved for the event now running, so the handler's own `_require` costs no second lookup.
_resolved: contextvars.ContextVar[tuple[str, Actor, Any] | None] = contextvars.ContextVar("govsocial_actor", default=None)


# The signed-in user (services.auth.SignedInUser) behind that actor, when the guard resolved it in this event: a
# page's load that fills the user fields (AppState._load_user) reuses it instead of resolving the token again.
_fresh_user: contextvars.ContextVar[tuple[str, Any] | None] = contextvars.ContextVar("govsocial_fresh_user", default=None)


def cached_actor(token: str) -> Actor | None:
    hit = _resolved.get()
    return hit[1] if hit is not None and token and hit[0] == token else None


def cached_user(token: str) -> Any | None:
    """The user the guard resolved for `token` in the event now running, or None (then resolve it afresh)."""
    hit = _resolved.get()
    return hit[2] if hit is not None and token and hit[0] == token else None


def remember_user(token: str, user: Any) -> None:
    """Called by the root state when it resolves a token, so the guard can hand the user to the handler."""
    _fresh_user.set((token, user))


@contextlib.contextmanager
def acting(token: str, actor: Actor):
    """Run code outside any event (the live relay pushing to one client) as the actor it has just re-checked, so
    the helpers' own `_require` calls reuse that answer."""
    reset = _resolved.set((token, actor, None))
    try:
        yield
    finally:
        _resolved.reset(reset)


def guard_of(fn: Callable) -> str | None:
    """The declared guard of a handler function: a permission, "public", or None when it has none."""
    return getattr(fn, GUARD_ATTR, None)


def _mark(wrapper: Callable, fn: Callable, value: str) -> Callable:
    functools.update_wrapper(wrapper, fn)
    setattr(wrapper, GUARD_ATTR, value)
    return wrapper


_ROOT: type | None = None  # the root state that holds the session (AppState), registered by @root_state


def root_state(cls: type) -> type:
    """Class decorator for the root state (state/app_state.py). The guard finds the session through it without
    importing the module that imports the guard (that import was the last circle between files)."""
    global _ROOT
    _ROOT = cls
    return cls


async def _app_state(state: Any):
    if _ROOT is None:
        raise RuntimeError("no root state registered: state/app_state.py must be imported before any handler runs")
    return state if isinstance(state, _ROOT) else await state.get_state(_ROOT)


_IGNORED = object()  # what a quiet handler "returns" for a signed-out client: nothing at all


def _check(app: Any, permission: str, signed_out: str, refused: str = "raise"):
    """Authorise; returns (actor, None), or (None, what to return instead of running the handler)."""
    try:
        actor = app._current_actor()
    except NotSignedIn:
        if signed_out == "login":
            app._load_user()  # clears whatever a previous session left in this tab's state
            return None, app._to_login()
        if signed_out == "ignore":
            return None, _IGNORED
        raise
    if permission != SIGNED_IN and not can(actor.role, permission):
        if refused == "page":
            return None, _IGNORED
        raise PermissionDenied(permission, actor.role, app.lang)
    return actor, None


def _user_for(token: str) -> Any | None:
    fresh = _fresh_user.get()
    return fresh[1] if fresh is not None and token and fresh[0] == token else None



def _resolve(app: Any, permission: str, signed_out: str, refused: str):
    """`_check`, and the user the check loaded for this token (for the handler to reuse instead of a second lookup)."""
    fresh = _fresh_user.set(None)
    try:
        actor, redirect = _check(app, permission, signed_out, refused)
        return actor, redirect, _user_for(app.auth_token)
    finally:
        _fresh_user.reset(fresh)

def requires(permission: str, *, signed_out: str = "raise", refused: str = "raise"):
    """Run the handler only for a signed-in person whose role holds `permission` (or SIGNED_IN: anyone signed in).

    A signed-out client (no token, a revoked or expired one, a deactivated user) gets NotSignedIn, which the app's
    exception handler turns into a trip to sign in; `signed_out="login"` (a page's on_load) sends it there directly
    with `next`, and `signed_out="ignore"` (a banner's on_mount, which also renders on the sign-in page) does
    nothing and returns nothing.

    A role without the permission gets PermissionDenied (a toast in the reader's language), unless `refused="page"`:
    for the `load` of a page whose shell shows "You do not have access to this page" from the same permission flag,
    the load then returns nothing (the body, which reads the data, still never runs), so a deep link shows the one
    plain notice instead of that notice plus one refusal toast per on_load handler."""
    if signed_out not in ("raise", "login", "ignore"):
        raise ValueError(signed_out)
    if refused not in ("raise", "page"):
        raise ValueError(refused)
    if permission != SIGNED_IN:
        can("admin", permission)  # an unknown permission fails at import, not at the first click

    def decorate(fn: Callable) -> Callable:
        if inspect.isasyncgenfunction(fn):

            async def agen(self, *args, **kwargs):
                async with _unlocked(self):
                    actor, redirect = _check(await _app_state(self), permission, signed_out, refused)
                if redirect is not None:
                    if redirect is not _IGNORED:
                        yield redirect
                    return
                async for item in fn(self, *args, **kwargs):
                    yield item

            return _mark(agen, fn, permission)

        if inspect.iscoroutinefunction(fn):

            async def coro(self, *args, **kwargs):
                async with _unlocked(self):
                    app = await _app_state(self)
                    actor, redirect, user = _resolve(app, permission, signed_out, refused)
                    token = app.auth_token
                if redirect is not None:
                    return None if redirect is _IGNORED else redirect
                reset = _resolved.set((token, actor, user))
                try:
                    return await fn(self, *args, **kwargs)
                finally:
                    _resolved.reset(reset)

            return _mark(coro, fn, permission)

        if inspect.isgeneratorfunction(fn):
            raise TypeError(f"{fn.__qualname__}: sync generator handlers are not guarded; make it async")

        def plain(self, *args, **kwargs):
            actor, redirect, user = _resolve(self, permission, signed_out, refused)
            if redirect is not None:
                return None if redirect is _IGNORED else redirect
            reset = _resolved.set((self.auth_token, actor, user))
            try:
                return fn(self, *args, **kwargs)
            finally:
                _resolved.reset(reset)

        return _mark(plain, fn, permission)

    return decorate


def undeclared() -> list[str]:
    """Handlers of the app's states that carry neither guard ("Class.handler"). Reflex's own states and the
    `setvar` it adds everywhere (it only dispatches to the state's own, guarded, `set_<name>` handlers) are not ours."""
    import reflex as rx

    out, stack = [], list(rx.State.get_substates())
    while stack:
        cls = stack.pop()
        stack.extend(cls.get_substates())
        if not cls.__module__.startswith("govsocial_app"):
            continue
        out += [f"{cls.__name__}.{name}" for name, h in cls.event_handlers.items() if name != "setvar" and guard_of(h.fn) is None]
    return sorted(out)


def refuse_undeclared() -> None:
    """Called when the app is built: a handler without a guard stops the app from starting, rather than answering
    anyone who sends it (tests/state/test_handler_guard.py says the same, earlier)."""
    if missing := undeclared():
        raise RuntimeError(f"event handlers with neither @requires nor @public (govsocial_app/state/guard.py): {missing}")


def public(reason: str):
    """Declare a handler that must work signed out, and why. It still checks anything it changes itself."""

    def decorate(fn: Callable) -> Callable:
        PUBLIC_REASONS[fn.__qualname__] = reason
        setattr(fn, GUARD_ATTR, "public")
        return fn

    return decorate


class _unlocked:
    """`async with self` for a background handler's state proxy (reads need the lock there); nothing otherwise."""

    def __init__(self, state: Any):
        from reflex.istate.proxy import StateProxy

        self._proxy = state if isinstance(state, StateProxy) and not state._is_mutable() else None

    async def __aenter__(self):
        if self._proxy is not None:
            await self._proxy.__aenter__()

    async def __aexit__(self, *exc):
        if self._proxy is not None:
            await self._proxy.__aexit__(*exc)
