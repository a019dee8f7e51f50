"""The fault proxy of `manage_all.py chaos`: one process per service under a fault.

    python3 -m tools.manage_all.faultproxy <var>/run/chaos/billing.json

It listens on the service's own address and, request by request, passes the
request on to the service's private port or fails it as the fault in the
state file says (chaos.py explains the design):

- down: no listening socket (callers' connections are refused), and the
  connections open when the fault came are reset;
- hang: the request is read and never answered; the connection stays open
  until the caller gives up;
- delay: the request goes to the service, and its answer reaches the caller
  that much later (the service has done the work);
- errors: that fraction of requests is answered with the status and a
  problem+json body without reaching the service; the others pass.

The proxy asks the service to close each connection after its answer
(`Connection: close`), so every request arrives on a connection of its own and
the fault is decided per request, also for callers that keep connections
alive (requests' pools, nginx's upstream keepalive).

SIGHUP: read the state file again and write the generation now in force to
`<service>.applied`; SIGTERM: cut every connection and exit. One JSON line
per event to stdout (manage_all appends it to var/log/chaos.log).

tests/fault/proxy.py is a different tool: a TCP relay inside the test
process, steered step by step (hold until N answers arrived, release, counts).
This one outlives the command that started it and is steered by a file.
"""

from __future__ import annotations

import json
import random
import signal
import socket
import struct
import sys
import threading
import time
from http import HTTPStatus
from pathlib import Path

from .faultstate import Fault, FaultState, read_path, write_applied

LOOPBACK = "127.0.0.1"
CHUNK = 65536
HEAD_LIMIT = 65536
HEAD_TIMEOUT = 30.0  # a caller that connects and sends nothing
BODY_TIMEOUT = 10.0
UPSTREAM_WAIT = 10.0  # the service may be starting behind the proxy
BIND_WAIT = 10.0  # the service's own port may still be closing
POLL = 0.1
HOP_HEADERS = (b"connection", b"keep-alive", b"proxy-connection")


def _close(sock: socket.socket, *, reset: bool = False) -> None:
    """Close, with RST instead of FIN when reset (SO_LINGER 0): a dying service's connection.

    shutdown() first: it wakes a thread blocked reading the socket, which close()
    does not; SHUT_RD sends nothing, so a reset stays a bare RST.
    """
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RD if reset else socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """(request head without its blank line, the bytes after it), or None if incomplete."""
    head, found, rest = data.partition(b"\r\n\r\n")
    return (head, rest) if found else None


def header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def closing_head(head: bytes) -> bytes:
    """The request head asking the service to close the connection after its answer."""
    lines = head.split(b"\r\n")
    kept = [
        line for line in lines[1:] if line.partition(b":")[0].strip().lower() not in HOP_HEADERS
    ]
    return b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"


def error_answer(status: int, service: str, fault: Fault) -> bytes:
    """The answer of a failed request: problem+json, the connection closed after it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status without a name, e.g. 499
        phrase = "Error"
    body = json.dumps(
        {
            "type": "about:blank",
            "title": phrase,
            "status": status,
            "detail": f"injected by manage_all.py chaos ({service}: {fault.describe()})",
            "code": "injected_fault",
        },
        separators=(",", ":"),
    ).encode()
    lines = [
        f"HTTP/1.1 {status} {phrase}",
        "Content-Type: application/problem+json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if status in (429, 503):
        lines.append("Retry-After: 1")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Proxy:
    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.applied_path = state_path.with_suffix(".applied")
        state = read_path(state_path)
        if state is None:
            raise SystemExit(f"faultproxy: no fault in {state_path}")
        self.state: FaultState = state
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.stopping = threading.Event()
        self.reload_due = threading.Event()

    @property
    def service(self) -> str:
        return f"mini_{self.state.service}"

    # --- life cycle -------------------------------------------------------------------

    def run(self) -> int:
        signal.signal(signal.SIGHUP, lambda *_: self.reload_due.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: self.stopping.set())
        self.put_in_force()
        while not self.stopping.is_set():
            if self.reload_due.is_set():
                self.reload_due.clear()
                state = read_path(self.state_path)
                if state is None:  # the fault was removed under us: nothing to stand in for
                    break
                self.state = state
                self.put_in_force()
            self.accept_one()
        self.cut_all(listener_too=True)
        self.log("stopped")
        return 0

    def put_in_force(self) -> None:
        """Listen or not as the fault says, then report the generation in force."""
        error = ""
        if self.state.fault.mode == "down":
            self.cut_all(listener_too=True)
        elif self.listener is None:
            error = self.listen()
        write_applied(self.applied_path, self.state.generation, error)
        self.log(f"fault {error or 'in force'}: {self.state.fault.describe()}")

    def listen(self) -> str:
        """Bind the service's own port, waiting a moment for it to be free; '' or why not."""
        deadline = time.monotonic() + BIND_WAIT
        while True:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((LOOPBACK, self.state.listen_port))
            except OSError as error:
                listener.close()
                if time.monotonic() > deadline:
                    return f"cannot listen on {LOOPBACK}:{self.state.listen_port}: {error}"
                time.sleep(POLL)
                continue
            listener.listen(256)
            listener.settimeout(POLL)
            self.listener = listener
            return ""

    def cut_all(self, *, listener_too: bool) -> None:
        """Reset every open connection (and stop listening): what a dying service does."""
        if listener_too and self.listener is not None:
            _close(self.listener)
            self.listener = None
        with self.lock:
            connections, self.connections = list(self.connections), set()
        for sock in connections:
            _close(sock, reset=True)

    def accept_one(self) -> None:
        if self.listener is None:
            self.stopping.wait(POLL)
            return
        try:
            client, _ = self.listener.accept()
        except TimeoutError:
            return
        except OSError:
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    # --- one request ------------------------------------------------------------------

    def track(self, sock: socket.socket) -> None:
        with self.lock:
            self.connections.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self.lock:
            self.connections.discard(sock)

    def handle(self, client: socket.socket) -> None:
        self.track(client)
        try:
            request = self.read_head(client)
            if request is None:
                return
            head, rest = request
            fault = self.state.fault
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            request_id = (header(head, b"x-request-id") or b"").decode("latin-1")
            if fault.mode == "down":  # accepted just before the fault came
                _close(client, reset=True)
            elif fault.mode == "hang":
                self.log(f"hang: {request_line}", request_id)
                self.hold(client)
            elif fault.mode == "errors" and random.random() < fault.rate:
                self.log(f"answered {fault.status}: {request_line}", request_id)
                self.drain_body(client, head, rest)
                client.sendall(error_answer(fault.status, self.service, fault))
            else:
                delay = fault.delay_ms / 1000 if fault.mode == "delay" else 0.0
                self.forward(client, head, rest, delay, request_line, request_id)
        except OSError:
            pass
        finally:
            self.untrack(client)
            _close(client)

    def read_head(self, client: socket.socket) -> tuple[bytes, bytes] | None:
        client.settimeout(HEAD_TIMEOUT)
        data = b""
        while len(data) < HEAD_LIMIT:
            chunk = client.recv(CHUNK)
            if not chunk:
                return None
            data += chunk
            request = split_head(data)
            if request is not None:
                client.settimeout(None)
                return request
        return None

    def hold(self, client: socket.socket) -> None:
        """Read whatever comes and never answer, until the caller closes or the proxy stops."""
        client.settimeout(None)
        while client.recv(CHUNK):
            pass

    def drain_body(self, client: socket.socket, head: bytes, rest: bytes) -> None:
        """Read the request's body before answering: closing with unread data would reset."""
        length = header(head, b"content-length")
        client.settimeout(BODY_TIMEOUT)
        if length is not None and length.isdigit():
            remaining = int(length) - len(rest)
            while remaining > 0:
                chunk = client.recv(min(CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
        elif header(head, b"transfer-encoding") is not None:
            data = rest
            while not data.endswith(b"0\r\n\r\n"):
                chunk = client.recv(CHUNK)
                if not chunk:
                    return
                data = data[-8:] + chunk

    def connect_upstream(self) -> socket.socket | None:
        deadline = time.monotonic() + UPSTREAM_WAIT
        while not self.stopping.is_set():
            try:
                return socket.create_connection((LOOPBACK, self.state.upstream_port), timeout=2.0)
            except OSError:
                if time.monotonic() > deadline:
                    return None
                time.sleep(POLL)
        return None

    def forward(
        self,
        client: socket.socket,
        head: bytes,
        rest: bytes,
        delay: float,
        request_line: str,
        request_id: str,
    ) -> None:
        upstream = self.connect_upstream()
        if upstream is None:
            self.log(f"{self.service} unreachable: {request_line}", request_id)
            _close(client, reset=True)  # what the caller would see if the service refused
            return
        self.track(upstream)
        try:
            upstream.settimeout(None)
            upstream.sendall(closing_head(head) + rest)
            threading.Thread(target=self.pump, args=(client, upstream), daemon=True).start()
            first = True
            while True:
                data = upstream.recv(CHUNK)
                if not data:
                    return
                if first and delay:
                    self.log(f"answer delayed {delay * 1000:g} ms: {request_line}", request_id)
                    if self.stopping.wait(delay):
                        return
                first = False
                client.sendall(data)
        finally:
            self.untrack(upstream)
            _close(upstream)

    @staticmethod
    def pump(client: socket.socket, upstream: socket.socket) -> None:
        """The rest of the request (its body), caller to service, as it comes."""
        try:
            while True:
                data = client.recv(CHUNK)
                if not data:
                    break
                upstream.sendall(data)
            upstream.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def log(self, message: str, request_id: str = "") -> None:
        now = time.time()
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
            + f".{int(now % 1 * 1000):03d}Z",
            "level": "warning",
            "logger": "manage_all.chaos",
            "message": f"{self.service}: {message}",
            "service": f"chaos:{self.service}",
            "request_id": request_id,
        }
        print(json.dumps(entry), flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 -m tools.manage_all.faultproxy <state file>", file=sys.stderr)
        return 2
    return Proxy(Path(argv[0])).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
