"""The role flags the pages use to show or hide controls come from services/authz.py: a permission changed there
changes what the page shows, and no flag restates a list of roles."""

from __future__ import annotations

import ast
import textwrap
import inspect

import pytest
import reflex as rx

from govsocial_app.services import authz
from govsocial_app.state.app_state import AppState


def _flags() -> list[str]:
    return sorted(name for name in AppState.computed_vars if name.startswith("can_"))


def _app_state(role: str) -> AppState:
    root = rx.State()
    state = root.substates[AppState.get_name()]
    state.user_role = role
    return state


@pytest.mark.parametrize("role", authz.ROLES)
def test_each_flag_answers_as_its_permission_does(role):
    source = inspect.getsource(AppState)
    for flag in _flags():
        body = inspect.getsource(getattr(AppState, flag).fget)
        permission = next(n.value for n in ast.walk(ast.parse(textwrap.dedent(body))) if isinstance(n, ast.Constant) and n.value in authz.PERMISSIONS)
        assert getattr(_app_state(role), flag) is authz.can(role, permission), (flag, permission)
    assert "user_role in (" not in source and "user_role ==" not in source


def test_a_permission_changed_in_authz_changes_the_flag(monkeypatch):
    assert _app_state("responder").can_edit_vips is False
    monkeypatch.setitem(authz.PERMISSIONS, "vip.edit", authz.PERMISSIONS["vip.edit"] | {"responder"})
    assert _app_state("responder").can_edit_vips is True
    monkeypatch.setitem(authz.PERMISSIONS, "audit.view", set())
    assert _app_state("admin").can_view_audit is False


def test_signed_out_sees_no_controls():
    state = _app_state("")
    assert not any(getattr(state, flag) for flag in _flags())
