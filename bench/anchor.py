"""The anchor benchmark: caploop against DuckDB and pandas on the same work.

Run through bench/anchor.sh, which provides the virtualenv (duckdb, pandas,
pyarrow, numpy); this file is the driver:

1. data: make_data.py (ITEMS items x SAMPLES samples x 2 runs, Parquet) and
   make_tax.py (the 100 rules `\\bA\\b.*\\bB\\b` as a caploop taxonomy), plus the
   caploop configs: a generic column mapping, compare settings with
   `max_order: 1` (one slice per rule, as the references compute) and a
   pipeline config; all checked with `caploop check`. Reused when present
   and made for the same size.
2. ROUNDS rounds; in each, every tool once, the order rotating by one per
   round. Measured per tool: wall time (process start to exit) and peak RSS.
     caploop        ingest --format generic --columns + tag + compare (3 processes;
                    time summed, RSS the largest)
     caploop 2-step ingest --taxonomy (tags while ingesting, the table written
                    once, the same file) + compare (2 processes)
     caploop from logs  compare data.parquet --taxonomy (read, tagged and
                    compared in memory; no sample table written: the work
                    the DuckDB and pandas references do)
     caploop run    run --config pipeline.yaml: the same ingest, tag and compare,
                    plus diagnose, plan and report (the pipeline cannot stop
                    after compare), so it does strictly more work
     duckdb         python ref_duckdb.py data.parquet
     pandas         python ref_pandas.py data.parquet
3. After the first round (untimed): caploop's comparison.csv is checked
   against an independent DuckDB computation of every rule's item count and
   mean paired delta, so the timed work is the same work.
4. A table on stdout (medians; speed ratios = other tool's median time / this
   tool's median time, so > 1 means this tool is faster) and WORK/anchor.json.
"""
import argparse
import csv
import datetime
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import measure  # noqa: E402

TOOLS = ["caploop", "caploop 2-step", "caploop from logs", "caploop run", "duckdb", "pandas"]

COLUMNS_YAML = """\
# Generic column mapping for bench/make_data.py's Parquet (canonical field -> column).
columns:
  run: run
  benchmark: benchmark
  task: task
  item_id: item_id
  sample_idx: sample_idx
  prompt: prompt
  response: response
  score: score
meta: none
pass_threshold: 1.0
"""

COMPARE_YAML = """\
# One slice per tag (and the whole benchmark): the references compute one slice per rule.
max_order: 1
"""


def pipeline_yaml(data, columns, tax, compare_settings):
    # The same work as ingest + tag + compare, as one pipeline config.
    return (
        "# ingest + tag + compare of the anchor workload (caploop run also diagnoses, plans, reports)\n"
        f"inputs: [{data}]\n"
        "format: generic\n"
        f"columns: {columns}\n"
        f"taxonomies: [{tax}]\n"
        "baseline: base\n"
        "candidate: cand\n"
        f"compare: {{ {compare_settings} }}\n"
    )


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:16]


def prepare(args, work):
    data = os.path.join(work, "data.parquet")
    stamp_path = os.path.join(work, "data.json")
    stamp = {"items": args.items, "samples": args.samples, "make_data": sha(os.path.join(HERE, "make_data.py"))}
    old = None
    if os.path.exists(stamp_path) and os.path.exists(data):
        with open(stamp_path) as f:
            old = json.load(f)
    if old is not None and {k: old.get(k) for k in stamp} == stamp:
        print(f"anchor: reusing {data} ({old.get('rows')} rows)", flush=True)
        rows = old.get("rows")
    else:
        print(f"anchor: generating {data}: {args.items} items x {args.samples} samples x 2 runs", flush=True)
        r = measure.run([sys.executable, os.path.join(HERE, "make_data.py"), data, str(args.items), str(args.samples)])
        if r["rc"] != 0:
            sys.exit(f"error: make_data.py failed:\n{r['stderr']}")
        rows = int(r["stdout"].split()[-1])
        measure.write_json(stamp_path, {**stamp, "rows": rows, "seconds": round(r["wall_s"], 1)})
        print(f"anchor: {rows} rows in {r['wall_s']:.1f} s", flush=True)
    tax = os.path.join(work, "bench_tax.yaml")
    r = measure.run([sys.executable, os.path.join(HERE, "make_tax.py"), tax])
    if r["rc"] != 0:
        sys.exit(f"error: make_tax.py failed:\n{r['stderr']}")
    columns = os.path.join(work, "columns.yaml")
    compare = os.path.join(work, "compare.yaml")
    pipeline = os.path.join(work, "pipeline.yaml")
    with open(columns, "w") as f:
        f.write(COLUMNS_YAML)
    with open(compare, "w") as f:
        f.write(COMPARE_YAML)
    with open(pipeline, "w") as f:
        f.write(pipeline_yaml("data.parquet", "columns.yaml", "bench_tax.yaml", "max_order: 1"))
    # `caploop check` validates the taxonomy and the column mapping. It does
    # not take a bare `compare --settings` file (it wants a `compare:`
    # section, which `compare --settings` rejects), so the settings are
    # checked in that form; and it reads a pipeline config that has a
    # `compare:` key as a settings file. Those two are warnings: the timed
    # commands themselves load every file.
    compare_section = os.path.join(work, "compare.check.yaml")
    with open(compare_section, "w") as f:
        f.write("compare:\n" + "".join("  " + l + "\n" for l in COMPARE_YAML.splitlines() if not l.startswith("#")))
    checks = []
    for cfg, fatal in ((tax, True), (columns, True), (compare_section, True), (pipeline, False)):
        r = measure.run([args.bin, "check", cfg])
        msg = (r["stdout"] + r["stderr"]).strip()
        checks.append({"file": os.path.basename(cfg), "exit": r["rc"], "output": msg})
        if r["rc"] != 0:
            if fatal:
                sys.exit(f"error: caploop check {cfg} failed (exit {r['rc']}):\n{msg}")
            print(f"anchor: warning: caploop check {cfg} exits {r['rc']}: {msg}", flush=True)
    return {"data": data, "rows": rows, "tax": tax, "columns": columns, "compare": compare,
            "pipeline": pipeline, "checks": checks}


def job(tool, args, files, work):
    """(steps, output folder) of one tool: steps are (name, argv)."""
    out = os.path.join(work, "out", tool.replace(" ", "-"))
    os.makedirs(out, exist_ok=True)
    b = args.bin
    if tool == "caploop":
        samples = os.path.join(out, "samples.parquet")
        tagged = os.path.join(out, "tagged.parquet")
        return [
            ("ingest", [b, "--quiet", "ingest", files["data"], "--format", "generic",
                        "--columns", files["columns"], "--out", samples]),
            ("tag", [b, "--quiet", "tag", "--samples", samples, "--taxonomy", files["tax"], "--out", tagged]),
            ("compare", [b, "--quiet", "compare", "--samples", tagged, "--baseline", "base",
                         "--candidate", "cand", "--settings", files["compare"], "--out", os.path.join(out, "cmp")]),
        ], out
    if tool == "caploop 2-step":
        tagged = os.path.join(out, "tagged.parquet")
        return [
            ("ingest+tag", [b, "--quiet", "ingest", files["data"], "--format", "generic",
                            "--columns", files["columns"], "--taxonomy", files["tax"], "--out", tagged]),
            ("compare", [b, "--quiet", "compare", "--samples", tagged, "--baseline", "base",
                         "--candidate", "cand", "--settings", files["compare"], "--out", os.path.join(out, "cmp")]),
        ], out
    if tool == "caploop from logs":
        return [
            ("compare", [b, "--quiet", "compare", files["data"], "--format", "generic",
                         "--columns", files["columns"], "--taxonomy", files["tax"],
                         "--baseline", "base", "--candidate", "cand",
                         "--settings", files["compare"], "--out", os.path.join(out, "cmp")]),
        ], out
    if tool == "caploop run":
        # Not --quiet: the progress lines give per-stage times.
        return [("run", [b, "run", "--config", files["pipeline"], "--out", out])], out
    script = {"duckdb": "ref_duckdb.py", "pandas": "ref_pandas.py"}[tool]
    return [(tool, [sys.executable, os.path.join(HERE, script), files["data"]])], out


def cross_check(comparison_csv, data):
    """caploop's per-rule slices against DuckDB: same items, same mean delta."""
    import duckdb  # in the bench venv

    sys.path.insert(0, HERE)
    words = ("remainder percent probability triangle circle ways sequence integer ratio speed hours "
             "cookies money sum product divisible prime area angle average").split()
    rules = [(f"r{i}", rf"\b{a}\b.*\b{b}\b")
             for i, (a, b) in enumerate((a, b) for a in words for b in words if a != b)][:100]
    con = duckdb.connect()
    con.execute(f"create view s as select * from read_parquet('{data}')")
    con.execute("create table items as select item_id, any_value(prompt) prompt, "
                "avg(score) filter (where run='cand') - avg(score) filter (where run='base') delta "
                "from s group by item_id")
    ref = {}
    for n, p in rules:
        cnt, mean = con.execute(f"select count(*), avg(delta) from items where regexp_matches(prompt, '{p}')").fetchone()
        ref[n] = (cnt, mean)
    with open(comparison_csv) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {"ok": False, "message": f"{comparison_csv} has no rows"}
    cols = rows[0].keys()
    slice_col = next((c for c in ("slice", "name") if c in cols), None)
    n_col = next((c for c in ("paired_items", "items", "n") if c in cols), None)
    d_col = next((c for c in ("delta", "mean_delta") if c in cols), None)
    if not (slice_col and n_col and d_col):
        return {"ok": False, "message": f"unexpected columns in {comparison_csv}: {list(cols)}"}
    got = {}
    for r in rows:
        s = r[slice_col]
        if s.startswith("operation="):
            got[s.split("=", 1)[1]] = (int(float(r[n_col])), float(r[d_col]))
    bad = []
    for n, (cnt, mean) in ref.items():
        if cnt == 0:
            continue
        if n not in got:
            bad.append(f"{n}: in DuckDB ({cnt} items), missing in caploop")
            continue
        gc, gm = got[n]
        if gc != cnt or abs(gm - mean) > 1e-9:
            bad.append(f"{n}: DuckDB {cnt} items delta {mean:.6f}, caploop {gc} items delta {gm:.6f}")
    matched = sum(1 for n, (c, _) in ref.items() if c > 0 and n in got)
    return {
        "ok": not bad,
        "slices_compared": matched,
        "columns_used": [slice_col, n_col, d_col],
        "message": "; ".join(bad[:5]) if bad else f"{matched} rule slices: same items and mean delta as DuckDB",
    }


def fmt_s(x):
    return "-" if x is None else f"{x:.2f}"


def fmt_mib(x):
    if x is None:
        return "-"
    return f"{x / 1024:.2f} GiB" if x >= 1024 else f"{x:.0f} MiB"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("CAPLOOP_BIN", "target/release/caploop"))
    ap.add_argument("--work", default="target/bench")
    ap.add_argument("--items", type=int, default=500000)
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help="comma-separated subset of: " + ", ".join(TOOLS))
    ap.add_argument("--wait-quiet", type=float, default=float(os.environ.get("CAPLOOP_BENCH_WAIT_QUIET", 0)),
                    help="before each timed command, wait up to this many seconds for the machine to be "
                         "idle (other processes under 15%% of a core; default 0: do not wait)")
    ap.add_argument("--json", default=None, help="default WORK/anchor.json")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    measure.WAIT_QUIET_S = args.wait_quiet
    measure.require_file(args.bin, "caploop binary (set CAPLOOP_BIN or --bin)")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for t in tools:
        if t not in TOOLS:
            sys.exit(f"error: unknown tool '{t}'; use some of: {', '.join(TOOLS)}")
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    files = prepare(args, work)

    import duckdb, numpy, pandas, pyarrow  # noqa: E401 (versions for the record)
    versions = {"duckdb": duckdb.__version__, "pandas": pandas.__version__,
                "pyarrow": pyarrow.__version__, "numpy": numpy.__version__,
                "caploop": measure.caploop_version(args.bin)}
    repo = os.path.dirname(HERE)
    head, dirty = measure.binary_commit(repo)

    machine_before = measure.machine()
    results = {t: [] for t in tools}
    checked = set()
    cross_checks = []
    for r in range(args.rounds):
        order = tools[r % len(tools):] + tools[: r % len(tools)]
        for tool in order:
            steps, out = job(tool, args, files, work)
            res = measure.sequence(steps, cwd=work, log_prefix=os.path.join(out, f"round{r + 1}"))
            if tool == "caploop run" and res["rc"] == 0:
                with open(os.path.join(out, f"round{r + 1}.run.log")) as f:
                    res["stages"] = measure.stage_times(f.read())
            res["round"] = r + 1
            results[tool].append(res)
            status = "ok" if res["rc"] == 0 else f"FAILED (exit {res['rc']} in {res.get('failed_step')})"
            if res.get("busy"):
                status += f" [other processes used {res.get('other_cpu_s', 0):.1f} CPU-s meanwhile]"
            steps_txt = ""
            if len(res["steps"]) > 1:
                steps_txt = " (" + ", ".join(f"{k} {v['wall_s']:.2f}" for k, v in res["steps"].items()) + ")"
            print(f"anchor: round {r + 1}/{args.rounds} {tool:<17} {res['wall_s']:7.2f} s{steps_txt}, "
                  f"peak RSS {fmt_mib(res['rss_mib'])}: {status}", flush=True)
            if res["rc"] != 0:
                print("  " + res.get("error", "").replace("\n", "\n  "), flush=True)
            if tool in ("caploop", "caploop 2-step", "caploop from logs") and res["rc"] == 0 and tool not in checked:
                checked.add(tool)
                c = cross_check(os.path.join(out, "cmp", "comparison.csv"), files["data"])
                c["message"] = f"{tool}: {c['message']}"
                print(f"anchor: cross-check: {'ok' if c['ok'] else 'MISMATCH'}: {c['message']}", flush=True)
                cross_checks.append(c)

    # The summary keeps a mismatch over an agreement.
    check = next((c for c in cross_checks if not c["ok"]), cross_checks[0] if cross_checks else None)

    summary = {}
    for tool in tools:
        ok = [x for x in results[tool] if x["rc"] == 0]
        summary[tool] = {
            "ok_rounds": len(ok),
            "median_wall_s": measure.median([x["wall_s"] for x in ok]),
            "min_wall_s": min((x["wall_s"] for x in ok), default=None),
            "max_wall_s": max((x["wall_s"] for x in ok), default=None),
            "peak_rss_mib": max((x["rss_mib"] for x in ok if x["rss_mib"] is not None), default=None),
            # Rounds in which no other process shared the CPUs.
            "quiet_rounds": sum(1 for x in ok if not x.get("busy")),
            "quiet_median_wall_s": measure.median([x["wall_s"] for x in ok if not x.get("busy")]),
        }
        if ok and len(ok[0]["steps"]) > 1:
            summary[tool]["median_step_s"] = {
                k: measure.median([x["steps"][k]["wall_s"] for x in ok]) for k in ok[0]["steps"]}
        if ok and ok[0].get("stages"):
            summary[tool]["median_stage_s"] = {
                k: measure.median([x["stages"].get(k, 0.0) for x in ok]) for k in ok[0]["stages"]}
    duck = summary.get("duckdb", {}).get("median_wall_s")
    pand = summary.get("pandas", {}).get("median_wall_s")
    for tool in tools:
        t = summary[tool]["median_wall_s"]
        summary[tool]["speed_vs_duckdb"] = None if not (t and duck) else duck / t
        summary[tool]["speed_vs_pandas"] = None if not (t and pand) else pand / t

    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    header = (f"anchor: {files['rows']} rows ({args.items} items x {args.samples} samples x 2 runs), "
              f"100 rules, {args.rounds} rounds; {date}; HEAD {head[:10] if head else '?'}"
              f"{' (dirty)' if dirty else ''}; {versions['caploop']}; "
              f"load {' '.join(machine_before['loadavg_1_5_15'] or ['?'])}")
    lines = [header, "",
             "| tool | median wall | min - max | median of quiet rounds (n) | peak RSS "
             "| vs DuckDB (speed) | vs pandas (speed) |",
             "|---|---|---|---|---|---|---|"]
    for tool in tools:
        s = summary[tool]
        if s["ok_rounds"] == 0:
            lines.append(f"| {tool} | failed | | | | | |")
            continue
        quiet = "-" if s["quiet_median_wall_s"] is None else f"{s['quiet_median_wall_s']:.2f} s"
        lines.append(f"| {tool} | {fmt_s(s['median_wall_s'])} s | {fmt_s(s['min_wall_s'])} - {fmt_s(s['max_wall_s'])} s "
                     f"| {quiet} ({s['quiet_rounds']}) | {fmt_mib(s['peak_rss_mib'])} "
                     f"| {fmt_ratio(duck, s['median_wall_s'])} | {fmt_ratio(pand, s['median_wall_s'])} |")
    notes = []
    for tool in ("caploop", "caploop 2-step"):
        if "median_step_s" in summary.get(tool, {}):
            st = summary[tool]["median_step_s"]
            notes.append(f"{tool} steps (median s): " + ", ".join(f"{k} {v:.2f}" for k, v in st.items()))
    if "median_stage_s" in summary.get("caploop run", {}):
        st = summary["caploop run"]["median_stage_s"]
        notes.append("caploop run stages (median s, from its progress lines): "
                     + ", ".join(f"{k} {v:.2f}" for k, v in st.items()))
    if check is not None:
        for c in cross_checks:
            notes.append(f"cross-check: {'ok' if c['ok'] else 'MISMATCH'}: {c['message']}")
    busy = sum(1 for t in tools for x in results[t] if x.get("busy"))
    total = sum(len(results[t]) for t in tools)
    if busy:
        notes.append(f"warning: in {busy} of {total} measurements other processes used more than "
                     f"{measure.BUSY_SHARE:.0%} of a core (shared CPUs: those times are noisy)")
    notes.append("quiet rounds: no other process used more than "
                 f"{measure.BUSY_SHARE:.0%} of a core meanwhile (the ratios use the median of all rounds)")
    notes.append("speed ratio = that tool's median time / this tool's median time (> 1: this tool is faster)")
    table = "\n".join(lines + [""] + notes)
    print("\n" + table)

    path = args.json or os.path.join(work, "anchor.json")
    measure.write_json(path, {
        "benchmark": "anchor",
        "date": date,
        "git_head": head,
        "git_dirty": dirty,
        "caploop_bin": args.bin,
        "versions": versions,
        "machine": machine_before,
        "loadavg_after": measure.machine()["loadavg_1_5_15"],
        "workload": {"items": args.items, "samples": args.samples, "runs": 2, "rows": files["rows"],
                     "rules": 100, "max_order": 1, "rounds": args.rounds},
        "summary": summary,
        "cross_check": check,
        "cross_checks": cross_checks,
        "config_checks": files["checks"],
        "rounds": {t: [{k: v for k, v in x.items() if k not in ("stdout", "stderr")} for x in results[t]]
                   for t in tools},
        "table": table,
    })
    print(f"\nanchor: wrote {path}")
    failed = [t for t in tools if summary[t]["ok_rounds"] < args.rounds]
    if failed or (check is not None and not check["ok"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
