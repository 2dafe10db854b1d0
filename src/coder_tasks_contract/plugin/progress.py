"""Progress lines while a test waits on a slow deployment, and the polls' share of the rate limit.

A lifecycle wait on a deployment can last minutes (a workspace build), during which pytest prints nothing: a line
naming the task, the awaited and current state and the time so far (``polling.PROGRESS_AFTER`` seconds into a
wait, then every ``PROGRESS_EVERY``) shows the run is alive. Task names and states only: a line never holds a
token or a response body.

The lines go to a copy of the terminal's stderr taken at configure time, before pytest captures the tests'
output: so they are seen while the test runs, even when pytest captures, and never land in the test's captured
output (JUnit's system-out/err) or the reports. Under xdist each worker writes its own, prefixed with its id.
They show at the default verbosity and with ``-q`` (a quiet run still should not look hung); ``-qq`` silences them.
"""

from __future__ import annotations

import os
import threading
from typing import IO

import pytest

from coder_tasks_contract.plugin.runstate import RunState
from coder_tasks_contract.transport import polling

#: At or below this verbosity (``-qq``) no progress line is written.
SILENT_AT = -2
PREFIX = "coder-tasks-contract: "


class StderrLines:
    """Writes whole lines to a duplicate of stderr (fd 2 as it was at configure time); thread-safe."""

    def __init__(self, config: pytest.Config, worker: str | None) -> None:
        self._config = config
        self._prefix = PREFIX + (f"[{worker}] " if worker else "")
        self._lock = threading.Lock()
        self._out: IO[str] | None = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace", closefd=True)
        self._left_at: int | None = None  # the reporter's line width when this sink last wrote

    def __call__(self, line: str) -> None:
        with self._lock:
            if self._out is None:
                return
            # The terminal reporter may be half-way through a line of progress dots: start a fresh line then,
            # unless it has written nothing since this sink's last line (which ended the line already).
            reporter = self._config.pluginmanager.get_plugin("terminalreporter")
            width = int(getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0))
            fresh = "\n" if width and width != self._left_at else ""
            self._left_at = width
            self._out.write(f"{fresh}{self._prefix}{line}\n")
            self._out.flush()

    def close(self) -> None:
        with self._lock:
            if self._out is not None:
                self._out.close()
                self._out = None


def configure(config: pytest.Config, state: RunState) -> None:
    """Pace the polls by the run's rate limit and, unless ``-qq``, send long waits' progress to stderr."""
    polling.pace_polls_by(state.rate_limit(embedded=state.settings.base_url is None))
    if config.get_verbosity() <= SILENT_AT:
        polling.report_progress_to(None)
        return
    sink = StderrLines(config, state.worker)
    polling.report_progress_to(sink)

    def stop() -> None:
        polling.report_progress_to(None)
        sink.close()

    config.add_cleanup(stop)
