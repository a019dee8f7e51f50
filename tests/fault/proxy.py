"""A fault-injecting TCP proxy to put between two services (standard library only).

    proxy = FaultProxy(upstream_port=system.ports["billing"]).start()
    env = {"MINI_BILLING_URL": proxy.url}     # every service calls billing through it
    proxy.delay(3)         # each response reaches the caller 3 s after the service sent it
    proxy.hold()           # responses are kept back ...
    proxy.wait_held()      # ... until one has arrived from the service,
    proxy.release()        # then let them go (pass-through again)
    proxy.drop()           # accept, then reset the connection (no byte is forwarded)
    proxy.unavailable()    # answer `HTTP/1.1 503` itself, without asking the service
    proxy.pass_through()
    proxy.close()          # stop listening, cut every open connection, join the threads

The mode is read when it matters: drop and 503 when a connection is accepted,
delay and hold when the first bytes of a response come back from the service
(so the request has reached the service and been processed). If the service
cannot be reached the caller's connection is reset, as a refused connect would be.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from enum import StrEnum

LOOPBACK = "127.0.0.1"
CHUNK = 65536
ACCEPT_POLL = 0.1
READ_REQUEST_TIMEOUT = 2.0

UNAVAILABLE_BODY = (
    b'{"type":"about:blank","title":"Service unavailable","status":503,'
    b'"detail":"injected by the fault proxy","code":"dependency_unavailable"}'
)
UNAVAILABLE_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/problem+json\r\n"
    b"Retry-After: 1\r\n"
    b"Connection: close\r\n"
    b"Content-Length: " + str(len(UNAVAILABLE_BODY)).encode() + b"\r\n\r\n" + UNAVAILABLE_BODY
)
HTTP_METHODS = (b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ", b"HEAD ", b"OPTIONS ")


class Mode(StrEnum):
    PASS = "pass"
    DELAY = "delay"
    DROP = "drop"
    UNAVAILABLE = "503"
    HOLD = "hold"


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    _close(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Gate:
    """What held responses wait for: released (forward them) or cut (reset them)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.forward = True


class FaultProxy:
    def __init__(self, upstream_port: int, *, upstream_host: str = LOOPBACK, name: str = ""):
        # Where connections go; may be changed until start() (the port is then known).
        self.upstream = (upstream_host, upstream_port)
        self.name = name or f"proxy->{upstream_port}"
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(256)
        self._listener.settimeout(ACCEPT_POLL)
        self.port: int = self._listener.getsockname()[1]
        self._cond = threading.Condition()
        self._mode = Mode.PASS
        self._delay = 0.0
        self._gate = _Gate()
        self._closing = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"{self.name}-accept", daemon=True
        )
        # What happened, for the tests' assertions and failure messages.
        self.accepted = 0
        self.dropped = 0
        self.answered_503 = 0
        self.upstream_failures = 0
        self.responses = 0  # responses that started coming back from the service
        self.held = 0  # responses held since the last hold()
        self.requests: list[str] = []  # request lines seen, in order

    # --- life cycle -----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> FaultProxy:
        self._accept_thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut every connection (held ones too), join all threads."""
        self._closing.set()
        with self._cond:
            self._gate.forward = False
            self._gate.event.set()
            sockets = list(self._sockets)
            self._cond.notify_all()
        for sock in sockets:
            _close(sock)
        self._accept_thread.join(timeout)
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        _close(self._listener)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<FaultProxy {self.name} :{self.port}->{self.upstream[1]} mode={self._mode} "
            f"accepted={self.accepted} responses={self.responses} held={self.held} "
            f"dropped={self.dropped} answered_503={self.answered_503}>"
        )

    # --- modes ----------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    def _set(self, mode: Mode, delay: float = 0.0) -> None:
        with self._cond:
            self._mode, self._delay = mode, delay
            self._cond.notify_all()

    def pass_through(self) -> None:
        self._set(Mode.PASS)

    def delay(self, seconds: float) -> None:
        self._set(Mode.DELAY, seconds)

    def drop(self) -> None:
        self._set(Mode.DROP)

    def unavailable(self) -> None:
        self._set(Mode.UNAVAILABLE)

    def hold(self) -> None:
        """Hold every response from now on until release()."""
        with self._cond:
            self._gate.event.set()  # anything still held from before goes on
            self._gate = _Gate()
            self.held = 0
            self._mode = Mode.HOLD
            self._cond.notify_all()

    def release(self, *, forward: bool = True) -> None:
        """Back to pass-through; held responses are forwarded (or reset if not forward)."""
        with self._cond:
            self._gate.forward = forward
            self._gate.event.set()
            self._mode = Mode.PASS
            self._cond.notify_all()

    def wait_held(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait until `count` responses are held (received from the service, not forwarded)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.held >= count, timeout)

    def wait_requests(self, count: int, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= count, timeout)

    # --- connections ----------------------------------------------------------

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=self._run, args=(target, *args), daemon=True)
        with self._cond:
            self._threads.add(thread)
        thread.start()

    def _run(self, target, *args) -> None:
        try:
            target(*args)
        finally:
            with self._cond:
                self._threads.discard(threading.current_thread())

    def _track(self, sock: socket.socket) -> bool:
        with self._cond:
            if self._closing.is_set():
                return False
            self._sockets.add(sock)
            return True

    def _untrack(self, *socks: socket.socket) -> None:
        with self._cond:
            for sock in socks:
                self._sockets.discard(sock)

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._cond:
                self.accepted += 1
            if not self._track(client):
                _reset(client)
                return
            self._spawn(self._handle, client)

    def _handle(self, client: socket.socket) -> None:
        with self._cond:
            mode = self._mode
        if mode == Mode.DROP:
            with self._cond:
                self.dropped += 1
            self._untrack(client)
            _reset(client)
            return
        if mode == Mode.UNAVAILABLE:
            self._answer_503(client)
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=5.0)
        except OSError:
            with self._cond:
                self.upstream_failures += 1
            self._untrack(client)
            _reset(client)  # what the caller would see if the service refused the connect
            return
        upstream.settimeout(None)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self._track(upstream):
            _reset(upstream)
            _reset(client)
            return
        state = {"awaiting_response": False}
        self._spawn(self._pump_requests, client, upstream, state)
        self._pump_responses(client, upstream, state)

    def _answer_503(self, client: socket.socket) -> None:
        try:
            client.settimeout(READ_REQUEST_TIMEOUT)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(CHUNK)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            self._note_request(data)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip() or 0)
            while len(body) < length:
                chunk = client.recv(CHUNK)
                if not chunk:
                    break
                body += chunk
            client.sendall(UNAVAILABLE_RESPONSE)
            with self._cond:
                self.answered_503 += 1
        except (OSError, ValueError):
            pass
        finally:
            self._untrack(client)
            _close(client)

    def _note_request(self, data: bytes) -> None:
        if data.startswith(HTTP_METHODS):
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            with self._cond:
                self.requests.append(line)
                self._cond.notify_all()

    def _pump_requests(self, client: socket.socket, upstream: socket.socket, state) -> None:
        """Caller -> service, as it comes; a closed caller half-closes the service side."""
        try:
            while True:
                data = client.recv(CHUNK)
                if not data:
                    break
                state["awaiting_response"] = True
                self._note_request(data)
                upstream.sendall(data)
        except OSError:
            pass
        try:
            upstream.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _pump_responses(self, client: socket.socket, upstream: socket.socket, state) -> None:
        """Service -> caller, delayed or held at the start of each response as the mode says."""
        try:
            while True:
                data = upstream.recv(CHUNK)
                if not data:
                    break
                if state["awaiting_response"]:
                    state["awaiting_response"] = False
                    if not self._response_may_go():
                        _reset(client)
                        return
                client.sendall(data)
        except OSError:
            pass
        finally:
            self._untrack(client, upstream)
            _close(client)
            _close(upstream)

    def _response_may_go(self) -> bool:
        """Called when a response starts arriving: wait as the mode says; False = cut it."""
        with self._cond:
            self.responses += 1
            mode, delay, gate = self._mode, self._delay, self._gate
            if mode == Mode.HOLD:
                self.held += 1
                self._cond.notify_all()
        if mode == Mode.DELAY:
            self._closing.wait(delay)
        elif mode == Mode.HOLD:
            while not gate.event.wait(0.1):
                if self._closing.is_set():
                    return False
            return gate.forward and not self._closing.is_set()
        return not self._closing.is_set()
