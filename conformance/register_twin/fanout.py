"""Python twin of two workflows of crates/flytekit/examples/fanout.rs (`squares`, `add_all`) and
their tasks, registered with `pyflyte register` by crates/flytekit/tests/remote_admin.rs to
compare its FlyteAdmin requests with ours. The module is named `fanout` so that entity names are
the same in both languages (`fanout.square`, ...).
"""

import functools
from typing import List, Tuple

from flytekit import map_task, task, workflow


@task
def square(x: int) -> int:
    return x * x


@task(retries=1)
def add(a: int, b: int) -> int:
    return a + b


@task
def total(xs: List[int]) -> int:
    return sum(xs)


@workflow
def squares(xs: List[int]) -> List[int]:
    return map_task(square)(x=xs)


@workflow
def add_all(xs: List[int], k: int) -> Tuple[List[int], int]:
    ys = map_task(functools.partial(add, b=k), concurrency=4)(a=xs)
    return ys, total(xs=ys)
