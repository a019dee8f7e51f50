"""One JSON object per log line, with the request's id, trace and user attached.

Every line has ``time``, ``level``, ``logger``, ``message``, ``service``,
``request_id``, ``trace_id``, ``span_id`` and ``username``, plus whatever the
call passed in ``extra`` (the access line: ``method``, ``path``, ``status``,
``duration_ms``; a call to another service: ``target``, ``attempt``,
``breaker_state``, ...). ``trace_id``/``span_id`` are those of the active
OpenTelemetry span when there is one (a query's or an outgoing call's span
inside a request), else the request's.
"""

import json
import logging
import time

from opentelemetry import trace

from mini_common.context import current_context

# Attributes every LogRecord has; anything else was passed in ``extra``.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class ContextFilter(logging.Filter):
    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_context()
        record.service = self.service
        record.request_id = context.request_id if context else ""
        record.trace_id = context.trace_id if context else ""
        record.span_id = context.span_id if context else ""
        record.username = context.username if context else ""
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")
        elif context is None:
            self._from_request(record)
        return True

    @staticmethod
    def _from_request(record: logging.LogRecord) -> None:
        """Lines Django writes after the request's context ended (``django.request``)."""
        request = getattr(record, "request", None)
        if request is None:
            return
        record.request_id = getattr(request, "request_id", "")
        span_context = getattr(request, "mini_span_context", None)
        if span_context is not None and span_context.is_valid:
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(service: str, level: str = "INFO") -> dict:
    """A LOGGING dict for Django settings: JSON lines to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter, "service": service}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "json",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "django.server": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
        },
    }
