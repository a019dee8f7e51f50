"""gunicorn's own error answers as problem+json, like every other answer of mini.

gunicorn answers a request it refuses before the application sees it (a
header value with a control character such as ``Idempotency-Key: a\\x7fb``, a
malformed request line or chunk) with an HTML page. nginx forwards such header
values as they are, and gunicorn has no setting for the body of these answers:
every route then answered ``400 text/html "Invalid HTTP Header"``.

All of them go through one function, ``gunicorn.util.write_error(sock,
status_int, reason, mesg)``, which ``Worker.handle_error`` looks up at call
time. ``install()`` (called in ``post_fork``, mini_common.gunicorn_conf)
replaces it with ``write_problem``: same status line and ``Connection:
close``, a problem+json body instead of the HTML. The status gunicorn chose is
kept. tests/test_gunicorn_errors.py drives gunicorn's real parser and worker
error path, so a gunicorn that stops calling ``util.write_error`` fails there.
"""

import json

from gunicorn import util

# The gateway's codes for the same statuses (gateway_nginx/nginx.conf.template).
CODES = {
    400: "bad_request",
    403: "permission_denied",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    500: "internal_error",
    501: "not_implemented",
}


def problem_bytes(status_int: int, reason: str, mesg: str) -> bytes:
    """The whole HTTP answer: gunicorn's status line and headers, a problem+json body."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": reason,
            "status": status_int,
            "detail": mesg or reason,
            "code": CODES.get(status_int, "bad_request" if status_int < 500 else "internal_error"),
        }
    ).encode()  # ensure_ascii: whatever gunicorn quotes from the request stays ASCII
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """A drop-in for ``gunicorn.util.write_error``."""
    util.write_nonblock(sock, problem_bytes(status_int, reason, mesg))


def install() -> None:
    util.write_error = write_problem
