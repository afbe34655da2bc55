"""Python entities registered "elsewhere" that the Rust `control` example calls as references
(crates/flytekit/examples/control.rs): a task with named outputs, a launch plan, and dynamic
tasks whose graphs branch. `pyflyte --pkgs shapes package` writes them into a package that
`run --sandbox --reference-package` runs from their own templates (see README, "Control flow").
"""

from typing import NamedTuple

from flytekit import LaunchPlan, conditional, dynamic, task, workflow

AreaOut = NamedTuple("AreaOut", [("area", float), ("label", str)])


@task
def area(width: float, height: float) -> AreaOut:
    return AreaOut(area=width * height, label=f"{width}x{height} (python)")


@task
def times_ten(x: float) -> float:
    return x * 10


@workflow
def scale_wf(x: float) -> float:
    return times_ten(x=x)


scale_lp = LaunchPlan.get_or_create(scale_wf, name="shapes.scale_lp")


@dynamic
def bucket(x: float) -> float:
    t = times_ten(x=x)
    return conditional("bucket").if_(t > 20.0).then(times_ten(x=t)).else_().then(times_ten(x=x))


@dynamic
def bad_bucket(x: float) -> float:
    t = times_ten(x=x)
    # A float compared with an integer: Propeller refuses it, and so does flytekit-rs.
    return conditional("bad").if_(t == 20).then(times_ten(x=t)).else_().then(times_ten(x=x))
