"""The ceiling: a plain httpx loop sending GET list / get / logs in turn to the server, as fast as one client can.

Run as a child process by the benchmark (like the suite, so neither shares the server's interpreter):

    CTC_BENCH_URL=http://127.0.0.1:PORT CTC_BENCH_TOKEN=... CTC_BENCH_REQUESTS=N python benchmarks/bench_ceiling.py

Prints one JSON object: requests sent, seconds, requests per second, and the mean latency of each kind. Every
answer must be 200, so the loop measures real work of the server, not cheap error paths.
"""

from __future__ import annotations

import json
import os
import sys
import time

import httpx

TASKS = "/api/experimental/tasks"
WARM_UP = 20


def main() -> int:
    url = os.environ["CTC_BENCH_URL"]
    token = os.environ["CTC_BENCH_TOKEN"]
    count = int(os.environ["CTC_BENCH_REQUESTS"])
    with httpx.Client(base_url=url, headers={"Coder-Session-Token": token}, timeout=30.0) as client:
        listing = client.get(TASKS, params={"q": "owner:me"})
        listing.raise_for_status()
        active = [t for t in listing.json()["tasks"] if t.get("status") == "active"]
        if not active:
            print(
                "the target has no active task of this user to read (start it with preexisting tasks)", file=sys.stderr
            )
            return 2
        task = active[0]["id"]
        kinds = (("list", TASKS), ("get", f"{TASKS}/me/{task}"), ("logs", f"{TASKS}/me/{task}/logs"))
        for n in range(WARM_UP):
            client.get(kinds[n % 3][1]).raise_for_status()
        spent = {name: 0.0 for name, _ in kinds}
        sent = {name: 0 for name, _ in kinds}
        started = time.perf_counter()
        for n in range(count):
            name, path = kinds[n % 3]
            before = time.perf_counter()
            response = client.get(path)
            response.json()  # a client reads what it asked for; the suite parses every body too
            if response.status_code != 200:
                print(f"GET {path} answered {response.status_code}", file=sys.stderr)
                return 1
            spent[name] += time.perf_counter() - before
            sent[name] += 1
        seconds = time.perf_counter() - started
    mean_ms = {name: round(1000 * spent[name] / sent[name], 3) for name in spent if sent[name]}
    result = {
        "requests": count,
        "warm_up": WARM_UP + 1,
        "seconds": round(seconds, 4),
        "rps": round(count / seconds, 1) if seconds else None,
        "mean_ms": mean_ms,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
