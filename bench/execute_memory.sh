#!/usr/bin/env bash
# Peak memory of `execute` on a large List[int] input (25M elements, a 200 MB inputs.pb, by
# default): builds the `hostile` example in release mode and runs bench/execute_memory.py.
#
#   bench/execute_memory.sh [N=25000000] [RUNS=3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${FLYTEKIT_PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || { echo "no Python oracle at $python: run scripts/test first (it creates .venv)" >&2; exit 1; }
cargo build -q --release -p flytekit --example hostile
"$python" bench/execute_memory.py "$root/target/release/examples/hostile" "${1:-25000000}" "${2:-3}"
