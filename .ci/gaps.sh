#!/usr/bin/env bash
# Real lm-evaluation-harness gsm8k logs for the taxonomy-gap case
# (tests/lmeval/gaps_case.py): a candidate weak only on problems combining a
# percentage with a remainder worded the grade-school way.
#
#   .ci/gaps.sh OUT_DIR
#
# Uses the virtualenv .ci/lmeval.sh builds (${CAPLOOP_LMEVAL_VENV:-target/lmeval-venv},
# lm-eval 0.4.13); run that first. Two lm-eval runs of 1,000 docs, about
# 45 s on 2 cores. No network (HF_*_OFFLINE=1).
set -euo pipefail
if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
venv=${CAPLOOP_LMEVAL_VENV:-target/lmeval-venv}
start=$SECONDS
HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 "$venv/bin/python" tests/lmeval/gaps_case.py "$1"
echo "gaps: generated in $((SECONDS - start))s"
