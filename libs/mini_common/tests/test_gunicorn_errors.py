"""gunicorn's own refusals answer problem+json (mini_common.gunicorn_errors).

These drive gunicorn's real request parser and its worker's error path over a
socket pair: if a gunicorn release stops sending these answers through
``gunicorn.util.write_error`` (or changes its arguments), they fail.
"""

import json
import socket
from unittest import mock

import pytest
from gunicorn import util
from gunicorn.config import Config
from gunicorn.workers.sync import SyncWorker

from mini_common import gunicorn_errors


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(util, "write_error", util.write_error)  # restored afterwards
    gunicorn_errors.install()


def gunicorn_answer(request: bytes) -> tuple[str, dict[str, str], bytes]:
    """What a sync worker answers to ``request``: status line, headers, body."""
    worker = SyncWorker.__new__(SyncWorker)  # only what handle() uses
    worker.cfg = Config()
    worker.log = mock.Mock()
    client, server = socket.socketpair()
    with client:
        client.sendall(request)
        client.shutdown(socket.SHUT_WR)  # all sent: gunicorn's lingering close ends at once
        worker.handle(None, server, ("127.0.0.1", 40000))  # closes ``server``
        raw = b""
        while chunk := client.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


@pytest.mark.parametrize("value", [b"a\x7fb", b"a\x01b", b"\x1f"])
def test_a_control_character_in_a_header_value_is_a_400_problem(installed, value):
    status, headers, body = gunicorn_answer(
        b"GET /billing/account/balance HTTP/1.1\r\nHost: x\r\nIdempotency-Key: "
        + value
        + b"\r\n\r\n"
    )
    assert status == "HTTP/1.1 400 Bad Request"
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Connection"] == "close"
    assert int(headers["Content-Length"]) == len(body)
    assert json.loads(body) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "Invalid HTTP Header: 'IDEMPOTENCY-KEY'",
        "code": "bad_request",
    }


@pytest.mark.parametrize(
    "request_line, status, code",
    [
        (b"GET / HTTP/9.9", 400, "bad_request"),  # InvalidHTTPVersion
        (b"G\x01T / HTTP/1.1", 400, "bad_request"),  # InvalidRequestMethod
        (b"GET /" + b"a" * 5000 + b" HTTP/1.1", 414, "uri_too_long"),  # LimitRequestLine
    ],
)
def test_other_refusals_keep_their_status_and_are_problems(installed, request_line, status, code):
    line, headers, body = gunicorn_answer(request_line + b"\r\nHost: x\r\n\r\n")
    assert line.split(" ")[1] == str(status)
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (status, code)


def test_without_install_gunicorn_answers_html(monkeypatch):
    # The control: what install() replaces is really what these tests see.
    monkeypatch.setattr(util, "write_error", util.write_error)
    _status, headers, body = gunicorn_answer(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n")
    assert headers["Content-Type"] == "text/html" and b"Invalid HTTP Header" in body


def test_post_fork_installs_it(monkeypatch):
    from mini_common import gunicorn_conf

    monkeypatch.setattr(util, "write_error", util.write_error)
    monkeypatch.setattr("mini_common.tracing.setup_tracing", lambda name: None)
    gunicorn_conf.post_fork(mock.Mock(), mock.Mock())
    assert util.write_error is gunicorn_errors.write_problem
