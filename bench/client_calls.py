"""What one call to another service costs the caller's CPU, by how it is made.

Run inside mini_order's Django against a running system (``manage_all.py up``),
with tracing on as in the services:

    python3 manage_all.py run --service order shell -c \\
        "exec(open('../bench/client_calls.py').read())"

Each line is the process CPU per ``GET /billing/ping`` (the median of 5
rounds of 300, interleaved, so that a drifting machine moves every line
alike): through the service client (breaker, retries, span, log line,
metrics, and requests with OpenTelemetry's span), through a bare
``requests.Session``, and through ``http.client`` on a new connection, as
gunicorn's sync workers close each one. Session 6 measured it to see how
much of an order's two calls is the HTTP library itself (README, Performance).
"""

import http.client
import logging
import os
import statistics
import time
import urllib.parse

import requests  # noqa: TID251 - measured against the client, not used between services

from mini_common.client import service_client
from mini_common.tracing import setup_tracing

ROUNDS, CALLS = 5, 300
PATH = "/billing/ping"
BILLING = urllib.parse.urlsplit(os.environ["MINI_BILLING_URL"])
HEADERS = {"X-Internal-Token": os.environ["MINI_INTERNAL_TOKEN"], "X-Username": "bench-calls"}
session = requests.Session()


def through_service_client():
    response = service_client("billing").get(PATH, username="bench-calls")
    assert response.status == 200, response.status


def through_requests_session():
    response = session.get(f"{BILLING.scheme}://{BILLING.netloc}{PATH}", headers=HEADERS)
    assert response.status_code == 200, response.status_code


def through_http_client():
    connection = http.client.HTTPConnection(BILLING.hostname, BILLING.port)
    connection.request("GET", PATH, headers=HEADERS)
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200, response.status


def cpu_ms_per_call(operation) -> float:
    start = time.process_time()
    for _ in range(CALLS):
        operation()
    return (time.process_time() - start) * 1000 / CALLS


def main() -> None:
    setup_tracing("mini_order")
    # The client's log line per call is written, as in a service, but not to the shell.
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - open for the whole run
    operations = [through_service_client, through_requests_session, through_http_client]
    for operation in operations:
        operation()  # connections, breakers and spans set up before measuring
    samples = {operation.__name__: [] for operation in operations}
    for _ in range(ROUNDS):
        for operation in operations:
            samples[operation.__name__].append(cpu_ms_per_call(operation))
    for name, values in samples.items():
        print(f"{name:26} {statistics.median(values):.3f} ms CPU per call")


main()
