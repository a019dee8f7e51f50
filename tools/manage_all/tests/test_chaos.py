"""`chaos`: its arguments, its files and its status lines, without a running system."""

import argparse
import subprocess
import sys
import time

import pytest

from tools.manage_all import chaos, cli, faultstate, procs
from tools.manage_all.faultstate import Fault, FaultState, make_fault
from tools.manage_all.layout import ManageError
from tools.manage_all.system import System


def parse(*argv: str) -> argparse.Namespace:
    return cli.parse_args(["chaos", *argv])


def fault_of(*argv: str) -> Fault:
    args = parse(*argv)
    return make_fault(
        down=args.down, hang=args.hang, delay=args.delay, errors=args.errors, status=args.status
    )


@pytest.fixture
def system(tmp_path) -> System:
    """A system in its own var dir that is not running."""
    return System(tmp_path / "var", ports={"billing": 1, "order": 2})


def a_state(**changes) -> FaultState:
    values = dict(
        service="billing",
        fault=Fault("hang"),
        listen_port=9403,
        upstream_port=40000,
        generation=1,
        since=1_700_000_000.0,
    )
    values.update(changes)
    return FaultState(**values)


# --- arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fault"),
    [
        (("billing", "--down"), Fault("down")),
        (("billing", "--hang"), Fault("hang")),
        (("billing", "--delay", "800"), Fault("delay", delay_ms=800)),
        (("billing", "--errors", "0.5"), Fault("errors", rate=0.5, status=503)),
        (("billing", "--errors", "1", "--status", "422"), Fault("errors", rate=1.0, status=422)),
    ],
)
def test_each_fault_option_names_its_fault(argv, fault):
    assert fault_of(*argv) == fault


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("billing",), "name one fault: --down, --hang, --delay MS or --errors RATE"),
        (("billing", "--down", "--hang"), "(given: --down --hang)"),
        (("billing", "--delay", "0"), "--delay is in milliseconds, 1 to 600000; got 0"),
        (("billing", "--delay", "600001"), "got 600001"),
        (("billing", "--errors", "0"), "above 0 and at most 1 (e.g. 0.5); got 0"),
        (("billing", "--errors", "1.5"), "got 1.5"),
        (("billing", "--errors", "1", "--status", "302"), "HTTP error status, 400 to 599; got 302"),
        (("billing", "--hang", "--status", "503"), "--status goes with --errors"),
    ],
)
def test_a_bad_fault_is_refused_with_what_is_wrong(argv, message):
    with pytest.raises(ManageError) as error:
        fault_of(*argv)
    assert message in str(error.value)


def test_a_delay_that_is_not_a_number_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse("billing", "--delay", "1s")
    assert exit_.value.code == 2
    assert "argument --delay: invalid int value: '1s'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("off", "--hang"), "chaos off removes faults; it takes no --hang"),
        (("off", "--errors", "1", "--status", "503"), "it takes no --errors --status"),
        (("billing", "order", "--down"), "unexpected 'order'"),
        (("gateway", "--down"), "the gateway is not a service"),
        (("payments", "--down"), "unknown service 'payments'; chaos takes one of auth, user"),
        (("off", "payments"), "unknown service 'payments'"),
    ],
)
def test_the_command_refuses_what_it_cannot_do(system, argv, message):
    with pytest.raises(ManageError) as error:
        chaos.run(system, parse(*argv))
    assert message in str(error.value)


def test_a_fault_on_a_service_that_is_not_running_is_refused(system):
    with pytest.raises(ManageError) as error:
        chaos.run(system, parse("mini_billing", "--down"))
    assert "mini_billing is not running; start it first" in str(error.value)
    assert not faultstate.fault_dir(system.run_dir).exists()


def test_off_without_faults_says_so(system, capsys):
    assert chaos.run(system, parse("off")) == 0
    assert chaos.run(system, parse("off", "billing")) == 0
    assert capsys.readouterr().out == "no fault in force\nmini_billing: no fault in force\n"


# --- the fault files ----------------------------------------------------------------


def test_a_fault_state_survives_its_file(system):
    state = a_state(fault=Fault("errors", rate=0.25, status=429))
    faultstate.write(system.run_dir, state)
    assert faultstate.read(system.run_dir, "billing") == state
    assert faultstate.services_with_faults(system.run_dir) == ["billing"]
    assert faultstate.read(system.run_dir, "order") is None


def test_a_change_of_fault_is_a_new_generation():
    changed = a_state().changed(Fault("down"))
    assert (changed.fault, changed.generation) == (Fault("down"), 2)
    assert changed.since > a_state().since


def test_the_service_keeps_its_own_port_unless_its_proxy_runs(system):
    faultstate.write(system.run_dir, a_state())
    assert system.bind_port("billing") == 1  # no pid file
    faultstate.pid_file(system.run_dir, "billing").write_text("999999999\n")
    assert system.bind_port("billing") == 1  # no such process
    assert system.bind_port("order") == 2


def test_the_service_moves_to_its_private_port_while_its_proxy_runs(system):
    faultstate.write(system.run_dir, a_state())
    state_file = faultstate.state_file(system.run_dir, "billing")
    # A process whose command line names the state file, as the proxy's does.
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", state_file])
    try:
        faultstate.pid_file(system.run_dir, "billing").write_text(f"{stand_in.pid}\n")
        assert system.bind_port("billing") == 40000
        assert "mini_billing  hang: connections accepted, never answered" in "\n".join(
            chaos.status_lines(system)
        )
        assert faultstate.remove(system.run_dir, "billing") == stand_in.pid
        assert not procs.is_alive(stand_in.pid)
    finally:
        stand_in.kill()
        stand_in.wait()
    assert system.bind_port("billing") == 1
    assert not faultstate.fault_dir(system.run_dir).exists()


def test_remove_all_leaves_no_file(system):
    faultstate.write(system.run_dir, a_state())
    faultstate.write(system.run_dir, a_state(service="notif"))
    faultstate.write_applied(faultstate.applied_file(system.run_dir, "notif"), 1)
    faultstate.pid_file(system.run_dir, "user").write_text("999999999\n")  # a start cut short
    assert faultstate.remove_all(system.run_dir) == [
        ("user", None),
        ("billing", None),
        ("notif", None),
    ]
    assert not faultstate.fault_dir(system.run_dir).exists()


# --- status ---------------------------------------------------------------------------


def test_status_without_faults_or_running_services(system):
    assert chaos.status_lines(system) == ["\nfaults: none"]


def test_status_calls_a_fault_whose_proxy_died_stale(system):
    faultstate.write(system.run_dir, a_state())
    lines = chaos.status_lines(system)
    assert lines[0] == "\nfaults (python3 manage_all.py chaos off removes them):"
    assert "mini_billing  stale: its fault proxy is not running (chaos off cleans up)" in lines[1]


def test_breaker_states_are_read_from_the_metrics_text():
    text = (
        "# TYPE mini_breaker_state gauge\n"
        'mini_breaker_state{target="billing"} 2.0\n'
        'mini_breaker_state{target="user"} 0.0\n'
        'mini_breaker_state{target="notif"} 1.0\n'
        'mini_client_calls_total{target="billing",outcome="ok"} 3.0\n'
    )
    readings = chaos._BREAKER_LINE.findall(text)
    assert readings == [("billing", "2.0"), ("user", "0.0"), ("notif", "1.0")]
    assert [chaos.BREAKER_STATES[int(float(value))] for _, value in readings] == [
        "open",
        "closed",
        "half-open",
    ]


def test_describe_says_what_the_callers_get():
    assert Fault("errors", rate=0.05, status=503).describe() == (
        "errors: 5% of requests answered 503"
    )
    assert Fault("delay", delay_ms=250).describe() == "delay: every answer 250 ms late"


def test_wait_applied_reports_a_proxy_that_could_not_listen(system):
    faultstate.write(system.run_dir, a_state())
    faultstate.write_applied(
        faultstate.applied_file(system.run_dir, "billing"), 1, "cannot listen on 127.0.0.1:9403"
    )
    started = time.monotonic()
    with pytest.raises(ManageError) as error:
        chaos.wait_applied(system, "billing", 1)
    assert str(error.value) == "the fault proxy of mini_billing: cannot listen on 127.0.0.1:9403"
    assert time.monotonic() - started < 1
