"""Structured-dataset oracle: flytekit 1.16 with pandas and pyarrow on the other side of flytekit-rs
(crates/flytekit/tests/dataset_*.rs).

  datasets.py types
      print JSON {name: base64(LiteralType)}: TypeEngine.to_literal_type of each declaration in DECLS.
  datasets.py write-inputs PATH PREFIX JSON
      write the LiteralMap {input: literal} to PATH. JSON maps each input to [producer, declaration]
      (or to a plain int/float/str value); the producer's value (PRODUCERS) goes through flytekit's
      encoders with raw output prefix PREFIX (a directory, or s3://... with the FLYTE_AWS_* settings),
      as a Python task's output would.
  datasets.py read DIR DECLARATION
      decode DIR/outputs.pb (o0, a dataset) and DIR/error*.pb with flytekit; print a JSON report with
      o0 read as a pandas DataFrame of the declaration: dtypes, rows (JSON-safe), the literal's
      metadata, and whether that metadata is what flytekit writes for the same declaration.
  datasets.py expect PRODUCER DECLARATION
      print the rows the producer's data has when read as the declaration (what `read` should see).
"""

import base64
import datetime
import json
import math
import os
import sys
import tempfile
import typing

import pandas as pd
import pyarrow as pa
from flyteidl.core import literals_pb2
from flytekit import kwtypes
from flytekit.configuration import DataConfig
from flytekit.core.context_manager import FlyteContextManager
from flytekit.core.data_persistence import FileAccessProvider
from flytekit.core.type_engine import TypeEngine
from flytekit.models.literals import Literal, LiteralMap
from flytekit.types.structured import StructuredDataset
from typing_extensions import Annotated

from error_doc import describe, read_error

UTC = datetime.timezone.utc

KINDS = kwtypes(i=int, f=float, s=str, b=bool, t=datetime.datetime, n=int, l=typing.List[int])

# Declarations, named as the Rust tests name their Rust twins.
DECLS = {
    "any": StructuredDataset,
    "sale": Annotated[StructuredDataset, kwtypes(region=str, amount=float)],
    "total": Annotated[StructuredDataset, kwtypes(region=str, total=float, sales=int)],
    "kinds": Annotated[StructuredDataset, KINDS],
    "kinds_subset": Annotated[StructuredDataset, kwtypes(s=str, n=int)],
    "summary": Annotated[StructuredDataset, kwtypes(name=str, count=int, total=float)],
    "formatted": Annotated[StructuredDataset, kwtypes(a=int), "parquet"],
    "nested": Annotated[
        StructuredDataset,
        kwtypes(m=typing.Dict[str, float], d=datetime.timedelta, u=int, w=float, ll=typing.List[typing.List[str]]),
    ],
    "arrow_schema": Annotated[
        StructuredDataset,
        kwtypes(a=int, b=str, t=datetime.datetime, l=typing.List[int], o=float),
        pa.schema(
            [
                pa.field("a", pa.int64(), nullable=False),
                pa.field("b", pa.string(), nullable=False),
                pa.field("t", pa.timestamp("us", tz="UTC"), nullable=False),
                pa.field("l", pa.list_(pa.int64()), nullable=False),
                pa.field("o", pa.float64()),
            ]
        ),
    ],
}


def kinds_frame():
    return pd.DataFrame(
        {
            "i": pd.array([0, 1, 2, 3, 4], dtype="int64"),
            "f": [0.0, 0.5, 1.0, 1.5, 2.0],
            "s": ["s0", "s1", "s2", "s3", "ünï"],
            "b": [True, False, True, False, True],
            "t": pd.to_datetime([0, 1, 2, 3, 4], unit="s", utc=True),
            "n": pd.array([None, 1, 2, None, 4], dtype="Int64"),
            "l": [[0, 1], [1, 2], [], [3], [4, 5, 6]],
        }
    )


def kinds_table():
    f = kinds_frame()
    return pa.table(
        {
            "i": pa.array(f["i"].tolist(), pa.int64()),
            "f": pa.array(f["f"].tolist(), pa.float64()),
            "s": pa.array(f["s"].tolist(), pa.string()),
            "b": pa.array(f["b"].tolist(), pa.bool_()),
            # Naive timestamps in nanoseconds: the Rust side declares UTC microseconds.
            "t": pa.array([datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=s) for s in range(5)], pa.timestamp("ns")),
            "n": pa.array([None, 1, 2, None, 4], pa.int64()),
            "l": pa.array(f["l"].tolist(), pa.list_(pa.int64())),
        }
    )


def wide_frame():
    f = kinds_frame()
    f.insert(0, "extra_first", ["a", "b", "c", "d", "e"])
    f["extra_last"] = [9.0, 8.0, 7.0, 6.0, 5.0]
    return f


def sales_frame():
    return pd.DataFrame({"region": ["north", "south", "north", "east"], "amount": [10.0, 5.5, 2.5, 1.0], "id": [1, 2, 3, 4]})


def wrong_type_frame():
    return pd.DataFrame({"region": ["north"], "amount": ["ten"]})


PRODUCERS = {
    # pandas.DataFrame through flytekit's pandas encoder
    "pandas_kinds": (kinds_frame, pd.DataFrame),
    "pandas_wide": (wide_frame, pd.DataFrame),
    "pandas_sales": (sales_frame, pd.DataFrame),
    "pandas_wrong_type": (wrong_type_frame, pd.DataFrame),
    # pyarrow.Table through flytekit's arrow encoder
    "arrow_kinds": (kinds_table, pa.Table),
}


def context(prefix):
    sandbox = tempfile.mkdtemp(prefix="flytekit-rs-datasets-")
    fa = FileAccessProvider(local_sandbox_dir=sandbox, raw_output_prefix=prefix, data_config=DataConfig.auto())
    return FlyteContextManager.current_context().with_file_access(fa).build()


def declared(name):
    return DECLS[name]


def to_literal(ctx, producer, declaration):
    make, python_type = PRODUCERS[producer]
    value = make()
    if declaration == "plain":
        t = python_type
        return TypeEngine.to_literal(ctx, value, t, TypeEngine.to_literal_type(t))
    t = declared(declaration)
    return TypeEngine.to_literal(ctx, StructuredDataset(dataframe=value), t, TypeEngine.to_literal_type(t))


def write_inputs(path, prefix, spec):
    lits = {}
    with FlyteContextManager.with_context(context(prefix).new_builder()) as ctx:
        for name, value in spec.items():
            if isinstance(value, list):
                lits[name] = to_literal(ctx, value[0], value[1])
            else:
                t = type(value)
                lits[name] = TypeEngine.to_literal(ctx, value, t, TypeEngine.to_literal_type(t))
    with open(path, "wb") as f:
        f.write(LiteralMap(lits).to_flyte_idl().SerializeToString())


def json_safe(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (pd.Timestamp, datetime.datetime)):
        ts = pd.Timestamp(v)
        if ts.tzinfo is None:
            ts = ts.tz_localize(UTC)
        return ts.isoformat()
    if hasattr(v, "tolist"):
        return json_safe(v.tolist())
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if v is pd.NA:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def rows(df):
    return [{c: json_safe(r[c]) for c in df.columns} for _, r in df.iterrows()]


def pandas_declaration(name):
    """The declaration as a pandas DataFrame type (what a Python consumer task declares)."""
    t = declared(name)
    if name == "any":
        return pd.DataFrame
    return Annotated[pd.DataFrame, typing.get_args(t)[1]]


def read(directory, declaration):
    report = {"files": sorted(os.listdir(directory)) if os.path.isdir(directory) else []}
    found = read_error(directory)
    if found:
        report["error"] = describe(found[1])
    out = os.path.join(directory, "outputs.pb")
    if os.path.exists(out):
        pb = literals_pb2.LiteralMap()
        with open(out, "rb") as f:
            pb.ParseFromString(f.read())
        lit = LiteralMap.from_flyte_idl(pb).literals["o0"]
        ctx = FlyteContextManager.current_context()
        sd = lit.scalar.structured_dataset
        sdt = sd.metadata.structured_dataset_type
        report["uri"] = sd.uri
        report["metadata"] = {"format": sdt.format, "columns": [c.name for c in sdt.columns]}
        # What flytekit itself writes for a DataFrame returned under the same declaration.
        t = declared(declaration)
        sample = pd.DataFrame({c.name: [] for c in sdt.columns}) if sdt.columns else pd.DataFrame({"x": []})
        with FlyteContextManager.with_context(context(tempfile.mkdtemp()).new_builder()) as pctx:
            ref = TypeEngine.to_literal(pctx, StructuredDataset(dataframe=sample), t, TypeEngine.to_literal_type(t))
        ours = lit.to_flyte_idl().scalar.structured_dataset.metadata
        theirs = ref.to_flyte_idl().scalar.structured_dataset.metadata
        report["metadata_matches_flytekit"] = ours == theirs
        if not report["metadata_matches_flytekit"]:
            report["flytekit_metadata"] = str(theirs)
        files = []
        if not sd.uri.startswith("s3://"):
            for root, _, names in os.walk(sd.uri):
                files += [os.path.relpath(os.path.join(root, n), sd.uri) for n in names]
        report["dataset_files"] = sorted(files)
        df = TypeEngine.to_python_value(ctx, lit, pandas_declaration(declaration))
        report["dtypes"] = {c: str(df[c].dtype) for c in df.columns}
        report["rows"] = rows(df)
    print(json.dumps(report))


def expect(producer, declaration):
    make, _ = PRODUCERS[producer]
    value = make()
    df = value.to_pandas() if isinstance(value, pa.Table) else value
    cols = list(typing.get_args(declared(declaration))[1].keys()) if declaration != "any" else list(df.columns)
    print(json.dumps(rows(df[cols])))


def types():
    out = {}
    for name, t in DECLS.items():
        out[name] = base64.b64encode(TypeEngine.to_literal_type(t).to_flyte_idl().SerializeToString()).decode()
    print(json.dumps(out))


def main():
    cmd = sys.argv[1]
    if cmd == "types":
        types()
    elif cmd == "write-inputs":
        write_inputs(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
    elif cmd == "read":
        read(sys.argv[2], sys.argv[3])
    elif cmd == "expect":
        expect(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
