"""Helpers that connector tests import by name: fixture loading and a hypothesis strategy for malformed API JSON."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import strategies as st

HERE = Path(__file__).parent


def load_fixture(network: str, name: str):
    """A real-shaped API payload from tests/connectors/<network>/fixtures/<name>.json."""
    return json.loads((HERE / network / "fixtures" / f"{name}.json").read_text(encoding="utf-8"))


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):
            yield from _paths(child, prefix + (index,))


def _mutate(value, path, replacement, delete):
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if not rest and delete:
            copy.pop(head, None)
        else:
            copy[head] = _mutate(value.get(head), rest, replacement, delete)
        return copy
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        copy = list(value)
        if not rest and delete:
            del copy[head]
        else:
            copy[head] = _mutate(value[head], rest, replacement, delete)
        return copy
    return value


def json_mutants(base):
    """`base` with one to four fields deleted or replaced by arbitrary JSON, or wholly arbitrary JSON."""
    paths = list(_paths(base))

    @st.composite
    def mutated(draw):
        value = base
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            path = draw(st.sampled_from(paths))
            value = _mutate(value, path, draw(JSON_VALUES), draw(st.booleans()))
        return value

    return st.one_of(mutated(), JSON_VALUES)
