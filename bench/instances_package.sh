#!/usr/bin/env bash
# `package` of 1,000 instance tasks: flytekit-rs (`tables package`: inline, bundled, offloaded)
# vs flytekit (`pyflyte package` of the same tasks made in a loop), in one run.
#
#   bench/instances_package.sh          # RUNS=5 runs per case, N=1000 tasks
#   RUNS=9 N=2000 bench/instances_package.sh
#
# Prints median / min wall time and archive size per case and the ratios flytekit / flytekit-rs.
# The driver is bench/instances_package.py; it needs the oracle venv (.venv) that scripts/test
# creates. Scratch files live in a temporary directory that is removed at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${RUNS:-${1:-5}}"
n="${N:-${2:-1000}}"
python="$root/.venv/bin/python"
pyflyte="$root/.venv/bin/pyflyte"
if [ ! -x "$python" ] || [ ! -x "$pyflyte" ]; then
  echo "bench/instances_package.sh: no .venv with flytekit (need $python and $pyflyte): run scripts/test once, it creates .venv" >&2
  exit 1
fi

cargo build -q --release -p flytekit --example tables
"$python" bench/instances_package.py "$root/target/release/examples/tables" "$pyflyte" "$runs" "$n"
