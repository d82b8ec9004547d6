"""Command line: `python -m govsocial_app.cli migrate | seed | create-admin | banner | verify-audit | verify-export | dispose`."""

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
    args = parser.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
