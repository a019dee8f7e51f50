#!/usr/bin/env python3
"""Run the whole mini system, and any manage.py command across its services.

    python3 manage_all.py up [--detach] [--postgres URL [--db-prefix P]] [--redis URL]
                             [--base-port 8000]
    python3 manage_all.py down | status | logs [component] [-f]
    python3 manage_all.py start|stop|restart <component>
    python3 manage_all.py chaos <service> --down|--hang|--delay MS|--errors RATE [--status N]
    python3 manage_all.py chaos off [<service>]
    python3 manage_all.py migrate | check | createsuperuser | seed [--users N --balance X]
    python3 manage_all.py run [--service x] <manage.py args...>
    python3 manage_all.py audit [--limit N] | reconcile | purge
    python3 manage_all.py logs --request <id> | trace <request id | trace id>
    python3 manage_all.py bench [--smoke] [--duration 30] [--concurrency 16] ...
    python3 manage_all.py test [--no-postgres] [pytest args...]

Standard library only, so it runs before anything is installed. The code is in
tools/manage_all/; tests use it through this module:

    import manage_all
    system = manage_all.System(tmp_path / "var", ports=manage_all.free_ports())
    ok, report = manage_all.audit_system(system)
"""

import os
import sys

from tools.manage_all import (
    COMPONENTS,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    GATEWAY,
    SERVICES,
    ManageError,
    System,
    audit_system,
    free_port,
    free_ports,
    purge_system,
    reconcile_system,
    service_database_urls,
)
from tools.manage_all.cli import main

# What tests and bench use: the System class, its helpers, and what works on its data.
__all__ = [
    "COMPONENTS",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "GATEWAY",
    "SERVICES",
    "ManageError",
    "System",
    "audit_system",
    "free_port",
    "free_ports",
    "main",
    "purge_system",
    "reconcile_system",
    "service_database_urls",
]

if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        # The reader went away (`... | head`): nothing more to say, and nothing to
        # flush on exit either (Python's recipe for SIGPIPE, docs of the signal module).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
