"""Command line: `python -m govsocial_app.cli migrate | seed | create-admin | banner`."""

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
    args = parser.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
