#!/usr/bin/env python3
"""Generate real lm-evaluation-harness `--log_samples` output for caploop's tests.

    python tests/lmeval/make_logs.py OUT_DIR [--check EXPECTED.json | --write-expected EXPECTED.json]

Runs lm-eval's own CLI entry point (`lm_eval.__main__.cli_evaluate`, i.e. exactly
what `lm_eval --model ... --output_path OUT --log_samples` does) in a child
process that first registers the scripted model from scripted_lm.py.  It does
so twice, once per "checkpoint":

    --model scripted --model_args pretrained=caploop/scripted-base
    --model scripted --model_args pretrained=caploop/scripted-noeos

with `--tasks gsm8k,bbh_cot_fewshot_date_understanding,arc_easy,
hendrycks_math_algebra,winogrande --include_path <staged tasks/> --log_samples`.
The task YAMLs in tasks/ `include:` the real YAMLs shipped in the installed
lm_eval package and only swap the dataset for the JSONL files in data/.

Result (the harness's own layout):

    OUT_DIR/caploop__scripted-base/results_<ts>.json
    OUT_DIR/caploop__scripted-base/samples_<task>_<ts>.jsonl   (one per task)
    OUT_DIR/caploop__scripted-noeos/...

It then runs the diagnosis checkpoints (README "Diagnosis cases") the same
way, with --include_path <staged tasks_diagnosis/> and --tasks
gsm8k,mmlu_pro_math,bbh_zeroshot_date_understanding over data/diagnosis/,
into a separate folder (default: OUT_DIR + "-diagnosis", beside OUT_DIR, so
that readers of OUT_DIR keep seeing exactly the two checkpoints above):

    DIAG_DIR/caploop__scripted-base/...       (the baseline of every case)
    DIAG_DIR/caploop__scripted-runon/...      (a) run-on after a scored answer
    DIAG_DIR/caploop__scripted-loop/...       (b) loops to max_gen_toks, no answer
    DIAG_DIR/caploop__scripted-bare/...       (c) bare letters, "answer is (X)" expected
    DIAG_DIR/caploop__scripted-suffix/...     (d) gold answer + suffix (PAPER.md section 4)

With --check, the diagnosis logs are also verified against the plan in
diagnosis.py and against diagnosis_truth.json.

Nothing touches the network: HF_DATASETS_OFFLINE=1 / HF_HUB_OFFLINE=1 are
forced and the datasets cache lives in a throw-away staging directory.
Re-running replaces the two model folders (idempotent); the sample files are
byte-identical between runs, only timestamps (file names, date/time fields
of results_*.json) change.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in tests/lmeval/
import diagnosis  # noqa: E402  (stdlib only)

LM_EVAL_VERSION = "0.4.13"
TASKS = [
    "gsm8k",
    "bbh_cot_fewshot_date_understanding",
    "arc_easy",
    "hendrycks_math_algebra",
    "winogrande",
]
CHECKPOINTS = {  # short name -> model name (model_args pretrained=)
    "base": "caploop/scripted-base",
    "noeos": "caploop/scripted-noeos",
}


def sanitize(model_name: str) -> str:
    import re

    return re.sub(r'["<>:/|\\?*\[\]]+', "__", model_name)  # lm_eval.utils.sanitize_model_name


# ---------------------------------------------------------------------------- child: run the CLI
def run_cli(argv: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    import scripted_lm  # noqa: F401  (registers model "scripted")
    from lm_eval.__main__ import cli_evaluate

    sys.argv = ["lm_eval", *argv]
    cli_evaluate()


# ---------------------------------------------------------------------------- parent
def stage(stage_dir: Path) -> None:
    import lm_eval

    for sub in ("tasks", "tasks_diagnosis"):
        (stage_dir / sub).mkdir()
        for yml in sorted((HERE / sub).glob("*.yaml")):
            shutil.copy2(yml, stage_dir / sub / yml.name)
    # the YAMLs `include: ../lm_eval_tasks/<real task>.yaml`
    (stage_dir / "lm_eval_tasks").symlink_to(Path(lm_eval.__file__).resolve().parent / "tasks")
    # dataset_kwargs.data_files are relative to the cwd (= stage_dir)
    shutil.copytree(HERE / "data", stage_dir / "data")


def generate(out_dir: Path, diag_dir: Path | None, quiet: bool) -> dict[str, float]:
    """Run every checkpoint; return the seconds each lm-eval run took."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if diag_dir is not None:
        diag_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    # A fixed staging path (not a random temp dir): lm-eval records the YAML's
    # absolute path in results_*.json (configs.<task>.metadata.config_source),
    # so a fixed path keeps that value identical between runs.  It lives
    # outside any git checkout so git_hash/upper_git_hash stay null.
    stage_dir = Path(tempfile.gettempdir()) / "caploop-lmeval-stage"
    lock = open(f"{stage_dir}.lock", "w")  # serialise concurrent generators
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        shutil.rmtree(stage_dir, ignore_errors=True)
        stage_dir.mkdir()
        stage(stage_dir)
        env = dict(os.environ)
        env.update({
            "HF_DATASETS_OFFLINE": "1",
            "HF_HUB_OFFLINE": "1",
            "HF_HOME": str(stage_dir / "hf_home"),
            "HF_DATASETS_CACHE": str(stage_dir / "hf_datasets_cache"),
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ in tests/lmeval/
        })
        if quiet:
            env.setdefault("LMEVAL_LOG_LEVEL", "WARNING")
            env.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
        runs = [(name, out_dir, TASKS, "tasks") for name in CHECKPOINTS.values()]
        if diag_dir is not None:
            runs += [(name, diag_dir, diagnosis.TASKS, "tasks_diagnosis") for name in diagnosis.MODELS]
        for name, dest, tasks, task_dir in runs:
            model_dir = dest / sanitize(name)
            if model_dir.exists():  # idempotent: one run per checkpoint folder
                shutil.rmtree(model_dir)
            cmd = [
                sys.executable, str(Path(__file__).resolve()), "--run-cli", "--",
                "--model", "scripted",
                "--model_args", f"pretrained={name}",
                "--tasks", ",".join(tasks),
                "--include_path", str(stage_dir / task_dir),
                "--output_path", str(dest),
                "--log_samples",
            ]
            t0 = time.monotonic()
            proc = subprocess.run(cmd, cwd=stage_dir, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            timings[f"{dest.name}/{sanitize(name)}"] = time.monotonic() - t0
            if proc.returncode != 0 or not quiet:
                sys.stderr.write(proc.stdout)
            if proc.returncode != 0:
                raise SystemExit(f"lm_eval run for {name} failed (exit {proc.returncode})")
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    return timings


# ---------------------------------------------------------------------------- summary / checks
def _load_run(model_dir: Path) -> tuple[dict, dict[str, list[dict]], list[str]]:
    results_files = sorted(model_dir.glob("results_*.json"))
    if len(results_files) != 1:
        raise SystemExit(f"{model_dir}: expected exactly one results_*.json, found {len(results_files)}")
    res_path = results_files[0]
    ts = res_path.stem[len("results_"):]
    results = json.loads(res_path.read_text(encoding="utf-8"))
    samples, files = {}, [res_path.name]
    for task in TASKS:
        p = model_dir / f"samples_{task}_{ts}.jsonl"
        if not p.exists():
            raise SystemExit(f"missing {p}")
        files.append(p.name)
        with p.open(encoding="utf-8") as fh:
            samples[task] = [json.loads(line) for line in fh]
    extra = sorted(f.name for f in model_dir.iterdir() if f.name not in files)
    if extra:
        raise SystemExit(f"{model_dir}: unexpected files {extra}")
    return results, samples, files


def _correct(row: dict) -> bool:
    name = row["metrics"][0]
    return float(row[name]) >= 1.0


def summarise(out_dir: Path) -> dict:
    runs = {short: _load_run(out_dir / sanitize(name)) for short, name in CHECKPOINTS.items()}
    summary: dict = {
        "lm_eval_version": runs["base"][0].get("lm_eval_version"),
        "checkpoints": {s: {"model_name": n, "dir": sanitize(n)} for s, n in CHECKPOINTS.items()},
        "results_top_level_keys": sorted(runs["base"][0].keys()),
        "samples_row_keys": {},
        "tasks": {},
    }
    for short, (results, _, _) in runs.items():
        for key in ("configs", "versions", "n-shot", "model_name", "task_hashes", "n-samples"):
            if key not in results:
                raise SystemExit(f"{short}: results file lacks {key!r}")
        if results["model_name"] != CHECKPOINTS[short]:
            raise SystemExit(f"{short}: model_name {results['model_name']!r}")
    for task in TASKS:
        res_b, samp_b, _ = runs["base"]
        cfg = res_b["configs"][task]
        rows_b, rows_n = samp_b[task], runs["noeos"][1][task]
        filters = list(dict.fromkeys(r["filter"] for r in rows_b))
        doc_ids = sorted({r["doc_id"] for r in rows_b})
        t = {
            "output_type": cfg["output_type"],
            "version": res_b["versions"][task],
            "n_shot": res_b["n-shot"][task],
            "n_samples": res_b["n-samples"][task],
            "docs": len(doc_ids),
            "filters": filters,
            "rows_per_file": len(rows_b),
            "metrics": sorted({m for r in rows_b for m in r["metrics"]}),
            "requests_per_doc": sorted(Counter(len(r["arguments"]) for r in rows_b).keys()),
            "results_keys": sorted(res_b["results"][task].keys()),
            "same_task_hash_across_checkpoints":
                res_b["task_hashes"][task] == runs["noeos"][0]["task_hashes"][task],
            "per_filter": {},
        }
        if len(rows_n) != len(rows_b):
            raise SystemExit(f"{task}: base has {len(rows_b)} rows, noeos {len(rows_n)}")
        summary["samples_row_keys"][task] = sorted(rows_b[0].keys())
        by_b = {(r["doc_id"], r["filter"]): r for r in rows_b}
        by_n = {(r["doc_id"], r["filter"]): r for r in rows_n}
        differing_resps = sorted({d for (d, f), r in by_b.items() if r["resps"] != by_n[(d, f)]["resps"]})
        t["noeos_runaway_doc_ids"] = differing_resps  # raw output differs from base
        for f in filters:
            keys = [(d, f) for d in doc_ids]
            pf = {}
            for short, by in (("base", by_b), ("noeos", by_n)):
                pf[f"{short}_correct"] = sum(_correct(by[k]) for k in keys)
                pf[f"{short}_invalid"] = sum(by[k]["filtered_resps"] == ["[invalid]"] for k in keys)
            pf["noeos_broken_doc_ids"] = [d for d, ff in keys if _correct(by_b[(d, ff)]) and not _correct(by_n[(d, ff)])]
            pf["noeos_fixed_doc_ids"] = [d for d, ff in keys if not _correct(by_b[(d, ff)]) and _correct(by_n[(d, ff)])]
            pf["noeos_wrong_vs_base"] = len(pf["noeos_broken_doc_ids"])
            t["per_filter"][f] = pf
        summary["tasks"][task] = t
    return summary


def summarise_diagnosis(diag_dir: Path) -> dict:
    """expected.json["diagnosis"]: what the harness wrote for the diagnosis checkpoints."""
    runs = {m: diagnosis._load_diag_run(diag_dir / sanitize(m)) for m in diagnosis.MODELS}
    base_res, base_samples = runs[diagnosis.BASE]
    out: dict = {
        "default_dir": "<OUT_DIR>-diagnosis",
        "checkpoints": {m: sanitize(m) for m in diagnosis.MODELS},
        "cases": {case: spec["model"] for case, spec in diagnosis.CASES.items()},
        "tasks": {},
    }
    for m, (res, _) in runs.items():
        if res.get("model_name") != m:
            raise SystemExit(f"{m}: model_name {res.get('model_name')!r}")
    for task in diagnosis.TASKS:
        cfg = base_res["configs"][task]
        rows_b = base_samples[task]
        filters = list(dict.fromkeys(r["filter"] for r in rows_b))
        doc_ids = sorted({r["doc_id"] for r in rows_b})
        t = {
            "output_type": cfg["output_type"],
            "version": base_res["versions"][task],
            "n_shot": base_res["n-shot"][task],
            "n_samples": base_res["n-samples"][task],
            "docs": len(doc_ids),
            "filters": filters,
            "rows_per_file": len(rows_b),
            "metrics": sorted({mm for r in rows_b for mm in r["metrics"]}),
            "results_keys": sorted(base_res["results"][task].keys()),
            "generation_kwargs": cfg["generation_kwargs"],
            "samples_row_keys": sorted(rows_b[0].keys()),
            "same_task_hash_across_checkpoints":
                len({res["task_hashes"][task] for res, _ in runs.values()}) == 1,
            "per_checkpoint": {},
        }
        by_b = {(r["doc_id"], r["filter"]): r for r in rows_b}
        for m, (_, samples) in runs.items():
            rows = samples[task]
            if len(rows) != len(rows_b):
                raise SystemExit(f"{task}: {m} has {len(rows)} rows, base {len(rows_b)}")
            by = {(r["doc_id"], r["filter"]): r for r in rows}
            pc = {"resps_differ_from_base_doc_ids":
                  sorted({d for (d, f), r in by.items() if r["resps"] != by_b[(d, f)]["resps"]})}
            for f in filters:
                keys = [(d, f) for d in doc_ids]
                pc[f] = {"correct": sum(_correct(by[k]) for k in keys),
                         "invalid": sum(by[k]["filtered_resps"] == ["[invalid]"] for k in keys)}
            t["per_checkpoint"][m] = pc
        out["tasks"][task] = t
    return out


def print_report(out_dir: Path, summary: dict) -> None:
    for short, meta in summary["checkpoints"].items():
        d = out_dir / meta["dir"]
        for f in sorted(d.iterdir()):
            n = sum(1 for _ in f.open(encoding="utf-8")) if f.suffix == ".jsonl" else None
            print(f"  {f}" + (f"  ({n} rows)" if n is not None else ""))
    print(f"  {'task':38} {'type':16} docs rows filter            base  noeos  broken")
    for task, t in summary["tasks"].items():
        for f, pf in t["per_filter"].items():
            print(f"  {task:38} {t['output_type']:16} {t['docs']:4} {t['rows_per_file']:4} {f:17}"
                  f" {pf['base_correct']:4} {pf['noeos_correct']:6} {pf['noeos_wrong_vs_base']:7}")


def print_diagnosis_report(diag_dir: Path, diag: dict) -> None:
    print(f"diagnosis checkpoints written to {diag_dir}:")
    models = list(diag["checkpoints"])
    short = [m.rsplit("-", 1)[1] for m in models]
    print(f"  {'task':32} {'docs':>4} {'filter':17} " + " ".join(f"{s:>7}" for s in short)
          + "   (correct, [invalid])")
    for task, t in diag["tasks"].items():
        for f in t["filters"]:
            cells = [f"{t['per_checkpoint'][m][f]['correct']:>3},{t['per_checkpoint'][m][f]['invalid']:<3}"
                     for m in models]
            print(f"  {task:32} {t['docs']:4} {f:17} " + " ".join(f"{c:>7}" for c in cells))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--run-cli":
        run_cli(sys.argv[3:] if sys.argv[2:3] == ["--"] else sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--check", type=Path, metavar="EXPECTED_JSON",
                    help="fail if the generated summary differs from this file")
    ap.add_argument("--write-expected", type=Path, metavar="EXPECTED_JSON",
                    help="write the summary of the generated files to this file")
    ap.add_argument("--diagnosis-out", type=Path, metavar="DIAG_DIR",
                    help="where the diagnosis checkpoints go (default: OUT_DIR + '-diagnosis')")
    ap.add_argument("--truth", type=Path, metavar="TRUTH_JSON", default=HERE / "diagnosis_truth.json",
                    help="the diagnosis truth file checked with --check, written with --write-expected "
                         "(default: %(default)s)")
    ap.add_argument("--verbose", action="store_true", help="show lm-eval's own output")
    args = ap.parse_args()

    from importlib.metadata import version

    have = version("lm_eval")
    if have != LM_EVAL_VERSION:
        print(f"warning: lm_eval {have} installed, fixtures are pinned to {LM_EVAL_VERSION}",
              file=sys.stderr)
    out_dir = args.out_dir.resolve()
    diag_dir = (args.diagnosis_out or out_dir.parent / f"{out_dir.name}-diagnosis").resolve()
    if diag_dir == out_dir or out_dir in diag_dir.parents:
        raise SystemExit("the diagnosis folder must not be inside OUT_DIR (readers of OUT_DIR expect "
                         "exactly the base and noeos checkpoints)")
    t0 = time.monotonic()
    timings = generate(out_dir, diag_dir, quiet=not args.verbose)
    summary = summarise(out_dir)
    print(f"lm-eval {summary['lm_eval_version']} logs written to {out_dir}:")
    print_report(out_dir, summary)
    summary["diagnosis"] = summarise_diagnosis(diag_dir)
    print_diagnosis_report(diag_dir, summary["diagnosis"])
    print("  lm-eval runs: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
          + f"; total {time.monotonic() - t0:.1f}s")
    truth = diagnosis.plan_truth()
    if args.write_expected:
        args.write_expected.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.write_expected}")
        args.truth.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.truth}")
    if args.check:
        problems = diagnosis.verify_logs(diag_dir, sanitize)
        if problems:
            sys.stderr.write("\n".join(problems[:60]) + "\n")
            raise SystemExit(f"diagnosis logs in {diag_dir} disagree with the plan "
                             f"({len(problems)} problems)")
        print("diagnosis logs agree with the plan, row by row, and the truth recomputed from the logs "
              "equals the truth computed from the plan")
        if json.loads(args.truth.read_text(encoding="utf-8")) != json.loads(json.dumps(truth)):
            raise SystemExit(f"{args.truth} differs from the truth computed from the plan "
                             f"(regenerate with --write-expected)")
        print(f"matches {args.truth}")
        expected = json.loads(args.check.read_text(encoding="utf-8"))
        if expected != summary:
            got = json.dumps(summary, indent=2).splitlines()
            exp = json.dumps(expected, indent=2).splitlines()
            import difflib

            sys.stderr.write("\n".join(difflib.unified_diff(exp, got, "expected", "generated", lineterm="")) + "\n")
            raise SystemExit(f"generated logs differ from {args.check}")
        print(f"matches {args.check}")


if __name__ == "__main__":
    main()
