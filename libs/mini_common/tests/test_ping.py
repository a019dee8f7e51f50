"""HopsPingApi: each service's ping in turn, as the caller; a failed hop is a 503 problem."""

import pytest

from mini_common import ping
from mini_common.client import ServiceResponse


class FakeClient:
    """Answers each path with the status given for its service; records the calls."""

    def __init__(self, service: str, statuses: dict[str, int], calls: list):
        self.service, self.statuses, self.calls = service, statuses, calls

    def get(self, path: str, *, username: str = "", params=None) -> ServiceResponse:
        self.calls.append((self.service, path, username))
        return ServiceResponse(self.statuses[self.service], {"status": "ok"}, {})


@pytest.fixture
def calls(monkeypatch):
    made: list = []
    statuses = {"billing": 200, "notif": 200}
    monkeypatch.setattr(ping, "service_client", lambda service: FakeClient(service, statuses, made))
    return made, statuses


def test_hops_ping_each_service_in_turn_as_the_user(make_user_client, calls):
    made, _ = calls
    response = make_user_client("alice").get("/hops")
    assert response.status_code == 200
    assert response.json()["hops"] == {"billing": 200, "notif": 200}
    assert made == [("billing", "/b/ping", "alice"), ("notif", "/n/ping", "alice")]


def test_a_hop_that_does_not_answer_200_is_a_503_problem_and_ends_the_walk(make_user_client, calls):
    made, statuses = calls
    statuses["billing"] = 404
    response = make_user_client("alice").get("/hops")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "dependency_unavailable"
    assert response.json()["service"] == "billing"
    assert [service for service, _, _ in made] == ["billing"]


def test_hops_need_a_user(anonymous_client, calls):
    assert anonymous_client.get("/hops").status_code == 401
    assert calls[0] == []
