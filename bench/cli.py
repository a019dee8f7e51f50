"""``python -m bench``: the benchmark's command line (manage_all.py bench runs it)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tools.manage_all.layout import ManageError

from .run import Options, run, summary
from .wrk import BenchError


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manage_all.py bench",
        description="Orders/s, latency and errors through the gateway under wrk, the floor "
        "(an authenticated no-op DRF endpoint), an audit, and orders with mini_billing hung.",
    )
    parser.add_argument("--duration", type=float, help="seconds per measurement (default 30)")
    parser.add_argument("--concurrency", type=int, help="connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--users", type=int, help="users whose tokens rotate (default 16)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up (default 5)")
    parser.add_argument("--hung-duration", type=float, help="seconds per hung-billing run")
    hung = parser.add_mutually_exclusive_group()
    hung.add_argument("--no-hung", action="store_true", help="skip the hung-billing scenario")
    hung.add_argument("--hung", action="store_true", help="run it with --smoke too")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds, small, no thresholds, no lean reference (for CI)",
    )
    parser.add_argument(
        "--no-lean",
        action="store_true",
        help="skip the lean reference (../shared/lean-reference/), and with it the closeness",
    )
    parser.add_argument(
        "--use-running",
        action="store_true",
        help="load the system `up` started, with MINI_BENCH_ENDPOINTS=1 (else: a fresh one "
        "of its own on PostgreSQL)",
    )
    database = parser.add_mutually_exclusive_group()
    database.add_argument("--postgres", metavar="URL", help="PostgreSQL server of its own system")
    database.add_argument("--sqlite", action="store_true", help="its own system on SQLite")
    parser.add_argument("--workers", help="GUNICORN_WORKERS of its own system")
    parser.add_argument(
        "--env",
        action="append",
        type=_env_pair,
        default=[],
        metavar="NAME=VALUE",
        help="environment of its own system's processes (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="directory of the JSON report (var/bench)")
    return parser


def options_from(args: argparse.Namespace) -> Options:
    given = {
        key: value
        for key, value in {
            "duration": args.duration,
            "concurrency": args.concurrency,
            "users": args.users,
            "warmup": args.warmup,
            "hung_duration": args.hung_duration,
        }.items()
        if value is not None
    }
    common = {
        "threads": args.threads,
        "use_running": args.use_running,
        "postgres": args.postgres,
        "sqlite": args.sqlite,
        "workers": args.workers,
        "env": dict(args.env),
        "out_dir": args.out,
    }
    if args.no_hung or args.hung:
        given["hung"] = args.hung
    if args.no_lean:
        given["lean"] = False
    if args.smoke:
        return Options.smoke_defaults(**given, **common)
    return Options(**given, **common)


def main(argv: Sequence[str] | None = None) -> int:
    options = options_from(build_parser().parse_args(argv))
    try:
        report, path = run(options)
    except (BenchError, ManageError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(summary(report))
    print(f"\nwritten to {path}")
    hung = report.get("hung_billing", {})
    if not report["audit"]["ok"] or not hung.get("audit", {}).get("ok", True):
        return 1  # lost or duplicated data is a failure, smoke or not
    if options.smoke:
        return 0  # no thresholds
    return 0 if all(report["targets_met"].values()) else 2
