"""The fault proxy process, between a caller and a tiny HTTP server: each fault as chaos says."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tools.manage_all import faultproxy, faultstate
from tools.manage_all.faultstate import Fault, FaultState
from tools.manage_all.layout import REPO_ROOT
from tools.manage_all.net import free_port


class Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn's callers use it
    hits = 0
    connection_header: str | None = None

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).hits += 1
        type(self).connection_header = self.headers.get("Connection")
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    Counting.hits, Counting.connection_header = 0, None
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Running:
    """The proxy process and its state file; set() changes the fault as chaos does."""

    def __init__(self, run_dir, state: FaultState) -> None:
        self.run_dir = run_dir
        self.state = state
        faultstate.write(run_dir, state)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.manage_all.faultproxy",
                faultstate.state_file(run_dir, "billing"),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
        )
        self.wait_applied()

    @property
    def port(self) -> int:
        return self.state.listen_port

    def wait_applied(self) -> None:
        deadline = time.monotonic() + 10
        while faultstate.read_applied(self.run_dir, "billing") != (self.state.generation, ""):
            assert self.process.poll() is None, "the proxy exited"
            assert time.monotonic() < deadline, "the proxy did not apply the fault"
            time.sleep(0.02)

    def set(self, fault: Fault) -> None:
        self.state = self.state.changed(fault)
        faultstate.write(self.run_dir, self.state)
        self.process.send_signal(signal.SIGHUP)
        self.wait_applied()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def start(tmp_path, upstream):
    started = []

    def start(fault: Fault, upstream_port: int | None = None) -> Running:
        state = FaultState(
            service="billing",
            fault=fault,
            listen_port=free_port(),
            upstream_port=upstream_port or upstream.server_address[1],
            generation=1,
            since=time.time(),
        )
        started.append(Running(tmp_path, state))
        return started[-1]

    yield start
    for proxy in started:
        proxy.stop()


def post(port: int, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            "POST",
            "/billing/account/operate",
            body=b'{"a":1}',
            headers={"Content-Type": "application/json", "X-Request-ID": "r1"},
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_delay_passes_the_request_and_answers_late(start):
    proxy = start(Fault("delay", delay_ms=400))
    started = time.perf_counter()
    status, _, body = post(proxy.port)
    assert time.perf_counter() - started >= 0.4
    assert (status, body, Counting.hits) == (200, b'{"ok":true}', 1)
    # The service is asked to close: the caller's next request comes on a new connection.
    assert Counting.connection_header == "close"


def test_errors_answer_the_status_without_reaching_the_service(start):
    proxy = start(Fault("errors", rate=1.0, status=503))
    status, headers, body = post(proxy.port)
    assert status == 503
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Retry-After"] == "1"
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (503, "injected_fault")
    assert problem["detail"] == (
        "injected by manage_all.py chaos (mini_billing: errors: 100% of requests answered 503)"
    )
    assert Counting.hits == 0


def test_an_error_status_other_than_503_has_no_retry_after(start):
    proxy = start(Fault("errors", rate=1.0, status=422))
    status, headers, _ = post(proxy.port)
    assert status == 422
    assert "Retry-After" not in headers


def test_errors_are_decided_request_by_request(start):
    proxy = start(Fault("errors", rate=0.5))
    statuses = [post(proxy.port)[0] for _ in range(60)]
    # Both answers come (all 60 alike has a chance of 2 in 2**60).
    assert sorted(set(statuses)) == [200, 503]
    assert Counting.hits == statuses.count(200)


def test_hang_reads_the_request_and_never_answers(start):
    proxy = start(Fault("hang"))
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        post(proxy.port, timeout=0.5)
    assert time.perf_counter() - started >= 0.5
    assert Counting.hits == 0


def test_down_refuses_connections_and_listens_again_after(start):
    proxy = start(Fault("down"))
    with pytest.raises(ConnectionRefusedError):
        post(proxy.port)
    proxy.set(Fault("delay", delay_ms=1))
    assert post(proxy.port)[0] == 200


def test_going_down_resets_the_connections_it_holds(start):
    proxy = start(Fault("hang"))
    errors: list[BaseException] = []

    def caller():
        try:
            post(proxy.port, timeout=10)
        except OSError as error:
            errors.append(error)

    thread = threading.Thread(target=caller)
    thread.start()
    time.sleep(0.3)  # the request is in, held
    proxy.set(Fault("down"))
    thread.join(5)
    assert not thread.is_alive()
    # http.client's RemoteDisconnected is a ConnectionResetError too.
    assert len(errors) == 1 and isinstance(errors[0], ConnectionResetError), errors


def test_an_unreachable_service_resets_the_caller(tmp_path, monkeypatch):
    """In this process, with a short wait for the service (10 s in the real one)."""
    monkeypatch.setattr(faultproxy, "UPSTREAM_WAIT", 0.3)
    state = FaultState("billing", Fault("delay", delay_ms=1), free_port(), free_port(), 1, 0.0)
    faultstate.write(tmp_path, state)  # nothing listens on the upstream port
    proxy = faultproxy.Proxy(faultstate.state_file(tmp_path, "billing"))
    proxy.put_in_force()
    serving = threading.Thread(target=proxy.accept_one)
    serving.start()
    try:
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            post(state.listen_port)
    finally:
        serving.join(5)
        proxy.cut_all(listener_too=True)


def test_sigterm_cuts_held_connections_and_exits(start):
    proxy = start(Fault("hang"))
    errors: list[BaseException] = []

    def caller():
        try:
            post(proxy.port, timeout=10)
        except OSError as error:
            errors.append(error)

    thread = threading.Thread(target=caller)
    thread.start()
    time.sleep(0.3)  # the request is in, held
    started = time.perf_counter()
    os.kill(proxy.process.pid, signal.SIGTERM)
    assert proxy.process.wait(5) == 0
    assert time.perf_counter() - started < 2
    thread.join(5)
    # http.client's RemoteDisconnected is a ConnectionResetError too.
    assert len(errors) == 1 and isinstance(errors[0], ConnectionResetError), errors


def test_the_request_head_is_rewritten_to_close():
    head = b"POST /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nX-A: 1"
    assert faultproxy.closing_head(head) == (
        b"POST /x HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nConnection: close\r\n\r\n"
    )
    assert faultproxy.split_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody") == (
        b"GET / HTTP/1.1\r\nHost: a",
        b"body",
    )
    assert faultproxy.split_head(b"GET / HTTP/1.1\r\nHost: a\r\n") is None


def test_an_error_answer_names_its_status():
    fault = Fault("errors", rate=1.0, status=499)
    assert faultproxy.error_answer(499, "mini_billing", fault).startswith(b"HTTP/1.1 499 Error\r\n")
    answer = faultproxy.error_answer(503, "mini_billing", Fault("errors", rate=1.0))
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
