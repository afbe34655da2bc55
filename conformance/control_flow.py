"""Compares flytekit-rs's control-flow constructs with what flytekit 1.16 serializes for their
Python twins (conformance/control_twins.py). Used by crates/flytekit/tests/control_oracle.rs.

Reads a JSON object on stdin:

    {"settings": {"project": P, "domain": D, "version": V},
     "workflows": {"<name>": "<base64 WorkflowTemplate>"},
     "node_workflows": {"<name>": "<base64 WorkflowTemplate>"},
     "launch_plans": {"<name>": "<base64 admin.LaunchPlan>"},
     "dynamic": {"<task>": {"futures": "<base64 DynamicJobSpec>", "inputs": {...}}}}

Each of ours is first loaded into flytekit's model classes (flytekit must read what we write),
then compared with the twin: whole workflow templates (nodes, branch blocks, conditions, gate
settings, bindings incl. attribute paths, failure node, overrides), launch plans (every spec
field), workflows flytekit refuses to serialize whole (reference sub-workflows) node by node, and
the `futures.pb` of a dynamic task compiled in-process. Normalization removes only what differs
by language: module prefixes of names (`control.` / `control_twins.`), literal-type metadata (JSON
schemas), upstream-id order, and the container image and args inside pod-template overrides.

Prints {"<name>": [differences...]}; an empty list means identical.
"""

import base64
import json
import os
import sys
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from flyteidl.admin import launch_plan_pb2  # noqa: E402
from flyteidl.core import dynamic_job_pb2, workflow_pb2  # noqa: E402
from flytekit.configuration import ImageConfig, SerializationSettings  # noqa: E402
from flytekit.core.context_manager import ExecutionState, FlyteContextManager  # noqa: E402
from flytekit.models import dynamic_job as dj_models  # noqa: E402
from flytekit.models import launch_plan as lp_models  # noqa: E402
from flytekit.models.core import workflow as wf_models  # noqa: E402
from flytekit.tools.translator import get_serializable  # noqa: E402
from google.protobuf.json_format import MessageToDict  # noqa: E402

import control_twins  # noqa: E402
from compare import diff  # noqa: E402

PREFIXES = ("control_twins.", "control.")


def strip_prefix(v):
    """`control_oracle.control.classify` / `control_twins.classify` → `classify`."""
    for p in PREFIXES:
        i = v.find(p)
        if i == 0 or (i > 0 and v[i - 1] == "."):
            return v[i + len(p):]
    return v


def norm(v, key=None):
    if isinstance(v, dict):
        d = {}
        is_type = "simple" in v or "structure" in v or "collectionType" in v or "mapValueType" in v
        for k, x in v.items():
            if is_type and k == "metadata":
                continue
            d[k] = norm(x, k)
        if "upstreamNodeIds" in d:
            d["upstreamNodeIds"] = sorted(d["upstreamNodeIds"])
        if key == "podSpec":
            for c in d.get("containers", []):
                for k in ("args", "image", "command"):
                    c.pop(k, None)
        return d
    if isinstance(v, list):
        return [norm(x, key) for x in v]
    if isinstance(v, str):
        return strip_prefix(v)
    return v


def settings_of(s):
    return SerializationSettings(
        image_config=ImageConfig.auto_default_image(), project=s["project"], domain=s["domain"], version=s["version"]
    )


def workflow(settings, name, b64):
    theirs = get_serializable(OrderedDict(), settings, control_twins.WORKFLOWS[name]).template.to_flyte_idl()
    mine = workflow_pb2.WorkflowTemplate()
    mine.ParseFromString(base64.b64decode(b64))
    wf_models.WorkflowTemplate.from_flyte_idl(mine)
    return diff(norm(MessageToDict(mine)), norm(MessageToDict(theirs)))


def node_workflow(settings, name, b64):
    wf = control_twins.NODE_WORKFLOWS[name]
    wf.compile()
    theirs = [
        MessageToDict(get_serializable(OrderedDict(), settings, n).to_flyte_idl())
        for n in wf.nodes
        if n.id != "start-node"
    ]
    mine = workflow_pb2.WorkflowTemplate()
    mine.ParseFromString(base64.b64decode(b64))
    wf_models.WorkflowTemplate.from_flyte_idl(mine)
    ours = MessageToDict(mine)
    problems = diff(norm(ours.get("nodes", [])), norm(theirs), "/nodes")
    # The rest of the template is what any workflow has.
    theirs_interface = MessageToDict(wf.interface.to_flyte_idl())
    problems += diff(norm(ours.get("interface", {})), norm(theirs_interface), "/interface")
    return problems


def launch_plan(settings, name, b64):
    theirs = get_serializable(OrderedDict(), settings, control_twins.LAUNCH_PLANS[name]).to_flyte_idl()
    mine = launch_plan_pb2.LaunchPlan()
    mine.ParseFromString(base64.b64decode(b64))
    lp_models.LaunchPlan.from_flyte_idl(mine)
    return diff(norm(MessageToDict(mine)), norm(MessageToDict(theirs)))


def dynamic(settings, name, req):
    task = getattr(control_twins, name)
    ctx = FlyteContextManager.current_context()
    state = ctx.new_execution_state().with_params(mode=ExecutionState.Mode.TASK_EXECUTION)
    with FlyteContextManager.with_context(ctx.with_serialization_settings(settings).with_execution_state(state)) as c:
        theirs = task.compile_into_workflow(c, task._task_function, **req["inputs"]).to_flyte_idl()
    mine = dynamic_job_pb2.DynamicJobSpec()
    mine.ParseFromString(base64.b64decode(req["futures"]))
    dj_models.DynamicJobSpec.from_flyte_idl(mine)
    ours, theirs = MessageToDict(mine), MessageToDict(theirs)
    problems = diff(norm(ours.get("nodes", [])), norm(theirs.get("nodes", [])), "/nodes")
    problems += diff(norm(ours.get("outputs", [])), norm(theirs.get("outputs", [])), "/outputs")
    names = lambda d: sorted(strip_prefix(t["id"]["name"]) for t in d.get("tasks", []))  # noqa: E731
    problems += diff(names(ours), names(theirs), "/tasks")
    return problems


def main():
    req = json.load(sys.stdin)
    settings = settings_of(req["settings"])
    result = {}
    for name, b64 in req.get("workflows", {}).items():
        result[name] = workflow(settings, name, b64)
    for name, b64 in req.get("node_workflows", {}).items():
        result[name] = node_workflow(settings, name, b64)
    for name, b64 in req.get("launch_plans", {}).items():
        result[f"launch plan {name}"] = launch_plan(settings, name, b64)
    for name, d in req.get("dynamic", {}).items():
        result[f"dynamic {name}"] = dynamic(settings, name, d)
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
