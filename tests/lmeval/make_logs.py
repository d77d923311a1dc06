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
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
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

    (stage_dir / "tasks").mkdir()
    for yml in sorted((HERE / "tasks").glob("*.yaml")):
        shutil.copy2(yml, stage_dir / "tasks" / yml.name)
    # the YAMLs `include: ../lm_eval_tasks/<real task>.yaml`
    (stage_dir / "lm_eval_tasks").symlink_to(Path(lm_eval.__file__).resolve().parent / "tasks")
    # dataset_kwargs.data_files are relative to the cwd (= stage_dir)
    shutil.copytree(HERE / "data", stage_dir / "data")


def generate(out_dir: Path, quiet: bool) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
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
        for name in CHECKPOINTS.values():
            model_dir = out_dir / sanitize(name)
            if model_dir.exists():  # idempotent: one run per checkpoint folder
                shutil.rmtree(model_dir)
            cmd = [
                sys.executable, str(Path(__file__).resolve()), "--run-cli", "--",
                "--model", "scripted",
                "--model_args", f"pretrained={name}",
                "--tasks", ",".join(TASKS),
                "--include_path", str(stage_dir / "tasks"),
                "--output_path", str(out_dir),
                "--log_samples",
            ]
            proc = subprocess.run(cmd, cwd=stage_dir, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if proc.returncode != 0 or not quiet:
                sys.stderr.write(proc.stdout)
            if proc.returncode != 0:
                raise SystemExit(f"lm_eval run for {name} failed (exit {proc.returncode})")
    finally:
        shutil.rmtree(stage_dir, ignore_errors=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


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
    ap.add_argument("--verbose", action="store_true", help="show lm-eval's own output")
    args = ap.parse_args()

    from importlib.metadata import version

    have = version("lm_eval")
    if have != LM_EVAL_VERSION:
        print(f"warning: lm_eval {have} installed, fixtures are pinned to {LM_EVAL_VERSION}",
              file=sys.stderr)
    out_dir = args.out_dir.resolve()
    generate(out_dir, quiet=not args.verbose)
    summary = summarise(out_dir)
    print(f"lm-eval {summary['lm_eval_version']} logs written to {out_dir}:")
    print_report(out_dir, summary)
    if args.write_expected:
        args.write_expected.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.write_expected}")
    if args.check:
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
