"""The Python twins of crates/flytekit/examples/hostile.rs, for crates/flytekit/tests/hostile_inputs.rs:
the same task names and interfaces, so that `pyflyte-execute` and the Rust `execute` can be given
the same hostile inputs and their answers (outputs.pb, error.pb code, kind and origin) compared.
Run as `pyflyte-execute ... --resolver flytekit.core.python_auto_container.default_task_resolver
-- task-module hostile_tasks task-name <task>` with this directory on PYTHONPATH.
"""

import os
from dataclasses import dataclass
from typing import List

from flytekit import task
from flytekit.types.file import FlyteFile


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def scale(x: float) -> float:
    return x * 2.0


@task
def twice(x: int) -> int:
    return x * 2


@dataclass
class Point:
    x: int
    y: int


@task
def norm(p: Point) -> int:
    return abs(p.x) + abs(p.y)


@task
def count(xs: List[int]) -> int:
    return len(xs)


@task
def size(f: FlyteFile) -> int:
    return os.path.getsize(f.download())


@task(enable_deck=True)
def echo(s: str) -> str:
    return s



@task(retries=3)
def strict(x: int) -> int:
    if x < 0:
        raise ValueError(f"{x} is negative")
    return x
