# Provenance: verbatim copy of shared/bench/ref_duckdb.py (the project's shared design
# folder, bench/), sha256 7d0a7029bc2b06e8...; only these two header lines added.
"""The same work in DuckDB SQL. usage: ref_duckdb.py DATA.parquet"""
import sys, time, duckdb
t0 = time.time()
words = "remainder percent probability triangle circle ways sequence integer ratio speed hours cookies money sum product divisible prime area angle average".split()
rules = [(f"r{i}", rf"\b{a}\b.*\b{b}\b") for i, (a, b) in enumerate((a, b) for a in words for b in words if a != b)][:100]
con = duckdb.connect()
con.execute(f"create view s as select * from read_parquet('{sys.argv[1]}')")
con.execute("create table items as select item_id, any_value(prompt) prompt, avg(score) filter (where run='cand') - avg(score) filter (where run='base') delta from s group by item_id")
union = " union all ".join(f"select '{n}' slice, delta from items where regexp_matches(prompt, '{p}')" for n, p in rules)
res = con.execute(f"select slice, avg(delta), stddev(delta)/sqrt(count(*)), count(*) from ({union}) group by slice").fetchall()
print(con.execute("select count(*) from s").fetchall()[0][0], "rows", len(res), "slices", f"{time.time()-t0:.2f}s")
