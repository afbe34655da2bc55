#!/usr/bin/env bash
# Registration end to end: `fanout register` vs `pyflyte register`, in one run, against the fake
# FlyteAdmin of the tests (conformance/fake_admin.py on 127.0.0.1).
#
#   bench/register.sh [RUNS=5]
#
# Both register the same entities (the workflows `squares` and `add_all` of the fanout example
# and their tasks; pyflyte from the Python twin conformance/register_twin/fanout.py) without a
# fast bundle and with a pinned version (a new one each run, so every run creates everything).
# Timed: the whole command as a user runs it (process start, loading, serialization, the gRPC
# calls). Prints the median of each side and the ratio pyflyte / flytekit-rs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${1:-5}"
python="${FLYTEKIT_PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || { echo "no Python oracle at $python: run scripts/test first (it creates .venv)" >&2; exit 1; }

cargo build -q --release -p flytekit --example fanout
bin="$root/target/release/examples/fanout"
work="$(mktemp -d)"
trap 'kill "$fake_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

GRPC_VERBOSITY=NONE "$python" conformance/fake_admin.py --state-dir "$work/state" > "$work/ready" &
fake_pid=$!
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
port="$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["grpc_port"])' "$work/ready")"
printf 'admin:\n  endpoint: dns:///127.0.0.1:%s\n  insecure: true\n' "$port" > "$work/config.yaml"
mkdir -p "$work/src"
cp conformance/register_twin/fanout.py "$work/src/"

now() { date +%s.%N; }
rs=() py=()
for i in $(seq "$runs"); do
  t0="$(now)"
  "$bin" register squares add_all square add -c "$work/config.yaml" -i ghcr.io/org/app:v1 \
    -v "rs$i" >/dev/null 2>&1
  t1="$(now)"
  (cd "$work/src" && FLYTE_SDK_LOGGING_LEVEL=40 "${python%/python}/pyflyte" --config "$work/config.yaml" \
    register --copy none --version "py$i" --image ghcr.io/org/app:v1 fanout.py >/dev/null 2>&1)
  t2="$(now)"
  rs+=("$(echo "$t1 - $t0" | bc)") py+=("$(echo "$t2 - $t1" | bc)")
done
created="$(grep -c '"code": "OK"' "$work/state/requests.jsonl" || true)"

"$python" - "$created" "${rs[*]}" "${py[*]}" <<'PY'
import statistics, sys
created, rs, py = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
r, p = statistics.median(rs), statistics.median(py)
print(f"register 9 entities (2 workflows, 2 launch plans, 5 tasks) against a local fake FlyteAdmin,")
print(f"whole command, median of {len(rs)} runs ({created} successful calls recorded)")
print(f"{'flytekit-rs':<14}{r * 1e3:>9.0f} ms")
print(f"{'pyflyte':<14}{p * 1e3:>9.0f} ms")
print(f"ratio pyflyte / flytekit-rs: {p / r:.1f}x")
PY
