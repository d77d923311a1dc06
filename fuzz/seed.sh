#!/usr/bin/env bash
# Seed each fuzz target's corpus with the real fixtures of the repository
# (tests/fixtures/samples, tests/bad_inputs, the shipped configs).
set -euo pipefail
cd "$(dirname "$0")"
R=..
seed() { mkdir -p "corpus/$1"; shift; for f in "$@"; do [ -f "$f" ] && cp "$f" "corpus/$t/$(echo "${f#../}" | tr '/ ' '__')" || true; done; }
t=generic_jsonl; seed $t $(find $R/tests/fixtures $R/tests/bad_inputs -name '*.jsonl' -size -200k)
t=generic_json; seed $t $(find $R/tests/fixtures $R/tests/bad_inputs -name '*.json' -size -200k)
t=generic_csv; seed $t $(find $R/tests/fixtures $R/tests/bad_inputs -name '*.csv' -size -200k)
t=generic_parquet; seed $t $(find $R/tests/fixtures $R/tests/bad_inputs -name '*.parquet' -size -200k)
t=lmeval_samples; seed $t $(find $R/tests/fixtures/samples -name 'samples_*.jsonl' -size -200k)
t=column_mapping; seed $t $(find $R/tests/fixtures -name 'mapping.yaml') 
# yaml_configs: the first byte picks the kind (0 taxonomy, 1 data taxonomy,
# 2 mapping rules, 3 settings, 4 pipeline, 5 taxonomy from text).
mkdir -p corpus/yaml_configs
k=0
for f in $R/taxonomies/*.yaml; do printf '\x00' | cat - "$f" > "corpus/yaml_configs/tax_$(basename "$f")"; done
printf '\x01' | cat - $R/configs/data_taxonomy.yaml > corpus/yaml_configs/data_taxonomy
printf '\x02' | cat - $R/configs/mapping.yaml > corpus/yaml_configs/mapping_rules
printf '\x03' | cat - $R/configs/diagnosis.yaml > corpus/yaml_configs/settings
for f in $(find $R/tests/bad_inputs -name 'settings.yaml'); do printf '\x03' | cat - "$f" > "corpus/yaml_configs/set_$(echo "$f" | tr '/' '_')"; done
for f in $(find $R/tests/bad_inputs -name 'pipeline.yaml'); do printf '\x04' | cat - "$f" > "corpus/yaml_configs/pipe_$(echo "$f" | tr '/' '_')"; done
# Inspect logs: the .eval archives and .json logs of the fixtures.
t=inspect_eval; seed $t $(find $R/tests/fixtures/samples/inspect-testlogs $R/tests/fixtures/inspect -name '*.eval' -size -200k)
t=inspect_json; seed $t $(find $R/tests/fixtures/samples/inspect-testlogs $R/tests/fixtures/inspect -name '*.json' -size -200k)
t=lighteval_details; seed $t $(find $R/tests/fixtures/lighteval -name 'details_*.parquet' -size -200k)
# Layout targets: the first byte picks the layout and the file replaced
# (layout * files + file, files in the order of the target's table).
pre() { mkdir -p "corpus/$1"; printf "\\x$(printf %02x "$2")" | cat - "$3" > "corpus/$1/$2_$(basename "$3" | tr ':|' '__')"; }
O=$R/tests/fixtures/olmes/run1; k=0
for task in task-000-gsm8k task-001-arc_easy:mc; do
  for f in metrics.json predictions.jsonl requests.jsonl; do pre olmes $k "$O/$task-$f"; k=$((k + 1)); done
done
H=$R/tests/fixtures/helm/benchmark_output/runs/v1; k=0
for run in 'gsm:model=openai_gpt2' 'mmlu:subject=geography,method=multiple_choice_joint,model=openai_gpt2'; do
  for f in run_spec.json per_instance_stats.json scenario_state.json display_predictions.json; do pre helm $k "$H/$run/$f"; k=$((k + 1)); done
done
W=$R/tests/fixtures/opencompass-details/20261130_120000; k=0
for d in arc gsm8k math race; do
  pre opencompass $k "$W/results/m1/$d.json"; pre opencompass $((k + 1)) "$W/predictions/m1/$d.json"
  pre opencompass $((k + 2)) "$W/configs/20261130_120000.py"; k=$((k + 3))
done
# labels: the first byte picks JSONL (0), CSV (1) or Parquet (2).
for f in $R/tests/fixtures/labels/*.jsonl; do pre labels 0 "$f"; done
for f in $R/tests/fixtures/labels/*.csv; do pre labels 1 "$f"; done
# apply_manifest: the first byte picks Parquet (0) or JSONL (1); a
# synthetic manifest from `caploop synth --corpus` when a build is on hand.
mkdir -p corpus/apply_manifest
printf '\x01{"doc_id": "d1", "tokens": 120, "category": "math/competition", "labels": ["counting"]}\n{"doc_id": "d2", "tokens": 0, "category": "web/general", "labels": null}\n' > corpus/apply_manifest/hand.jsonl
for b in $R/target/debug/caploop $R/target/release/caploop; do
  if [ -x "$b" ]; then
    tmp=$(mktemp -d)
    "$b" synth --corpus 40 --seed 1 --out "$tmp/m.parquet" -q && pre apply_manifest 0 "$tmp/m.parquet" && pre labels 2 "$tmp/m.parquet"
    "$b" synth --corpus 40 --seed 1 --out "$tmp/m.jsonl" -q && pre apply_manifest 1 "$tmp/m.jsonl"
    rm -rf "$tmp"; break
  fi
done
echo "seeded: $(for d in corpus/*; do printf '%s=%s ' "$(basename "$d")" "$(ls "$d" | wc -l)"; done)"
