"""`manage_all.py ... | head`: a reader that goes away ends the command quietly."""

import os
import subprocess
import sys

from tools.manage_all.layout import REPO_ROOT


def test_a_closed_pipe_ends_the_command_without_a_traceback(tmp_path):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    (log_dir / "mini_order.log").write_text("".join(f"line {n}\n" for n in range(20000)))
    command = subprocess.Popen(
        [sys.executable, "manage_all.py", "logs", "order", "-n", "20000"],
        cwd=REPO_ROOT,
        env={**os.environ, "MINI_VAR_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout is not None and command.stderr is not None
    assert command.stdout.readline()  # `head -1`
    command.stdout.close()
    errors = command.stderr.read().decode()
    assert (command.wait(timeout=30), errors) == (1, "")
