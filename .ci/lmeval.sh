#!/usr/bin/env bash
# Produce real lm-evaluation-harness --log_samples output for caploop's tests.
#
#   .ci/lmeval.sh OUT_DIR
#
# Creates (once) a virtualenv at ${CAPLOOP_LMEVAL_VENV:-target/lmeval-venv}
# (relative paths are taken from the repository root) with lm-eval==0.4.13
# (core package only: no torch/transformers) and runs
# tests/lmeval/make_logs.py, which writes
#   OUT_DIR/caploop__scripted-base/{results_<ts>.json,samples_<task>_<ts>.jsonl}
#   OUT_DIR/caploop__scripted-noeos/...
# plus the diagnosis cases (tests/lmeval/README.md, "Diagnosis cases") in a
# folder BESIDE it, ${CAPLOOP_LMEVAL_DIAGNOSIS_LOGS:-OUT_DIR-diagnosis}:
#   OUT_DIR-diagnosis/caploop__scripted-{base,runon,loop,bare,suffix}/...
# and checks them against tests/lmeval/expected.json, and the diagnosis logs
# row by row against the scripted plan and tests/lmeval/diagnosis_truth.json.
# Only PyPI is used;
# the evaluation itself runs with HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1.
# Re-running is safe: the venv is reused, the model folders are replaced.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi

LM_EVAL_VERSION=0.4.13
start=$SECONDS
mkdir -p "$1"
out_dir=$(cd "$1" && pwd)
diag_dir=${CAPLOOP_LMEVAL_DIAGNOSIS_LOGS:-$out_dir-diagnosis}
mkdir -p "$diag_dir"
diag_dir=$(cd "$diag_dir" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

venv=${CAPLOOP_LMEVAL_VENV:-target/lmeval-venv}
python=${CAPLOOP_PYTHON:-python3}

have_version() {
    "$venv/bin/python" -c 'import importlib.metadata as m, lm_eval; print(m.version("lm_eval"))' 2>/dev/null || true
}

if [[ "$(have_version)" != "$LM_EVAL_VERSION" ]]; then
    echo "lmeval: installing lm-eval==$LM_EVAL_VERSION into $venv"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$python" -m venv "$venv"
    fi
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet --no-input \
        -c tests/lmeval/constraints.txt "lm-eval==$LM_EVAL_VERSION"
    if [[ "$(have_version)" != "$LM_EVAL_VERSION" ]]; then
        echo "lmeval: lm-eval $LM_EVAL_VERSION is not importable from $venv" >&2
        exit 1
    fi
    echo "lmeval: installed in $((SECONDS - start))s"
else
    echo "lmeval: reusing $venv (lm-eval $LM_EVAL_VERSION)"
fi

gen_start=$SECONDS
HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 "$venv/bin/python" tests/lmeval/make_logs.py \
    "$out_dir" --diagnosis-out "$diag_dir" --check tests/lmeval/expected.json
echo "lmeval: generated in $((SECONDS - gen_start))s, total $((SECONDS - start))s"
