#!/usr/bin/env bash
# Map tasks on the local engine: flytekit-rs vs flytekit's local map_task, in one run.
#
#   bench/map.sh [N=10000] [RUNS=5]
#
# Both sides map a trivial task (`inc(x) = x + 1`) over N elements inside a workflow. Only the
# executions are timed (not process start, imports or workflow construction). Prints the median
# time of each side, per element, and the ratio flytekit / flytekit-rs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
n="${1:-10000}"
runs="${2:-5}"
python="${FLYTEKIT_PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || { echo "no Python oracle at $python: run scripts/test first (it creates .venv)" >&2; exit 1; }

cargo bench -q -p flytekit --bench map --no-run >/dev/null 2>&1 || cargo bench -p flytekit --bench map --no-run
rs="$(cargo bench -q -p flytekit --bench map -- "$n" "$runs" 2>/dev/null | tail -n 1)"
py="$("$python" bench/map.py "$n" "$(( runs < 3 ? runs : 3 ))" | tail -n 1)"

"$python" - "$rs" "$py" <<'PY'
import json, statistics, sys
rs, py = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n = rs["n"]
r, p = statistics.median(rs["map_s"]), statistics.median(py["map_s"])
print(f"map task over {n} elements of a trivial task, local execution (median of runs)")
print(f"{'':<14}{'total':>12}{'per element':>14}")
print(f"{'flytekit-rs':<14}{r * 1e3:>9.1f} ms{r / n * 1e6:>11.1f} µs")
print(f"{'flytekit':<14}{p * 1e3:>9.1f} ms{p / n * 1e6:>11.1f} µs")
print(f"ratio flytekit / flytekit-rs: {p / r:.0f}×")
PY
