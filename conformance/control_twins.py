"""Python twins of crates/flytekit/examples/control.rs, written with flytekit 1.16: the same
conditionals, gates, launch plans, reference entities, failure nodes, attribute accesses, named
outputs and node overrides. conformance/control_flow.py serializes them and compares.
"""

import typing
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, List, NamedTuple, Optional, Tuple

from flytekit import (
    Annotations,
    Email,
    LaunchPlan,
    Labels,
    PodTemplate,
    Resources,
    Secret,
    Slack,
    CronSchedule,
    FixedRate,
    conditional,
    dynamic,
    reference_launch_plan,
    reference_task,
    reference_workflow,
    task,
    workflow,
)
from flytekit.core.gate import approve, sleep, wait_for_input
from flytekit.extras.accelerators import T4
from flytekit.models.common import RawOutputDataConfig
from flytekit.models.core.execution import WorkflowExecutionPhase
from flytekit.models.security import Identity, SecurityContext
from flytekit.types.error import FlyteError
from kubernetes.client import V1Container, V1PodSpec


# --- Conditionals --------------------------------------------------------------------------
@task
def double(n: float) -> float:
    return n * 2


@task
def square(n: float) -> float:
    return n * n


@task
def is_small(n: float) -> bool:
    return n < 0.5


@workflow
def classify(x: float) -> float:
    small = is_small(n=x)
    return (
        conditional("fractions")
        .if_((x >= 0.1) & (x <= 1.0))
        .then(double(n=x))
        .elif_(small.is_true() | (x < 0.0))
        .then(conditional("inner").if_(x > -10.0).then(square(n=x)).else_().fail("x is below -10"))
        .else_()
        .then(square(n=x))
    )


@task
def floor(n: float) -> int:
    return int(n)


@task
def positive(n: float) -> Optional[int]:
    return int(n) if n > 0 else None


@task
def noop() -> None:
    pass


@workflow
def after(x: float, name: str) -> float:
    f = floor(n=x)
    p = positive(n=x)
    g = floor(n=x)
    conditional("notify").if_(name == "loud").then(noop()).else_().then(noop())
    r = (
        conditional("pick")
        .if_((f > 3) & (name != "skip"))
        .then(double(n=x))
        .elif_(p.is_none())
        .then(square(n=x))
        .elif_((f < g) | (f >= g))
        .then(double(n=x))
        .else_()
        .fail("no rule matched")
    )
    return square(n=r)


# --- Gates ---------------------------------------------------------------------------------
@task
def total(xs: List[int]) -> int:
    return sum(xs)


@task
def add(a: int, b: int) -> int:
    return a + b


@workflow
def checkout(xs: List[int]) -> int:
    t = total(xs=xs)
    pause = sleep(timedelta(milliseconds=50))
    tip = wait_for_input("tip", timeout=timedelta(seconds=300), expected_type=int)
    approved = approve(t, "ok-total", timeout=timedelta(seconds=7200))
    pause >> tip
    return add(a=approved, b=tip)


# --- Launch plans --------------------------------------------------------------------------
@task
def render(kickoff: datetime, region: str, n: int) -> str:
    return ""


@workflow
def report(kickoff: datetime, region: str, n: int = 3) -> str:
    return render(kickoff=kickoff, region=region, n=n)


hourly_report = LaunchPlan.get_or_create(
    report,
    name="hourly_report",
    default_inputs={"n": 7},
    fixed_inputs={"region": "eu"},
    schedule=CronSchedule(schedule="0 * * * *", kickoff_time_input_arg="kickoff"),
    notifications=[
        Email(phases=[WorkflowExecutionPhase.FAILED], recipients_email=["ops@example.com"]),
        Slack(
            phases=[WorkflowExecutionPhase.SUCCEEDED, WorkflowExecutionPhase.ABORTED],
            recipients_email=["data@example.com"],
        ),
    ],
    labels=Labels({"team": "data"}),
    annotations=Annotations({"owner": "reports"}),
    raw_output_data_config=RawOutputDataConfig("s3://bucket/raw"),
    max_parallelism=8,
    security_context=SecurityContext(
        run_as=Identity(k8s_service_account="reporter"), secrets=[Secret(group="reports", key="token")]
    ),
    overwrite_cache=True,
)

frequent_report = LaunchPlan.get_or_create(
    report,
    name="frequent_report",
    schedule=FixedRate(duration=timedelta(minutes=10), kickoff_time_input_arg="kickoff"),
)


@workflow
def reports(at: datetime) -> str:
    return hourly_report(kickoff=at, n=1)


# --- Reference entities --------------------------------------------------------------------
AreaOut = NamedTuple("AreaOut", [("area", float), ("label", str)])


@reference_task(project="flytesnacks", domain="development", name="shapes.area", version="v1")
def area(width: float, height: float) -> AreaOut: ...


@reference_launch_plan(project="flytesnacks", domain="development", name="shapes.scale_lp", version="v1")
def scale(x: float) -> float: ...


@reference_workflow(project="flytesnacks", domain="development", name="shapes.scale_wf", version="v1")
def scale_wf(x: float) -> float:
    return x


@workflow
def measure(width: float, height: float) -> str:
    a = area(width=width, height=height)
    return a.label


@workflow
def rescale(x: float) -> float:
    a = area(width=x, height=x)
    return scale(x=a.area)


@workflow
def rescale_wf(x: float) -> float:
    return scale_wf(x=x)


# --- Failure nodes -------------------------------------------------------------------------
@task
def check(x: int) -> int:
    return x


@task
def cleanup(x: int, note: str, err: Optional[FlyteError] = None) -> None:
    pass


@workflow(on_failure=cleanup)
def guarded(x: int, note: str) -> int:
    return check(x=x)


# --- Attribute access and named outputs ----------------------------------------------------
@dataclass
class Stats:
    mean: float
    values: List[int]
    tags: Dict[str, int]


@task
def stats(xs: List[int]) -> Stats:
    return Stats(mean=0.0, values=xs, tags={})


@task
def describe(mean: float, first: int, n: int) -> str:
    return ""


SplitOut = NamedTuple("SplitOut", [("total", int), ("label", str)])


@task
def split(xs: List[int]) -> SplitOut:
    return SplitOut(total=0, label="")


SummaryOut = NamedTuple("SummaryOut", [("text", str), ("first", int), ("label", str)])


@workflow
def summary(xs: List[int]) -> SummaryOut:
    s = stats(xs=xs)
    text = describe(mean=s.mean, first=s.values[0], n=s.tags["n"])
    sp = split(xs=s.values)
    return SummaryOut(text=text, first=s.values[1], label=sp.label)


# --- Node overrides ------------------------------------------------------------------------
@workflow
def tuned(x: float) -> float:
    y = double(n=x).with_overrides(
        name="tuned-double",
        requests=Resources(cpu="1", mem="1Gi"),
        limits=Resources(cpu="2", mem="2Gi"),
        container_image="ghcr.io/org/other:2",
        timeout=timedelta(seconds=30),
        retries=3,
        interruptible=True,
        cache=True,
        cache_version="5",
        cache_serialize=True,
        accelerator=T4,
    )
    z = square(n=y).with_overrides(
        pod_template=PodTemplate(pod_spec=V1PodSpec(containers=[V1Container(name="primary")]), labels={"a": "b"})
    )
    return z


# --- Conditionals in dynamic workflows -----------------------------------------------------
@dynamic
def pick_dyn(x: float, k: int) -> float:
    s = is_small(n=x)
    return conditional("dyn").if_(s.is_true()).then(double(n=x)).else_().then(square(n=x))


# --- Launch plans in dynamic workflows -----------------------------------------------------
classify_lp = LaunchPlan.get_or_create(classify, name="classify_lp", default_inputs={"x": 0.5})


@dynamic
def plans_dyn(x: float) -> Tuple[float, float]:
    return classify_lp(x=x), scale(x=x)


WORKFLOWS = {
    "classify": classify,
    "after": after,
    "checkout": checkout,
    "report": report,
    "reports": reports,
    "measure": measure,
    "rescale": rescale,
    "guarded": guarded,
    "summary": summary,
    "tuned": tuned,
}

# Workflows flytekit cannot serialize whole (it refuses reference sub-workflows): compared node
# by node.
NODE_WORKFLOWS = {"rescale_wf": rescale_wf}

LAUNCH_PLANS = {"hourly_report": hourly_report, "frequent_report": frequent_report, "classify_lp": classify_lp}
