"""What a contract run leaves behind (reports/files.py, repro.py): the files in reports/, the "reproduce" section of a
failure, the run summary, and that none of it holds a session token.

The runs are real: pytest in a subprocess, against the embedded reference server or one started here and aimed at
explicitly (as at a deployment), so the tokens are known and can be searched for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from coder_tasks_contract.transport import repro
from coder_tasks_contract.transport.traffic import RECENT_PER_TEST, Traffic

from .support import Run, clean_env, closed_port_url, run_pytest, target_args

NARROW = "test_list or test_conformance"
ANSWERED_STATES = {"not reachable", "not run", "skipped", "read-only"}


def _testcases(junit: Path) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in ET.parse(junit).iter("testcase")}


def _properties(element: ET.Element) -> list[tuple[str, str]]:
    return [(p.get("name", ""), p.get("value", "")) for p in element.findall("./properties/property")]


def _forms(token: str) -> list[str]:
    """A token and the parts of it that must not show either: its key id and its secret (AUTH-5)."""
    key_id, secret = token.split("-", 1)
    return [token, key_id, secret]


def _assert_no_token(tokens: list[str], run: Run, folder: Path) -> None:
    files = [path for path in folder.rglob("*") if path.is_file()]
    for token in tokens:
        for form in _forms(token):
            assert form not in run.stdout
            assert form not in run.stderr
            for path in files:
                assert form not in path.read_text(errors="replace"), f"a token (or part) leaked into {path.name}"


# -- a run of the real suite ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def narrow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    """``pytest -k "test_list or test_conformance"`` on the real suite against the embedded reference server."""
    reports = tmp_path_factory.mktemp("narrow") / "out"
    run = run_pytest("-k", NARROW, f"--reports-dir={reports}", env=clean_env(HYPOTHESIS_PROFILE="ci"), timeout=600)
    return run, reports


def test_a_contract_run_writes_junit_html_and_the_ledger(narrow_run: tuple[Run, Path]) -> None:
    run, reports = narrow_run
    assert run.ret in (0, 1), run.output[-3000:]
    assert sorted(path.name for path in reports.iterdir()) == ["junit.xml", "ledger.json", "ledger.md", "report.html"]
    html = (reports / "report.html").read_text()
    assert "Coder Tasks API contract" in html
    assert not (reports / "assets").exists()  # self-contained: one file is the whole report


def test_junit_names_each_generated_operation_and_carries_the_markers(narrow_run: tuple[Run, Path]) -> None:
    _, reports = narrow_run
    root = ET.parse(reports / "junit.xml").getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "coder-tasks-contract"
    run_properties = dict(_properties(suite))
    assert run_properties["coder_target"].startswith("http://127.0.0.1:")
    assert run_properties["coder_target"].endswith("(embedded reference server)")
    assert run_properties["coder_operations_exercised"] == "7/7"
    cases = _testcases(reports / "junit.xml")
    assert "test_conformance[POST /api/experimental/tasks/{user}]" in cases
    assert "test_conformance[GET /api/experimental/tasks/{user}/{task}/logs]" in cases
    listed = [case for name, case in cases.items() if name.startswith("test_list_is_newest_first")]
    assert listed
    assert ("operation", "listTasks 200") in _properties(listed[0])


def test_the_ledger_names_every_operation_and_explains_what_it_did_not_exercise(narrow_run: tuple[Run, Path]) -> None:
    _, reports = narrow_run
    data = json.loads((reports / "ledger.json").read_text())
    assert [op["operation_id"] for op in data["operations"]] == [
        "listTasks",
        "createTask",
        "getTask",
        "deleteTask",
        "updateTaskInput",
        "getTaskLogs",
        "sendTaskInput",
    ]
    assert "-k" in data["run"]["narrowed"]
    assert data["gaps"] == []
    for op in data["operations"]:
        for pair in op["statuses"]:
            if pair["state"] == "exercised":
                assert pair["exercised_by"], pair
            else:
                assert pair["state"] in ANSWERED_STATES, (op["operation_id"], pair)
                assert pair["reason"], (op["operation_id"], pair)
    statuses = {(op["operation_id"], pair["status"]): pair for op in data["operations"] for pair in op["statuses"]}
    assert any("tests/test_list.py::" in ref["nodeid"] for ref in statuses[("listTasks", 200)]["exercised_by"])
    create_400 = [ref["nodeid"] for ref in statuses[("createTask", 400)]["exercised_by"]]
    assert any(nodeid.endswith("test_conformance[POST /api/experimental/tasks/{user}]") for nodeid in create_400)
    assert statuses[("createTask", 406)]["state"] == "not reachable"
    assert "pending or running" in statuses[("createTask", 406)]["reason"]
    # tests/test_create_errors.py declares the 409 and was not selected
    assert statuses[("createTask", 409)]["state"] == "not run" or statuses[("createTask", 409)]["exercised_by"]
    markdown = (reports / "ledger.md").read_text()
    assert markdown.count("| Status | State | Exercised by / reason |") == 7
    assert "## createTask: `POST /api/experimental/tasks/{user}`" in markdown


def test_the_run_summary_comes_last_and_says_where_everything_is(narrow_run: tuple[Run, Path]) -> None:
    run, reports = narrow_run
    summary = run.stdout.split("coder tasks contract: run summary", 1)[1]
    assert re.search(r"^target: http://127\.0\.0\.1:\d+ \(embedded reference server\), server version v\S+$",
                     summary, re.M)  # fmt: skip
    assert re.search(r"^coverage: operations 7/7, statuses \d+/54 \(not exercised: not reachable \d+", summary, re.M)
    assert re.search(r"^tasks: \d+ created by this run", summary, re.M)
    assert re.search(r"^cleanup: deleted \d+ task\(s\) this run created; none left$", summary, re.M)
    assert re.search(r"^failures: none$" if run.ret == 0 else r"^failures by operation: \w+ \d+", summary, re.M)
    line = next(line for line in summary.splitlines() if line.startswith("reports: "))
    for name in ("junit.xml", "report.html", "ledger.md", "ledger.json"):
        assert str(reports / name) in line


# -- runs that write nothing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["selftests/test_ledger.py", "-k", "round_trip"], id="project-self-tests"),
        pytest.param(["--collect-only", "-q", "tests/test_list.py"], id="collect-only"),
    ],
)
def test_runs_that_are_not_the_contract_suite_write_no_reports(tmp_path: Path, args: list[str]) -> None:
    reports = tmp_path / "out"
    run = run_pytest(*args, f"--reports-dir={reports}")
    assert run.ret == 0, run.output[-3000:]
    assert not reports.exists()
    assert "run summary" not in run.output


# -- a failing contract test ----------------------------------------------------------------------------------------
FAILING = '''
    import pytest

    from coder_tasks_contract.transport.paths import TASKS, task_path


    @pytest.mark.operation("createTask", 400)
    def test_empty_create_body_answers_418(client_a):
        """CREATE-2: a deliberately wrong clause, so that the test fails.

        Second paragraph, not part of the clause."""
        client_a.get(TASKS)
        response = client_a.post(task_path("me"), content=b"")
        assert response.status_code == 418


    @pytest.mark.operation("listTasks", 401)
    def test_wrong_secret_is_accepted(make_client, target):
        """AUTH-8: a deliberately wrong clause about a token with a known key id and a wrong secret."""
        made_up = target.user_a.token.reveal().split("-", 1)[0] + "-" + "x" * 22
        response = make_client().get(TASKS, headers={"Coder-Session-Token": made_up})
        assert response.status_code == 200
'''


@pytest.fixture
def failing_project(tmp_path: Path) -> Path:
    """A project with the plugin and a tests/ folder holding two failing contract tests."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["coder_tasks_contract.plugin.hooks"]\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_fail.py").write_text(textwrap.dedent(FAILING))
    return tmp_path


def _section(output: str, test: str) -> str:
    """The "reproduce" section printed for one failed test."""
    block = output.split(f" {test} ", 1)[1]
    return block.split("- reproduce -", 1)[1].split("\n_", 1)[0].split("\n=", 1)[0]


def test_a_failure_carries_a_reproduction_without_the_token(reference_server: Any, failing_project: Path) -> None:
    junit = failing_project / "elsewhere.xml"
    reports = failing_project / "reports"
    options = [f"--junitxml={junit}", f"--reports-dir={reports}"]
    run = run_pytest(*target_args(reference_server), *options, cwd=failing_project)
    assert run.ret == pytest.ExitCode.TESTS_FAILED, run.output[-3000:]
    create = _section(run.stdout, "test_empty_create_body_answers_418")
    assert "Contract clause: CREATE-2: a deliberately wrong clause, so that the test fails." in create
    assert "Second paragraph" not in create
    assert "Clauses (docs/contract/): CREATE-2 (Order of create's checks; evidence: source)" in create
    assert f"curl -sS -i -X POST '{reference_server.url}/api/experimental/tasks/me'" in create
    assert '-H "Coder-Session-Token: ${CODER_SESSION_TOKEN}"' in create
    assert "HTTP 400" in create
    assert "Request body must be valid JSON." in create  # the body excerpt of the answer
    assert f"GET {reference_server.url}/api/experimental/tasks -> 200" in create  # the request before it
    assert "Seed: none (a targeted test" in create
    assert "Rerun: pytest 'tests/test_fail.py::test_empty_create_body_answers_418' --base-url " in create
    assert " --coder-version 82f " in create  # the level the answer was judged by (detected from buildinfo here)
    wrong = _section(run.stdout, "test_wrong_secret_is_accepted")
    assert '"Coder-Session-Token: ${CODER_SESSION_TOKEN%%-*}-xxxxxxxxxxxxxxxxxxxxxx"' in wrong
    assert "HTTP 401" in wrong

    # JUnit (the explicit --junitxml wins over reports/) and HTML carry the same text.
    assert not (failing_project / "reports" / "junit.xml").exists()
    case = _testcases(junit)["test_empty_create_body_answers_418"]
    reproduce = dict(_properties(case))["reproduce"]
    assert "${CODER_SESSION_TOKEN}" in reproduce
    assert "Contract clause: CREATE-2" in reproduce
    html = (failing_project / "reports" / "report.html").read_text()
    assert "reproduce" in html
    assert "a deliberately wrong clause, so that the test fails." in html
    summary = run.stdout.split("run summary", 1)[1]
    assert "failures by operation: createTask 1, listTasks 1" in summary
    assert f"reports: elsewhere.xml, reports{os.sep}report.html" in summary

    tokens = [user.token for user in reference_server.seed.users.values()]
    _assert_no_token(tokens, run, failing_project / "reports")
    for token in tokens:
        for form in _forms(token):
            assert form not in junit.read_text()


def test_the_curl_command_reproduces_the_failure(reference_server: Any, failing_project: Path) -> None:
    """The section's curl command, run in a shell with the token in $CODER_SESSION_TOKEN, gets the same answer."""
    run = run_pytest(*target_args(reference_server), cwd=failing_project)
    section = _section(run.stdout, "test_empty_create_body_answers_418")
    command = section.split("curl ", 1)[1].split("\n\n", 1)[0]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "CODER_SESSION_TOKEN": reference_server.seed.users["alice"].token,
    }
    done = subprocess.run(["bash", "-c", "curl " + command], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HTTP/1.1 400"), done.stdout[:300]
    assert "Request body must be valid JSON." in done.stdout


# -- preflight ------------------------------------------------------------------------------------------------------
def test_a_run_preflight_stops_still_leaves_reports_that_say_why(tmp_path: Path) -> None:
    token = "s3ntinel77-QqRrSsTtUuVvWwXxYyZz01"
    reports = tmp_path / "out"
    run = run_pytest("--base-url", closed_port_url(), "--session-token", token, f"--reports-dir={reports}")
    assert run.ret == 10, run.output[-3000:]
    case = _testcases(reports / "junit.xml")["target is usable"]
    error = case.find("error")
    assert error is not None
    assert "127.0.0.1" in error.get("message", "")
    assert "No test ran: preflight stopped the run (exit code 10)." in (reports / "ledger.md").read_text()
    assert json.loads((reports / "ledger.json").read_text())["preflight_error"]
    _assert_no_token([token], run, reports)


# -- redaction and the curl command ---------------------------------------------------------------------------------
A = "AaAaAaAaAa-aaaaaaaaaaaaaaaaaaaaaa"
B = "BbBbBbBbBb-bbbbbbbbbbbbbbbbbbbbbb"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param(f"?coder_session_token={A}", "?coder_session_token=${CODER_SESSION_TOKEN}", id="user-a"),
        pytest.param(f"Bearer {B}", "Bearer ${CODER_SECOND_SESSION_TOKEN}", id="user-b"),
        pytest.param("AaAaAaAaAa-wrongsecret", "${CODER_SESSION_TOKEN%%-*}-wrongsecret", id="known-key-id"),
        pytest.param("ZzZzZzZzZz-zzzzzzzzzzzzzzzzzzzzzz", repro.REDACTED, id="unknown-token-shape"),
        pytest.param("notatoken and ordinary-words", "notatoken and ordinary-words", id="left-alone"),
    ],
)
def test_the_redactor_names_known_tokens_and_hides_unknown_ones(text: str, shown: str) -> None:
    assert repro.Redactor([A, B])(text) == shown


def test_a_third_token_has_no_variable_and_is_hidden() -> None:
    assert repro.Redactor([A, B, "CcCcCc-c"])("CcCcCc-c") == repro.REDACTED


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        'it\'s $HOME and `date` and "quotes" and back\\slash',
        "Coder-Session-Token: ${CODER_SESSION_TOKEN}",
        "Cookie: coder_session_token=${CODER_SESSION_TOKEN%%-*}-x'y\"$z",
        'multi\nline {"a": 1}',
    ],
)
def test_shell_quoting_keeps_text_literal_and_expands_only_the_token_variables(text: str) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CODER_SESSION_TOKEN": A, "HOME": "/nowhere"}
    done = subprocess.run(
        ["bash", "-c", "printf '%s' " + repro.shell_quote(text)], env=env, capture_output=True, text=True, timeout=10
    )
    expected = text.replace("${CODER_SESSION_TOKEN}", A).replace("${CODER_SESSION_TOKEN%%-*}", A.split("-")[0])
    assert done.stdout == expected


def test_a_sample_keeps_what_reproduces_the_request_and_drops_client_noise() -> None:
    sample = repro.capture(
        method="patch",
        url="http://127.0.0.1:9/api/experimental/tasks/me/t1/input",
        headers={"host": "127.0.0.1:9", "user-agent": "python-httpx", "coder-session-token": A,
                 "content-type": "application/json"},
        body=b'{"input": "' + b"x" * 5000 + b'"}',
        status=409,
        response_header={"content-type": "application/json"}.get,
        response_body=b'{"message": "Unable to update task input, task must be paused."}',
        redact=repro.Redactor([A]),
    )  # fmt: skip
    assert [name for name, _ in sample.headers] == ["coder-session-token", "content-type"]
    assert sample.body_truncated
    assert len(sample.body) == repro.REQUEST_BODY_LIMIT
    curl = repro.to_curl(sample)
    assert curl.startswith("curl -sS -i -X PATCH 'http://127.0.0.1:9/api/experimental/tasks/me/t1/input'")
    assert "request body cut at 4096 bytes" in curl
    assert A not in curl
    assert repro.describe_response(sample).startswith("HTTP 409\nContent-Type: application/json\n\n{")
    assert repro.one_line(sample) == "PATCH http://127.0.0.1:9/api/experimental/tasks/me/t1/input -> 409"


def test_samples_are_kept_per_test_bounded_and_forgotten() -> None:
    traffic = Traffic()
    traffic.record("GET", "/x", 200, sample=lambda: pytest.fail("no sample is made outside a test"))
    traffic.current_nodeid = "t::a"
    for status in range(200, 200 + RECENT_PER_TEST + 2):
        traffic.record("GET", "/x", status, sample=lambda status=status: status)
    assert traffic.recent("t::a") == list(range(202, 202 + RECENT_PER_TEST))
    traffic.current_nodeid = "t::a[GET /x]"
    traffic.record("GET", "/x", 500, sample=lambda: "sub")
    traffic.forget("t::a")
    assert traffic.recent("t::a") == []
    assert traffic.recent("t::a[GET /x]") == []
