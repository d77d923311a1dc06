#!/usr/bin/env bash
# A venv with pyspark under target/ for the Spark parity test of `caploop apply`
# (tests/suite/apply.rs reads CAPLOOP_PYSPARK = the venv's python). Needs Java 17.
set -euo pipefail
venv="${1:-target/venv-spark}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyspark' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'pyspark==3.5.3'
fi
"$venv/bin/python" -c 'import pyspark; print("pyspark", pyspark.__version__)'
