"""The pytest plugin: options, markers, target resolution, report header and session-end safety net."""

from __future__ import annotations

import pytest

from coder_tasks_contract import options


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)
