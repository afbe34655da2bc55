"""Compares flytekit-rs workflow templates with what flytekit 1.16 emits for the same workflows.

Used by `crates/flytekit/tests/workflow_oracle.rs`. Reads a JSON object on stdin:

    {"settings": {"project": P, "domain": D, "version": V},
     "workflows": {"<short name>": {"template": "<base64 WorkflowTemplate>",
                                    "launch_plan": "<base64 LaunchPlanSpec>" | null}}}

For each workflow it serializes the Python twin below (`PYTHON_WORKFLOWS`) with flytekit's
`get_serializable`, normalizes both sides and compares them. Normalization keeps everything
structural (node ids, node metadata, bindings incl. collections/maps/promises and constants,
interface, outputs, workflow metadata) and removes only what legitimately differs between the
languages: entity names are reduced to their last segment (`app.workflows.wf` vs `wf_mod.wf`),
upstream node ids are compared as sets (flytekit emits them in set order), and literal-type
metadata (JSON schemas of structs) is dropped.

Prints `{"<name>": [differences...]}`; an empty list means identical.
"""

import base64
import json
import sys
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Dict, List, Tuple

from flytekit import LaunchPlan, WorkflowFailurePolicy, task, workflow
from flytekit.types.file import FlyteFile
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.models import launch_plan as lp_models
from flytekit.models.core import workflow as wf_models
from flytekit.tools.translator import get_serializable
from flyteidl.admin import launch_plan_pb2
from flyteidl.core import workflow_pb2
from google.protobuf.json_format import MessageToDict

from compare import diff


# --- The quickstart (crates/flytekit/examples/quickstart/workflows.rs) -----------------------
@dataclass
class Estimate:
    pi: float
    samples: int
    shards: int


@task(cache=True, cache_version="1")
def sample(seed: int, samples: int) -> int:
    return 0


@task
def estimate(hits: List[int], samples_per_shard: int) -> Estimate:
    return Estimate(pi=0.0, samples=0, shards=0)


@task
def report(name: str, estimate: Estimate) -> str:
    return ""


@task(enable_deck=True)
def save_report(report: str) -> FlyteFile:
    return FlyteFile("report.md")


@workflow
def pi(samples: int = 100000, name: str = "world") -> Tuple[Estimate, str, FlyteFile]:
    hits = [sample(seed=s, samples=samples) for s in range(4)]
    est = estimate(hits=hits, samples_per_shard=samples)
    text = report(name=name, estimate=est)
    return est, text, save_report(report=text)


# --- Shapes (crates/flytekit/tests/workflow_oracle.rs) -------------------------------------
@task(retries=2, timeout=timedelta(seconds=30))
def add(a: int, b: int) -> int:
    return a + b


@task
def total(xs: List[int]) -> int:
    return sum(xs)


@task
def merge(m: Dict[str, int]) -> int:
    return sum(m.values())


@task
def split(a: int) -> Tuple[int, str]:
    return a, str(a)


@task
def noop() -> None:
    pass


@workflow
def inner(x: int) -> int:
    return add(a=x, b=1)


@workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, interruptible=True)
def shapes(x: int) -> Tuple[int, str, int]:
    y = add(a=x, b=2)
    t = total(xs=[y, add(a=y, b=3)])
    m = merge(m={"k": t, "j": y})
    a, s = split(a=m)
    n = noop()
    z = inner(x=a)
    n >> z
    w = add(a=z, b=x).with_overrides(name="last", retries=5, timeout=timedelta(seconds=7), cache=True, cache_version="9")
    return w, s, x


PYTHON_WORKFLOWS = {"pi": pi, "shapes": shapes}


def short(name):
    return name.rsplit(".", 1)[-1]


def strip_type(t):
    if not isinstance(t, dict):
        return
    t.pop("metadata", None)
    for key in ("collectionType", "mapValueType"):
        if key in t:
            strip_type(t[key])
    for v in t.get("unionType", {}).get("variants", []):
        strip_type(v)


def normalize(d):
    d["id"]["name"] = short(d["id"]["name"])
    for side in ("inputs", "outputs"):
        for var in d.get("interface", {}).get(side, {}).get("variables", {}).values():
            strip_type(var.get("type"))
    for n in d.get("nodes", []):
        if "taskNode" in n:
            n["taskNode"]["referenceId"]["name"] = short(n["taskNode"]["referenceId"]["name"])
        if "workflowNode" in n:
            ref = n["workflowNode"]["subWorkflowRef"]
            ref["name"] = short(ref["name"])
        if "upstreamNodeIds" in n:
            n["upstreamNodeIds"] = sorted(n["upstreamNodeIds"])
    return d


def normalize_lp(d):
    d["workflowId"]["name"] = short(d["workflowId"]["name"])
    for p in d.get("defaultInputs", {}).get("parameters", {}).values():
        strip_type(p.get("var", {}).get("type"))
    return d


def main():
    req = json.load(sys.stdin)
    s = req["settings"]
    settings = SerializationSettings(
        image_config=ImageConfig.auto_default_image(), project=s["project"], domain=s["domain"], version=s["version"]
    )
    result = {}
    for name, ours in req["workflows"].items():
        py = PYTHON_WORKFLOWS[name]
        theirs = get_serializable(OrderedDict(), settings, py).template.to_flyte_idl()
        mine = workflow_pb2.WorkflowTemplate()
        mine.ParseFromString(base64.b64decode(ours["template"]))
        # flytekit must be able to read what we wrote into its own model classes.
        wf_models.WorkflowTemplate.from_flyte_idl(mine)
        problems = diff(normalize(MessageToDict(mine)), normalize(MessageToDict(theirs)))
        if ours.get("launch_plan"):
            lp = LaunchPlan.get_or_create(py)
            their_lp = get_serializable(OrderedDict(), settings, lp).spec.to_flyte_idl()
            my_lp = launch_plan_pb2.LaunchPlanSpec()
            my_lp.ParseFromString(base64.b64decode(ours["launch_plan"]))
            lp_models.LaunchPlanSpec.from_flyte_idl(my_lp)
            problems += [
                "launch plan" + p
                for p in diff(normalize_lp(MessageToDict(my_lp)), normalize_lp(MessageToDict(their_lp)))
            ]
        result[name] = problems
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
