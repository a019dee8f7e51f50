"""The fault proxy itself, against a tiny HTTP server: each mode does what the tests rely on."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.fault.proxy import FaultProxy


class Counting(BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).hits += 1
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
    Counting.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def proxy(upstream):
    with FaultProxy(upstream.server_address[1]) as proxy:
        yield proxy


def post(proxy, timeout=5.0):
    return requests.post(proxy.url + "/x", json={"a": 1}, timeout=timeout)


def test_pass_through_forwards(proxy):
    assert post(proxy).json() == {"ok": True}
    assert Counting.hits == 1
    assert proxy.requests == ["POST /x HTTP/1.1"]


def test_delay_holds_the_answer_after_the_server_processed_it(proxy):
    proxy.delay(0.6)
    started = time.perf_counter()
    assert post(proxy).status_code == 200
    assert time.perf_counter() - started >= 0.6
    with pytest.raises(requests.Timeout):
        post(proxy, timeout=0.2)
    assert Counting.hits == 2  # the request that timed out was processed all the same


def test_drop_resets_without_forwarding(proxy):
    proxy.drop()
    with pytest.raises(requests.ConnectionError):
        post(proxy)
    assert Counting.hits == 0 and proxy.dropped == 1


def test_unavailable_answers_503_itself(proxy):
    proxy.unavailable()
    response = post(proxy)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["code"] == "dependency_unavailable"
    assert Counting.hits == 0


def test_hold_until_released(proxy):
    proxy.hold()
    answers = []
    caller = threading.Thread(target=lambda: answers.append(post(proxy)))
    caller.start()
    assert proxy.wait_held(1, timeout=5)
    assert Counting.hits == 1 and not answers  # processed, answer kept back
    proxy.release()
    caller.join(5)
    assert answers and answers[0].status_code == 200


def test_release_without_forwarding_cuts_the_held_answer(proxy):
    proxy.hold()
    errors = []

    def call():
        try:
            post(proxy)
        except requests.ConnectionError as error:
            errors.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    assert proxy.wait_held(1, timeout=5)
    proxy.release(forward=False)
    caller.join(5)
    assert errors and Counting.hits == 1


def test_unreachable_upstream_resets_the_caller():
    with FaultProxy(1) as proxy:  # nothing listens on port 1
        with pytest.raises(requests.ConnectionError):
            post(proxy)
        assert proxy.upstream_failures == 1


def test_close_ends_held_connections_and_threads(upstream):
    proxy = FaultProxy(upstream.server_address[1]).start()
    proxy.hold()
    caller = threading.Thread(target=lambda: pytest.raises(requests.ConnectionError, post, proxy))
    caller.start()
    assert proxy.wait_held(1, timeout=5)
    started = time.perf_counter()
    proxy.close()
    assert time.perf_counter() - started < 2
    caller.join(5)
    assert not caller.is_alive()
    assert not proxy._threads and not proxy._accept_thread.is_alive()
