"""Structured datasets: flytekit + pandas vs flytekit-rs vs the `parquet` crate with no SDK.

Driven by bench/datasets.sh, which builds the Rust programs first:

    python bench/datasets.py <datasets example> <dataset_raw example> [RUNS]

The data: 10,000,000 rows of four columns (id int64, value float64, name string with 1000
distinct values, flag bool), written once by pyarrow as flytekit lays a dataset out (a directory
holding `00000`; snappy, row groups of 1Mi rows) and cached under $TMPDIR/flytekit-rs-bench-datasets.
The work, the same on every side: read `name` and `value`, keep values >= 0.5, count and sum them
per name, write the 1000-row result as a dataset.

  1. flytekit + pandas: the task `summarize(data: Annotated[pd.DataFrame, kwtypes(name=str,
     value=float)], threshold: float) -> pd.DataFrame` (bench/datasets_flytekit.py) run by
     flytekit's `dispatch_execute` in a local execution (flytekit's decoder reads the two columns with pandas, its encoder writes the
     result). Timed as a whole process (interpreter and imports included) and, inside the process,
     the task alone.
  2. flytekit-rs: the `summarize` task of the `datasets` example run by `execute`, exactly as a
     container runs it (inputs.pb written by flytekit with the dataset literal), reading through
     `StructuredDataset::reader` and writing with `from_batches`.
  3. no SDK: `dataset_raw`, the same aggregation code (`examples/datasets/kernel.rs`) straight on
     the `parquet` crate's reader and writer.

Each side runs once to warm the page cache and check its result, then RUNS times, the sides taking
turns; every run is a fresh process, timed from spawn to exit, its CPU time (all threads) taken
from wait4 and its peak RSS from `/usr/bin/time -f %M`. On a machine busy with other work, wall
time also counts waiting for a CPU (more so for a process with more threads); CPU time does not. All three results must agree (names and
counts exactly, sums to 1e-9). Prints medians, the ratios and peak RSS, then one JSON line.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROWS = 10_000_000
THRESHOLD = 0.5
CACHE = os.path.join(tempfile.gettempdir(), "flytekit-rs-bench-datasets")
DATA = os.path.join(CACHE, f"data-{ROWS}-v1")
RUST_RESOLVER = "flytekit.resolver.default"


# ---- helpers run in their own processes (they import pyarrow, pandas, flytekit) --------------


def generate(path):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(42)
    names = np.array([f"name-{i:03d}" for i in range(1000)], dtype=object)
    table = pa.table(
        {
            "id": pa.array(np.arange(ROWS, dtype=np.int64)),
            "value": pa.array(rng.random(ROWS)),
            "name": pa.array(names[rng.integers(0, 1000, ROWS)], pa.string()),
            "flag": pa.array(rng.random(ROWS) < 0.5),
        }
    )
    tmp = path + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    pq.write_table(table, os.path.join(tmp, "00000"), row_group_size=1024 * 1024, compression="snappy")
    os.rename(tmp, path)


def describe_data(path):
    import pyarrow.parquet as pq

    md = pq.ParquetFile(os.path.join(path, "00000")).metadata
    cols = [md.schema.column(i).name for i in range(md.num_columns)]
    read = [cols.index("name"), cols.index("value")]
    per_group = [sum(md.row_group(g).column(c).total_uncompressed_size for c in read) for g in range(md.num_row_groups)]
    print(
        json.dumps(
            {
                "rows": md.num_rows,
                "row_groups": md.num_row_groups,
                "bytes": os.path.getsize(os.path.join(path, "00000")),
                "two_columns_per_row_group_bytes": max(per_group),
            }
        )
    )


def write_inputs(path, data):
    """inputs.pb for the Rust task: the dataset (declared columns name, value) and the threshold."""
    import datetime  # noqa: F401  (flytekit imports it lazily in some paths)

    from flytekit import kwtypes
    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine
    from flytekit.models import literals
    from flytekit.models.literals import Literal, LiteralMap, Scalar, StructuredDatasetMetadata
    from flytekit.types.structured import StructuredDataset
    from typing_extensions import Annotated

    t = Annotated[StructuredDataset, kwtypes(name=str, value=float)]
    sdt = TypeEngine.to_literal_type(t).structured_dataset_type
    sdt.format = "parquet"
    dataset = Literal(
        scalar=Scalar(structured_dataset=literals.StructuredDataset(uri=data, metadata=StructuredDatasetMetadata(sdt)))
    )
    ctx = FlyteContextManager.current_context()
    threshold = TypeEngine.to_literal(ctx, THRESHOLD, float, TypeEngine.to_literal_type(float))
    with open(path, "wb") as f:
        f.write(LiteralMap({"data": dataset, "threshold": threshold}).to_flyte_idl().SerializeToString())


def flytekit_task(inputs, work):
    """Side 1: flytekit + pandas, the task run by dispatch_execute in a local execution."""
    started = time.perf_counter()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from datasets_flytekit import summarize
    from flyteidl.core import literals_pb2
    from flytekit.configuration import DataConfig
    from flytekit.core.context_manager import ExecutionState, FlyteContextManager
    from flytekit.core.data_persistence import FileAccessProvider
    from flytekit.models.literals import LiteralMap

    pb = literals_pb2.LiteralMap()
    with open(inputs, "rb") as f:
        pb.ParseFromString(f.read())
    lm = LiteralMap.from_flyte_idl(pb)
    fa = FileAccessProvider(local_sandbox_dir=work, raw_output_prefix=os.path.join(work, "raw"), data_config=DataConfig.auto())
    ctx = FlyteContextManager.current_context()
    state = ctx.execution_state.with_params(mode=ExecutionState.Mode.LOCAL_TASK_EXECUTION)
    with FlyteContextManager.with_context(ctx.with_file_access(fa).with_execution_state(state)) as ctx:
        imported = time.perf_counter()
        out = summarize.dispatch_execute(ctx, lm)
        done = time.perf_counter()
    uri = out.literals["o0"].scalar.structured_dataset.uri
    print(json.dumps({"task_s": done - imported, "imports_s": imported - started, "uri": uri}))


def rust_output(out_dir):
    from flyteidl.core import errors_pb2, literals_pb2

    path = os.path.join(out_dir, "outputs.pb")
    if not os.path.exists(path):
        err = os.path.join(out_dir, "error.pb")
        detail = ""
        if os.path.exists(err):
            e = errors_pb2.ErrorDocument()
            with open(err, "rb") as f:
                e.ParseFromString(f.read())
            detail = f": {e.error.code}: {e.error.message[:800]}"
        raise SystemExit(f"no outputs.pb in {out_dir}{detail}")
    lm = literals_pb2.LiteralMap()
    with open(path, "rb") as f:
        lm.ParseFromString(f.read())
    print(lm.literals["o0"].scalar.structured_dataset.uri)


def result(path):
    """The result dataset (a file or a directory of parts) as sorted rows."""
    import pyarrow.parquet as pq

    t = pq.read_table(path).sort_by("name")
    print(json.dumps({"name": t["name"].to_pylist(), "count": t["count"].to_pylist(), "total": t["total"].to_pylist()}))


HELPERS = {
    "--generate": generate,
    "--describe-data": describe_data,
    "--write-inputs": write_inputs,
    "--flytekit-task": flytekit_task,
    "--rust-output": rust_output,
    "--result": result,
}


# ---- the driver (imports nothing heavy: its RSS is not what is measured) ----------------------


def helper(*args):
    r = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"helper {args[0]} failed:\n{r.stderr[-3000:]}")
    return r.stdout.strip()


def timed(cmd, env):
    """Wall time (s), peak RSS (KiB, /usr/bin/time -f %M), CPU time (s, user + system of the
    process and its threads, from wait4) and stdout of one run."""
    rss_file = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
    rss_file.close()
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-o", rss_file.name, "-f", "%M", *cmd], env=env, stdout=out, stderr=err)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}:\n{stderr[-3000:]}")
    with open(rss_file.name) as f:
        rss = int(f.read().strip().splitlines()[-1])
    os.unlink(rss_file.name)
    return wall, rss, usage.ru_utime + usage.ru_stime, stdout


def main():
    if sys.argv[1] in HELPERS:
        return HELPERS[sys.argv[1]](*sys.argv[2:])
    rust_exe, raw_exe = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 11
    if not os.path.exists("/usr/bin/time"):
        raise SystemExit("bench/datasets.sh needs /usr/bin/time (Debian package `time`) for peak RSS")
    os.makedirs(CACHE, exist_ok=True)
    if not os.path.isdir(DATA):
        print(f"generating {ROWS:,} rows into {DATA} (once) ...", file=sys.stderr)
        helper("--generate", DATA)
    data = json.loads(helper("--describe-data", DATA))
    work = tempfile.mkdtemp(prefix="flytekit-rs-bench-datasets-")
    env = dict(os.environ)
    env.setdefault("FLYTE_SDK_LOGGING_LEVEL", "40")
    env.setdefault("RUST_LOG", "warn")
    try:
        inputs = os.path.join(work, "inputs.pb")
        helper("--write-inputs", inputs, DATA)

        def py_cmd(i):
            w = os.path.join(work, f"py-{i}")
            os.makedirs(w, exist_ok=True)
            return [sys.executable, __file__, "--flytekit-task", inputs, w]

        def rs_cmd(i):
            return [
                rust_exe, "execute", "--inputs", inputs,
                "--output-prefix", os.path.join(work, f"rs-{i}"),
                "--raw-output-data-prefix", os.path.join(work, f"rs-raw-{i}"),
                "--checkpoint-path", "{{.checkpointOutputPrefix}}", "--prev-checkpoint", '""',
                "--resolver", RUST_RESOLVER, "--", "task-module", "datasets", "task-name", "summarize",
            ]

        def raw_cmd(i):
            return [raw_exe, os.path.join(DATA, "00000"), str(THRESHOLD), os.path.join(work, f"raw-{i}.parquet")]

        sides = {"flytekit+pandas": py_cmd, "flytekit-rs": rs_cmd, "parquet crate": raw_cmd}
        # Warm the page cache, then check that all three compute the same result.
        outputs = {}
        for name, cmd in sides.items():
            _, _, _, stdout = timed(cmd("check"), env)
            if name == "flytekit+pandas":
                outputs[name] = json.loads(stdout)["uri"]
            elif name == "flytekit-rs":
                outputs[name] = helper("--rust-output", os.path.join(work, "rs-check"))
            else:
                outputs[name] = os.path.join(work, "raw-check.parquet")
        results = {name: json.loads(helper("--result", uri)) for name, uri in outputs.items()}
        ref = results["parquet crate"]
        for name, r in results.items():
            if r["name"] != ref["name"] or r["count"] != ref["count"]:
                raise SystemExit(f"{name} disagrees with the parquet crate on names or counts")
            for a, b in zip(r["total"], ref["total"]):
                if abs(a - b) > 1e-9 * max(1.0, abs(b)):
                    raise SystemExit(f"{name} disagrees with the parquet crate on a total: {a} vs {b}")
        if len(ref["name"]) != 1000 or sum(ref["count"]) < ROWS // 3:
            raise SystemExit(f"unexpected result: {len(ref['name'])} groups, {sum(ref['count'])} rows kept")

        # Round-robin: a change in the machine's load hits every side alike.
        samples = {name: {"wall": [], "rss": [], "cpu": [], "task": []} for name in sides}
        for i in range(runs):
            for name, cmd in sides.items():
                w, m, c, stdout = timed(cmd(i), env)
                s = samples[name]
                s["wall"].append(w)
                s["rss"].append(m)
                s["cpu"].append(c)
                if name == "flytekit+pandas":
                    s["task"].append(json.loads(stdout)["task_s"])
        figures = {}
        for name, s in samples.items():
            walls, rss, cpu, task = s["wall"], s["rss"], s["cpu"], s["task"]
            figures[name] = {
                "wall_s": walls,
                "median_s": statistics.median(walls),
                "min_s": min(walls),
                "cpu_s": cpu,
                "cpu_median_s": statistics.median(cpu),
                "peak_rss_kib": max(rss),
            }
            if task:
                figures[name]["task_s"] = task
                figures[name]["task_median_s"] = statistics.median(task)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    py, rs, raw = figures["flytekit+pandas"], figures["flytekit-rs"], figures["parquet crate"]
    mib = 1024
    print(
        f"{ROWS:,} rows x 4 columns ({data['row_groups']} row groups, {data['bytes'] / 2**20:.0f} MiB Parquet); "
        f"read name+value, keep value >= {THRESHOLD}, count+sum per name (1000 groups), write the result"
    )
    print(
        f"{runs} runs each, fresh processes; medians (min); CPU = user + system; "
        f"peak RSS = max over runs (/usr/bin/time)"
    )
    print(f"{'':<18}{'wall':>17}{'CPU':>10}{'peak RSS':>12}")
    for name, r in figures.items():
        print(
            f"{name:<18}{r['median_s'] * 1e3:>8.0f} ms ({r['min_s'] * 1e3:.0f})"
            f"{r['cpu_median_s'] * 1e3:>7.0f} ms{r['peak_rss_kib'] / mib:>8.1f} MiB"
        )
    print(f"{'':<18}task alone in the flytekit process: {py['task_median_s'] * 1e3:.0f} ms (median)")
    sdk = rs["median_s"] / raw["median_s"]
    sdk_cpu = rs["cpu_median_s"] / raw["cpu_median_s"]
    print(
        f"flytekit-rs / parquet crate: {sdk:.3f} wall, {sdk_cpu:.3f} CPU "
        f"(goal <= 1.10: {'met' if sdk <= 1.10 else 'NOT met'})"
    )
    print(
        f"flytekit+pandas / flytekit-rs: {py['median_s'] / rs['median_s']:.1f}x whole process, "
        f"{py['task_median_s'] / rs['median_s']:.1f}x task alone vs the whole Rust process "
        f"(goal > 1: {'met' if py['task_median_s'] > rs['median_s'] else 'NOT met'})"
    )
    group = data["two_columns_per_row_group_bytes"]
    print(
        f"peak RSS flytekit-rs {rs['peak_rss_kib'] / mib:.1f} MiB = {rs['peak_rss_kib'] * 1024 / group:.1f} x the decoded size of one "
        f"row group's two columns ({group / 2**20:.1f} MiB); flytekit+pandas {py['peak_rss_kib'] / mib:.0f} MiB, "
        f"parquet crate {raw['peak_rss_kib'] / mib:.1f} MiB"
    )
    print(json.dumps({"data": data, "runs": runs, "figures": figures}))


if __name__ == "__main__":
    main()
