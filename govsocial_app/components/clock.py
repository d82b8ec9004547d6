"""Time on the client without moment.js: a timer that fires an event every so often, and a timestamp shown in the
browser's own time zone. rx.moment brought moment and react-moment (about 20 KB gzipped, and a module of its own)
into the scripts of every signed-in page, the inbox's first paint included (issue 20, item 3; make bench-paint);
these are a few lines of React and the browser's Intl instead."""

from __future__ import annotations

import reflex as rx
from reflex_base.event import EventHandler, no_args_event_spec

_TIMER = """
function GsTimer({ interval, onTick }) {
  const tick = useRef(onTick);
  tick.current = onTick;
  useEffect(() => {
    if (!(interval > 0)) return;
    const id = setInterval(() => { if (tick.current) tick.current(); }, interval);
    return () => clearInterval(id);
  }, [interval]);
  return null;
}
"""


class Timer(rx.Component):
    """Renders nothing; fires on_tick every `interval` milliseconds while mounted (not on mount)."""

    tag = "GsTimer"

    interval: rx.Var[int]

    on_tick: EventHandler[no_args_event_spec]

    def add_imports(self) -> dict:
        return {"react": ["useRef", "useEffect"]}

    def add_custom_code(self) -> list[str]:
        return [_TIMER]


_LOCAL_TIME = """
function GsLocalTime({ value, lang }) {
  if (!value) return null;
  const when = new Date(value);
  if (isNaN(when.getTime())) return value;
  // "6 Dec, 14:05" (moment's "D MMM, HH:mm") in English, the same parts in Arabic.
  const text = new Intl.DateTimeFormat(lang === "ar" ? "ar" : "en-GB", {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(when);
  return createElement("time", { dateTime: value }, text);
}
"""


class LocalTime(rx.Component):
    """An ISO 8601 timestamp as a <time> in the browser's time zone, day, short month and 24-hour time."""

    tag = "GsLocalTime"

    value: rx.Var[str]
    lang: rx.Var[str]

    def add_imports(self) -> dict:
        return {"react": ["createElement"]}

    def add_custom_code(self) -> list[str]:
        return [_LOCAL_TIME]


timer = Timer.create
local_time = LocalTime.create
