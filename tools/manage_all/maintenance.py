"""`reconcile` and `purge`: each service's own recovery and clean-up commands, in turn.

Each command prints a one-line summary, which is passed on. A command that
exits non-zero (a crash, not "a dependency is still down": those report and
leave the work for the next run) is reported with the end of its output.

    reconcile_system(system)   # every service's reconcile; their summaries
    purge_system(system)       # expired idempotency records and tokens
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .layout import SERVICES, ManageError, process_name

if TYPE_CHECKING:
    from .system import System

# Registrations first (they open the accounts orders are paid from), then orders
# (they hand notifications to mini_notif), then mini_notif (it retries what the
# orders just handed over but could not be sent): the order of the list of
# services itself (mini_common/services.py). Services without one are skipped.
RECONCILE_ORDER = SERVICES
# mini_common's command, in every service's INSTALLED_APPS (so not found by has_command).
PURGE_IDEMPOTENCY = ("purge_idempotency_keys",)
OUTPUT_TAIL = 3000

Job = tuple[str, tuple[str, ...]]  # (service, manage.py arguments)


@dataclass(frozen=True)
class JobResult:
    service: str
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def render(self) -> str:
        prefix = f"{process_name(self.service):<13}"
        if self.ok:
            return prefix + (self.stdout.strip() or f"{' '.join(self.args)}: done")
        output = (self.stdout + self.stderr).strip()[-OUTPUT_TAIL:]
        indented = "\n".join(f"    {line}" for line in output.splitlines())
        failed = f"manage.py {' '.join(self.args)} FAILED (exit {self.returncode})"
        return f"{prefix}{failed}\n{indented}"


def reconcile_jobs(system: System) -> list[Job]:
    return [
        (name, ("reconcile",))
        for name in RECONCILE_ORDER
        if name in system.services and system.has_command(name, "reconcile")
    ]


def purge_jobs(system: System) -> list[Job]:
    jobs: list[Job] = [(name, PURGE_IDEMPOTENCY) for name in system.services]
    if "auth" in system.services and system.has_command("auth", "purge_tokens"):
        jobs.append(("auth", ("purge_tokens",)))
    return jobs


def run_jobs(
    system: System, jobs: list[Job], *, echo: Callable[[str], None] | None = None
) -> list[JobResult]:
    """Run every job, all of them even after a failure; echo each result as it comes."""
    results = []
    for name, args in jobs:
        completed = system.manage(name, *args, capture=True, check=False)
        result = JobResult(name, args, completed.returncode, completed.stdout, completed.stderr)
        results.append(result)
        if echo is not None:
            echo(result.render())
    return results


def render(results: list[JobResult]) -> str:
    return "\n".join(result.render() for result in results)


def run_all(system: System, jobs: list[Job]) -> str:
    """Run every job; their summaries, or ManageError carrying every output if one crashed."""
    results = run_jobs(system, jobs)
    output = render(results)
    if not all(result.ok for result in results):
        raise ManageError(output)
    return output


def reconcile_system(system: System) -> str:
    """Each service's `reconcile` (auth, then order, then notif); their summaries.

    Raises ManageError, carrying every command's output, if one crashed.
    """
    return run_all(system, reconcile_jobs(system))


def purge_system(system: System) -> str:
    """`purge_idempotency_keys` in every service and mini_auth's `purge_tokens`."""
    return run_all(system, purge_jobs(system))
