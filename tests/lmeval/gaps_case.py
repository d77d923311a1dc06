#!/usr/bin/env python3
"""The taxonomy-gap case: real lm-eval gsm8k logs where the candidate is weak
only on problems that combine a percentage with a remainder worded the way
grade-school problems word it ("packs them into boxes of 6 ... left over").

    python tests/lmeval/gaps_case.py OUT_DIR        (inside a venv with lm-eval==0.4.13)

Writes, in lm-eval's own layout (its CLI entry point, `--log_samples`):

    OUT_DIR/caploop__scripted-gaps-base/{results_<ts>.json,samples_gsm8k_<ts>.jsonl}
    OUT_DIR/caploop__scripted-gaps-cand/...
    OUT_DIR/gaps_truth.json      the plan: docs, their operations, planted doc ids

The task is lm-eval's gsm8k (5-shot from tests/lmeval/data/gsm8k_train.jsonl,
strict-match and flexible-extract filters, exact_match) over N_DOCS generated
docs in the GSM8K schema (`question`, `answer` ending `#### n`). Each doc
states one or two operations, each by a fixed template; the answer is
computed. The scripted model (registered as `scripted_gaps`) reads the last
`Question:` of the request, answers `#### n` with the gold n or a wrong one
by the plan: the baseline is right on a doc when u(doc, "base") < 0.72; the
candidate keeps the baseline's answer except on docs that combine
`percentage` and `remainder`, where it is right only when also
u(doc, "cand") < 0.25. Everything is a sha256 of the doc id: byte-identical
output on every run. Stdlib plus lm-eval; no network (HF_*_OFFLINE=1).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_DOCS = 1000
MODELS = {"base": "caploop/scripted-gaps-base", "cand": "caploop/scripted-gaps-cand"}
OPS = ["percentage", "remainder", "ratio", "rates", "fractions"]


def _u(*parts: str) -> float:
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _clause(op: str, d: int, salt: str) -> tuple[str, int]:
    """One sentence stating `op` and the number it contributes."""
    n = 12 + int(_u(str(d), op, "n", salt) * 400)
    if op == "percentage":
        p = 10 * (1 + int(_u(str(d), op, "p") * 5))
        return f"A club has {n * 10} members and {p}% of them come to the picnic.", n * p // 10
    if op == "remainder":
        k = 3 + int(_u(str(d), op, "k") * 7)
        return f"Mia packs {n} cookies into boxes of {k} and eats the cookies left over.", n % k
    if op == "ratio":
        return f"Tom has {n} stamps and Ann has twice as many stamps as Tom.", 2 * n
    if op == "rates":
        h = 2 + int(_u(str(d), op, "h") * 6)
        return f"A pump moves {n} liters per hour for {h} hours.", n * h
    return f"Leo had {2 * n} marbles and gave half of them to his sister.", n


def docs() -> list[dict]:
    out, seen = [], set()
    for d in range(N_DOCS):
        a = OPS[int(_u(str(d), "a") * len(OPS))]
        b = OPS[int(_u(str(d), "b") * len(OPS))]
        ops = [a] if (b == a or _u(str(d), "two") < 0.35) else [a, b]
        salt = 0
        while True:  # questions are unique: the model finds its doc by the text
            parts = [_clause(o, d, str(salt)) for o in ops]
            question = " ".join(s for s, _ in parts) + " What is the sum of these numbers?"
            if question not in seen:
                break
            salt += 1
        seen.add(question)
        total = sum(v for _, v in parts)
        steps = "\n".join(f"That part gives {v}." for _, v in parts)
        out.append({
            "doc_id": d,
            "ops": sorted(ops),
            "doc": {"question": question, "answer": f"{steps}\nThe sum is {total}.\n#### {total}"},
            "gold": total,
        })
    return out


def planted(d: dict) -> bool:
    return "percentage" in d["ops"] and "remainder" in d["ops"]


def correct(model: str, d: dict) -> bool:
    base = _u(str(d["doc_id"]), "base") < 0.72
    if model == MODELS["cand"] and planted(d):
        return base and _u(str(d["doc_id"]), "cand") < 0.25
    return base


# ---------------------------------------------------------------------------- the model (child)
def register() -> None:
    from lm_eval.api.model import LM
    from lm_eval.api.registry import register_model

    by_question = {d["doc"]["question"]: d for d in docs()}

    @register_model("scripted_gaps")
    class ScriptedGaps(LM):  # noqa: F841  (registered by the decorator)
        def __init__(self, pretrained: str = MODELS["base"], **kwargs) -> None:
            super().__init__()
            self.name = pretrained

        def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
            out = []
            for r in requests:
                context = r.args[0]
                q = context.rsplit("Question: ", 1)[-1].rsplit("\nAnswer:", 1)[0]
                d = by_question.get(q)
                if d is None:
                    raise SystemExit(f"scripted_gaps: unknown question {q[:80]!r}")
                n = d["gold"] if correct(self.name, d) else d["gold"] + 1
                out.append(f" Adding the parts step by step.\n#### {n}\n\n")
            return out

        def loglikelihood(self, requests, disable_tqdm: bool = False):
            raise SystemExit("scripted_gaps: generative tasks only")

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
            raise SystemExit("scripted_gaps: generative tasks only")

        @property
        def tokenizer_name(self) -> str:
            return "scripted-gaps"


def run_cli(argv: list[str]) -> None:
    register()
    from lm_eval.__main__ import cli_evaluate

    sys.argv = ["lm_eval", *argv]
    cli_evaluate()


# ---------------------------------------------------------------------------- parent
def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--run-cli":
        run_cli(sys.argv[3:])
        return
    if len(sys.argv) != 2:
        raise SystemExit("usage: gaps_case.py OUT_DIR")
    import lm_eval

    out_dir = Path(sys.argv[1]).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    all_docs = docs()
    stage = Path(tempfile.mkdtemp(prefix="caploop-gaps-stage-"))
    try:
        (stage / "tasks").mkdir()
        (stage / "data").mkdir()
        (stage / "lm_eval_tasks").symlink_to(Path(lm_eval.__file__).resolve().parent / "tasks")
        shutil.copy2(HERE / "data" / "gsm8k_train.jsonl", stage / "data" / "gsm8k_train.jsonl")
        with (stage / "data" / "gsm8k_test.jsonl").open("w", encoding="utf-8") as fh:
            for d in all_docs:
                fh.write(json.dumps(d["doc"]) + "\n")
        (stage / "tasks" / "gsm8k.yaml").write_text(
            "include: ../lm_eval_tasks/gsm8k/gsm8k.yaml\ntask: gsm8k\ndataset_path: json\n"
            "dataset_kwargs:\n  data_files:\n    train: data/gsm8k_train.jsonl\n    test: data/gsm8k_test.jsonl\n",
            encoding="utf-8",
        )
        env = dict(os.environ)
        env.update({
            "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
            "HF_HOME": str(stage / "hf_home"), "HF_DATASETS_CACHE": str(stage / "hf_cache"),
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "LMEVAL_LOG_LEVEL": "WARNING", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
        })
        for name in MODELS.values():
            model_dir = out_dir / name.replace("/", "__")
            if model_dir.exists():
                shutil.rmtree(model_dir)
            cmd = [sys.executable, str(Path(__file__).resolve()), "--run-cli", "--",
                   "--model", "scripted_gaps", "--model_args", f"pretrained={name}",
                   "--tasks", "gsm8k", "--include_path", str(stage / "tasks"),
                   "--output_path", str(out_dir), "--log_samples"]
            proc = subprocess.run(cmd, cwd=stage, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if proc.returncode != 0:
                sys.stderr.write(proc.stdout)
                raise SystemExit(f"lm_eval run for {name} failed (exit {proc.returncode})")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    # The truth, and a check of the logs against it (rows, scores by filter).
    truth = {
        "docs": N_DOCS,
        "ops_counts": {o: sum(o in d["ops"] for d in all_docs) for o in OPS},
        "planted_doc_ids": [d["doc_id"] for d in all_docs if planted(d)],
        "percentage_doc_ids": [d["doc_id"] for d in all_docs if "percentage" in d["ops"]],
        "correct": {short: sum(correct(m, d) for d in all_docs) for short, m in MODELS.items()},
        "planted_correct": {short: sum(correct(m, d) for d in all_docs if planted(d)) for short, m in MODELS.items()},
    }
    for short, name in MODELS.items():
        files = list((out_dir / name.replace("/", "__")).glob("samples_gsm8k_*.jsonl"))
        if len(files) != 1:
            raise SystemExit(f"{name}: expected one samples_gsm8k file, found {len(files)}")
        rows = [json.loads(line) for line in files[0].open(encoding="utf-8")]
        strict = {r["doc_id"]: r["exact_match"] for r in rows if r["filter"] == "strict-match"}
        want = {d["doc_id"]: float(correct(name, d)) for d in all_docs}
        if strict != want:
            bad = sorted(k for k in want if strict.get(k) != want[k])[:5]
            raise SystemExit(f"{name}: strict-match scores differ from the plan on docs {bad}")
    (out_dir / "gaps_truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    print(f"gaps case: {N_DOCS} docs, {len(truth['planted_doc_ids'])} planted, "
          f"{len(truth['percentage_doc_ids'])} with a percentage; logs in {out_dir}")


if __name__ == "__main__":
    main()
