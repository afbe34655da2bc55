"""Compares flytekit-rs task templates with what flytekit 1.16 emits for the same tasks.

Used by `crates/flytekit/tests/task_template_oracle.rs`. Reads a JSON object on stdin:

    {"settings": {"project": P, "domain": D, "version": V, "image": "<default image>",
                  "binary": "<first container arg>", "module": "<Rust module of the tasks>",
                  "runtime_version": "<flytekit-rs version>",
                  "env": [[K, V], ...] (optional, registration-wide env, in order),
                  "default_resources": {"requests": {...}, "limits": {...}} (optional)},
     "tasks": {"<case>": "<base64 TaskTemplate>"}}

For each case it
1. parses the bytes with flyteidl's `TaskTemplate` and with flytekit's model class
   (`flytekit.models.task.TaskTemplate.from_flyte_idl`),
2. serializes the Python twin below (`PYTHON_TASKS[case]`, same options, same input and output
   names and types) with flytekit's `get_serializable`, and
3. compares both field by field (as `MessageToDict` trees), and again after a round trip through
   flytekit's model classes.

Everything must be equal except the documented differences, which are checked and then removed:
- `id.name`: the module path differs; the Rust name must be `<module>.<case>`, the last segments
  must match.
- container `args` (also the primary container's args in a pod spec): flytekit-rs runs
  `<binary> execute <flags> --resolver flytekit.resolver.default -- task-module <module> task-name
  <fn>`, flytekit `pyflyte-execute <flags> --resolver <its resolver> -- task-module <module>
  task-name <fn>`. The binary, the `execute` subcommand, the resolver location and the module are
  checked and replaced by placeholders; the flags and the rest must be identical.
- `metadata.runtime`: flytekit-rs must say `{FLYTE_SDK, <its version>, "rust"}`.
- interface variable descriptions (flytekit-rs takes them from doc comments, else the name).

Prints `{"<case>": [differences...]}`; an empty list means identical. A case the script has no
twin for is reported as a difference. Exits non-zero only when it cannot run at all.
"""

import base64
import json
import sys
from collections import OrderedDict
from datetime import timedelta
from typing import Dict, List, Tuple

from flytekit import Cache, PodTemplate, Resources, Secret, task
from flytekit.configuration import ImageConfig, SerializationSettings
from flytekit.core.resources import ResourceSpec
from flytekit.extras.accelerators import A100, L4, T4
from flytekit.models import task as task_models
from flytekit.tools.translator import get_serializable
from flyteidl.core import tasks_pb2
from google.protobuf.json_format import MessageToDict
from kubernetes.client import (
    V1Container,
    V1EmptyDirVolumeSource,
    V1EnvVar,
    V1PodSpec,
    V1ResourceRequirements,
    V1Toleration,
    V1Volume,
    V1VolumeMount,
)

from compare import diff

# --- The Python twins of the tasks in crates/flytekit/tests/task_template_oracle.rs ------------


@task(
    requests=Resources(cpu="1", mem="2Gi"),
    limits=Resources(ephemeral_storage="1Gi", cpu="2", gpu="1", mem="4Gi"),
    environment={"FOO": "bar", "ALPHA": "1"},
)
def plain(a: int, b: str, xs: List[float], m: Dict[str, int]) -> Tuple[float, str]:
    return 0.0, ""


@task(
    pod_template=PodTemplate(
        pod_spec=V1PodSpec(
            containers=[
                V1Container(
                    name="primary",
                    env=[V1EnvVar(name="FROM_POD", value="1")],
                    volume_mounts=[V1VolumeMount(name="data", mount_path="/data")],
                ),
                V1Container(name="sidecar", command=["sleep", "infinity"]),
            ],
            volumes=[V1Volume(name="data", empty_dir=V1EmptyDirVolumeSource())],
            node_selector={"pool": "gpu"},
            tolerations=[V1Toleration(key="k", operator="Exists", effect="NoSchedule")],
        ),
        labels={"team": "ml"},
        annotations={"note": "x"},
    ),
    requests=Resources(cpu="500m", mem="1Gi"),
    limits=Resources(mem="2Gi"),
    environment={"TASK_ENV": "y"},
    labels={"owner": "me"},
)
def pod(x: int) -> int:
    return x


@task(
    pod_template=PodTemplate(
        pod_spec=V1PodSpec(containers=[V1Container(name="side", image="busybox:1")]),
        primary_container_name="main",
    ),
)
def pod_appended(x: int) -> int:
    return x


@task(
    pod_template=PodTemplate(
        pod_spec=V1PodSpec(
            containers=[
                V1Container(
                    name="primary",
                    image="{{.image.default.fqn}}:pod",
                    resources=V1ResourceRequirements(requests={"cpu": "3"}),
                ),
                V1Container(name="sidecar", image="{{.image.default}}"),
            ]
        )
    ),
)
def pod_images(x: int) -> int:
    return x


@task(accelerator=A100.partition_2g_10gb, requests=Resources(gpu="1"))
def gpu_partition(x: int) -> int:
    return x


@task(accelerator=A100.unpartitioned)
def gpu_whole(x: int) -> int:
    return x


@task(accelerator=A100)
def gpu_a100(x: int) -> int:
    return x


@task(accelerator=T4, limits=Resources(gpu="1"))
def gpu_t4(x: int) -> int:
    return x


@task(shared_memory=True)
def shm_unlimited(x: int) -> int:
    return x


@task(shared_memory="2Gi", accelerator=L4)
def shm_sized(x: int) -> int:
    return x


@task(
    secret_requests=[
        Secret(group="g", key="k"),
        Secret(
            group="db",
            key="password",
            group_version="v2",
            mount_requirement=Secret.MountType.ENV_VAR,
            env_var="DB_PASSWORD",
        ),
        Secret(group="tls", key="cert", mount_requirement=Secret.MountType.FILE),
        Secret(group="api", key="token", mount_requirement=Secret.MountType.ANY, env_var="API_TOKEN"),
    ]
)
def secrets(x: int) -> int:
    return x


@task(cache=Cache(version="1.2", serialize=True, ignored_inputs=("b",)))
def cached(a: int, b: str) -> str:
    return b


@task(retries=3, timeout=timedelta(seconds=90.5), interruptible=True, deprecated="use policy_v2")
def policy(x: int) -> int:
    return x


@task(interruptible=False, retries=1, timeout=timedelta(hours=2))
def not_interruptible(x: int) -> int:
    return x


@task(resources=Resources(cpu=("1", "2"), mem="1Gi", gpu=("1", "1"), ephemeral_storage="5Gi"))
def pairs(x: int) -> int:
    return x


@task(enable_deck=True)
def deck(x: int) -> int:
    return x


@task(
    labels={"team": "ml", "env": "prod"},
    annotations={"note": "hello"},
    pod_template_name="base-pod",
    container_image="ghcr.io/other/img:v2",
)
def meta() -> None:
    pass


@task(container_image="{{.image.default.fqn}}:{{.image.default.version}}", environment={"ONLY": "one"})
def placeholder(flag: bool, when: float) -> bool:
    return flag


PYTHON_TASKS = {
    t.name.rsplit(".", 1)[-1]: t
    for t in [
        plain,
        pod,
        pod_appended,
        pod_images,
        gpu_partition,
        gpu_whole,
        gpu_a100,
        gpu_t4,
        shm_unlimited,
        shm_sized,
        secrets,
        cached,
        policy,
        not_interruptible,
        pairs,
        deck,
        meta,
        placeholder,
    ]
}

RUST_RESOLVER = "flytekit.resolver.default"


def short(name):
    return name.rsplit(".", 1)[-1]


def normalize_args(args, rust, s, case, problems, where):
    """Checks the language-specific parts of the container args and replaces them by placeholders."""
    args = list(args)
    if rust:
        if args[:2] != [s["binary"], "execute"]:
            problems.append(f"{where}: flytekit-rs args start {args[:2]}, expected [{s['binary']!r}, 'execute']")
        args = args[2:]
    else:
        args = args[1:]
    try:
        r = args.index("--resolver")
        resolver = args[r + 1]
        if rust and resolver != RUST_RESOLVER:
            problems.append(f"{where}: flytekit-rs resolver {resolver!r} != {RUST_RESOLVER!r}")
        args[r + 1] = "<resolver>"
        m = args.index("task-module")
        if rust and args[m + 1] != s["module"]:
            problems.append(f"{where}: flytekit-rs task-module {args[m + 1]!r} != {s['module']!r}")
        args[m + 1] = "<module>"
    except (ValueError, IndexError):
        problems.append(f"{where}: {'flytekit-rs' if rust else 'flytekit'} args lack --resolver/task-module: {args}")
    return args


def normalize(d, rust, s, case, problems):
    """Checks and removes the documented differences of one TaskTemplate (as a dict)."""
    side = "flytekit-rs" if rust else "flytekit"
    name = d.get("id", {}).get("name", "")
    if rust and name != f"{s['module']}.{case}":
        problems.append(f"/id/name: flytekit-rs {name!r} != {s['module']}.{case!r}")
    d["id"]["name"] = short(name)

    runtime = d.get("metadata", {}).pop("runtime", None)
    want = (
        {"type": "FLYTE_SDK", "version": s["runtime_version"], "flavor": "rust"}
        if rust
        else {"type": "FLYTE_SDK", "version": __import__("flytekit").__version__, "flavor": "python"}
    )
    if runtime != want:
        problems.append(f"/metadata/runtime: {side} {runtime} != {want}")

    for io in ("inputs", "outputs"):
        for var in d.get("interface", {}).get(io, {}).get("variables", {}).values():
            var.pop("description", None)

    if "container" in d:
        d["container"]["args"] = normalize_args(d["container"].get("args", []), rust, s, case, problems, "/container/args")
    pod = d.get("k8sPod")
    if pod:
        primary = d.get("config", {}).get("primary_container_name")
        for c in pod.get("podSpec", {}).get("containers", []):
            if c.get("name") == primary:
                c["args"] = normalize_args(c.get("args", []), rust, s, case, problems, "/k8sPod/podSpec/primary/args")
    return d


def compare(case, ours_b64, s, settings):
    problems = []
    py = PYTHON_TASKS.get(case)
    if py is None:
        return [f"no Python twin for case {case!r} in conformance/task_templates.py"]
    mine = tasks_pb2.TaskTemplate()
    mine.ParseFromString(base64.b64decode(ours_b64))
    # flytekit must be able to read what we wrote into its own model classes.
    try:
        my_model = task_models.TaskTemplate.from_flyte_idl(mine)
    except Exception as e:  # noqa: BLE001 - report, don't crash the other cases
        return [f"flytekit cannot read the template into its model: {type(e).__name__}: {e}"]
    theirs = get_serializable(OrderedDict(), settings, py).template.to_flyte_idl()
    their_model = task_models.TaskTemplate.from_flyte_idl(theirs)

    problems += diff(
        normalize(MessageToDict(mine), True, s, case, problems),
        normalize(MessageToDict(theirs), False, s, case, problems),
    )
    # The same after a round trip through flytekit's models (what flytekit's tools would re-emit).
    rt = []
    rt_problems = diff(
        normalize(MessageToDict(my_model.to_flyte_idl()), True, s, case, rt),
        normalize(MessageToDict(their_model.to_flyte_idl()), False, s, case, rt),
    )
    problems += [f"(flytekit model round trip) {p}" for p in rt_problems]
    return problems


def main():
    req = json.load(sys.stdin)
    s = req["settings"]
    default_resources = None
    if s.get("default_resources"):
        d = s["default_resources"]
        default_resources = ResourceSpec(requests=Resources(**d["requests"]), limits=Resources(**d["limits"]))
    settings = SerializationSettings(
        image_config=ImageConfig.from_images(s["image"]),
        project=s["project"],
        domain=s["domain"],
        version=s["version"],
        env=dict(s["env"]) if s.get("env") else None,
        default_resources=default_resources,
    )
    result = {case: compare(case, b64, s, settings) for case, b64 in req["tasks"].items()}
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
