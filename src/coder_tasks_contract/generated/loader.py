"""Loads the OpenAPI document into schemathesis and configures it for the target: checks, phases, generation,
output sanitization, and a transport that keeps schemathesis' own re-sends behind the write guard.

Which checks run, where and why is the check table in ``checks_table.py`` (:data:`CHECKS`); this module hands its
rendering (``checks_config``) to schemathesis. The operationIds are re-exported here for the generated tests.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
import requests
import schemathesis
from schemathesis.config import ChecksConfig, GenerationConfig, ProjectConfig, SchemathesisConfig
from schemathesis.config._output import DEFAULT_KEYS_TO_SANITIZE
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.schemas import OpenApiSchema
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from coder_tasks_contract import resources
from coder_tasks_contract.generated.checks_table import (
    CREATE,
    DELETE,
    GET,
    LIST,
    LOGS,
    OPERATION_IDS,
    PAUSE,
    RESUME,
    SEND,
    UPDATE_INPUT,
    checks_config,
)
from coder_tasks_contract.plugin import options, profiles
from coder_tasks_contract.spec import levels
from coder_tasks_contract.spec.levels import Level

DEFAULT_SPEC = resources.base_spec()

__all__ = [
    "CREATE",
    "DELETE",
    "GET",
    "LIST",
    "LOGS",
    "OPERATION_IDS",
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
SANITIZED_KEYS = (*DEFAULT_KEYS_TO_SANITIZE, "coder-session-token", "coder_session_token", "access_token")


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
            # Only the document's explicit links: inferred links once sent DELETEs to tasks the run had not
            # created (SCHEMATHESIS_NOTES pitfall 2); the guard would refuse them, the links must not exist.
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


class _GuardedProbeTransport(RequestsTransport):
    """schemathesis' requests transport, but a request sent without a session goes through ``fallback``.

    ``ignored_auth`` (and ``object_level_authorization``) re-send a case through ``send_probe``, which drops
    ``session`` and ``auth`` from the call's keyword arguments (schemathesis/specs/openapi/_auth_retry.py,
    ``build_retry_transport_kwargs``): they would go out on a fresh, unguarded ``requests.Session``. The fallback
    is the guarded session without credentials, so those probes are guarded, paced and recorded like the rest.
    """

    def __init__(self, fallback: requests.Session) -> None:
        super().__init__()
        # Serializers are registered on schemathesis' module-level transport; share them, do not copy a snapshot.
        self._serializers = REQUESTS_TRANSPORT._serializers
        self._fallback = fallback

    def send(self, case: Case[Any], *, session: requests.Session | None = None, **kwargs: Any) -> Response:
        return super().send(case, session=session if session is not None else self._fallback, **kwargs)


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
    transport = _GuardedProbeTransport(probe_session)
    # `BaseSchema.transport` is a property returning schemathesis' module-level transport; a subclass per load
    # overrides it. `clone()` (used by the pytest integration for every test) keeps `self.__class__`.
    guarded = type(
        "GuardedOpenApiSchema",
        (type(schema),),
        {"transport": property(lambda self: transport), "__module__": __name__},
    )
    schema.__class__ = guarded
    _memoize_config_lookups(schema.config)
    return schema


def _memoize_config_lookups(project: ProjectConfig) -> None:
    """Make ``generation_for`` and ``checks_config_for`` of the loaded schema's configuration remember their answer
    per (operation, phase).

    schemathesis merges the configuration anew on every call (``ProjectConfig`` in schemathesis/config/
    _projects.py: every ``[[operations]]`` entry's filter is matched against the operation, then the matching
    entries, the phase and the project are merged with ``from_hierarchy``), and it asks once per drawn case
    (``generation_for``, specs/openapi/_hypothesis.py) and once per validated answer (``checks_config_for``,
    ``Case.validate_response``). ``checks_config`` gives every operation entries, so that was about a tenth of a
    run. The inputs do not change after loading (nothing here calls ``update``; if anything does, it forgets),
    and the callers only read the merged objects. ``ProjectConfig`` has ``__slots__``, so the memo lives in a
    closure of a per-load subclass with no new slots (the same trick as the transport above).
    """
    base = type(project)
    memo: dict[tuple[str, str | None, str | None], Any] = {}

    def remembered(
        kind: str, operation: APIOperation[Any, Any, Any, Any] | None, phase: str | None, compute: Callable[[], Any]
    ) -> Any:
        key = (kind, operation.label if operation is not None else None, phase)
        found = memo.get(key)
        if found is None:
            found = memo[key] = compute()
        return found

    def generation_for(
        self: ProjectConfig, *, operation: APIOperation[Any, Any, Any, Any] | None = None, phase: str | None = None
    ) -> GenerationConfig:
        return cast(
            GenerationConfig,
            remembered(
                "generation", operation, phase, lambda: base.generation_for(self, operation=operation, phase=phase)
            ),
        )

    def checks_config_for(
        self: ProjectConfig, *, operation: APIOperation[Any, Any, Any, Any] | None = None, phase: str | None = None
    ) -> ChecksConfig:
        return cast(
            ChecksConfig,
            remembered(
                "checks", operation, phase, lambda: base.checks_config_for(self, operation=operation, phase=phase)
            ),
        )

    def update(self: ProjectConfig, **kwargs: Any) -> None:
        memo.clear()
        base.update(self, **kwargs)

    project.__class__ = type(
        "MemoizedProjectConfig",
        (base,),
        {
            "__slots__": (),
            "__module__": __name__,
            "generation_for": generation_for,
            "checks_config_for": checks_config_for,
            "update": update,
        },
    )


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
