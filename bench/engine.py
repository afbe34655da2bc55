"""flytekit's local execution of the benchmark workflows of bench/engine.sh.

Prints one JSON line: {"chain_s": [...], "fan_s": [...], "branch_s": [...]} — wall times in
seconds of each run of a chain of N `inc` nodes (each depends on the previous), a fan-out of N-1
`inc` nodes gathered by one `total` node, and a chain of N conditionals (`x >= 0` then `inc`, else
`dec`). Only the local executions are timed: importing flytekit and compiling the workflows happen
before the clock starts.
"""

import json
import os
import sys
import time
from typing import List

os.environ.setdefault("FLYTE_SDK_LOGGING_LEVEL", "40")

from flytekit import conditional, task, workflow  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3


@task
def inc(x: int) -> int:
    return x + 1


@task
def dec(x: int) -> int:
    return x - 1


@task
def total(xs: List[int]) -> int:
    return sum(xs)


@workflow
def chain(x: int) -> int:
    for _ in range(N):
        x = inc(x=x)
    return x


@workflow
def fan(x: int) -> int:
    return total(xs=[inc(x=x) for _ in range(N - 1)])


@workflow
def branches(x: int) -> int:
    for i in range(N):
        x = conditional(f"c{i}").if_(x >= 0).then(inc(x=x)).else_().then(dec(x=x))
    return x


def timed(wf, expected):
    out = []
    for _ in range(RUNS):
        t = time.perf_counter()
        got = wf(x=0)
        out.append(time.perf_counter() - t)
        assert got == expected, (got, expected)
    return out


print(json.dumps({"n": N, "chain_s": timed(chain, N), "fan_s": timed(fan, N - 1), "branch_s": timed(branches, N)}))
