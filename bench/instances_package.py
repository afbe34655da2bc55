"""`package` of 1,000 instance tasks: flytekit-rs's `tables package` vs flytekit's `pyflyte package`.

Driven by bench/instances_package.sh, which builds the Rust example first:

    python bench/instances_package.py <tables binary> <pyflyte> [RUNS] [N]

Both sides register N (default 1000) lookup tasks made from one configuration file (one per
table, each with a few rows) and a workflow over all of them. flytekit-rs: the `tables` example,
its instances declared by a provider, payloads placed under a local payload store, in three
modes: `auto` (each payload inline in its loader args), `--bundle` (one uploaded bundle) and
`--payload-mode offload` (N uploaded objects; the first run uploads them, later runs find them
and skip). flytekit: a module that makes the same tasks as `PythonInstanceTask`s in a loop over the
configuration (its default resolver re-imports the module, and so re-reads the configuration, in
every container). Each command is a fresh process timed
from spawn to exit; the archive's size is that of the file written.

Prints median / min wall time and archive size per case, the ratios flytekit / flytekit-rs, then
one JSON line with the raw figures.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PY_MODULE = '''\
import json
import os
from typing import List

from flytekit import Resources, kwtypes, task, workflow
from flytekit.core.interface import Interface
from flytekit.core.python_function_task import PythonInstanceTask

CONFIG = json.load(open(os.environ["TABLES_CONFIG"]))
TABLES = CONFIG["tables"]


class Lookup(PythonInstanceTask):
    \"\"\"Looks a key up in a table: flytekit's instance tasks.\"\"\"

    def __init__(self, table):
        super().__init__(
            name="bench_tables.lookup_" + table["name"],
            task_config=None,
            interface=Interface(inputs=kwtypes(key=str), outputs=kwtypes(o0=int)),
            requests=Resources(cpu="100m"),
        )
        self._rows = table["rows"]
        self._default = table.get("default")

    def execute(self, **kwargs):
        key = kwargs["key"]
        if key in self._rows:
            return self._rows[key]
        if self._default is not None:
            return self._default
        raise KeyError(key)


for _t in TABLES:
    globals()["lookup_" + _t["name"]] = Lookup(_t)


@task
def total(xs: List[int]) -> int:
    return sum(xs)


@workflow
def lookup_all(key: str) -> int:
    return total(xs=[globals()["lookup_" + t["name"]](key=key) for t in TABLES])
'''


def config(n):
    tables = []
    for i in range(n):
        rows = {f"k{j}": i * 10 + j for j in range(8)}
        rows["apple"] = i
        tables.append({"name": f"t{i:04d}", "rows": rows, "default": None})
    return {"tables": tables, "bundled": []}


def timed(argv, env=None, cwd=None):
    start = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"{argv[0]} failed:\n{p.stderr[-3000:]}")
    return elapsed, p.stderr


def main():
    tables_bin, pyflyte = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "tables.json")
        with open(cfg, "w") as f:
            json.dump(config(n), f)

        def rust_case(name, extra):
            store = os.path.join(tmp, f"store-{name}")
            out = os.path.join(tmp, f"rs-{name}.tgz")
            argv = [tables_bin, "package", "-o", out, "--image", "ghcr.io/acme/tables:1",
                    "--payload-store", store, "--instance-arg", f"config={cfg}"] + extra
            first, err = timed(argv)
            # N lookups, the fixed table, total, offsets; two workflows with launch plans.
            if f"({n + 7} entities)" not in err:
                sys.exit(f"unexpected package output:\n{err[-2000:]}")
            times = [timed(argv)[0] for _ in range(runs)]
            results[f"flytekit-rs {name}"] = {
                "first_s": first, "median_s": statistics.median(times), "min_s": min(times),
                "archive_bytes": os.path.getsize(out),
                "store_objects": len(os.listdir(store)) if os.path.isdir(store) else 0,
            }

        rust_case("inline", [])
        rust_case("bundle", ["--bundle"])
        rust_case("offload", ["--payload-mode", "offload"])

        pkg = os.path.join(tmp, "py")
        os.makedirs(os.path.join(pkg, "bench_tables"))
        open(os.path.join(pkg, "bench_tables", "__init__.py"), "w").close()
        with open(os.path.join(pkg, "bench_tables", "tables.py"), "w") as f:
            f.write(PY_MODULE)
        out = os.path.join(tmp, "py.tgz")
        env = dict(os.environ, TABLES_CONFIG=cfg, FLYTE_SDK_LOGGING_LEVEL="40")
        argv = [pyflyte, "--pkgs", "bench_tables", "package", "--image", "ghcr.io/acme/tables:1",
                "--output", out, "--force"]
        first, _ = timed(argv, env=env, cwd=pkg)
        times = [timed(argv, env=env, cwd=pkg)[0] for _ in range(runs)]
        results["flytekit"] = {
            "first_s": first, "median_s": statistics.median(times), "min_s": min(times),
            "archive_bytes": os.path.getsize(out), "store_objects": 0,
        }

    print(f"package of {n} instance tasks and a workflow over them, {runs} runs per case "
          f"(after one first run)")
    print(f"{'case':<22} {'first':>8} {'median':>8} {'min':>8} {'archive':>10} {'objects':>8}")
    for name, r in results.items():
        print(f"{name:<22} {r['first_s']:>7.2f}s {r['median_s']:>7.2f}s {r['min_s']:>7.2f}s "
              f"{r['archive_bytes'] / 1024:>8.0f}KiB {r['store_objects']:>8}")
    py = results["flytekit"]
    for name, r in results.items():
        if name == "flytekit":
            continue
        print(f"flytekit / {name}: time x{py['median_s'] / r['median_s']:.1f}, "
              f"archive x{py['archive_bytes'] / r['archive_bytes']:.2f}")
    print(json.dumps({"n": n, "runs": runs, "results": results}))


if __name__ == "__main__":
    main()
