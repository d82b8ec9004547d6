"""Helpers for the tests that wire CAP into the product: the flood fixtures moved to any date (so they are current
for a test that runs on the real clock), a source on the local feed server, a jurisdiction, users."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.cap.feed_server import FeedServer, atom_index
from tests.cap.helpers import FLOOD_NOW, fixture

_CAP_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


def shifted(name: str, now: datetime, *, tag: str = "") -> bytes:
    """The fixture with every CAP time moved so that FLOOD_NOW becomes `now` (and identifiers tagged, if asked)."""
    delta: timedelta = now - FLOOD_NOW
    text = fixture(name).decode("utf-8")
    text = _CAP_TIME.sub(lambda m: (datetime.fromisoformat(m.group(0)) + delta).replace(microsecond=0).isoformat(), text)
    if tag:
        text = text.replace("NWS-FLW-STO-2026-", f"NWS-FLW-STO-{tag}-")
    return text.encode("utf-8")


def publish_on(server: FeedServer, names: list[str], now: datetime, *, tag: str = "") -> None:
    """Serve these fixtures (shifted to `now`) as CAP documents listed in /index.atom."""
    entries = []
    for i, name in enumerate(names):
        path = f"/cap/{tag or 'x'}-{name}.xml"
        server.put(path, shifted(name, now, tag=tag), content_type="application/cap+xml")
        entries.append((f"{tag}-{name}", f"2026-11-24T17:0{i}:00Z", path))
    server.put("/index.atom", atom_index(server.base, entries), content_type="application/atom+xml")


def riverton(actor, **thresholds) -> int:
    from govsocial_app.services.cap import store
    from govsocial_app.services.cap.jurisdiction import Thresholds

    return store.save_jurisdiction(actor, fixture("riverton_boundary.geojson"), name="Riverton",
                                   thresholds=Thresholds(**thresholds) if thresholds else None)
