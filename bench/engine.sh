#!/usr/bin/env bash
# Local engine overhead per node: flytekit-rs vs flytekit's local execution, in one run.
#
#   bench/engine.sh [N=1000] [RUNS=5]
#
# Both sides run the same three workflows of N nodes: a chain of trivial tasks (each node depends
# on the previous one), a fan-out (N-1 independent nodes gathered by one), and a chain of N
# conditionals (each compares the previous value with 0 and runs one of two trivial tasks). Only
# the executions are timed (not process start, imports or workflow construction). Prints the
# median time per node of each side and the ratio flytekit / flytekit-rs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
n="${1:-1000}"
runs="${2:-5}"
python="${FLYTEKIT_PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || { echo "no Python oracle at $python: run scripts/test first (it creates .venv)" >&2; exit 1; }

cargo bench -q -p flytekit --bench engine --no-run >/dev/null 2>&1 || cargo bench -p flytekit --bench engine --no-run
rs="$(cargo bench -q -p flytekit --bench engine -- "$n" "$runs" 2>/dev/null | tail -n 1)"
py="$("$python" bench/engine.py "$n" "$(( runs < 3 ? runs : 3 ))" | tail -n 1)"

"$python" - "$rs" "$py" <<'PY'
import json, statistics, sys
rs, py = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n = rs["n"]
print(f"local engine, {n}-node workflows of trivial tasks (median per node)")
print(f"{'shape':<8}{'flytekit-rs':>14}{'flytekit':>14}{'ratio':>10}")
for shape in ("chain", "fan", "branch"):
    r = statistics.median(rs[f"{shape}_s"]) / n
    p = statistics.median(py[f"{shape}_s"]) / n
    print(f"{shape:<8}{r * 1e6:>11.1f} µs{p * 1e6:>11.1f} µs{p / r:>9.0f}×")
PY
