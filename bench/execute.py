"""Container entrypoint cost: flytekit-rs's `contract execute` vs flytekit's `pyflyte-execute`.

Driven by bench/execute.sh, which builds the Rust example first:

    python bench/execute.py <contract binary> <pyflyte-execute> [RUNS]

Both sides run the same trivial task, `add(a: int, b: int) -> int`, on the same local inputs.pb
(written by flytekit: a=40, b=2) with the flags Propeller passes, the way a task pod runs them.
Each command is spawned with subprocess and timed from spawn to exit with time.perf_counter.
Before timing, both outputs.pb are decoded and must hold o0 == 42.

Peak RSS: Linux carries a process's peak RSS across fork and exec (`ru_maxrss` of the exec'd
command is at least the RSS of the process that forked it), so a Python driver's own ~10 MiB
would hide the figure we want. When /usr/bin/time is installed, each command is run RUNS more
times under `/usr/bin/time -f %M` (a small C launcher, ~1 MiB floor) and the largest %M is the
peak. Without it, the peak is os.wait4's `ru_maxrss` of the timed runs, an upper bound that
includes this driver's RSS at fork (kept small: flytekit is only imported in helper processes).

Prints a table of median / min wall time and peak RSS per side and the ratios flytekit /
flytekit-rs, then one JSON line with the raw figures.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

RUST_RESOLVER = "flytekit.resolver.default"
PY_RESOLVER = "flytekit.core.python_auto_container.default_task_resolver"

PY_MODULE = '''\
from flytekit import task


@task
def add(a: int, b: int) -> int:
    return a + b
'''


def write_inputs(path):
    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine
    from flytekit.core.utils import write_proto_to_file

    ctx = FlyteContextManager.current_context()
    lm = TypeEngine.dict_to_literal_map(ctx, {"a": 40, "b": 2}, {"a": int, "b": int})
    write_proto_to_file(lm.to_flyte_idl(), path)


def read_o0(output_prefix):
    from flyteidl.core import literals_pb2

    path = os.path.join(output_prefix, "outputs.pb")
    if not os.path.exists(path):
        err = os.path.join(output_prefix, "error.pb")
        detail = ""
        if os.path.exists(err):
            from flyteidl.core import errors_pb2

            e = errors_pb2.ErrorDocument()
            with open(err, "rb") as f:
                e.ParseFromString(f.read())
            detail = f": error.pb says {e.error.code}: {e.error.message[:500]}"
        raise SystemExit(f"no outputs.pb under {output_prefix}{detail}")
    lm = literals_pb2.LiteralMap()
    with open(path, "rb") as f:
        lm.ParseFromString(f.read())
    return lm.literals["o0"].scalar.primitive.integer


def command(exe, inputs, out, work, resolver, module):
    return [
        exe,
        *(["execute"] if resolver == RUST_RESOLVER else []),
        "--inputs", inputs,
        "--output-prefix", out,
        "--raw-output-data-prefix", os.path.join(work, "raw"),
        "--checkpoint-path", os.path.join(work, "checkpoint"),
        "--prev-checkpoint", '""',
        "--resolver", resolver,
        "--", "task-module", module, "task-name", "add",
    ]


def run(cmd, cwd, env):
    """Wall time (s) and peak RSS (KiB) of one run; exits on failure."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}:\n{err[-3000:]}")
    return wall, usage.ru_maxrss


def gnu_time_rss(cmd, cwd, env):
    """Peak RSS (KiB) reported by /usr/bin/time -f %M, when installed (a cross-check)."""
    if not os.path.exists("/usr/bin/time"):
        return None
    r = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if r.returncode != 0:
        return None
    try:
        return int(r.stderr.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def helper(*args):
    """Runs this file in a helper process (which may import flytekit) and returns its stdout."""
    r = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr[-3000:] or f"helper {args} failed")
    return r.stdout.strip()


def main():
    if sys.argv[1] == "--write-inputs":
        return write_inputs(sys.argv[2])
    if sys.argv[1] == "--read-o0":
        return print(read_o0(sys.argv[2]))
    rust_exe, pyflyte_execute = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    work = tempfile.mkdtemp(prefix="flytekit-rs-bench-execute-")
    try:
        with open(os.path.join(work, "bench_add.py"), "w") as f:
            f.write(PY_MODULE)
        inputs = os.path.join(work, "inputs.pb")
        helper("--write-inputs", inputs)
        env = dict(os.environ)
        env.setdefault("FLYTE_SDK_LOGGING_LEVEL", "40")
        env.setdefault("RUST_LOG", "warn")
        sides = {
            "flytekit-rs": command(rust_exe, inputs, os.path.join(work, "out-rs"), work, RUST_RESOLVER, "contract"),
            "flytekit": command(pyflyte_execute, inputs, os.path.join(work, "out-py"), work, PY_RESOLVER, "bench_add"),
        }
        # Correctness first: both must compute 42 from the same inputs.pb.
        for name, cmd in sides.items():
            run(cmd, work, env)
            out = cmd[cmd.index("--output-prefix") + 1]
            got = int(helper("--read-o0", out))
            if got != 42:
                raise SystemExit(f"{name}: outputs.pb has o0 = {got}, expected 42")
        results = {}
        for name, cmd in sides.items():
            run(cmd, work, env)  # warm the page cache
            walls, rss = [], []
            for _ in range(runs):
                w, m = run(cmd, work, env)
                walls.append(w)
                rss.append(m)
            gnu = [gnu_time_rss(cmd, work, env) for _ in range(runs)]
            gnu = [g for g in gnu if g is not None]
            results[name] = {
                "wall_s": walls,
                "median_s": statistics.median(walls),
                "min_s": min(walls),
                "wait4_maxrss_kib": max(rss),
                "gnu_time_rss_kib": gnu,
                "peak_rss_kib": max(gnu) if gnu else max(rss),
                "peak_rss_source": "/usr/bin/time -f %M" if gnu else "wait4 ru_maxrss (upper bound)",
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rs, py = results["flytekit-rs"], results["flytekit"]
    print(f"add(40, 2) through the container entrypoint, {runs} runs each (o0 == 42 checked on both)")
    print(f"{'':<13}{'median':>11}{'min':>11}{'peak RSS':>12}")
    for name, r in (("flytekit-rs", rs), ("flytekit", py)):
        print(
            f"{name:<13}{r['median_s'] * 1e3:>8.2f} ms{r['min_s'] * 1e3:>8.2f} ms"
            f"{r['peak_rss_kib'] / 1024:>8.1f} MiB"
        )
    print(f"peak RSS from {rs['peak_rss_source']}")
    print(
        f"ratio flytekit / flytekit-rs: wall {py['median_s'] / rs['median_s']:.0f}× (median), "
        f"peak RSS {py['peak_rss_kib'] / rs['peak_rss_kib']:.0f}×"
    )
    print(f"targets: ≥100× faster: {'met' if py['median_s'] / rs['median_s'] >= 100 else 'NOT met'}; "
          f"flytekit-rs peak ≤ 10 MiB: {'met' if rs['peak_rss_kib'] <= 10 * 1024 else 'NOT met'}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
