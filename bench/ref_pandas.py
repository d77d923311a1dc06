# Provenance: verbatim copy of shared/bench/ref_pandas.py (the project's shared design
# folder, bench/), sha256 6c2006d9abc9694d...; only these two header lines added.
"""What a user does by hand today: tag rows with regex rules, aggregate per slice and run,
compare two runs item by item per slice. usage: ref_pandas.py DATA.parquet"""
import sys, time, numpy as np, pandas as pd
t0 = time.time()
df = pd.read_parquet(sys.argv[1])
words = "remainder percent probability triangle circle ways sequence integer ratio speed hours cookies money sum product divisible prime area angle average".split()
rules = [(f"r{i}", rf"\b{a}\b.*\b{b}\b") for i, (a, b) in enumerate((a, b) for a in words for b in words if a != b)][:100]
tags = []
for name, pat in rules:
    m = df["prompt"].str.contains(pat, regex=True)
    tags.append(pd.DataFrame({"row": np.flatnonzero(m.values), "slice": name}))
tags = pd.concat(tags)
item_scores = df.groupby(["run", "item_id"], sort=False)["score"].mean().unstack("run")
d = (item_scores["cand"] - item_scores["base"]).rename("delta")
rows = tags.merge(df[["item_id", "run"]].reset_index(names="row"), on="row")
rows = rows[rows.run == "base"].drop_duplicates(["slice", "item_id"])
rows = rows.join(d, on="item_id")
res = rows.groupby("slice")["delta"].agg(["mean", "std", "count"])
res["se"] = res["std"] / np.sqrt(res["count"])
print(len(df), "rows", len(res), "slices", f"{time.time()-t0:.2f}s")
