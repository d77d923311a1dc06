#!/usr/bin/env bash
# Produce real Inspect AI `.eval` logs for caploop's tests.
#
#   .ci/inspect.sh OUT_DIR
#
# Creates (once) a virtualenv at ${CAPLOOP_INSPECT_VENV:-target/inspect-venv}
# (relative paths are taken from the repository root) with
# inspect-ai==$INSPECT_VERSION from PyPI and runs tests/inspect/make_logs.py:
# a 40-item task, two epochs, two checkpoints of Inspect's mock model
# (`mockllm/ckpt-base`, `mockllm/ckpt-noeos`), written by Inspect's own
# eval() as zstd `.eval` logs into OUT_DIR, with OUT_DIR/plan.json (what each
# run was given and what every scorer must say). The script checks the logs
# against the plan through inspect_ai.log.read_eval_log. No network is used
# at run time: every mock output carries its token usage.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi

INSPECT_VERSION=0.3.285
start=$SECONDS
mkdir -p "$1"
out_dir=$(cd "$1" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

venv=${CAPLOOP_INSPECT_VENV:-target/inspect-venv}
python=${CAPLOOP_PYTHON:-python3}

have_version() {
    "$venv/bin/python" -c 'import importlib.metadata as m, inspect_ai; print(m.version("inspect_ai"))' 2>/dev/null || true
}

if [[ "$(have_version)" != "$INSPECT_VERSION" ]]; then
    echo "inspect: installing inspect-ai==$INSPECT_VERSION into $venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$python" -m venv "$venv"
    fi
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
        "inspect-ai==$INSPECT_VERSION"
    if [[ "$(have_version)" != "$INSPECT_VERSION" ]]; then
        echo "inspect: inspect-ai $INSPECT_VERSION is not importable from $venv" >&2
        exit 1
    fi
    echo "inspect: installed in $((SECONDS - start))s"
else
    echo "inspect: reusing $venv (inspect-ai $INSPECT_VERSION)"
fi

gen_start=$SECONDS
HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 "$venv/bin/python" tests/inspect/make_logs.py "$out_dir"
echo "inspect: generated in $((SECONDS - gen_start))s, total $((SECONDS - start))s"
