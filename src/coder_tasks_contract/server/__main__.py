"""Standalone reference server: ``python -m coder_tasks_contract.server [--host H] [--port P] [--speed S]
[--preexisting-tasks N] [--coder-version LEVEL] [--record FILE] [--strict] [--control]``. Prints the SeedInfo JSON (URL,
tokens, organization, templates, template version ids) on one line, then serves until interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from coder_tasks_contract.server.domain.entities import SPEEDS
from coder_tasks_contract.server.runner import start_reference_server
from coder_tasks_contract.spec import levels


def _non_negative(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _port(raw: str) -> int:
    value = _non_negative(raw)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {value}")
    return value


def _rate_limit(raw: str) -> int:
    value = _non_negative(raw)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1 (leave it out for no limit)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coder-tasks-fake",
        description="A fake Coder serving the AI Tasks API (Coder at commit 82f525baf3, or a later contract level), "
        "for contract tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=3000, help="port to listen on; 0 picks a free one (default: 3000)"
    )
    parser.add_argument(
        "--speed",
        choices=sorted(SPEEDS),
        default="fast",
        help="how long simulated builds and agent replies take: fast (create to active in 0.3 s), realistic "
        "(10 s) or slow (55 s, a stop build 22 s, a reply 12 s: Coder-like) (default: fast)",
    )
    parser.add_argument(
        "--preexisting-tasks",
        type=_non_negative,
        default=0,
        metavar="N",
        help="seed N active tasks owned by alice that no test created (default: 0)",
    )
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=None,
        metavar="PER_MINUTE",
        help="answer 429 after this many requests per minute per client and endpoint, like Coder's "
        "--api-rate-limit (default: no limit)",
    )
    parser.add_argument(
        "--coder-version",
        choices=list(levels.BY_NAME),
        default=levels.DEFAULT.name,
        metavar="LEVEL",
        help="contract level to emulate: "
        + "; ".join(f"{level.name}: {level.title}" for level in levels.LEVELS)
        + f" (default: {levels.DEFAULT.name})",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        default=None,
        help="append one JSON line per request to FILE: method, path, query, status, duration, body excerpts "
        "(session tokens redacted)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="answer 400, naming what is wrong, to any request the contract level does not describe (a route of "
        "another level, a wrong method, a path no level has) instead of Coder's 404 Route not found.",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="mount the control surface at /__control/ (no API key): set a task's agent state, fail its next build, "
        "stop/start its workspace, make its app busy, inject 429/5xx answers, advance the clock (see README)",
    )
    return parser


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.record is not None:
        try:
            open(args.record, "a").close()  # fail here, with its own message, not as a listening error
        except OSError as exc:
            print(f"coder-tasks-fake: cannot write {args.record}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    try:
        server = start_reference_server(
            speed=args.speed,
            host=args.host,
            port=args.port,
            preexisting_tasks=args.preexisting_tasks,
            rate_limit=args.rate_limit,
            coder_version=args.coder_version,
            record=args.record if args.record is not None else False,
            strict=args.strict,
            control=args.control,
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"coder-tasks-fake: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"coder-tasks-fake: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(server.seed.to_json()), flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop as cleanly on SIGTERM as on Ctrl-C
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
