"""`manage_all.py audit`: every service's `audit_export`, cross-checked, as a report.

No service reads another's tables, and neither does this: each service prints
the facts it owns (its `audit_export` management command, read-only), and the
invariants in invariants.py are checked here over those documents. The
services need not be running; their databases must answer.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .invariants import EXPORTS, Facts, Invariant, check_all
from .layout import ManageError, process_name

if TYPE_CHECKING:
    from .system import System

EXPORT_COMMAND = "audit_export"
# Violations (and pending items) listed per invariant; the counts are always complete.
DEFAULT_LIMIT = 20
RECONCILE_HINT = "`manage_all.py reconcile` finishes them"


def collect_exports(system: System) -> dict[str, dict[str, Any]]:
    """The export documents, taken one after the other in EXPORTS order (see invariants.py)."""
    exports = {}
    for key, name in EXPORTS:
        if not system.has_command(name, EXPORT_COMMAND):
            raise ManageError(f"{process_name(name)} has no {EXPORT_COMMAND} command")
        result = system.manage(name, EXPORT_COMMAND, capture=True, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()[-3000:]
            raise ManageError(f"{process_name(name)}: manage.py {EXPORT_COMMAND} failed:\n{output}")
        try:
            exports[key] = json.loads(result.stdout)
        except ValueError as error:
            raise ManageError(
                f"{process_name(name)}: {EXPORT_COMMAND} printed no JSON document ({error})"
            ) from None
    return exports


def audit_exports(
    exports: dict[str, dict[str, Any]], *, limit: int = DEFAULT_LIMIT
) -> tuple[bool, str]:
    """(every invariant holds, the report) for export documents already taken."""
    try:
        facts, results = check_all(exports)
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        # A service's export and this tool disagree on the format: not an answer either way.
        raise ManageError(f"audit: an export is not in the expected format ({error!r})") from None
    ok = all(result.ok for result in results)
    return ok, render(facts, results, limit=limit)


def audit_system(system: System, *, limit: int = DEFAULT_LIMIT) -> tuple[bool, str]:
    """Cross-service invariants over every service's data: (all hold, report).

    Reads each database through its service's `audit_export` (the services
    need not be running). Raises ManageError if an export cannot be taken.
    """
    return audit_exports(collect_exports(system), limit=limit)


def render(facts: Facts, results: list[Invariant], *, limit: int = DEFAULT_LIMIT) -> str:
    failed = [result for result in results if not result.ok]
    pending = [result for result in results if result.pending]
    if failed:
        violations = sum(len(result.violations) for result in failed)
        head = f"audit FAILED: {len(failed)} of {len(results)} invariants broken, "
        head += f"{violations} violations"
    else:
        head = f"audit OK: all {len(results)} invariants hold"
    if pending:
        head += f"; {sum(len(result.pending) for result in pending)} pending"
    lines = [head, f"data: {facts.summary()}", ""]
    width = max(len(result.name) for result in results)
    for result in results:
        lines.append(
            f"  {'ok' if result.ok else 'FAIL':<5}{result.name:<{width}}  "
            f"{result.checked:>6} checked {len(result.violations):>5} violated "
            f"{len(result.pending):>5} pending   {result.rule}"
        )
    if failed:
        lines += ["", "violations:", *_listing(failed, "violations", limit)]
    if pending:
        lines += ["", f"pending (not failures; {RECONCILE_HINT}):"]
        lines += _listing(pending, "pending", limit)
    return "\n".join(lines)


def _listing(results: list[Invariant], attribute: str, limit: int) -> list[str]:
    lines = []
    for result in results:
        items: list[str] = getattr(result, attribute)
        lines.append(f"  {result.name} ({len(items)}):")
        lines += [f"    {item}" for item in items[:limit]]
        if len(items) > limit:
            lines.append(f"    ... and {len(items) - limit} more")
    return lines
