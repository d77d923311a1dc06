# Provenance: verbatim copy of shared/bench/make_tax.py (the project's shared design
# folder, bench/), sha256 8cf281a43a9c668b...; only these two header lines added.
"""The 100 rules of ref_duckdb.py / ref_pandas.py as a caploop taxonomy. usage: make_tax.py OUT.yaml"""
import sys
words = "remainder percent probability triangle circle ways sequence integer ratio speed hours cookies money sum product divisible prime area angle average".split()
rules = [(f"r{i}", rf"\b{a}\b.*\b{b}\b") for i, (a, b) in enumerate((a, b) for a in words for b in words if a != b)][:100]
y = "name: bench\naxes:\n  operation: [" + ", ".join(n for n, _ in rules) + "]\nrules:\n"
for n, p in rules:
    y += f"  - id: {n}\n    when: {{ benchmark: bench, prompt_regex: '{p}' }}\n    add: {{ operation: {n} }}\n"
open(sys.argv[1], "w").write(y)
