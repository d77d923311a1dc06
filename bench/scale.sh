#!/usr/bin/env bash
# Scale runs: `caploop run` through ingest, tag, compare, diagnose, plan and
# report at several sizes, on synthetic lm-eval logs (`caploop synth`) and on
# generic Parquet (bench/make_data.py). See bench/README.md.
#
#   bench/scale.sh [ROWS...] [-- extra scale.py options]
#
# ROWS: sizes in rows (default "1000000 2000000"); e.g. bench/scale.sh 10000000.
# Environment: CAPLOOP_BIN (default target/release/caploop), CAPLOOP_BENCH_VENV
# (default target/bench-venv), CAPLOOP_BENCH_WORK (default target/bench; inputs
# go to its scale/ folder, ~1.2 GB of logs per 1M lm-eval rows), ROUNDS
# (default 1), CAPLOOP_PYTHON, CAPLOOP_BIN_COMMIT (the commit the binary was
# built from, for the record; default the repository HEAD). Writes
# $CAPLOOP_BENCH_WORK/scale.json.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

sizes=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
    sizes+=("$1")
    shift
done
[[ "${1:-}" == "--" ]] && shift
[[ ${#sizes[@]} -eq 0 ]] && sizes=(1000000 2000000)

bin=${CAPLOOP_BIN:-target/release/caploop}
work=${CAPLOOP_BENCH_WORK:-target/bench}
rounds=${ROUNDS:-1}

if [[ ! -x "$bin" ]]; then
    echo "scale: no caploop binary at $bin; build it with 'cargo build --release' or set CAPLOOP_BIN" >&2
    exit 2
fi

# shellcheck source=bench/venv.sh
source bench/venv.sh
bench_venv

exec "$venv/bin/python" bench/scale.py --bin "$bin" --work "$work" --rounds "$rounds" "$@" "${sizes[@]}"
