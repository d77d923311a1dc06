#!/usr/bin/env bash
# Can pandas and pyarrow read every Parquet file caploop writes?
#
#   .ci/pycheck.sh [OUT_DIR]
#
# Creates (once) a virtualenv at ${CAPLOOP_PYCHECK_VENV:-target/pycheck-venv}
# (relative paths from the repository root) with the pinned pandas, pyarrow
# and numpy of tests/pycheck/requirements.txt (PyPI only), and reuses it while
# the versions match. Then:
#   1. tests/pycheck/selftest.py: read_outputs.py passes on a table written by
#      pyarrow and fails on the faults it exists to catch;
#   2. cargo test --no-run (the debug binary the tests run, which .ci/run has
#      built already), then ${CARGO_TARGET_DIR:-target}/debug/caploop demo --out OUT_DIR
#      (default target/pycheck-demo);
#   3. tests/pycheck/read_outputs.py OUT_DIR.
# Exit non-zero when any step fails.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=${1:-target/pycheck-demo}
venv=${CAPLOOP_PYCHECK_VENV:-target/pycheck-venv}
python=${CAPLOOP_PYTHON:-python3}
req=tests/pycheck/requirements.txt
start=$SECONDS

have() {
    "$venv/bin/python" - "$req" <<'EOF' 2>/dev/null
import sys, importlib.metadata as m
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, want = line.split("==")
        if m.version(name) != want:
            sys.exit(1)
EOF
}

if ! have; then
    echo "pycheck: installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$python" -m venv "$venv"
    fi
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input -r "$req"
    if ! have; then
        echo "pycheck: the packages of $req are not importable from $venv" >&2
        exit 1
    fi
    echo "pycheck: installed in $((SECONDS - start))s"
else
    echo "pycheck: reusing $venv"
fi

"$venv/bin/python" tests/pycheck/selftest.py

# The binary the integration tests run: built with the dev-dependencies'
# features, as `.ci/run` has just built it. A plain `cargo build` resolves
# the dependencies' features without them and compiled polars a second
# time (about 400 s of CI with the dependencies at opt-level 1).
cargo test --no-run --quiet
bin=${CARGO_TARGET_DIR:-target}/debug/caploop
# A clean folder: a stale Parquet file from an older run would be checked too.
[[ -n "$out" && "$out" != "/" ]] && rm -rf "$out"
demo_start=$SECONDS
"$bin" --quiet demo --out "$out"
echo "pycheck: demo written to $out in $((SECONDS - demo_start))s"

"$venv/bin/python" tests/pycheck/read_outputs.py "$out"
echo "pycheck: done in $((SECONDS - start))s"
