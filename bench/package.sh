#!/usr/bin/env bash
# `package` of a program with N tasks: flytekit-rs vs `pyflyte package`, in one run.
#
#   bench/package.sh [N=500] [RUNS=7]
#
# Generates a Rust program with N trivial #[task]s (a crate under target/bench-package that
# depends on this workspace's flytekit, built --release into this workspace's target dir so its
# dependencies are shared) and the same N tasks as a Python module, then times `package` of each
# as fresh processes, interleaved. Prints medians and the ratios pyflyte / flytekit-rs.
# The driver is bench/package.py; it needs the oracle venv (.venv) that scripts/test creates.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
n="${1:-500}"
runs="${2:-7}"
python="${FLYTEKIT_PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || { echo "no Python oracle at $python: run scripts/test first (it creates .venv)" >&2; exit 1; }

crate="$root/target/bench-package"
mkdir -p "$crate"
cat > "$crate/Cargo.toml" <<TOML
[package]
name = "bench-package"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
flytekit = { path = "$root/crates/flytekit" }

[workspace]

[profile.release]
debug = false
TOML
[ -f "$crate/Cargo.lock" ] || cp Cargo.lock "$crate/Cargo.lock"
"$python" bench/package.py gen-rs "$crate" "$n"
CARGO_TARGET_DIR="$root/target" cargo build -q --release --manifest-path "$crate/Cargo.toml"
"$python" bench/package.py time "$root/target/release/bench-package" "$n" "$runs"
