#!/usr/bin/env bash
# Benchmark of `caploop apply` (release build) against its PySpark job:
#   bench/apply.sh [N_CAPLOOP] [N_SPARK]     (defaults 100000000 and 10000000)
# Writes synthetic manifests (`caploop synth --corpus`, ~10 bytes a document)
# under target/bench-apply/, times caploop with /usr/bin/time -v (peak RSS),
# the emitted Spark job in local mode on the N_SPARK manifest, checks both
# select the same (doc_id, copies) set there, and deletes the manifests.
# Needs the pyspark venv of .ci/spark.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000000}
NS=${2:-10000000}
dir=target/bench-apply
py=${CAPLOOP_PYSPARK:-target/venv-spark/bin/python}
bin=target/release/caploop
mkdir -p "$dir"
cargo build --release --quiet
# A plan with the demo's mixture and a hand-written weakness section.
$bin demo --out "$dir/demo" --quiet
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
p = json.load(open(f"{d}/demo/plan.json"))
p["weakness"] = {"axis": "operation", "constants": {"kappa": 50, "rho": 1.0, "d_max": 2}, "features": [
    {"labels": ["counting", "equation_formulation"], "order": 2, "weak": 3.21},
    {"labels": ["counting", "compare_or_rank"], "order": 2, "weak": 2.4},
    {"labels": ["counting"], "order": 1, "weak": 1.5},
    {"labels": ["equation_formulation"], "order": 1, "weak": 1.1}]}
json.dump(p, open(f"{d}/plan.json", "w"))
PY
run() { # name N budget_tokens [--emit-spark DIR]
  local name=$1 n=$2 budget=$3; shift 3
  $bin synth --corpus "$n" --seed 1 --out "$dir/$name.parquet" --quiet
  ls -l "$dir/$name.parquet"
  /usr/bin/time -v $bin apply --plan "$dir/plan.json" --corpus "$dir/$name.parquet" --out "$dir/out-$name" \
      --budget-tokens "$budget" "$@" 2> "$dir/time-$name.txt"
  local secs rss
  secs=$(grep 'Elapsed' "$dir/time-$name.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$dir/time-$name.txt" | awk '{print $NF}')
  echo "caploop apply, $n docs: wall $secs, peak RSS $((rss / 1024)) MiB"
  python3 -c "import sys; t='$secs'.split(':'); s=sum(float(x)*60**i for i,x in enumerate(reversed(t))); print(f'  {int($n/s):,} docs/s')"
}
# Spark comparison on N_SPARK documents (budget: 1/10 of the tokens, ~138 tokens a doc of 1383).
run small "$NS" $((NS * 138)) --emit-spark "$dir/spark"
start=$(date +%s.%N)
"$py" "$dir/spark/select.py" --corpus "$dir/small.parquet" --out "$dir/spark-out" 2> "$dir/spark.log"
end=$(date +%s.%N)
python3 -c "print(f'pyspark local mode, $NS docs: {($end - $start):.1f} s')"
"$py" - "$dir" <<'PY'
import sys, glob
from pyspark.sql import SparkSession
d = sys.argv[1]
s = SparkSession.builder.master("local[*]").config("spark.ui.showConsoleProgress", "false").getOrCreate()
s.sparkContext.setLogLevel("ERROR")
a = s.read.parquet(f"{d}/spark-out").select("doc_id", "copies")
b = s.read.option("sep", "\t").schema("doc_id string, copies int").csv(f"{d}/out-small/ids.tsv")
print("spark vs caploop (doc_id, copies) differences:", a.exceptAll(b).count() + b.exceptAll(a).count(), "of", b.count())
PY
rm -rf "$dir/small.parquet" "$dir/spark-out"
run big "$N" $((N * 138))
rm -rf "$dir/big.parquet"
