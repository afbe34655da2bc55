#!/usr/bin/env bash
# Times a 1,000,000-element List[int] round trip through Python flytekit and flytekit-rs in one run
# and prints medians and ratios (see bench/literals.py). Extra arguments go to literals.py
# (--n, --py-repeats, --rust-repeats).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${FLYTEKIT_PYTHON:-$root/.venv/bin/python}"
if [[ ! -x "$python" ]]; then
  echo "no Python with flytekit at $python: run scripts/test (creates .venv) or set FLYTEKIT_PYTHON" >&2
  exit 1
fi
cd "$root"
cargo build --release -q -p flytekit --example bench_literals
target_dir="$(cargo metadata --format-version 1 --no-deps | "$python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
FLYTE_SDK_LOGGING_LEVEL=40 exec "$python" "$root/bench/literals.py" --rust-bin "$target_dir/release/examples/bench_literals" "$@"
