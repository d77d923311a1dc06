#!/usr/bin/env bash
# The anchor benchmark: caploop vs DuckDB vs pandas on the same work
# (1M rows = 500k items x 2 runs of Parquet, 100 regex rules \bA\b.*\bB\b over
# the prompt, a paired per-slice comparison). See bench/README.md.
#
#   bench/anchor.sh [ITEMS] [SAMPLES] [-- extra anchor.py options]
#
# ITEMS (default 500000) x SAMPLES (default 1) x 2 runs rows. Environment:
#   CAPLOOP_BIN          caploop binary (default target/release/caploop)
#   CAPLOOP_BENCH_VENV   virtualenv with duckdb, pandas, pyarrow, numpy
#                        (default target/bench-venv; created once, then reused)
#   CAPLOOP_BENCH_WORK   data and outputs (default target/bench)
#   ROUNDS               rounds, each tool once per round (default 3)
#   CAPLOOP_PYTHON       Python used to create the venv (default python3)
#   CAPLOOP_BIN_COMMIT   commit the binary was built from, for the record
#                        (default: the repository HEAD)
# Relative paths are taken from the repository root. Writes
# $CAPLOOP_BENCH_WORK/anchor.json and prints the table.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

items=500000
samples=1
if [[ $# -gt 0 && "$1" != "--" ]]; then items=$1; shift; fi
if [[ $# -gt 0 && "$1" != "--" ]]; then samples=$1; shift; fi
if [[ $# -gt 0 && "$1" == "--" ]]; then shift; fi

bin=${CAPLOOP_BIN:-target/release/caploop}
work=${CAPLOOP_BENCH_WORK:-target/bench}
rounds=${ROUNDS:-3}

if [[ ! -x "$bin" ]]; then
    echo "anchor: no caploop binary at $bin; build it with 'cargo build --release' or set CAPLOOP_BIN" >&2
    exit 2
fi

# shellcheck source=bench/venv.sh
source bench/venv.sh
bench_venv

exec "$venv/bin/python" bench/anchor.py --bin "$bin" --work "$work" \
    --items "$items" --samples "$samples" --rounds "$rounds" "$@"
