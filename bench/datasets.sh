#!/usr/bin/env bash
# Structured datasets: flytekit + pandas vs flytekit-rs vs the `parquet` crate with no SDK, in one run.
#
#   bench/datasets.sh            # RUNS=11 runs per side
#   RUNS=5 bench/datasets.sh
#
# 10,000,000 rows of four columns (int64, float64, string, bool) stored as Parquet, generated once
# by pyarrow and cached in $TMPDIR/flytekit-rs-bench-datasets. Each side reads two of the columns,
# keeps the values at least 0.5, counts and sums them per name and writes the small result as a
# dataset: (1) a flytekit task with pandas, run locally by flytekit; (2) the `summarize` task of the
# `datasets` example run by `execute` as a container runs it; (3) `dataset_raw`, the same code on
# the `parquet` crate directly. All three results are checked to agree first. Prints medians, the
# ratios, CPU time and the peak RSS of each (fresh processes; RSS from /usr/bin/time). The driver is
# bench/datasets.py; it needs the oracle venv (.venv, with pandas and pyarrow) that scripts/test
# creates.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${RUNS:-${1:-11}}"
python="${FLYTEKIT_PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || { echo "bench/datasets.sh: no Python oracle at $python: run scripts/test first (it creates .venv)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench/datasets.sh: needs /usr/bin/time (apt-get install time) for peak RSS" >&2; exit 1; }

cargo build -q --release -p flytekit --example datasets --example dataset_raw
"$python" bench/datasets.py "$root/target/release/examples/datasets" "$root/target/release/examples/dataset_raw" "$runs"
