"""Scale runs: `caploop run` (ingest -> tag -> compare -> diagnose -> plan ->
report) at several sizes, wall time and peak RSS per size.

Run through bench/scale.sh (which provides the virtualenv for the generic
variant's data generator). Two inputs per size N (rows):

  lm-eval   `caploop synth --scenario demo --items N/4`: lm-evaluation-harness
            logs (JSONL), two families (bbh, math) x 2 runs x N/4 items = N
            rows, tagged with the shipped taxonomies (taxonomies/*.yaml);
            baseline ckpt-1000, candidate ckpt-2000.
  generic   bench/make_data.py at N/2 items x 1 sample x 2 runs = N rows of
            Parquet through the generic reader, tagged with the anchor
            benchmark's 100 rules; baseline base, candidate cand.

Inputs are generated once per size under WORK/scale/ and reused (generation
is not measured; --clean-inputs deletes the lm-eval logs after each size).
Per (input, size) the pipeline runs ROUNDS times (default 1); the table gives
the median wall time, the largest peak RSS, rows per second and the stage
times from caploop's progress lines. WORK/scale.json holds everything.
A run that fails (e.g. killed for memory) is reported with its exit code.
"""
import argparse
import datetime
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import measure  # noqa: E402
from anchor import COLUMNS_YAML  # noqa: E402

VARIANTS = ["lm-eval", "generic"]


def fmt_size(n):
    return f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k"


def prepare_lmeval(args, n, work):
    d = os.path.join(work, f"lmeval-{n}")
    items = n // 4
    stamp_path = os.path.join(d, "stamp.json")
    stamp = {"items": items, "seed": 1, "caploop": measure.caploop_version(args.bin)}
    # The logs may have been deleted (they are large) with the stamp kept.
    if os.path.exists(stamp_path) and os.path.isdir(os.path.join(d, "logs")):
        with open(stamp_path) as f:
            if json.load(f) == stamp:
                print(f"scale: reusing {d}/logs", flush=True)
                return d
    print(f"scale: caploop synth --scenario demo --items {items} into {d}", flush=True)
    r = measure.run([args.bin, "--quiet", "synth", "--scenario", "demo", "--items", str(items),
                     "--seed", "1", "--out", d])
    if r["rc"] != 0:
        sys.exit(f"error: caploop synth failed (exit {r['rc']}):\n{r['stderr']}")
    print(f"scale: synth {items} items in {r['wall_s']:.1f} s", flush=True)
    taxonomies = sorted(glob.glob(os.path.join(REPO, "taxonomies", "*.yaml")))
    with open(os.path.join(d, "pipeline.yaml"), "w") as f:
        f.write("# bench/scale.py: the synthetic lm-eval logs through the whole pipeline\n"
                "inputs: [logs]\n"
                f"taxonomies: [{', '.join(taxonomies)}]\n"
                "baseline: ckpt-1000\n"
                "candidate: ckpt-2000\n")
    measure.write_json(stamp_path, stamp)
    return d


def prepare_generic(args, n, work):
    d = os.path.join(work, f"generic-{n}")
    os.makedirs(d, exist_ok=True)
    items = n // 2
    data = os.path.join(d, "data.parquet")
    stamp_path = os.path.join(d, "stamp.json")
    with open(os.path.join(HERE, "make_data.py"), "rb") as f:
        import hashlib
        stamp = {"items": items, "samples": 1, "make_data": hashlib.sha256(f.read()).hexdigest()[:16]}
    reuse = False
    if os.path.exists(stamp_path) and os.path.exists(data):
        with open(stamp_path) as f:
            reuse = json.load(f) == stamp
    if reuse:
        print(f"scale: reusing {data}", flush=True)
    else:
        print(f"scale: make_data.py {items} items x 1 sample x 2 runs into {data}", flush=True)
        r = measure.run([sys.executable, os.path.join(HERE, "make_data.py"), data, str(items), "1"])
        if r["rc"] != 0:
            sys.exit(f"error: make_data.py failed:\n{r['stderr']}")
        print(f"scale: make_data in {r['wall_s']:.1f} s", flush=True)
        measure.write_json(stamp_path, stamp)
    r = measure.run([sys.executable, os.path.join(HERE, "make_tax.py"), os.path.join(d, "bench_tax.yaml")])
    if r["rc"] != 0:
        sys.exit(f"error: make_tax.py failed:\n{r['stderr']}")
    with open(os.path.join(d, "columns.yaml"), "w") as f:
        f.write(COLUMNS_YAML)
    with open(os.path.join(d, "pipeline.yaml"), "w") as f:
        f.write("# bench/scale.py: make_data.py Parquet through the generic reader and the whole pipeline\n"
                "inputs: [data.parquet]\n"
                "format: generic\n"
                "columns: columns.yaml\n"
                "taxonomies: [bench_tax.yaml]\n"
                "baseline: base\n"
                "candidate: cand\n")
    return d


def rows_ingested(out):
    try:
        with open(os.path.join(out, "ingest.json")) as f:
            return sum(x["rows"] for x in json.load(f)["files"])
    except (OSError, ValueError, KeyError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=int, default=[1000000, 2000000], help="rows per input")
    ap.add_argument("--bin", default=os.environ.get("CAPLOOP_BIN", "target/release/caploop"))
    ap.add_argument("--work", default="target/bench")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of: lm-eval, generic")
    ap.add_argument("--clean-inputs", action="store_true",
                    help="delete each size's synthetic lm-eval logs (~1.2 GB per 1M rows) once measured "
                         "(default: keep them for the next run)")
    ap.add_argument("--wait-quiet", type=float, default=float(os.environ.get("CAPLOOP_BENCH_WAIT_QUIET", 0)),
                    help="before each timed command, wait up to this many seconds for the machine to be "
                         "idle (other processes under 15%% of a core; default 0: do not wait)")
    ap.add_argument("--json", default=None, help="default WORK/scale.json")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    measure.WAIT_QUIET_S = args.wait_quiet
    measure.require_file(args.bin, "caploop binary (set CAPLOOP_BIN or --bin)")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in variants:
        if v not in VARIANTS:
            sys.exit(f"error: unknown variant '{v}'; use lm-eval and/or generic")
    work = os.path.abspath(os.path.join(args.work, "scale"))
    os.makedirs(work, exist_ok=True)
    head, dirty = measure.binary_commit(REPO)

    machine_before = measure.machine()
    results = []
    for n in args.sizes:
        for v in variants:
            d = prepare_lmeval(args, n, work) if v == "lm-eval" else prepare_generic(args, n, work)
            out = os.path.join(d, "out")
            runs = []
            for r in range(args.rounds):
                res = measure.run([args.bin, "run", "--config", os.path.join(d, "pipeline.yaml"), "--out", out],
                                  cwd=d, log=os.path.join(d, f"run{r + 1}.log"))
                res["stages"] = measure.stage_times(res["stderr"])
                res["rows"] = rows_ingested(out) if res["rc"] == 0 else None
                status = "ok" if res["rc"] == 0 else f"FAILED (exit {res['rc']}): {measure.tail(res['stderr'], 3)}"
                if res.get("busy"):
                    status += f" [other processes used {res.get('other_cpu_s', 0):.1f} CPU-s meanwhile]"
                stages = ", ".join(f"{k} {s:.1f}" for k, s in res["stages"].items())
                print(f"scale: {v} {fmt_size(n)} round {r + 1}: {res['wall_s']:.1f} s, peak RSS "
                      f"{(res['rss_mib'] or 0) / 1024:.2f} GiB ({stages}): {status}", flush=True)
                runs.append({k: x for k, x in res.items() if k not in ("stdout", "stderr")}
                            | ({"error": measure.tail(res["stderr"])} if res["rc"] else {}))
            ok = [x for x in runs if x["rc"] == 0]
            entry = {
                "variant": v, "size": n, "dir": d, "rounds": runs, "ok_rounds": len(ok),
                "rows": ok[0]["rows"] if ok else None,
                "median_wall_s": measure.median([x["wall_s"] for x in ok]),
                "peak_rss_mib": max((x["rss_mib"] for x in ok if x["rss_mib"] is not None), default=None),
                "median_stage_s": {k: measure.median([x["stages"].get(k, 0.0) for x in ok])
                                   for k in (ok[0]["stages"] if ok else {})},
            }
            results.append(entry)
            if v == "lm-eval" and args.clean_inputs:
                import shutil
                shutil.rmtree(os.path.join(d, "logs"), ignore_errors=True)
                os.unlink(os.path.join(d, "stamp.json"))

    date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [f"scale: caploop run (ingest, tag, compare, diagnose, plan, report); {date}; "
             f"HEAD {head[:10] if head else '?'}{' (dirty)' if dirty else ''}; {measure.caploop_version(args.bin)}",
             "",
             ]
    stages = []
    for e in results:
        for k in e["median_stage_s"]:
            if k not in stages:
                stages.append(k)
    lines.append("| input | rows | wall (median) | rows/s | peak RSS | " + " | ".join(stages) + " |")
    lines.append("|---|---|---|---|---|" + "---|" * len(stages))
    for e in results:
        if not e["ok_rounds"]:
            err = e["rounds"][-1].get("error", "").splitlines()
            lines.append(f"| {e['variant']} | {fmt_size(e['size'])} | failed (exit {e['rounds'][-1]['rc']}) "
                         f"| | {(e['rounds'][-1]['rss_mib'] or 0) / 1024:.2f} GiB | {err[-1] if err else ''} |"
                         + " |" * max(len(stages) - 1, 0))
            continue
        st = e["median_stage_s"]
        rps = e["rows"] / e["median_wall_s"] if e["rows"] else None
        lines.append(f"| {e['variant']} | {e['rows'] if e['rows'] is not None else fmt_size(e['size'])} "
                     f"| {e['median_wall_s']:.1f} s | {'-' if rps is None else f'{rps / 1000:.0f}k'} "
                     f"| {e['peak_rss_mib'] / 1024:.2f} GiB | "
                     + " | ".join(f"{st[k]:.1f} s" if k in st else "-" for k in stages) + " |")
    lines += ["", "stage times are caploop's own progress lines; 'report' includes plan and the report files"]
    busy = sum(1 for e in results for x in e["rounds"] if x.get("busy"))
    if busy:
        lines.append(f"warning: in {busy} run(s) other processes used more than {measure.BUSY_SHARE:.0%} "
                     "of a core (shared CPUs: those times are noisy)")
    table = "\n".join(lines)
    print("\n" + table)
    path = args.json or os.path.join(args.work, "scale.json")
    measure.write_json(path, {
        "benchmark": "scale", "date": date, "git_head": head, "git_dirty": dirty, "caploop_bin": args.bin,
        "caploop": measure.caploop_version(args.bin), "machine": machine_before,
        "loadavg_after": measure.machine()["loadavg_1_5_15"], "rounds": args.rounds,
        "results": results, "table": table,
    })
    print(f"\nscale: wrote {path}")
    if any(e["ok_rounds"] < args.rounds for e in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
