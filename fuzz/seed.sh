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
echo "seeded: $(for d in corpus/*; do printf '%s=%s ' "$(basename "$d")" "$(ls "$d" | wc -l)"; done)"
