"""The flytekit side of the map-task and dynamic-workflow tests (crates/flytekit/tests/map_task.rs,
crates/flytekit/tests/dynamic.rs). The Python twins live in conformance/fanout_twins.py.

  map_dynamic.py structure                 stdin: {"settings": {...}, "workflows": {name:
                                           {"template": b64 WorkflowTemplate, "tasks": [b64
                                           TaskTemplate, ...]}}}; loads ours with flytekit's models,
                                           serializes the twin and prints {name: [differences]}
  map_dynamic.py write-inputs PATH JSON    a LiteralMap of the JSON values (int, float, str, bool and
                                           lists of them) written by flytekit's TypeEngine
  map_dynamic.py read DIR                  decodes DIR/outputs.pb, DIR/futures.pb and DIR/error*.pb
                                           with flytekit and prints a JSON report
  map_dynamic.py py-map-execute DIR TASK JSON INDEX_ENV_JSON [BOUND]
                                           runs pyflyte-map-execute on the twin TASK with inputs JSON,
                                           the given index variables and bound inputs (comma-separated);
                                           prints `read DIR`
  map_dynamic.py dynamic-diff FUTURES TASK JSON SETTINGS_JSON [DISTRO DEST]
                                           runs pyflyte-execute (under fast-execute's arguments when
                                           DISTRO is given) on the twin dynamic TASK with inputs JSON
                                           and compares its futures.pb with FUTURES (ours); prints
                                           {"differences": [...], "ours": ..., "theirs": ...}

Normalization keeps structure and removes only what differs between the languages by design:
module prefixes of names (`fanout.` / `fanout_twins.`), the runtime metadata (flavor/version), the
program names in container args (`<binary> execute` vs `pyflyte-execute`), the resolver locations
and the task module in loader args, and the order of the task list (flytekit lists a map task once
per `map_task(...)` call; duplicates are dropped).
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from flyteidl.core import dynamic_job_pb2, literals_pb2, tasks_pb2, workflow_pb2  # noqa: E402
from flytekit.configuration import ImageConfig, SerializationSettings  # noqa: E402
from flytekit.core.context_manager import FlyteContextManager  # noqa: E402
from flytekit.core.type_engine import TypeEngine  # noqa: E402
from flytekit.models import dynamic_job as dj_models  # noqa: E402
from flytekit.models import task as task_models  # noqa: E402
from flytekit.models.core import workflow as wf_models  # noqa: E402
from flytekit.models.literals import LiteralMap  # noqa: E402
from flytekit.tools.translator import get_serializable  # noqa: E402
from google.protobuf.json_format import MessageToDict  # noqa: E402

import fanout_twins  # noqa: E402
from compare import diff  # noqa: E402
from error_doc import describe, read_error  # noqa: E402

PREFIXES = ("fanout_twins.", "fanout.")
PROGRAMS = {
    "pyflyte-execute": "execute",
    "pyflyte-map-execute": "map-execute",
    "pyflyte-fast-execute": "fast-execute",
}
RESOLVERS = {
    "flytekit.core.python_auto_container.default_task_resolver": "flytekit.resolver.default",
    "flytekit.core.array_node_map_task.ArrayNodeMapTaskResolver": "flytekit.resolver.map",
}
BINARY = "fanout"


def settings_of(s):
    return SerializationSettings(
        image_config=ImageConfig.auto_default_image() if not s.get("image") else ImageConfig.from_images(s["image"]),
        project=s["project"],
        domain=s["domain"],
        version=s["version"],
    )


def strip_prefix(v):
    for p in PREFIXES:
        if v.startswith(p):
            return v[len(p):]
    return v


def norm_args(args):
    out = []
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a == BINARY and nxt in ("execute", "map-execute", "fast-execute"):
            i += 1
            continue
        a = PROGRAMS.get(a, a)
        a = RESOLVERS.get(a, a)
        if out and out[-1] == "task-module":
            a = "<module>"
        out.append(a)
        i += 1
    return out


def norm(v, key=None):
    if isinstance(v, dict):
        d = {}
        for k, x in v.items():
            if k == "runtime":
                continue
            d[k] = norm(x, k)
        if "upstreamNodeIds" in d:
            d["upstreamNodeIds"] = sorted(d["upstreamNodeIds"])
        if "args" in d and isinstance(d["args"], list):
            d["args"] = norm_args(d["args"])
        return d
    if isinstance(v, list):
        return [norm(x, key) for x in v]
    if isinstance(v, str):
        return strip_prefix(v)
    return v


def norm_tasks(tasks):
    seen = {}
    for t in tasks:
        t = norm(t)
        seen.setdefault(t["id"]["name"], t)
    return [seen[k] for k in sorted(seen)]


def structure():
    req = json.load(sys.stdin)
    settings = settings_of(req["settings"])
    result = {}
    for name, ours in req["workflows"].items():
        mapping = OrderedDict()
        theirs = get_serializable(mapping, settings, fanout_twins.WORKFLOWS[name]).template.to_flyte_idl()
        mine = workflow_pb2.WorkflowTemplate()
        mine.ParseFromString(base64.b64decode(ours["template"]))
        wf_models.WorkflowTemplate.from_flyte_idl(mine)
        problems = diff(norm(MessageToDict(mine)), norm(MessageToDict(theirs)))
        their_tasks = {}
        for model in mapping.values():
            if isinstance(model, task_models.TaskSpec):
                t = norm(MessageToDict(model.template.to_flyte_idl()))
                their_tasks[t["id"]["name"]] = t
        for b64 in ours.get("tasks", []):
            pb = tasks_pb2.TaskTemplate()
            pb.ParseFromString(base64.b64decode(b64))
            task_models.TaskTemplate.from_flyte_idl(pb)
            t = norm(MessageToDict(pb))
            other = their_tasks.get(t["id"]["name"])
            if other is None:
                problems.append(f"task {t['id']['name']}: flytekit has no such task; it has {sorted(their_tasks)}")
                continue
            problems += [f"task {t['id']['name']}{p}" for p in diff(t, other)]
        result[name] = problems
    json.dump(result, sys.stdout, indent=1)


def python_type(v):
    from typing import List

    if isinstance(v, list):
        return List[python_type(v[0]) if v else int]
    return type(v)


def write_inputs(path, values):
    ctx = FlyteContextManager.current_context()
    lits = {}
    for k, v in values.items():
        t = python_type(v)
        lits[k] = TypeEngine.to_literal(ctx, v, t, TypeEngine.to_literal_type(t))
    with open(path, "wb") as f:
        f.write(LiteralMap(lits).to_flyte_idl().SerializeToString())


def to_python(lit):
    """Decodes a literal with flytekit: primitives through the TypeEngine, containers recursively."""
    ctx = FlyteContextManager.current_context()
    if lit.collection is not None:
        return [to_python(x) for x in lit.collection.literals]
    if lit.map is not None:
        return {k: to_python(x) for k, x in lit.map.literals.items()}
    s = lit.scalar
    if s is not None and s.union is not None:
        return to_python(s.union.value)
    if s is not None and s.none_type is not None:
        return None
    if s is not None and s.binary is not None:
        import msgpack

        return msgpack.loads(s.binary.value)
    p = s.primitive
    for attr, t in (("integer", int), ("float_value", float), ("string_value", str), ("boolean", bool)):
        if getattr(p, attr) is not None:
            return TypeEngine.to_python_value(ctx, lit, t)
    raise ValueError(f"unexpected literal {lit}")


def read(directory):
    report = {"files": sorted(os.listdir(directory)) if os.path.isdir(directory) else []}
    out = os.path.join(directory, "outputs.pb")
    if os.path.exists(out):
        pb = literals_pb2.LiteralMap()
        with open(out, "rb") as f:
            pb.ParseFromString(f.read())
        lm = LiteralMap.from_flyte_idl(pb)
        report["outputs"] = {k: to_python(v) for k, v in lm.literals.items()}
    fut = os.path.join(directory, "futures.pb")
    if os.path.exists(fut):
        pb = dynamic_job_pb2.DynamicJobSpec()
        with open(fut, "rb") as f:
            pb.ParseFromString(f.read())
        spec = dj_models.DynamicJobSpec.from_flyte_idl(pb)
        report["futures"] = {"nodes": [n.id for n in spec.nodes], "tasks": [t.id.name for t in spec.tasks]}
    found = read_error(directory)
    if found:
        report["error"] = describe(found[1])
    return report


def venv_bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def py_map_execute(directory, task, values, index_env, bound=""):
    os.makedirs(directory, exist_ok=True)
    inputs = os.path.join(directory, "inputs.pb")
    write_inputs(inputs, values)
    out = os.path.join(directory, "out")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_JOB_ARRAY")}
    env.update(index_env)
    subprocess.run(
        [venv_bin("pyflyte-map-execute"), "--inputs", inputs, "--output-prefix", out,
         "--raw-output-data-prefix", os.path.join(directory, "raw"),
         "--resolver", "flytekit.core.array_node_map_task.ArrayNodeMapTaskResolver", "--",
         "vars", bound, "resolver", "flytekit.core.python_auto_container.default_task_resolver",
         "task-module", "fanout_twins", "task-name", task],
        cwd=HERE, env=env, check=True, capture_output=True,
    )
    print(json.dumps(read(out), sort_keys=True))


def futures_dict(path):
    pb = dynamic_job_pb2.DynamicJobSpec()
    with open(path, "rb") as f:
        pb.ParseFromString(f.read())
    # flytekit must be able to load ours into its models.
    dj_models.DynamicJobSpec.from_flyte_idl(pb)
    d = norm(MessageToDict(pb))
    d["tasks"] = norm_tasks(d.get("tasks", []))
    return d


def dynamic_diff(ours_path, task, values, settings, distro=None, dest=None):
    with tempfile.TemporaryDirectory() as tmp:
        inputs = os.path.join(tmp, "inputs.pb")
        write_inputs(inputs, values)
        out = os.path.join(tmp, "out")
        env = dict(os.environ)
        env["_F_SS_C"] = settings_of(settings).with_serialized_context().env["_F_SS_C"]
        env["FLYTE_INTERNAL_TASK_VERSION"] = settings["task_version"]
        argv = [venv_bin("pyflyte-execute"), "--inputs", inputs, "--output-prefix", out,
                "--raw-output-data-prefix", os.path.join(tmp, "raw")]
        if distro:
            argv += ["--dynamic-addl-distro", distro, "--dynamic-dest-dir", dest]
        argv += ["--resolver", "flytekit.core.python_auto_container.default_task_resolver", "--",
                 "task-module", "fanout_twins", "task-name", task]
        subprocess.run(argv, cwd=HERE, env=env, check=True, capture_output=True)
        theirs_path = os.path.join(out, "futures.pb")
        if not os.path.exists(theirs_path):
            print(json.dumps({"differences": [f"flytekit wrote no futures.pb: {read(out)}"]}))
            return
        ours, theirs = futures_dict(ours_path), futures_dict(theirs_path)
        print(json.dumps({"differences": diff(ours, theirs), "ours": ours, "theirs": theirs}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "structure":
        structure()
    elif cmd == "write-inputs":
        write_inputs(sys.argv[2], json.loads(sys.argv[3]))
    elif cmd == "read":
        print(json.dumps(read(sys.argv[2]), sort_keys=True))
    elif cmd == "py-map-execute":
        py_map_execute(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5]), *sys.argv[6:7])
    elif cmd == "dynamic-diff":
        extra = sys.argv[6:8] if len(sys.argv) > 7 else [None, None]
        dynamic_diff(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5]), *extra)
    else:
        sys.exit(f"unknown command {cmd}")
