"""Build parts of a page after the rest: a long list's later groups each in a short task of its own (Staged), what sits
in a closed <details> when it first opens (WhenOpen). A long list's first screen paints before the whole list is built
and the browser can answer a tap between the parts.

Why: a phone's first paint of the signed-in inbox built all 50 cards in the task that answered the first load
(Lighthouse mobile: 4x CPU slowdown, tests/bench/bench_paint.py). React's startTransition, tried first, built the
deferred cards in one long task all the same (410 ms at 4x), and timers alone fire together behind a long task, so
the groups are chained: each is added after the one before it was rendered."""

from __future__ import annotations

import reflex as rx

_STAGED = """
function GsStaged({ children }) {
  const parts = Children.toArray(children);
  const [shown, setShown] = useState(0);
  useEffect(() => {
    if (shown >= parts.length) return;
    const t = setTimeout(() => setShown((n) => n + 1), 0);
    return () => clearTimeout(t);
  }, [shown, parts.length]);
  return parts.slice(0, shown);
}
"""

class Staged(rx.Component):
    """Its children appear one at a time after it mounts: the first in a task after the page's own, each next one
    in a task after the one before it was rendered. Once shown, they update as usual."""

    tag = "GsStaged"

    def add_imports(self) -> dict:
        return {"react": ["useState", "useEffect", "Children"]}

    def add_custom_code(self) -> list[str]:
        return [_STAGED]


_WHEN_OPEN = """
function GsWhenOpen({ children }) {
  const ref = useRef(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    const details = ref.current && ref.current.closest("details");
    if (!details || details.open) { setOpen(true); return; }
    const onToggle = () => { if (details.open) setOpen(true); };
    details.addEventListener("toggle", onToggle);
    return () => details.removeEventListener("toggle", onToggle);
  }, []);
  return open ? children : createElement("span", { ref, hidden: true });
}
"""


class WhenOpen(rx.Component):
    """Inside a closed <details>: its children are built the first time the details opens, not with the page (the
    inbox's ten filter menus cost a 315 ms task at 4x CPU slowdown right after the first paint). Kept once built."""

    tag = "GsWhenOpen"

    def add_imports(self) -> dict:
        return {"react": ["useState", "useEffect", "useRef", "createElement"]}

    def add_custom_code(self) -> list[str]:
        return [_WHEN_OPEN]


staged = Staged.create
when_open = WhenOpen.create
