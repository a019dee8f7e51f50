"""gunicorn settings shared by every service (``-c python:mini_common.gunicorn_conf``).

Sync workers: one request per process at a time. That keeps pybreaker's
per-breaker lock (held for the whole call) uncontended, and a slow downstream
call ties up one worker, never a shared thread pool.
"""

import os

worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10
keepalive = 75  # longer than nginx's upstream keepalive_timeout, so nginx closes first
max_requests = 0
accesslog = None  # the RequestContextMiddleware writes JSON access lines
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")


def post_fork(server, worker):
    # Connections and breaker state must not be shared with the parent process.
    from mini_common.breakers import reset_breakers
    from mini_common.client import reset_clients

    reset_clients()
    reset_breakers()
