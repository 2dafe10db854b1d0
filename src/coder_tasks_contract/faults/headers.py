"""Faults in the response headers: content types and the headers Coder sets on every response (ROUTE-5, ROUTE-8,
ROUTE-9)."""

from __future__ import annotations

from starlette.types import ASGIApp

from coder_tasks_contract.faults.asgi import Reply, ResponseRewrite, is_task_route, on_operations, serve
from coder_tasks_contract.faults.base import Catcher, fault
from coder_tasks_contract.server.api.middleware import JSON_TYPE
from coder_tasks_contract.server.domain.world import World


def _json_type(replacement: str) -> ResponseRewrite:
    """JSON answers of the task routes relabelled with ``replacement``."""

    def rewrite(reply: Reply) -> Reply | None:
        if reply.header("content-type") == JSON_TYPE and reply.body and is_task_route(reply.request.path):
            return reply.with_header("content-type", replacement)
        return None

    return rewrite


@fault(
    "headers",
    Catcher(
        "tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count", r"Content-Type of a JSON response"
    ),
    ci=True,
)
def json_as_text_plain(world: World) -> ASGIApp:
    """JSON bodies on the task routes are labelled ``text/plain; charset=utf-8`` (ROUTE-8: JSON responses carry
    ``Content-Type: application/json; charset=utf-8``)."""
    return serve(world, response=_json_type("text/plain; charset=utf-8"))


@fault(
    "headers",
    Catcher("tests/test_status_codes.py::test_list_answers_200_with_tasks_and_count", r"charset of a JSON response"),
)
def json_without_charset(world: World) -> ASGIApp:
    """JSON bodies on the task routes are labelled ``application/json`` without ``charset=utf-8`` (ROUTE-8: the exact
    type is ``application/json; charset=utf-8``)."""
    return serve(world, response=_json_type("application/json"))


@fault("headers", "tests/test_status_codes.py::test_send_answers_204_and_the_input_shows_in_the_logs", ci=True)
def send_204_with_content_type(world: World) -> ASGIApp:
    """POST /send's 204 carries ``Content-Type: application/json`` (ROUTE-9: send's 204 has no body and sets no
    content type)."""

    def rewrite(reply: Reply) -> Reply | None:
        return reply.with_header("content-type", JSON_TYPE) if reply.status == 204 else None

    return serve(world, response=on_operations({"sendTaskInput"}, rewrite))


@fault("headers", "tests/test_status_codes.py::test_every_answer_carries_coders_middleware_headers")
def nosniff_header_missing(world: World) -> ASGIApp:
    """Task responses lack ``X-Content-Type-Options: nosniff`` (ROUTE-5: the outer middleware sets it, and
    ``X-Coder-Build-Version``, on every response)."""

    def rewrite(reply: Reply) -> Reply | None:
        return reply.with_header("x-content-type-options", None) if is_task_route(reply.request.path) else None

    return serve(world, response=rewrite)
