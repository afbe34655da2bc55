"""flytekit's local execution of the benchmark of bench/map.sh: `map_task` of a trivial task over
N elements, in a workflow.

Prints one JSON line: {"n": N, "map_s": [...]} — wall times in seconds of each local execution.
Importing flytekit and compiling the workflow happen before the clock starts.
"""

import json
import os
import sys
import time
from typing import List

os.environ.setdefault("FLYTE_SDK_LOGGING_LEVEL", "40")

from flytekit import map_task, task, workflow  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 1


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def mapped(xs: List[int]) -> List[int]:
    return map_task(inc)(x=xs)


def main():
    xs = list(range(N))
    expected = [x + 1 for x in xs]
    mapped(xs=[0])  # compile and warm up
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        got = mapped(xs=xs)
        times.append(time.perf_counter() - t)
        assert list(got) == expected
    print(json.dumps({"n": N, "map_s": times}))


if __name__ == "__main__":
    main()
