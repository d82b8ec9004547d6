"""Command line: `python -m govsocial_app.cli migrate | seed | create-admin | banner | verify-audit | verify-export | dispose |
partitions [status | enable | disable]`."""

from __future__ import annotations

import argparse
import getpass
import sys

from govsocial_app.config import get_settings


def _migrate(_args) -> None:
    from govsocial_app.db.migrate import upgrade

    upgrade()
    print("Database migrated to the latest schema.")


def _seed(args) -> None:
    from govsocial_app.services import demo

    if not get_settings().demo:
        print("Not seeding: GOVSOCIAL_MODE=production turns demo data off.")
        return
    result = demo.seed(history_days=args.days)
    if result["seeded"]:
        print(f"Demo data loaded: {len(demo.DEMO_USERS)} users, {len(demo.DEMO_PROFILES)} simulator profiles, {result['messages']} messages of history.")
    else:
        print("Demo data already present; keeping the existing data.")


def _create_admin(args) -> None:
    from govsocial_app.services import auth
    from govsocial_app.services.authz import Actor

    password = args.password or getpass.getpass("Password (at least 10 characters): ")
    try:
        uid = auth.create_user(args.email, args.name, password, "admin", Actor.system("cli create-admin"))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2)
    print(f"Admin {args.email} created (user id {uid}).")


def _banner(_args) -> None:
    from govsocial_app.services import demo

    s = get_settings()
    print()
    print("  GovSocial is starting at http://127.0.0.1:3000  (the first build takes about a minute)")
    if s.demo:
        print(f"  Demo logins (password: {demo.DEMO_PASSWORD}):")
        for email, name, role in demo.DEMO_USERS:
            print(f"    {email:<22} {name:<18} {role}")
    print()


def _verify_audit(args) -> None:
    from govsocial_app.db.engine import get_engine
    from govsocial_app.services.records import chain

    anchors: dict[str, list[tuple[int, str]]] = {}
    for raw in args.anchor or []:
        try:
            name, seq, digest = raw.split(":")
            anchors.setdefault(name, []).append((int(seq), digest.lower()))
        except ValueError:
            print(f"error: --anchor must look like audit:1234:<sha256>, not {raw!r}", file=sys.stderr)
            raise SystemExit(2)
    bad = False
    with get_engine().connect() as conn:
        for name in chain.CHAINS:
            res = chain.verify(conn, name, anchors.get(name, []))
            state = "OK" if res.ok else "FAILED"
            print(f"{name}: {state} — {res.rows} rows, head #{res.head_seq} {res.head_hash}")
            for p in res.problems:
                print(f"  {p}")
            bad |= not res.ok
    raise SystemExit(1 if bad else 0)


def _verify_export(args) -> None:
    from govsocial_app.services.records import export

    problems = export.verify_export(args.file)
    if problems:
        print(f"{args.file}: FAILED")
        for p in problems:
            print(f"  {p}")
        raise SystemExit(1)
    print(f"{args.file}: OK — every file matches the manifest")


def _dispose(args) -> None:
    from govsocial_app.services.authz import Actor
    from govsocial_app.services.errors import UserError
    from govsocial_app.services.records import retention

    try:
        cert = retention.dispose_approved(args.proposal, Actor.system("cli dispose"))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2)
    entries = retention.certificate(cert, Actor.system("cli dispose"))["entries"]
    print(f"Disposed of {len(entries)} record(s); certificate {cert}. Records on hold were kept.")


def _partitions(args) -> None:
    """PostgreSQL's monthly partitions (README, "Partitioning").

    status (the default): on a partitioned database, create the months ahead (and any --month given, moving its rows
    out of the default partition), then report the rows left in each default partition; exits 1 when any holds rows.
    enable / disable: convert the database to monthly partitions or back, in one transaction, with every other
    connection closed (stop the web workers and `python -m jobs` first); audited."""
    from datetime import date

    from govsocial_app.db import partitions
    from govsocial_app.db.engine import get_engine

    engine = get_engine()
    if engine.dialect.name != "postgresql":
        print("SQLite (the embedded database) is never partitioned; partitions are for PostgreSQL.")
        raise SystemExit(2 if args.action in ("enable", "disable") else 0)
    if args.action in ("enable", "disable"):
        _convert_partitions(engine, args)
        return
    months = []
    for raw in args.month or []:
        try:
            year, month = (int(x) for x in raw.split("-"))
            months.append(date(year, month, 1))
        except ValueError:
            print(f"error: --month must look like 2026-03, not {raw!r}", file=sys.stderr)
            raise SystemExit(2)
    with engine.begin() as conn:
        if not partitions.is_partitioned(conn, "message"):
            print("Not partitioned (the default). `partitions enable` converts the database; README, \"Partitioning\".")
            if months:
                raise SystemExit(2)
            return
        created = partitions.ensure(conn) + (partitions.ensure(conn, months) if months else [])
        left = partitions.default_rows(conn)
    print("Partitioned by month.")
    print("Created: " + (", ".join(created) if created else "nothing (every month there already)"))
    for table, n in left.items():
        print(f"{partitions.default_name(table)}: {n} row(s)")
    raise SystemExit(1 if any(left.values()) else 0)


def _convert_partitions(engine, args) -> None:
    import time

    from govsocial_app.db import partition_convert
    from govsocial_app.db.engine import session_scope
    from govsocial_app.services import audit
    from govsocial_app.services.authz import Actor

    enable = args.action == "enable"
    t0 = time.monotonic()
    try:
        with engine.begin() as conn:
            others = partition_convert.other_connections(conn)
            if others and not args.force:
                names = ", ".join(sorted({f"{app} ({addr})" for app, addr in others}))
                raise partition_convert.ConvertError(
                    f"{len(others)} other connection(s) to this database are open: {names}. Stop the web workers and "
                    "`python -m jobs` first (the conversion locks message, messageversion and audit_log, and a running "
                    "process would keep the old layout); --force converts anyway")
            copied = partition_convert.enable(conn) if enable else partition_convert.disable(conn)
    except partition_convert.ConvertError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2)
    seconds = round(time.monotonic() - t0, 1)
    action = "database.partitions_enabled" if enable else "database.partitions_disabled"
    with session_scope() as s:
        audit.record(s, Actor.system("cli partitions"), action, "database", "", rows=copied, seconds=seconds)
    rows = ", ".join(f"{t} {n}" for t, n in copied.items())
    print(("Partitioned by month" if enable else "Converted back to plain tables") + f" in {seconds} s (rows copied: {rows}).")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="govsocial_app.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(fn=_migrate)
    p = sub.add_parser("seed", help="load demo data on first run only")
    p.add_argument("--days", type=int, default=30)
    p.set_defaults(fn=_seed)
    p = sub.add_parser("create-admin", help="create an admin account")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--password", help="omit to be prompted")
    p.set_defaults(fn=_create_admin)
    sub.add_parser("banner", help="print the address and demo logins").set_defaults(fn=_banner)
    p = sub.add_parser("verify-audit", help="recompute the audit and archive hash chains")
    p.add_argument("--anchor", action="append", help="chain:seq:sha256 written down earlier (repeatable)")
    p.set_defaults(fn=_verify_audit)
    p = sub.add_parser("verify-export", help="check a public-records ZIP against its manifest")
    p.add_argument("file")
    p.set_defaults(fn=_verify_export)
    p = sub.add_parser("dispose", help="carry out an approved disposal proposal")
    p.add_argument("--proposal", type=int, required=True)
    p.set_defaults(fn=_dispose)
    p = sub.add_parser("partitions", help="PostgreSQL: monthly partitions (status, enable, disable)")
    p.add_argument("action", nargs="?", choices=("status", "enable", "disable"), default="status",
                   help="status (default): create months ahead and report rows in the default partitions; "
                        "enable/disable: convert the database (stop the app first)")
    p.add_argument("--month", action="append", help="status: YYYY-MM to create too, moving its rows out of the default "
                                                    "partition (repeatable)")
    p.add_argument("--force", action="store_true", help="enable/disable even while other connections are open")
    p.set_defaults(fn=_partitions)
    args = parser.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
