"""Generated createTask bodies keep display_name within Coder's byte limit (issue 19: a flaky ST202).

The level documents' ``maxLength: 64`` counts characters; Coder counts UTF-8 bytes after trimming
(coderd/aitasks.go, tasksCreate). Hypothesis once drew 43 astral-plane letters (172 bytes): schema-valid, refused
with 400 by Coder and the reference server alike, so positive_data_acceptance failed a healthy server."""

from __future__ import annotations

import pytest

from coder_tasks_contract.generated.aiming import DISPLAY_NAME_MAX_BYTES, fit_display_name

BOLD_T = "\U0001d47b"  # MATHEMATICAL BOLD ITALIC CAPITAL T: 4 bytes in UTF-8


@pytest.mark.parametrize("value", ["", "Fix the login loop", "a" * 64, "é" * 32, "  padded  "])
def test_a_display_name_within_64_bytes_is_left_as_generated(value: str) -> None:
    assert fit_display_name(value) == value


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("a" * 65, "a" * 64),
        (BOLD_T * 43, BOLD_T * 16),  # the draw of the flaky run: 172 bytes in 43 characters
        ("é" * 33, "é" * 32),
        ("a" + BOLD_T * 16, "a" + BOLD_T * 15),  # never half a character: 61 bytes, not 64
        ("\ud847" * 30, "\ud847" * 21),  # a lone surrogate counts 3 bytes (Go decodes it to U+FFFD)
    ],
)
def test_a_longer_display_name_is_cut_to_whole_characters_within_64_bytes(value: str, kept: str) -> None:
    cut = fit_display_name(value)
    assert cut == kept
    assert len(cut.encode("utf-8", "surrogatepass")) <= DISPLAY_NAME_MAX_BYTES
