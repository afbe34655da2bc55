"""Registration as flytectl does it, for crates/flytekit/tests/registration_hydration.rs.

  registration.py hydrate SRC OUT PROJECT DOMAIN VERSION FORCE UPLOAD DEST_DIR
      SRC is a package (.tgz) or a directory of serialized files. Applies flytectl's hydration
      (`flytectl register files -p PROJECT -d DOMAIN --version VERSION [--force]`, FORCE is
      "force" or "keep"; fast-registration placeholders become UPLOAD and DEST_DIR) to every
      .pb file, writes the hydrated files to OUT, loads each with flytekit's models, and prints
      a JSON report of every flyteidl.core.Identifier found anywhere in each file.
  registration.py identifiers FILE futures
      The same report for a DynamicJobSpec (a dynamic task's futures.pb).

flytectl's rule (flytectl/cmd/register/register_util.go, hydrateIdentifier / hydrateNode /
hydrateSpec / hydrateTaskSpec): a project or domain that is empty or the pattern
`{{ registration.project }}` / `{{ registration.domain }}` takes the flag's value; a version that
is empty or `{{ registration.version }}` takes --version, and any version does with --force. It
visits a launch plan's id and workflow_id; a workflow's id, its nodes (task references,
sub-workflow and launch-plan references, branch and array nodes, the failure node) and those of
its sub-workflows; a task's id and, in its container args, `{{ .remote_package_path }}` and
`{{ .dest_dir }}`.

The identifier report walks the protobuf messages generically (every field of every message),
so it finds identifiers that flytectl's traversal would miss.
"""

import json
import os
import sys
import tarfile

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import dynamic_job_pb2

PROJECT_PATTERN = "{{ registration.project }}"
DOMAIN_PATTERN = "{{ registration.domain }}"
VERSION_PATTERN = "{{ registration.version }}"
REMOTE_PACKAGE_PATTERN = "{{ .remote_package_path }}"
DEST_DIR_PATTERN = "{{ .dest_dir }}"


class Hydration:
    def __init__(self, project, domain, version, force, upload, dest_dir):
        self.project, self.domain, self.version = project, domain, version
        self.force, self.upload, self.dest_dir = force, upload, dest_dir

    def identifier(self, i):
        if i.project in ("", PROJECT_PATTERN):
            i.project = self.project
        if i.domain in ("", DOMAIN_PATTERN):
            i.domain = self.domain
        if self.force or i.version in ("", VERSION_PATTERN):
            i.version = self.version

    def node(self, n):
        kind = n.WhichOneof("target")
        if kind == "task_node":
            self.identifier(n.task_node.reference_id)
        elif kind == "workflow_node":
            ref = n.workflow_node.WhichOneof("reference")
            if ref == "sub_workflow_ref":
                self.identifier(n.workflow_node.sub_workflow_ref)
            elif ref == "launchplan_ref":
                self.identifier(n.workflow_node.launchplan_ref)
            else:
                raise ValueError(f"unknown workflow node reference {ref}")
        elif kind == "branch_node":
            ie = n.branch_node.if_else
            self.node(ie.case.then_node)
            for block in ie.other:
                self.node(block.then_node)
            if ie.WhichOneof("default") == "else_node":
                self.node(ie.else_node)
        elif kind == "gate_node":
            pass
        elif kind == "array_node":
            self.node(n.array_node.node)
        else:
            raise ValueError(f"unknown node type {kind}")

    def template(self, t):
        for n in t.nodes:
            self.node(n)
        if t.HasField("failure_node"):
            self.node(t.failure_node)
        self.identifier(t.id)

    def spec(self, msg):
        if isinstance(msg, launch_plan_pb2.LaunchPlan):
            self.identifier(msg.id)
            self.identifier(msg.spec.workflow_id)
        elif isinstance(msg, workflow_pb2.WorkflowSpec):
            self.template(msg.template)
            for sub in msg.sub_workflows:
                self.template(sub)
        elif isinstance(msg, task_pb2.TaskSpec):
            self.identifier(msg.template.id)
            if msg.template.HasField("container"):
                args = msg.template.container.args
                for k, a in enumerate(args):
                    if a == REMOTE_PACKAGE_PATTERN:
                        args[k] = self.upload
                    if a == DEST_DIR_PATTERN:
                        args[k] = self.dest_dir or "."
        else:
            raise ValueError(f"unknown message {type(msg)}")


def identifiers(msg, path=""):
    """Every flyteidl.core.Identifier in msg, with the field path that leads to it."""
    found = []
    if msg.DESCRIPTOR.full_name == "flyteidl.core.Identifier":
        return [{"path": path, "project": msg.project, "domain": msg.domain, "name": msg.name, "version": msg.version}]
    for field, value in msg.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        here = f"{path}.{field.name}" if path else field.name
        if hasattr(value, "DESCRIPTOR"):
            found += identifiers(value, here)
        elif hasattr(value, "items"):
            for k, v in value.items():
                if hasattr(v, "DESCRIPTOR"):
                    found += identifiers(v, f"{here}[{k}]")
        else:
            for i, v in enumerate(value):
                found += identifiers(v, f"{here}[{i}]")
    return found


def serialized_contexts(msg):
    """The SerializationSettings flytekit reads from every `_F_SS_C` in a task's container env."""
    from flytekit.configuration import SerializationSettings

    out = []
    if isinstance(msg, task_pb2.TaskSpec) and msg.template.HasField("container"):
        for kv in msg.template.container.env:
            if kv.key == "_F_SS_C":
                s = SerializationSettings.from_transport(kv.value)
                out.append({"project": s.project, "domain": s.domain, "version": s.version})
    return out


def load_with_flytekit(msg):
    """flytekit's model loaders must read the message (raises otherwise)."""
    if isinstance(msg, task_pb2.TaskSpec):
        from flytekit.models.task import TaskSpec

        return TaskSpec.from_flyte_idl(msg).template.id.name
    if isinstance(msg, workflow_pb2.WorkflowSpec):
        from flytekit.models.admin.workflow import WorkflowSpec

        return WorkflowSpec.from_flyte_idl(msg).template.id.name
    if isinstance(msg, launch_plan_pb2.LaunchPlan):
        from flytekit.models.launch_plan import LaunchPlan

        return LaunchPlan.from_flyte_idl(msg).id.name
    if isinstance(msg, dynamic_job_pb2.DynamicJobSpec):
        from flytekit.models.dynamic_job import DynamicJobSpec

        spec = DynamicJobSpec.from_flyte_idl(msg)
        return f"{len(spec.nodes)} nodes"
    raise ValueError(type(msg))


def parse(name, data):
    if name.endswith("_1.pb"):
        msg = task_pb2.TaskSpec()
    elif name.endswith("_2.pb"):
        msg = workflow_pb2.WorkflowSpec()
    elif name.endswith("_3.pb"):
        msg = launch_plan_pb2.LaunchPlan()
    else:
        raise ValueError(f"{name}: not a pyflyte-layout file")
    msg.ParseFromString(data)
    return msg


def files_of(src):
    if os.path.isdir(src):
        for name in sorted(os.listdir(src)):
            with open(os.path.join(src, name), "rb") as f:
                yield name, f.read()
    else:
        with tarfile.open(src) as tar:
            for m in tar.getmembers():
                yield m.name, tar.extractfile(m).read()


def report_of(name, msg):
    return {
        "file": name,
        "kind": type(msg).__name__,
        "loaded": load_with_flytekit(msg),
        "identifiers": identifiers(msg),
        "serialized_contexts": serialized_contexts(msg),
        "args": list(msg.template.container.args) if isinstance(msg, task_pb2.TaskSpec) else [],
        "env": {kv.key: kv.value for kv in msg.template.container.env} if isinstance(msg, task_pb2.TaskSpec) else {},
    }


def hydrate(src, out, project, domain, version, force, upload, dest_dir):
    h = Hydration(project, domain, version, force == "force", upload, dest_dir)
    os.makedirs(out, exist_ok=True)
    report = {"files": [], "bundles": []}
    for name, data in files_of(src):
        if name.startswith("fast") and name.endswith(".tar.gz"):
            report["bundles"].append(name)
            continue
        before = parse(name, data)
        msg = parse(name, data)
        h.spec(msg)
        with open(os.path.join(out, name), "wb") as f:
            f.write(msg.SerializeToString())
        entry = report_of(name, msg)
        entry["before"] = identifiers(before)
        report["files"].append(entry)
    print(json.dumps(report))


def main():
    if len(sys.argv) == 10 and sys.argv[1] == "hydrate":
        hydrate(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "identifiers" and sys.argv[3] == "futures":
        msg = dynamic_job_pb2.DynamicJobSpec()
        with open(sys.argv[2], "rb") as f:
            msg.ParseFromString(f.read())
        print(json.dumps({"loaded": load_with_flytekit(msg), "identifiers": identifiers(msg)}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
