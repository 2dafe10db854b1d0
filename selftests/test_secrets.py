"""Secret hygiene: session tokens never show in output, reports, reprs, tracebacks or pickles.

The proof runs the whole real suite (``full_suite_run`` in conftest: ``-l``, ``--setup-show``, ``-rA``, JUnit, HTML,
some tests failing on purpose) with the reference server's tokens as sentinels, then searches every byte of
stdout, stderr and every file under the reports folder for them.
"""

from __future__ import annotations

import base64
import copy
import pickle
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from coder_tasks_contract.plugin.options import Settings
from coder_tasks_contract.target.model import Target, User
from coder_tasks_contract.target.secret import Secret

from .support import run_pytest, target_args

TOKEN = "s3ntinel42-AbCdEfGhIjKlMnOpQrStUv"


def test_secret_shows_only_stars() -> None:
    secret = Secret(TOKEN)
    assert secret.reveal() == TOKEN
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", format(secret, ">40")):
        assert TOKEN not in shown
        assert "****" in shown


def test_secret_compares_by_value_and_cannot_be_changed_or_pickled() -> None:
    assert Secret(TOKEN) == Secret(TOKEN)
    assert Secret(TOKEN) != Secret(TOKEN + "x")
    assert hash(Secret(TOKEN)) == hash(Secret(TOKEN))
    assert copy.deepcopy(Secret(TOKEN)).reveal() == TOKEN
    with pytest.raises(AttributeError):
        Secret(TOKEN)._value = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret(TOKEN))


def test_fixture_values_do_not_reveal_tokens() -> None:
    user = User("alice", "0a1b2c3d-0000-4000-8000-00000000000a", Secret(TOKEN))
    target = Target(
        base_url="http://127.0.0.1:1",
        embedded=False,
        user_a=user,
        user_b=None,
        template_version_id=None,
        non_task_template_version_id=None,
        server_version="v2.29.0",
        read_only=False,
        lifecycle_timeout=1.0,
    )
    settings = Settings(
        **{name: None for name in Settings.__dataclass_fields__} | {"session_token": Secret(TOKEN), "max_tasks": 1}
    )
    for value in (user, target, settings, asdict(target)):
        assert TOKEN not in repr(value)
        assert TOKEN not in str(value)


def test_setup_show_and_showlocals_do_not_reveal_tokens(reference_server: Any, mini_suite: Callable[..., Path]) -> None:
    """A failing test with every plumbing fixture in its locals, run with -l --setup-show -vv."""
    source = """
        def test_fails_with_everything_in_scope(target, client_a, client_b, make_session, registry, run_id):
            user = target.user_a
            session = make_session(user)
            response = client_a.get("/api/v2/users/me")
            request = response.request
            assert response.status_code == 418, "deliberate failure, to print locals"
    """
    run = run_pytest("-l", "--setup-show", "-vv", "--tb=long", *target_args(reference_server), cwd=mini_suite(source))
    assert run.ret == pytest.ExitCode.TESTS_FAILED, run.output
    assert "deliberate failure" in run.output
    assert "Secret('****')" in run.output  # the locals were printed, tokens redacted
    for user in reference_server.seed.users.values():
        assert user.token not in run.output
        assert user.token.split("-", 1)[1] not in run.output


def _forms(token: str) -> list[bytes]:
    """The token as it could appear in a file: raw, its secret part alone, base64 (self-contained HTML)."""
    raw = token.encode()
    return [raw, raw.split(b"-", 1)[1], base64.b64encode(raw), base64.b64encode(b"Coder-Session-Token: " + raw)]


def test_a_whole_run_leaks_no_token_into_output_or_reports(full_suite_run: Any) -> None:
    run = full_suite_run.run
    assert "Secret('****')" in run.output or "FAILED" in run.output  # something was printed to search
    assert run.ret == pytest.ExitCode.TESTS_FAILED, run.output[-3000:]  # the logs fault made tests fail
    files = [path for path in full_suite_run.reports_dir.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"junit.xml", "report.html", "stdout.txt", "stderr.txt"} <= names
    for token in full_suite_run.sentinels:
        for form in _forms(token):
            assert form.decode() not in run.stdout
            assert form.decode() not in run.stderr
            for path in files:
                assert form not in path.read_bytes(), f"a session token leaked into {path.name}"
