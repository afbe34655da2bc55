"""The flytekit side of the entrypoint contract tests (crates/flytekit/tests/entrypoint_contract.rs).

  entrypoint.py write-inputs PATH JSON   write a LiteralMap of the JSON object's values (int, float,
                                         str, bool) with flytekit's TypeEngine, as Propeller would
  entrypoint.py read DIR                 decode DIR/outputs.pb and DIR/error*.pb with flytekit and
                                         print a JSON report
"""

import json
import os
import sys

from flyteidl.core import literals_pb2
from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import LiteralMap

from error_doc import describe, read_error


def write_inputs(path, values):
    ctx = FlyteContextManager.current_context()
    lits = {}
    for k, v in values.items():
        t = type(v)
        lits[k] = TypeEngine.to_literal(ctx, v, t, TypeEngine.to_literal_type(t))
    with open(path, "wb") as f:
        f.write(LiteralMap(lits).to_flyte_idl().SerializeToString())


def write_offloaded_inputs(path, values):
    """Like write_inputs, but every input is offloaded to `<path>.<name>.pb` as Propeller does."""
    from flyteidl.core import literals_pb2 as lpb

    ctx = FlyteContextManager.current_context()
    lits = {}
    for k, v in values.items():
        t = type(v)
        lt = TypeEngine.to_literal_type(t)
        lit = TypeEngine.to_literal(ctx, v, t, lt)
        blob = f"{path}.{k}.pb"
        data = lit.to_flyte_idl().SerializeToString()
        with open(blob, "wb") as f:
            f.write(data)
        pointer = lpb.Literal(
            offloaded_metadata=lpb.LiteralOffloadedMetadata(uri=blob, size_bytes=len(data), inferred_type=lt.to_flyte_idl())
        )
        lits[k] = pointer
    with open(path, "wb") as f:
        f.write(lpb.LiteralMap(literals=lits).SerializeToString())


def read(directory):
    ctx = FlyteContextManager.current_context()
    report = {"files": sorted(os.listdir(directory)) if os.path.isdir(directory) else []}
    out = os.path.join(directory, "outputs.pb")
    if os.path.exists(out):
        pb = literals_pb2.LiteralMap()
        with open(out, "rb") as f:
            pb.ParseFromString(f.read())
        lm = LiteralMap.from_flyte_idl(pb)
        values = {}
        for k, lit in lm.literals.items():
            if lit.offloaded_metadata is not None:
                report.setdefault("offloaded", {})[k] = lit.offloaded_metadata.uri
                lt = lit.offloaded_metadata.inferred_type
            else:
                lt = lit_type(lit)
            py_type = TypeEngine.guess_python_type(lt)
            values[k] = TypeEngine.to_python_value(ctx, lit, py_type)
        report["outputs"] = values
    found = read_error(directory)
    if found:
        path, e = found
        report["error_file"] = os.path.basename(path)
        report["error"] = {
            **describe(e),
            "has_timestamp": e.HasField("timestamp") and e.timestamp.seconds > 0,
            "worker": e.worker,
        }
    deck = os.path.join(directory, "deck.html")
    if os.path.exists(deck):
        with open(deck, encoding="utf-8") as f:
            report["deck"] = f.read()
    print(json.dumps(report, sort_keys=True))


def lit_type(lit):
    """The literal type of a scalar primitive literal (all the contract tests return)."""
    from flytekit.models import types as t

    p = lit.scalar.primitive
    if p.integer is not None:
        return t.LiteralType(simple=t.SimpleType.INTEGER)
    if p.float_value is not None:
        return t.LiteralType(simple=t.SimpleType.FLOAT)
    if p.string_value is not None:
        return t.LiteralType(simple=t.SimpleType.STRING)
    if p.boolean is not None:
        return t.LiteralType(simple=t.SimpleType.BOOLEAN)
    raise ValueError(f"unexpected literal {lit}")


if __name__ == "__main__":
    if sys.argv[1] == "write-inputs":
        write_inputs(sys.argv[2], json.loads(sys.argv[3]))
    elif sys.argv[1] == "write-offloaded-inputs":
        write_offloaded_inputs(sys.argv[2], json.loads(sys.argv[3]))
    elif sys.argv[1] == "read":
        read(sys.argv[2])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
