"""A positive body must stay valid for Go's JSON decoder, which matches object keys to struct fields without regard to
case (ERR-5): an extra property ``NAME`` next to ``name`` is read as ``name`` by Coder, so schemathesis' "additional
property" of another type would turn a valid create into a 400 (a false alarm seen with seed 2 at 82f)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from coder_tasks_contract.generated import aiming, loader
from coder_tasks_contract.spec import levels


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemathesis.openapi.from_dict(levels.build_spec("2.29"))


def _case(schema: Any, operation_id: str, body: dict[str, Any]) -> Any:
    return schema.find_operation_by_id(operation_id).Case(body=body)


@pytest.mark.parametrize("alias", ["NAME", "Name", "nAmE"])
def test_an_extra_key_that_folds_onto_a_field_is_dropped(schema: Any, alias: str) -> None:
    case = _case(schema, loader.CREATE, {"name": "ctc-x-1", alias: [1.5], "input": "hi", "extra": 1})
    aiming.drop_go_aliases(case)
    assert case.body == {"name": "ctc-x-1", "input": "hi", "extra": 1}


def test_go_folds_the_long_s_and_the_kelvin_sign_too(schema: Any) -> None:
    case = _case(schema, loader.CREATE, {"input": "hi", "DI\u017fPLAY_NAME": 3, "\u212aEEP": 1})
    aiming.drop_go_aliases(case)
    assert case.body == {"input": "hi", "\u212aEEP": 1}  # KEEP is no field: only display_name's alias goes


def test_other_operations_keep_their_own_fields(schema: Any) -> None:
    case = _case(schema, "sendTaskInput", {"input": "hi", "INPUT": None, "name": "not a field here"})
    aiming.drop_go_aliases(case)
    assert case.body == {"input": "hi", "name": "not a field here"}


@pytest.mark.parametrize("blank", ["\f", " ", "\t\n", "\v\r"])
def test_a_positive_send_that_only_the_app_would_refuse_gets_a_visible_character(schema: Any, blank: str) -> None:
    """SEND-3, SEND-5: Coder relays a whitespace-only input and AgentAPI refuses it (502). aim_body is what the
    conformance test, the link walk and the state machine all call on a drawn case (a state-machine send of "\\f"
    failed on the faithful server at newest, seed 62286030, before the state machine called it)."""
    case = _case(schema, "sendTaskInput", {"input": blank, "INPUT": 3})
    aiming.aim_body(case)
    assert case.body["input"].strip()
    assert case.body["input"].startswith(blank)
    assert "INPUT" not in case.body


def test_a_send_with_visible_input_is_left_as_drawn(schema: Any) -> None:
    case = _case(schema, "sendTaskInput", {"input": " hi ", "extra": [1]})
    aiming.aim_body(case)
    assert case.body == {"input": " hi ", "extra": [1]}
