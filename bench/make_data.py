# Provenance: verbatim copy of shared/bench/make_data.py (the project's shared design
# folder, bench/), sha256 1802565f5557c2e4...; only these two header lines added.
"""Synthetic canonical-table data for the reference implementations.
usage: make_data.py OUT.parquet ITEMS SAMPLES"""
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
out, items, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
words = np.array("remainder percent probability triangle circle ways sequence integer ratio speed hours cookies money sum product divisible prime area angle average".split())
tasks = np.array([f"task_{i}" for i in range(40)])
prompts = [" ".join(rng.choice(words, 12)) + f" question {i}" for i in range(items)]
task_of = rng.integers(0, 40, items)
skill = rng.uniform(0.2, 0.9, items)
cols = {k_: [] for k_ in ["run", "benchmark", "task", "item_id", "sample_idx", "prompt", "response", "score"]}
for run in ["base", "cand"]:
    n = items * k
    item = np.repeat(np.arange(items), k)
    draw = rng.uniform(size=n) < skill[item]
    cols["run"].append(np.full(n, run)); cols["benchmark"].append(np.full(n, "bench"))
    cols["task"].append(tasks[task_of[item]]); cols["item_id"].append(item.astype(str))
    cols["sample_idx"].append(np.tile(np.arange(k), items)); cols["prompt"].append(np.array(prompts, dtype=object)[item])
    cols["response"].append(np.where(draw, "So the answer is 42.", "So the answer is 41. Let me check again."))
    cols["score"].append(draw.astype(float))
t = pa.table({c: np.concatenate(v) for c, v in cols.items()})
pq.write_table(t, out)
print(out, t.num_rows)
