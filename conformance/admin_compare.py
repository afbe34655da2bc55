"""Compares what `pyflyte register` and flytekit-rs `register` sent to the fake FlyteAdmin
(conformance/fake_admin.py). Used by crates/flytekit/tests/remote_admin.rs:

    admin_compare.py PYFLYTE_REQUESTS.jsonl OURS_REQUESTS.jsonl

Prints a JSON report {"differences": [...], "calls": {"pyflyte": [...], "ours": [...]},
"bundles": {"pyflyte": {...}, "ours": {...}}}; an empty list of differences means the two
registrations are the same:

* the same successful calls (method and entity name), in any order (pyflyte registers tasks
  concurrently), with one fast-registration upload each;
* equal entity specs after normalization, which removes only what differs between the languages
  by design: versions (each SDK hashes its own code), the runtime metadata (flavor "python" vs
  "rust"), the program in container args (`pyflyte-fast-execute ... pyflyte-execute` vs
  `<binary> fast-execute ... <binary> execute`), resolver locations, and the bundle location in
  the args (checked first to be the native URL that side's upload returned);
  interface descriptions (docstrings vs doc comments) and task documentation;
* each bundle is readable at its native URL in the S3 test server, its MD5 is the content_md5
  the upload asked for, and it is a gzipped tar; the report lists its members.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
from collections import Counter

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from google.protobuf.json_format import MessageToDict

import compare

CREATE = {
    "CreateTask": task_pb2.TaskCreateRequest,
    "CreateWorkflow": workflow_pb2.WorkflowCreateRequest,
    "CreateLaunchPlan": launch_plan_pb2.LaunchPlanCreateRequest,
}
PROGRAMS = {
    "pyflyte-execute": "execute",
    "pyflyte-map-execute": "map-execute",
    "pyflyte-fast-execute": "fast-execute",
}
RESOLVERS = {
    "flytekit.core.python_auto_container.default_task_resolver": "<task resolver>",
    "flytekit.resolver.default": "<task resolver>",
    "flytekit.core.array_node_map_task.ArrayNodeMapTaskResolver": "<map resolver>",
    "flytekit.resolver.map": "<map resolver>",
}


def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def successful(log):
    return [e for e in log if e.get("code") == "OK" and e["service"] not in ("oauth", "AuthMetadataService")]


def upload_of(log):
    ups = [e for e in successful(log) if e["method"] == "CreateUploadLocation"]
    return ups[0] if len(ups) == 1 else None


def norm_args(args, binary, bundle_url, problems, side):
    out = []
    i = 0
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a == binary and nxt in ("execute", "map-execute", "fast-execute"):
            i += 1
            continue
        if out and out[-1] == "--additional-distribution":
            if a != bundle_url:
                problems.append(f"{side}: task args name bundle {a}, the upload returned {bundle_url}")
            a = "<bundle>"
        out.append(RESOLVERS.get(PROGRAMS.get(a, a), PROGRAMS.get(a, a)))
        i += 1
    return out


def norm(v, ctx, key=None):
    if isinstance(v, dict):
        d = {}
        for k, x in v.items():
            if k in ("runtime",):
                continue
            if k == "description" and key in ("variables", None) and isinstance(x, str):
                continue
            d[k] = norm(x, ctx, k)
        if "version" in d and "name" in d and ("resourceType" in d or "project" in d):
            d["version"] = "<version>"
        if "args" in d and isinstance(d["args"], list):
            d["args"] = norm_args(d["args"], *ctx)
        if "upstreamNodeIds" in d:
            d["upstreamNodeIds"] = sorted(d["upstreamNodeIds"])
        return d
    if isinstance(v, list):
        return [norm(x, ctx, key) for x in v]
    return v


def strip_descriptions(d):
    """Variable descriptions come from docstrings in Python and doc comments in Rust."""
    if isinstance(d, dict):
        out = {}
        for k, x in d.items():
            if k == "variables" and isinstance(x, dict):
                out[k] = {n: {kk: strip_descriptions(vv) for kk, vv in var.items() if kk != "description"} for n, var in x.items()}
            elif k == "parameters" and isinstance(x, dict):
                out[k] = {
                    n: {kk: (strip_descriptions({kk2: vv2 for kk2, vv2 in vv.items() if kk2 != "description"}) if kk == "var" else strip_descriptions(vv)) for kk, vv in p.items()}
                    for n, p in x.items()
                }
            else:
                out[k] = strip_descriptions(x)
        return out
    if isinstance(d, list):
        return [strip_descriptions(x) for x in d]
    return d


def entities(log, binary, problems, side):
    up = upload_of(log)
    bundle_url = up["response"]["nativeUrl"] if up else None
    out = {}
    for e in successful(log):
        cls = CREATE.get(e["method"])
        if cls is None:
            continue
        msg = cls()
        msg.ParseFromString(base64.b64decode(e["request"]))
        d = MessageToDict(msg)
        spec = d.get("spec", {})
        spec.pop("description", None)  # task/workflow documentation (docstrings vs doc comments)
        d = strip_descriptions(norm(d, (binary, bundle_url, problems, side)))
        out[(e["method"], msg.id.name)] = d
    return out


def diff(a, b, path=""):
    return compare.diff(a, b, path, ours="ours", theirs="pyflyte's")


def bundle(log, problems, side):
    up = upload_of(log)
    if up is None:
        problems.append(f"{side}: expected exactly one successful CreateUploadLocation")
        return None
    native = up["response"]["nativeUrl"]
    want_md5 = base64.b64decode(up["json"]["contentMd5"])
    bucket, _, key = native[len("s3://"):].partition("/")
    import botocore.session
    from botocore.config import Config

    s3 = botocore.session.get_session().create_client(
        "s3",
        endpoint_url=os.environ["FLYTEKIT_TEST_S3_ENDPOINT"],
        region_name=os.environ.get("FLYTEKIT_TEST_S3_REGION", "garage"),
        aws_access_key_id=os.environ["FLYTEKIT_TEST_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["FLYTEKIT_TEST_S3_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        problems.append(f"{side}: the bundle is not readable at {native}: {e}")
        return None
    data = obj["Body"].read()
    if hashlib.md5(data).digest() != want_md5:
        problems.append(f"{side}: the bundle at {native} does not have the MD5 the upload was signed for")
    try:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
            members = sorted(m.name for m in tar.getmembers() if m.isfile())
    except Exception as e:  # noqa: BLE001
        problems.append(f"{side}: the bundle at {native} is not a gzipped tar: {e}")
        members = []
    return {
        "native_url": native,
        "filename": up["json"].get("filename"),
        "size": len(data),
        "members": members,
        "metadata_md5": obj.get("Metadata", {}).get("flytecontentmd5"),
    }


def main():
    py_log, our_log = load(sys.argv[1]), load(sys.argv[2])
    binary = sys.argv[3] if len(sys.argv) > 3 else "fanout"
    problems = []

    def calls(log):
        out = []
        for e in successful(log):
            name = (e.get("json") or {}).get("id", {}).get("name") or "<bundle>"
            out.append(f"{e['method']} {name}")
        return sorted(out)

    py_calls, our_calls = calls(py_log), calls(our_log)
    if Counter(py_calls) != Counter(our_calls):
        problems.append(
            f"different calls: only pyflyte {sorted((Counter(py_calls) - Counter(our_calls)).elements())}, "
            f"only ours {sorted((Counter(our_calls) - Counter(py_calls)).elements())}"
        )
    theirs = entities(py_log, binary, problems, "pyflyte")
    ours = entities(our_log, binary, problems, "ours")
    for k in sorted(set(theirs) & set(ours)):
        for d in diff(ours[k], theirs[k]):
            problems.append(f"{k[0]} {k[1]}{d}")
    report = {
        "differences": problems,
        "calls": {"pyflyte": py_calls, "ours": our_calls},
        "bundles": {"pyflyte": bundle(py_log, problems, "pyflyte"), "ours": bundle(our_log, problems, "ours")},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
