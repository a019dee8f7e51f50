"""gunicorn settings shared by every service (``-c python:mini_common.gunicorn_conf``).

Sync workers: one request per process at a time. That keeps pybreaker's
per-breaker lock (held for the whole call) uncontended, and a slow downstream
call ties up one worker, never a shared thread pool.

Observability, per process:

- gunicorn's own log lines are JSON like the services' (``JsonLogger``);
- ``on_starting`` (master): the Prometheus multiprocess directory
  ``<MINI_METRICS_DIR or <var>/metrics>/<proc name>`` is emptied and exported
  to the workers as ``PROMETHEUS_MULTIPROC_DIR``; ``child_exit`` marks a dead
  worker's live gauges as gone;
- ``post_fork`` (each worker): gunicorn's own error answers made problem+json
  (mini_common.gunicorn_errors), fresh HTTP pools and breakers, then tracing
  (mini_common.tracing), whose exporter thread must be born in the worker;
  ``worker_exit`` flushes the spans still queued.
"""

import os
import shutil
from pathlib import Path

from gunicorn.glogging import Logger

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 10
keepalive = 75  # longer than nginx's upstream keepalive_timeout, so nginx closes first
max_requests = 0
accesslog = None  # the RequestContextMiddleware writes JSON access lines
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# nginx bounds the headers (8 KiB a line, 32 KiB in all) and answers problem+json;
# gunicorn's own lower count limit (100 fields) would answer HTML instead.
limit_request_fields = 32768
limit_request_field_size = 8190


class JsonLogger(Logger):
    """gunicorn's error log ("Booting worker ...") as JSON lines like every other line."""

    def _set_handler(self, log, output, fmt, stream=None):
        from mini_common.logs import ContextFilter, JsonFormatter

        super()._set_handler(log, output, JsonFormatter(), stream=stream)
        handler = self._get_gunicorn_handler(log)
        if handler is not None:
            handler.addFilter(ContextFilter(service=self.cfg.proc_name))


logger_class = JsonLogger


def metrics_dir(proc_name: str) -> Path:
    """One directory per service: each master empties its own when it starts."""
    base = os.environ.get("MINI_METRICS_DIR")
    if not base:
        from mini_common.settings import var_dir

        base = str(var_dir() / "metrics")
    return Path(base) / proc_name


def on_starting(server):
    # Before any worker (or this process) imports prometheus_client: the
    # workers find the directory in their environment and share it.
    directory = metrics_dir(server.cfg.proc_name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def post_fork(server, worker):
    # gunicorn's own refusals (a control character in a header, ...) as problem+json.
    from mini_common import gunicorn_errors

    gunicorn_errors.install()
    # Connections and breaker state must not be shared with the parent process.
    from mini_common.breakers import reset_breakers
    from mini_common.client import reset_clients

    reset_clients()
    reset_breakers()
    # Tracing instruments Django's settings, which name the service's own module.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from mini_common.tracing import setup_tracing

    setup_tracing(server.cfg.proc_name)


def worker_exit(server, worker):
    from mini_common.tracing import shutdown_tracing

    shutdown_tracing()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
