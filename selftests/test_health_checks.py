"""The generated tests quiet the same Hypothesis health checks as the suite's profiles (issue 19).

schemathesis gives each of its tests settings with its own suppress list, which replaces the loaded profile's. The
aiming rejects valid creates past the run's create budget, so with Hypothesis' filter_too_much left on, some seeds
(82f 4003033355, 2.29 509864896) failed test_conformance[POST .../tasks/{user}] against a healthy server."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from coder_tasks_contract.generated import loader
from coder_tasks_contract.plugin import profiles


def test_schemathesis_settings_quiet_every_health_check_the_profiles_quiet() -> None:
    profiles.ensure_registered()
    quiet = set(settings.get_profile("default").suppress_health_check)
    config = loader.build_config(base_url="http://127.0.0.1:1", request_timeout=1.0)
    used = set(config.projects.default.get_hypothesis_settings().suppress_health_check)
    assert HealthCheck.filter_too_much in used
    assert quiet <= used, f"the profiles quiet {sorted(c.name for c in quiet - used)} but schemathesis does not"
