"""Python twins of the map-task and dynamic examples (crates/flytekit/examples/fanout.rs).

Used by conformance/map_dynamic.py, and run by `pyflyte-execute` / `pyflyte-map-execute` from the
conformance directory (`task-module fanout_twins`).
"""

import functools
import math
from typing import List, Optional, Tuple

from flytekit import dynamic, map_task, task, workflow


@task
def square(x: int) -> int:
    return x * x


@task(retries=1)
def add(a: int, b: int) -> int:
    return a + b


@task
def to_str(a: int) -> str:
    return str(a)


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: List[int]) -> int:
    return sum(xs)


@task
def sqrt(x: int) -> float:
    if x < 0:
        raise ValueError(f"cannot take the square root of {x}")
    return math.sqrt(x)


@workflow
def squares(xs: List[int]) -> List[int]:
    return map_task(square)(x=xs)


@workflow
def add_all(xs: List[int], k: int) -> Tuple[List[int], int]:
    ys = map_task(functools.partial(add, b=k), concurrency=4)(a=xs)
    return ys, total(xs=ys)


@workflow
def pairwise(xs: List[int], ys: List[int]) -> List[int]:
    return map_task(add)(a=xs, b=ys)


@workflow
def roots(xs: List[int]) -> List[Optional[float]]:
    return map_task(sqrt, min_success_ratio=0.5)(x=xs)


@dynamic
def fan(n: int, base: int) -> int:
    ys = [inc(x=base + i) for i in range(n)]
    return total(xs=ys)


@dynamic
def passthrough(n: int) -> int:
    return n


@dynamic
def squares_dyn(xs: List[int]) -> List[int]:
    return map_task(square)(x=xs)


@dynamic
def nested(n: int) -> List[int]:
    xs = list(range(1, n + 1))
    outs = [squares(xs=xs)]
    for _ in range(1, n):
        outs.append(map_task(square)(x=outs[-1]))
    return outs[-1]


WORKFLOWS = {"squares": squares, "add_all": add_all, "pairwise": pairwise, "roots": roots}
