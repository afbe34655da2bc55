"""Type-engine oracle: Python flytekit's `TypeEngine` on the other side of flytekit-rs.

Usage (all protobuf bytes on stdin/stdout, `flyteidl.core.LiteralMap`):

  types_oracle.py write <workdir>   print a LiteralMap: for each case of types_cases.py, the literal
                                    flytekit's TypeEngine.to_literal makes of the case's value
                                    (blob cases: files and directories created under <workdir>;
                                    legacy cases: dataclasses in the old generic JSON form).
  types_oracle.py read              read a LiteralMap written by Rust, convert each case with
                                    TypeEngine.to_python_value and compare with the expected value.
  types_oracle.py types             read a LiteralMap whose literals are Binary(tag="literal_type",
                                    value=<LiteralType bytes>) and compare each with
                                    TypeEngine.to_literal_type(python type).

`read` and `types` print one line per failing case ("FAIL <name>: <why>") and "PASSED <n> OF <total>"
at the end; they exit 0 either way so that the Rust test can show every failure.
"""

import dataclasses
import datetime
import os
import sys

from flyteidl.core import literals_pb2, types_pb2
from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.type_engine import DataclassTransformer, TypeEngine
from flytekit.models.literals import LiteralMap
from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile
from google.protobuf.json_format import MessageToJson

from types_cases import BLOB_CASES, CASES, DIR_CONTENT, FILE_CONTENT, LEGACY_CASES


def all_types():
    return [(n, t) for n, t, _ in CASES] + list(BLOB_CASES)


def write(workdir):
    ctx = FlyteContextManager.current_context()
    literals = {}
    for name, t, value in CASES:
        literals[name] = TypeEngine.to_literal(ctx, value, t, TypeEngine.to_literal_type(t))
    # The legacy form (FLYTE_USE_OLD_DC_FORMAT=true, flytekit < 1.14): a generic JSON Struct.
    legacy = DataclassTransformer()
    for name, t, value in LEGACY_CASES:
        literals[name] = legacy.to_generic_literal(ctx, value, t, TypeEngine.to_literal_type(t))
    src = os.path.join(workdir, "py_src")
    os.makedirs(os.path.join(src, "dir", "sub"), exist_ok=True)
    file_path = os.path.join(src, "hello.txt")
    with open(file_path, "w") as f:
        f.write(FILE_CONTENT)
    for rel, content in DIR_CONTENT.items():
        with open(os.path.join(src, "dir", rel), "w") as f:
            f.write(content)
    for name, t in BLOB_CASES:
        value = t(os.path.join(src, "dir")) if name == "dir" else t(file_path)
        literals[name] = TypeEngine.to_literal(ctx, value, t, TypeEngine.to_literal_type(t))
    sys.stdout.buffer.write(LiteralMap(literals).to_flyte_idl().SerializeToString())


def same(expected, actual):
    if isinstance(expected, (FlyteFile, FlyteDirectory)):
        # A remote blob read back is a lazy local path whose remote_source is the URI.
        uri = getattr(actual, "remote_source", None) or str(actual.path)
        return type(actual) is type(expected) and str(expected.path) == uri
    if dataclasses.is_dataclass(expected) and not isinstance(expected, type):
        return type(expected) == type(actual) and all(
            same(getattr(expected, f.name), getattr(actual, f.name)) for f in dataclasses.fields(expected)
        )
    if isinstance(expected, datetime.datetime) and isinstance(actual, datetime.datetime):
        # flytekit returns primitive datetimes as naive UTC or aware UTC depending on the path.
        def norm(d):
            return d.replace(tzinfo=datetime.timezone.utc) if d.tzinfo is None else d

        return norm(expected) == norm(actual)
    if isinstance(expected, float) and isinstance(actual, float):
        return expected == actual
    return type(expected) == type(actual) and expected == actual


def read_blob(name, value):
    if name == "dir":
        root = value.download()
        got = {}
        for dirpath, _, files in os.walk(root):
            for fn in files:
                full = os.path.join(dirpath, fn)
                with open(full) as f:
                    got[os.path.relpath(full, root)] = f.read()
        return got == DIR_CONTENT, f"directory contents {got}"
    with open(value.download()) as f:
        content = f.read()
    return content == FILE_CONTENT, f"file content {content!r}"


def read():
    ctx = FlyteContextManager.current_context()
    pb = literals_pb2.LiteralMap()
    pb.ParseFromString(sys.stdin.buffer.read())
    lm = LiteralMap.from_flyte_idl(pb)
    failures = []
    for name, t, expected in CASES:
        if name not in lm.literals:
            failures.append(f"{name}: missing from the Rust output")
            continue
        try:
            actual = TypeEngine.to_python_value(ctx, lm.literals[name], t)
        except Exception as e:  # noqa: BLE001 - report every failure
            failures.append(f"{name}: to_python_value failed: {type(e).__name__}: {e}")
            continue
        if not same(expected, actual):
            failures.append(f"{name}: expected {expected!r}, got {actual!r}")
    for name, t in BLOB_CASES:
        if name not in lm.literals:
            failures.append(f"{name}: missing from the Rust output")
            continue
        try:
            value = TypeEngine.to_python_value(ctx, lm.literals[name], t)
            ok, what = read_blob(name, value)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: to_python_value failed: {type(e).__name__}: {e}")
            continue
        if not ok:
            failures.append(f"{name}: {what}")
    report(failures, len(all_types()))


def types():
    pb = literals_pb2.LiteralMap()
    pb.ParseFromString(sys.stdin.buffer.read())
    failures = []
    for name, t in all_types():
        if name not in pb.literals:
            failures.append(f"{name}: missing from the Rust output")
            continue
        rust = types_pb2.LiteralType()
        rust.ParseFromString(pb.literals[name].scalar.binary.value)
        py = TypeEngine.to_literal_type(t).to_flyte_idl()
        if rust != py:
            failures.append(
                f"{name}: literal types differ\n--- flytekit:\n{MessageToJson(py, sort_keys=True)}\n"
                f"--- flytekit-rs:\n{MessageToJson(rust, sort_keys=True)}"
            )
    report(failures, len(all_types()))


def report(failures, total):
    for f in failures:
        print(f"FAIL {f}")
    print(f"PASSED {total - len(failures)} OF {total}")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "write":
        write(sys.argv[2])
    elif mode == "read":
        read()
    elif mode == "types":
        types()
    else:
        sys.exit(f"unknown mode {mode}; use write, read or types")
