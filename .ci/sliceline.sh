#!/usr/bin/env bash
# The peer implementation caploop's lattice search is compared with.
#
#   .ci/sliceline.sh OUT_DIR
#
# Creates (once) a virtualenv at ${CAPLOOP_SLICELINE_VENV:-target/venv-sliceline}
# (relative paths from the repository root) with the pinned sliceline and its
# dependencies of tests/sliceline/requirements.txt (PyPI only), reusing it
# while the versions match, then runs tests/sliceline/peer.py OUT_DIR: seeded
# random datasets (CSV) and the package's top-k slices on them (JSON), each
# checked against exhaustive enumeration. tests/suite/sliceline_peer.rs reads
# OUT_DIR through CAPLOOP_SLICELINE_DIR. Exit non-zero when a step fails.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
out=$1
venv=${CAPLOOP_SLICELINE_VENV:-target/venv-sliceline}
python=${CAPLOOP_PYTHON:-python3}
req=tests/sliceline/requirements.txt
start=$SECONDS

have() {
    "$venv/bin/python" - "$req" <<'PY' 2>/dev/null
import sys, importlib.metadata as m
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line:
        name, want = line.split("==")
        if m.version(name) != want:
            sys.exit(1)
PY
}

if ! have; then
    echo "sliceline: installing $(grep -v '^#' "$req" | tr '\n' ' ')into $venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$python" -m venv "$venv"
    fi
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input -r "$req"
fi
"$venv/bin/python" -W ignore tests/sliceline/peer.py "$out"
echo "sliceline: done in $((SECONDS - start))s"
