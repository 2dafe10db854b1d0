"""Loads the OpenAPI document into schemathesis and configures it for the target: checks, phases, generation,
output sanitization, and a transport that keeps schemathesis' own re-sends behind the write guard.

Which checks run, where and why is the check table in ``checks_table.py`` (:data:`CHECKS`); this module hands its
rendering (``checks_config``) to schemathesis. The operationIds are re-exported here for the generated tests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.config import SanitizationConfig, SchemathesisConfig
from schemathesis.specs.openapi.schemas import OpenApiSchema

from coder_tasks_contract import resources
from coder_tasks_contract.generated import compat
from coder_tasks_contract.generated.checks_table import checks_config
from coder_tasks_contract.plugin import options, profiles
from coder_tasks_contract.spec import levels
from coder_tasks_contract.spec.levels import Level
from coder_tasks_contract.spec.vocabulary import CREATE, DELETE, GET, LIST, LOGS, PAUSE, RESUME, SEND, UPDATE_INPUT

__all__ = [
    "CREATE",
    "DELETE",
    "GET",
    "LIST",
    "LOGS",
    "PAUSE",
    "RESUME",
    "SEND",
    "UPDATE_INPUT",
    "build_config",
    "checks_config",
    "load",
    "load_for",
    "report_line",
    "run_seed",
    "spec_path",
]

# The defaults match `token` and `session` as substrings already; Coder's three token carriers are listed by name
# anyway so the intent survives a change of schemathesis' defaults (setting the list replaces the defaults, so
# they are kept). AUTH-1: cookie `coder_session_token`, header `Coder-Session-Token`, query `access_token`.
SANITIZED_KEYS = (*SanitizationConfig().keys_to_sanitize, "coder-session-token", "coder_session_token", "access_token")


def build_config(
    *, base_url: str, request_timeout: float, seed: int | None = None, level: Level | str = levels.DEFAULT
) -> SchemathesisConfig:
    """The whole schemathesis configuration at ``level``, built in code (no ``schemathesis.toml`` is discovered or
    needed)."""
    global_checks, operations = checks_config(level)
    data: dict[str, Any] = {
        "base-url": base_url.rstrip("/"),
        "request-timeout": request_timeout,
        "output": {"sanitization": {"enabled": True, "keys-to-sanitize": list(SANITIZED_KEYS)}},
        "generation": {
            # Positive and negative cases for every operation.
            "mode": "all",
            # Credentials come from the guarded session; generated ones would be sent too and, as a cookie,
            # outrank the real header (AUTH-4), turning every request into a 401.
            "with-security-parameters": False,
            # Coder keeps prompts and names in PostgreSQL text columns, which cannot hold U+0000: a NUL answers 500
            # ("pq: invalid byte sequence for encoding UTF8: 0x00"). No clause covers it, so the
            # generated strings leave NUL out and every other finding stays about the contract (docs/checks.md).
            "allow-x00": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            # Only the document's explicit links: schemathesis' inferred links (from the list operation) sent
            # DELETEs to tasks the run had not created; the guard would refuse them, the links must not exist.
            "stateful": {"enabled": True, "inference": {"algorithms": []}},
        },
        # schemathesis gives each generated test Hypothesis settings with its own suppress list (empty unless set
        # here), which replaces the loaded profile's: aiming rejects the valid creates past the run's create budget,
        # so on some seeds filter_too_much failed a healthy server (issue 19). The same checks profiles.py quiets.
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "checks": global_checks,
        "operations": operations,
    }
    if seed is not None:
        data["seed"] = seed
    return SchemathesisConfig.from_dict(data)


def load(
    spec: Path,
    *,
    level: Level | str,
    base_url: str,
    request_timeout: float,
    probe_session: requests.Session,
    seed: int | None = None,
) -> OpenApiSchema:
    """Load the document of ``level`` (``spec`` with the level's overlays, ``levels.build_spec``) for ``base_url``;
    requests sent without a session (check probes) use ``probe_session``."""
    if not spec.is_file():
        raise FileNotFoundError(f"OpenAPI document not found: {spec} (pass --spec PATH)")
    config = build_config(base_url=base_url, request_timeout=request_timeout, seed=seed, level=level)
    schema = schemathesis.openapi.from_dict(levels.build_spec(level, base=spec), config=config)
    compat.route_sessionless_requests(schema, probe_session)
    compat.memoize_config_lookups(schema.config)
    return schema


def spec_path(config: pytest.Config) -> Path:
    """The document to test: --spec / CODER_TASKS_SPEC, else ``spec/coder-tasks.yaml`` of the project."""
    chosen = options.resolve(config, "coder_spec")
    if chosen:
        path = Path(chosen)
        return path if path.is_absolute() else config.invocation_params.dir / path
    return resources.default_spec(config.rootpath)


@dataclass(frozen=True)
class RunSeed:
    """How the generated cases of this run can be had again: the profile, and the seed unless derandomized."""

    profile: str
    seed: int | None

    def reproduce(self) -> str:
        if self.seed is None:
            return (
                f"Generated cases are derandomized (Hypothesis profile {self.profile!r}): "
                f"rerun with HYPOTHESIS_PROFILE={self.profile} to get the same ones."
            )
        return (
            f"Hypothesis seed {self.seed} (profile {self.profile!r}): rerun with "
            f"HYPOTHESIS_PROFILE={self.profile} pytest ... --hypothesis-seed={self.seed} to get the same cases."
        )


_SEED_KEY = pytest.StashKey[RunSeed]()


def run_seed(config: pytest.Config) -> RunSeed:
    """The seed of this run's generated tests, chosen once per session (shared by conformance and stateful)."""
    if _SEED_KEY not in config.stash:
        profiles.ensure_registered()
        profile = profiles.current_name()
        seed: int | None = None
        if not profiles.is_deterministic():
            given = config.getoption("hypothesis_seed", None)
            seed = int(given) if given is not None else random.SystemRandom().getrandbits(32)
        config.stash[_SEED_KEY] = RunSeed(profile, seed)
    return config.stash[_SEED_KEY]


def load_for(
    config: pytest.Config,
    *,
    level: Level | str,
    base_url: str,
    request_timeout: float,
    probe_session: requests.Session,
) -> OpenApiSchema:
    """:func:`load` with the spec, seed and profile of this pytest run, for the target's contract ``level``."""
    return load(
        spec_path(config),
        level=level,
        base_url=base_url,
        request_timeout=request_timeout,
        probe_session=probe_session,
        seed=run_seed(config).seed,
    )


def report_line(config: pytest.Config, text: str) -> None:
    """Print one line to the terminal from a fixture's teardown (pytest captures output there otherwise)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(text)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(text)
