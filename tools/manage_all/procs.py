"""Background processes tracked by pid files.

Processes are only ever signalled by the pid manage_all recorded for them,
after checking that the pid still belongs to the command it started (a pid
file can outlive a reboot and the pid be reused).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

STOP_TIMEOUT = 10.0


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file ('' if it does not exist), without reading all of it."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - max(65536, lines * 1024)))
            data = handle.read()
    except OSError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def write_pid(pid_file: Path, pid: int) -> None:
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{pid}\n")


def remove_pid(pid_file: Path) -> None:
    pid_file.unlink(missing_ok=True)


def _reap(pid: int) -> bool:
    """Collect pid if it is an exited child of ours; True when it was."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == pid


def _proc_file(pid: int, name: str) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return None


def is_alive(pid: int) -> bool:
    if pid <= 0 or _reap(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _proc_file(pid, "stat")
    if stat is None:
        return True
    # A zombie (state Z, right after the command name in parentheses) is gone.
    state = stat.rsplit(b")", 1)[-1].split()[:1]
    return state != [b"Z"]


def runs_command(pid: int, marker: str) -> bool:
    """Whether pid is alive and its command line contains marker.

    Without /proc (not Linux) the command line cannot be checked; then any
    live pid counts.
    """
    if not is_alive(pid):
        return False
    cmdline = _proc_file(pid, "cmdline")
    if cmdline is None:
        return not Path("/proc/self").exists()
    if not cmdline:
        # Right after spawn() the child may still be inside execve(): until the
        # kernel has set up its arguments, /proc/<pid>/cmdline reads empty.
        return True
    return marker in cmdline.replace(b"\0", b" ").decode(errors="replace")


def spawn(
    cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_file: Path
) -> subprocess.Popen[bytes]:
    """Start cmd in its own session with stdout/stderr appended to log_file.

    Its own session keeps a terminal's Ctrl-C away from it (manage_all stops
    it in order instead) and lets it outlive manage_all with --detach.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def terminate(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM pid and wait up to timeout; then SIGKILL it and what it leaves behind."""
    _signal(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, 2.0)
    kill_orphaned_group(pid)


def kill_orphaned_group(pid: int) -> None:
    """SIGKILL what is left of the process group of a leader that died.

    spawn() made each component the leader of its own process group. A
    master killed with SIGKILL leaves its workers behind, still holding its
    port. Linux does not hand out a pid while it still names a process group,
    so when pid itself is gone its group can only hold those leftovers.
    """
    if is_alive(pid) or not _group_alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    deadline = time.monotonic() + 2.0
    while _group_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
