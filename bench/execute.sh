#!/usr/bin/env bash
# Container entrypoint cost: `contract execute` (flytekit-rs) vs `pyflyte-execute` (flytekit), in one run.
#
#   bench/execute.sh            # RUNS=20 runs per side
#   RUNS=50 bench/execute.sh
#
# Both run the trivial task add(a: int, b: int) -> int on the same inputs.pb (written by flytekit)
# with the flags Propeller passes; both outputs.pb are checked to hold o0 == 42 first. Each run is
# a fresh process, timed from spawn to exit; peak RSS comes from wait4 (what /usr/bin/time %M reports,
# which is printed too when installed). Prints medians, peak RSS and the ratios flytekit / flytekit-rs.
# The driver is bench/execute.py; it needs the oracle venv (.venv) that scripts/test creates.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${RUNS:-${1:-20}}"
python="$root/.venv/bin/python"
pyflyte_execute="$root/.venv/bin/pyflyte-execute"
if [ ! -x "$python" ] || [ ! -x "$pyflyte_execute" ]; then
  echo "bench/execute.sh: no .venv with flytekit (need $python and $pyflyte_execute): run scripts/test once, it creates .venv" >&2
  exit 1
fi

cargo build -q --release -p flytekit --example contract
"$python" bench/execute.py "$root/target/release/examples/contract" "$pyflyte_execute" "$runs"
