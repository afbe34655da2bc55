"""Round-trip oracle for `crates/flytekit-idl/tests/roundtrip.rs`.

`emit` builds real Flyte messages with flytekit (a serialized `@task`, two compiled `@workflow`s,
one with a map task, a branch and a sub-workflow, a literal map holding every literal kind, admin
task/workflow specs, a launch plan, a schedule and an execution request) and prints them as JSON:
`{case: {"type": proto full name, "hex": serialized bytes}}`.

`check` reads `{case: {"type", "original", "rust"}}` (hex) on stdin, decodes both byte strings with
the Python message class and fails unless they are equal (`==`). It prints one line per case.
"""

import datetime
import json
import sys
import typing
from collections import OrderedDict
from dataclasses import dataclass

import flytekit
from flyteidl.admin import common_pb2 as admin_common
from flyteidl.admin import execution_pb2, schedule_pb2
from flyteidl.core import execution_pb2 as core_execution
from flyteidl.core import identifier_pb2, security_pb2, workflow_closure_pb2
from flyteidl.core import literals_pb2 as L
from flyteidl.core import types_pb2 as T
from flytekit import LaunchPlan, Resources, Secret, conditional, map_task, task, workflow
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.notification import Email
from flytekit.core.schedule import CronSchedule
from flytekit.core.type_engine import TypeEngine
from flytekit.extras.accelerators import T4
from flytekit.models.common import Annotations, Labels
from flytekit.tools.translator import get_serializable
from google.protobuf import struct_pb2, symbol_database, wrappers_pb2

image = Image(name="default", fqn="ghcr.io/flyteorg/flytekit", tag="py3.11-1.16.31")
settings = SerializationSettings(
    project="flytesnacks",
    domain="development",
    version="v1",
    image_config=ImageConfig(default_image=image, images=[image]),
    env={"SETTINGS_ENV": "1"},
)


@task(
    requests=Resources(cpu="1", mem="1Gi", ephemeral_storage="2Gi"),
    limits=Resources(cpu="2", mem="2Gi", gpu="1"),
    environment={"MODE": "fast", "LEVEL": "3"},
    secret_requests=[Secret(group="aws", key="token", mount_requirement=Secret.MountType.ENV_VAR)],
    retries=3,
    timeout=datetime.timedelta(minutes=5),
    cache=True,
    cache_version="1.0",
    interruptible=True,
    accelerator=T4,
    shared_memory="512Mi",
)
def scale(x: int, factor: float = 2.0) -> float:
    return x * factor


@task
def describe(value: float, label: str) -> str:
    return f"{label}={value}"


@task
def total(xs: typing.List[float]) -> float:
    return sum(xs)


@workflow
def pipeline(x: int = 3, label: str = "result") -> str:
    a = scale(x=x)
    b = scale(x=x, factor=0.5)
    s = total(xs=[a, b])
    return describe(value=s, label=label)


@task
def square(v: int) -> float:
    return float(v * v)


@workflow
def branching(x: int = 1, items: typing.List[int] = [1, 2]) -> str:
    squares = map_task(square, concurrency=2)(v=items)
    s = total(xs=squares)
    out = (
        conditional("sign")
        .if_(x > 0)
        .then(describe(value=s, label="positive"))
        .elif_((x == 0) | (x < -10))
        .then(pipeline(x=x, label="zero"))
        .else_()
        .fail("negative")
    )
    return out


@dataclass
class Point:
    """A dataclass input, serialized by flytekit as a msgpack binary literal."""

    x: int
    y: float


def build_cases():
    cases = OrderedDict()

    entities = OrderedDict()
    task_spec = get_serializable(entities, settings, scale)
    cases["task_template"] = task_spec.template.to_flyte_idl()
    cases["task_spec"] = task_spec.to_flyte_idl()

    entities = OrderedDict()
    wf_spec = get_serializable(entities, settings, pipeline)
    cases["workflow_spec"] = wf_spec.to_flyte_idl()
    tasks = [
        e.template.to_flyte_idl()
        for e in entities.values()
        if isinstance(e, flytekit.models.task.TaskSpec)
    ]
    cases["workflow_closure"] = workflow_closure_pb2.WorkflowClosure(
        workflow=wf_spec.template.to_flyte_idl(), tasks=tasks
    )

    entities = OrderedDict()
    cases["workflow_spec_branching"] = get_serializable(entities, settings, branching).to_flyte_idl()

    lp = LaunchPlan.get_or_create(
        pipeline,
        name="pipeline_nightly",
        default_inputs={"label": "nightly"},
        fixed_inputs={"x": 7},
        schedule=CronSchedule(schedule="0 3 * * *", kickoff_time_input_arg=None),
        notifications=[Email(phases=[core_execution.WorkflowExecution.FAILED], recipients_email=["ops@example.com"])],
        labels=Labels({"team": "data"}),
        annotations=Annotations({"owner": "ops"}),
        max_parallelism=8,
        overwrite_cache=True,
    )
    cases["launch_plan"] = get_serializable(OrderedDict(), settings, lp).to_flyte_idl()

    # A literal map with every kind of literal.
    ctx = FlyteContextManager.current_context()

    def prim(**kw):
        return L.Literal(scalar=L.Scalar(primitive=L.Primitive(**kw)))

    ts = datetime.datetime(2024, 5, 17, 12, 30, 45, 123456, tzinfo=datetime.timezone.utc)
    generic = struct_pb2.Struct()
    generic.update({"a": 1.5, "b": [True, None, "s"], "c": {"d": "e"}})
    literals = {
        "int": prim(integer=42),
        "float": prim(float_value=-2.5),
        "string": prim(string_value="héllo"),
        "bool": prim(boolean=True),
        "datetime": TypeEngine.to_literal(ctx, ts, datetime.datetime, TypeEngine.to_literal_type(datetime.datetime)).to_flyte_idl(),
        "duration": TypeEngine.to_literal(
            ctx, datetime.timedelta(seconds=90, microseconds=5), datetime.timedelta,
            TypeEngine.to_literal_type(datetime.timedelta),
        ).to_flyte_idl(),
        "none": L.Literal(scalar=L.Scalar(none_type=L.Void())),
        "blob": L.Literal(
            scalar=L.Scalar(
                blob=L.Blob(
                    metadata=L.BlobMetadata(type=T.BlobType(format="csv", dimensionality=T.BlobType.MULTIPART)),
                    uri="s3://bucket/dir/",
                )
            )
        ),
        "binary": TypeEngine.to_literal(ctx, Point(1, 2.0), Point, TypeEngine.to_literal_type(Point)).to_flyte_idl(),
        "generic": L.Literal(scalar=L.Scalar(generic=generic)),
        "union": L.Literal(
            scalar=L.Scalar(
                union=L.Union(
                    value=prim(integer=5),
                    type=T.LiteralType(simple=T.INTEGER, structure=T.TypeStructure(tag="int")),
                )
            )
        ),
        "collection": TypeEngine.to_literal(
            ctx, [1, 2, 3], typing.List[int], TypeEngine.to_literal_type(typing.List[int])
        ).to_flyte_idl(),
        "map": TypeEngine.to_literal(
            ctx, {"a": "x", "b": "y"}, typing.Dict[str, str], TypeEngine.to_literal_type(typing.Dict[str, str])
        ).to_flyte_idl(),
        "error": L.Literal(
            scalar=L.Scalar(
                error=T.Error(failed_node_id="n1", message="boom")
            )
        ),
        "offloaded": L.Literal(
            offloaded_metadata=L.LiteralOffloadedMetadata(
                uri="s3://bucket/offloaded.pb",
                size_bytes=1 << 40,
                inferred_type=T.LiteralType(collection_type=T.LiteralType(simple=T.STRING)),
            ),
            hash="abc123",
            metadata={"source": "test"},
        ),
        "structured_dataset": L.Literal(
            scalar=L.Scalar(
                structured_dataset=L.StructuredDataset(
                    uri="s3://bucket/df",
                    metadata=L.StructuredDatasetMetadata(
                        structured_dataset_type=T.StructuredDatasetType(
                            columns=[
                                T.StructuredDatasetType.DatasetColumn(name="a", literal_type=T.LiteralType(simple=T.INTEGER))
                            ],
                            format="parquet",
                        )
                    ),
                )
            )
        ),
        "schema": L.Literal(
            scalar=L.Scalar(
                schema=L.Schema(
                    uri="s3://bucket/schema",
                    type=T.SchemaType(
                        columns=[T.SchemaType.SchemaColumn(name="c", type=T.SchemaType.SchemaColumn.FLOAT)]
                    ),
                )
            )
        ),
    }
    cases["literal_map"] = L.LiteralMap(literals=literals)

    wf_id = identifier_pb2.Identifier(
        resource_type=identifier_pb2.LAUNCH_PLAN, project="flytesnacks", domain="development",
        name="pipeline_nightly", version="v1",
    )
    cases["execution_create_request"] = execution_pb2.ExecutionCreateRequest(
        project="flytesnacks",
        domain="development",
        name="run-1",
        spec=execution_pb2.ExecutionSpec(
            launch_plan=wf_id,
            metadata=execution_pb2.ExecutionMetadata(
                mode=execution_pb2.ExecutionMetadata.SCHEDULED, principal="alice", nesting=1,
            ),
            disable_all=True,
            labels=admin_common.Labels(values={"team": "data"}),
            security_context=security_pb2.SecurityContext(
                run_as=security_pb2.Identity(k8s_service_account="sa"),
            ),
            max_parallelism=4,
            raw_output_data_config=admin_common.RawOutputDataConfig(output_location_prefix="s3://out"),
            interruptible=wrappers_pb2.BoolValue(value=False),
            tags=["a", "b"],
        ),
        inputs=L.LiteralMap(literals={"x": prim(integer=1)}),
    )
    cases["schedule"] = schedule_pb2.Schedule(
        rate=schedule_pb2.FixedRate(value=10, unit=schedule_pb2.HOUR), kickoff_time_input_arg="kickoff"
    )
    cases["launch_plan_spec"] = cases["launch_plan"].spec
    return cases


def emit():
    out = OrderedDict()
    for name, msg in build_cases().items():
        out[name] = {"type": msg.DESCRIPTOR.full_name, "hex": msg.SerializeToString(deterministic=True).hex()}
    json.dump(out, sys.stdout, indent=1)


def check():
    import flyteidl.admin.launch_plan_pb2  # noqa: F401  (registers the message classes)
    import flyteidl.admin.task_pb2  # noqa: F401
    import flyteidl.admin.workflow_pb2  # noqa: F401

    db = symbol_database.Default()
    cases = json.load(sys.stdin)
    failures = []
    for name, case in cases.items():
        cls = db.GetSymbol(case["type"])
        original = cls.FromString(bytes.fromhex(case["original"]))
        rust = cls.FromString(bytes.fromhex(case["rust"]))
        same_bytes = case["original"] == case["rust"]
        if original != rust:
            failures.append(f"{name} ({case['type']}): Rust bytes decode to a different message:\n"
                            f"--- original\n{original}\n--- rust\n{rust}")
        # Belt and braces: a size difference also reveals fields equality might overlook.
        if rust.ByteSize() != original.ByteSize():
            failures.append(f"{name}: size {rust.ByteSize()} after Rust, {original.ByteSize()} before")
        print(f"{name}: equal={original == rust} identical_bytes={same_bytes} size={original.ByteSize()}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    {"emit": emit, "check": check}[sys.argv[1]]()
