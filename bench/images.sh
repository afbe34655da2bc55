#!/usr/bin/env bash
# The quickstart's image, timed in one run: `build` cold (preflight, layer, push) and warm
# (nothing changed, nothing pushed), its compressed size, and the wall time of
# `run pi --sandbox --in-image` against the host sandbox (medians, and the ratio).
#
#   bench/images.sh [RUNS=5]
#
# Needs a local OCI registry (`eval "$(scripts/oci-registry start)"` exports
# FLYTEKIT_TEST_REGISTRY) and bubblewrap (`apt-get install bubblewrap`). The release quickstart
# is built first; the base image is made from the libraries it links and the CA bundle.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${1:-5}"
registry="${FLYTEKIT_TEST_REGISTRY:?start a registry first: eval \"\$(scripts/oci-registry start)\"}"
command -v bwrap >/dev/null || { echo "bubblewrap is not installed: apt-get install bubblewrap" >&2; exit 1; }

cargo build -q --release -p flytekit --example quickstart
cargo bench -q -p flytekit --bench images -- "$root/target/release/examples/quickstart" "$registry" "$runs"
