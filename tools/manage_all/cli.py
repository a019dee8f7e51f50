"""The manage_all command line: arguments to commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import commands
from .audit import DEFAULT_LIMIT as AUDIT_LIMIT
from .layout import COMPONENTS, DEFAULT_BASE_PORT, SERVICES, ManageError
from .story import DEFAULT_LIMIT as STORY_LIMIT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manage_all.py",
        description="Run the mini system (five services and the nginx gateway) and any "
        "manage.py command across its services.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    component_help = f"one of {', '.join(COMPONENTS)}"

    up = sub.add_parser("up", help="install what is missing, migrate, start everything")
    up.add_argument("--detach", action="store_true", help="return once everything is ready")
    up.add_argument("--postgres", metavar="URL", help="postgresql://user@host:port (else SQLite)")
    up.add_argument("--redis", metavar="URL", help="redis://host:port/db (default: $REDIS_URL)")
    up.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        metavar="PORT",
        help="gateway port; the services take the next five (default 8000)",
    )
    up.add_argument(
        "--db-prefix",
        metavar="PREFIX",
        help="with --postgres: the databases are <PREFIX>_auth, ... (default mini_, "
        "or mini_<base port>_ when the base port is not 8000)",
    )
    up.set_defaults(handler=commands.cmd_up)

    sub.add_parser("down", help="stop everything").set_defaults(handler=commands.cmd_down)
    sub.add_parser("status", help="pid and readiness of each component").set_defaults(
        handler=commands.cmd_status
    )

    for name, handler, text in (
        ("start", commands.cmd_start, "start one component"),
        ("stop", commands.cmd_stop, "stop one component"),
        ("restart", commands.cmd_restart, "restart one component"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("component", help=component_help)
        command.set_defaults(handler=handler)

    chaos = sub.add_parser(
        "chaos",
        help="put a fault between a service and its callers; `chaos off` removes it",
        description="A fault between a service and its callers (the other services and the "
        "gateway), until `chaos off`. Exactly one of --down, --hang, --delay, --errors.",
    )
    chaos.add_argument(
        "target", metavar="service|off", help=f"one of {', '.join(SERVICES)}, or off"
    )
    chaos.add_argument("service", nargs="?", help="with off: only this service's fault")
    chaos.add_argument("--down", action="store_true", help="callers' connections refused")
    chaos.add_argument("--hang", action="store_true", help="connections accepted, never answered")
    chaos.add_argument("--delay", type=int, metavar="MS", help="every answer MS milliseconds late")
    chaos.add_argument(
        "--errors", type=float, metavar="RATE", help="this fraction of requests (0-1) fails"
    )
    chaos.add_argument(
        "--status", type=int, metavar="CODE", help="with --errors: their status (default 503)"
    )
    chaos.set_defaults(handler=commands.cmd_chaos)

    logs = sub.add_parser("logs", help="show (and follow) logs")
    logs.add_argument("component", nargs="?", help=f"{component_help} (default: all)")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.add_argument(
        "--request",
        metavar="ID",
        help="only the lines of this request id, from every component, in time order",
    )
    logs.add_argument("--json", action="store_true", help="with --request: the raw JSON lines")
    logs.set_defaults(handler=commands.cmd_logs)

    trace = sub.add_parser(
        "trace", help="a request's trace as a waterfall (var/traces and the gateway's log)"
    )
    trace.add_argument("id", help="a request id (X-Request-ID) or a trace id")
    trace.add_argument("--json", action="store_true", help="the spans as JSON lines")
    trace.add_argument(
        "--wait",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds to wait for spans still being exported (default 2)",
    )
    trace.set_defaults(handler=commands.cmd_trace)

    _add_story(sub)

    for name, handler, text in (
        ("migrate", commands.cmd_migrate, "manage.py migrate in every service"),
        ("check", commands.cmd_check, "manage.py check in every service"),
        (
            "createsuperuser",
            commands.cmd_createsuperuser,
            "each service's createsuperuser (--noinput with DJANGO_SUPERUSER_* set)",
        ),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--service", help="only this service")
        command.set_defaults(handler=handler)

    run = sub.add_parser("run", help="any manage.py command in every service")
    run.add_argument("--service", help="only this service")
    run.add_argument("manage_args", nargs=argparse.REMAINDER, help="manage.py arguments")
    run.set_defaults(handler=commands.cmd_run)

    seed = sub.add_parser("seed", help="create users with money (mini_auth seed_users)")
    seed.add_argument("--users", type=int, default=10)
    seed.add_argument("--balance", default="1000")
    seed.add_argument("--prefix", help="username prefix")
    seed.set_defaults(handler=commands.cmd_seed)

    audit = sub.add_parser(
        "audit", help="check the invariants across all services' data; exit 1 if one is broken"
    )
    audit.add_argument(
        "--limit",
        type=int,
        default=AUDIT_LIMIT,
        metavar="N",
        help=f"violations listed per invariant (default {AUDIT_LIMIT})",
    )
    audit.set_defaults(handler=commands.cmd_audit)
    sub.add_parser(
        "reconcile", help="finish interrupted work: each service's reconcile (auth, order, notif)"
    ).set_defaults(handler=commands.cmd_reconcile)
    sub.add_parser(
        "purge", help="delete expired idempotency records (every service) and tokens (mini_auth)"
    ).set_defaults(handler=commands.cmd_purge)

    bench = sub.add_parser(
        "bench",
        help="orders/s, latency and errors under wrk vs. the floor; audit; hung billing "
        "(`bench --help` for its options)",
        add_help=False,
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="passed to python -m bench")
    bench.set_defaults(handler=commands.cmd_bench)

    test = sub.add_parser("test", help="lint and every test suite; what CI runs")
    test.add_argument(
        "--no-postgres", action="store_true", help="use SQLite even if PostgreSQL answers"
    )
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed to every pytest run")
    test.set_defaults(handler=commands.cmd_test)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def _add_story(sub: argparse._SubParsersAction) -> None:
    story = sub.add_parser(
        "story",
        help="everything every service, log and trace knows about one order or one user, "
        "in time order",
    )
    kinds = story.add_subparsers(dest="kind", required=True, metavar="kind")
    order = kinds.add_parser(
        "order",
        help="the order, its payment, notifications, contact data, the requests that touched "
        "it with their traces, and the audit's verdict on it",
    )
    order.add_argument("id", type=_positive_int, help="the order's id")
    order.add_argument(
        "--wait",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds to wait for spans still being exported (default 2)",
    )
    user = kinds.add_parser(
        "user",
        help="the user (without secrets), profile, account and operations, orders and "
        "notifications, and the audit's verdict on them",
    )
    user.add_argument("username")
    user.add_argument(
        "--limit",
        type=_positive_int,
        default=STORY_LIMIT,
        metavar="N",
        help=f"rows listed per kind, newest first (default {STORY_LIMIT})",
    )
    for command in (order, user):
        command.add_argument("--json", action="store_true", help="the story as one JSON document")
    story.set_defaults(handler=commands.cmd_story)


# Commands whose trailing arguments belong to another program.
_PASSTHROUGH = {"run": "manage_args", "test": "pytest_args", "bench": "bench_args"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Like parse_args, but `test -x` or `run migrate --plan` pass their options on."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    field = _PASSTHROUGH.get(args.command)
    if unknown and not field:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if field:
        rest = getattr(args, field)
        rest = rest[1:] if rest[:1] == ["--"] else rest
        setattr(args, field, unknown + rest)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return args.handler(args)
    except ManageError as error:
        print(f"manage_all: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
