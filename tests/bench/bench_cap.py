"""make bench-cap (library part): the floor of the CAP pipeline, parse only, measured on this machine.

The issue's full bench (a CAP message appearing on a local source -> poll -> draft ready -> push accepted, target
<= 10 s wall with a 5 s poll) needs the jobs and push wiring and comes with it. This one measures what that bench
will report as its floor: parsing a CAP document (hardened lxml + the OASIS XSD + geometry), and, for the ratio,
the library's whole in-process path for one message: parse, decide against the jurisdiction, build the drafts.
Run: .venv/bin/python -m tests.bench.bench_cap [--rounds 200]. The last line printed is one JSON object."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import datetime, timezone

from govsocial_app.services.cap.drafts import build_drafts
from govsocial_app.services.cap.feeds import parse_index
from govsocial_app.services.cap.jurisdiction import decide, load_boundary
from govsocial_app.services.cap.parse import parse_alert
from tests.cap.feed_server import atom_index
from tests.cap.helpers import FLOOD, SPEC_EXAMPLES, fixture

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)


def _timed(fn, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(rounds: int) -> dict:
    docs = [fixture(name) for name in SPEC_EXAMPLES + FLOOD]
    flood = fixture("flood_alert")
    riverton = load_boundary(fixture("riverton_boundary.geojson"))
    index = atom_index("http://127.0.0.1:1", [(f"e{i}", f"t{i}", f"/cap/{i}.xml") for i in range(50)])
    for doc in docs:  # warm-up: the XSD is compiled once per thread
        parse_alert(doc)

    parse_all = _timed(lambda: [parse_alert(doc) for doc in docs], rounds)
    parse_flood = _timed(lambda: parse_alert(flood), rounds)
    index_50 = _timed(lambda: parse_index(index), rounds)

    def pipeline() -> None:
        alert = parse_alert(flood)
        decision = decide(alert, riverton, now=NOW)
        assert decision.raised
        build_drafts(alert, info_indexes=decision.info_indexes)

    whole = _timed(pipeline, rounds)
    floor = statistics.median(parse_flood)
    wall = statistics.median(whole)
    return {
        "bench": "cap-library",
        "rounds": rounds,
        "docs_per_round": len(docs),
        "floor_parse_s": round(floor, 6),
        "parse_p95_s": round(_p(parse_flood, 0.95), 6),
        "parse_per_doc_mean_s": round(statistics.median(parse_all) / len(docs), 6),
        "index_50_entries_s": round(statistics.median(index_50), 6),
        "wall_s": round(wall, 6),
        "wall_p95_s": round(_p(whole, 0.95), 6),
        "ratio": round(wall / floor, 2),
        "note": "wall_s is parse+decide+drafts for one bilingual flood alert (all networks), in process; "
                "the poll-to-push bench comes with the jobs wiring",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(run(args.rounds)))


if __name__ == "__main__":
    main()
