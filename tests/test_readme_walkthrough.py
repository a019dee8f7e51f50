"""README.md's "The order flow with curl", run as written against the live system.

The ```sh block is taken from README.md when the test runs and given to bash
(`set -euo pipefail`) unchanged but for two things: the `GW=` line points at
this session's gateway, and the block's fixed username (`alice`) is replaced,
everywhere it appears, by a fresh one, so that the walkthrough does not depend
on which users the session's system already has (or on running twice). Each
curl prints one JSON answer; the test splits stdout into those answers and
checks what the block's comments promise, in order.
"""

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## The order flow with curl"
README_USERNAME = "alice"
TIMEOUT_SECONDS = 120


def walkthrough_block() -> str:
    """The first ```sh block under the section's heading, as README.md has it."""
    text = README.read_text(encoding="utf-8")
    heading = re.search(rf"^{re.escape(SECTION)}[ \t]*$", text, re.MULTILINE)
    assert heading, f"README.md has no {SECTION!r} section"
    rest = text[heading.end() :]
    next_section = re.search(r"^## ", rest, re.MULTILINE)
    section = rest[: next_section.start()] if next_section else rest
    block = re.search(r"^```sh[ \t]*\n(.*?)^```[ \t]*$", section, re.MULTILINE | re.DOTALL)
    assert block, f"no ```sh block in README.md's {SECTION!r} section"
    return block.group(1)


def pointed_at(block: str, gateway_url: str, username: str) -> str:
    """The block with its GW= line on gateway_url and README_USERNAME replaced by username."""
    gw_lines = re.findall(r"^GW=.*$", block, re.MULTILINE)
    assert len(gw_lines) == 1, f"expected one GW= line in the block, found {gw_lines}"
    block = re.sub(r"^GW=.*$", lambda _: f"GW={gateway_url}", block, flags=re.MULTILINE)
    block, replaced = re.subn(rf"\b{README_USERNAME}\b", username, block)
    assert replaced, f"the block no longer registers {README_USERNAME!r}: update this test"
    return block


def json_documents(output: str) -> list:
    """The JSON answers a run printed back to back (curl -s adds no newline)."""
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while True:
        while position < len(output) and output[position].isspace():
            position += 1
        if position == len(output):
            return documents
        try:
            document, position = decoder.raw_decode(output, position)
        except json.JSONDecodeError as error:
            raise AssertionError(f"not JSON at {position}: {output[position:][:300]!r}") from error
        documents.append(document)


def run_block(script: str) -> subprocess.CompletedProcess:
    bash = shutil.which("bash")
    assert bash, "bash is needed to run README.md's block"
    return subprocess.run(
        [bash, "-c", "set -euo pipefail\n" + script],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def test_readme_curl_walkthrough_does_what_its_comments_say(system):
    username = f"{README_USERNAME}_{uuid.uuid4().hex[:10]}"
    script = pointed_at(walkthrough_block(), system.gateway_url, username)
    result = run_block(script)
    report = (
        f"--- script\n{script}\n--- exit code {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    print(report)  # shown by pytest when an assertion fails
    assert result.returncode == 0, report
    assert result.stderr == "", report

    answers = json_documents(result.stdout)
    assert len(answers) == 6, f"expected 6 JSON answers, got {len(answers)}\n{report}"
    registered, deposit, paid, balance, unpaid, notifications = answers

    assert registered.get("username") == username, report
    assert registered.get("email") == f"{username}@example.com", report

    assert deposit.get("type") == "DEPOSIT", report
    assert deposit.get("balance") == 1000, report

    # -> "status": "PAID"
    assert paid.get("status") == "PAID", report
    assert paid.get("username") == username, report
    assert paid.get("totalCost") == 300, report

    # -> "balance": 700
    assert balance.get("username") == username, report
    assert balance.get("balance") == 700, report

    # -> "INSUFFICIENT_FUNDS"
    assert unpaid.get("status") == "INSUFFICIENT_FUNDS", report
    assert unpaid.get("totalCost") == 5000, report

    # SUCCESS and FAIL, one for each order (parentId compared as text here: its
    # JSON type is the contract tests' business, not the README's)
    results = notifications.get("results")
    assert isinstance(results, list), report
    by_type = {n["notificationType"]: n for n in results}
    assert sorted(n["notificationType"] for n in results) == ["FAIL", "SUCCESS"], report
    assert str(by_type["SUCCESS"]["parentId"]) == str(paid["id"]), report
    assert str(by_type["FAIL"]["parentId"]) == str(unpaid["id"]), report
    assert {n["parentType"] for n in results} == {"ORDER"}, report
    assert {n["username"] for n in results} == {username}, report
