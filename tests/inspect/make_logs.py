"""Write real Inspect AI `.eval` logs for caploop's tests (see README.md here).

    python tests/inspect/make_logs.py OUT_DIR

Runs the task below with Inspect's own `eval()` and its built-in mock model
(`mockllm/<name>` with scripted `custom_outputs`) for two checkpoints:

* `mockllm/ckpt-base`: answers every item with its worked sum and
  `ANSWER: <n>`, stop reason `stop`; wrong on the items in WRONG.
* `mockllm/ckpt-noeos`: the same, except on the items in RAMBLE, where it
  never reaches an answer and runs to the generation limit (`MAX_TOKENS`
  words, stop reason `max_tokens`).

Two epochs each. Scorers, in task order: `pattern` (the primary one:
`ANSWER: n`), `includes`, `verdict` (a dict score `{exact, brief}`) and
`judge` (`Score.unscored()`, a NaN, on the items in UNSCORED; else yes/no).
The logs are written as the installed Inspect writes them (zstd members
since 0.3.206). `OUT_DIR/plan.json` holds what each run was given and what
every scorer must have said, computed here from the plan alone.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("INSPECT_LOG_LEVEL", "warning")
os.environ.setdefault("INSPECT_DISPLAY", "none")

from inspect_ai import Task, eval, task  # noqa: E402
from inspect_ai.dataset import json_dataset, FieldSpec  # noqa: E402
from inspect_ai.model import ModelOutput, ModelUsage, get_model  # noqa: E402
from inspect_ai.scorer import (  # noqa: E402
    CORRECT,
    INCORRECT,
    Score,
    Target,
    accuracy,
    includes,
    pattern,
    scorer,
)
from inspect_ai.solver import TaskState, generate  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "arith.jsonl"
MAX_TOKENS = 64
EPOCHS = 2
N_ITEMS = 40
WRONG = {3, 11, 26, 34}
RAMBLE = {1, 4, 7, 9, 14, 18, 21, 23, 29, 31, 36, 38}
UNSCORED = {7, 17, 27, 37}
PATTERN = r"ANSWER:\s*(-?\d+)"


def items():
    """The dataset, deterministic: item i asks a + b."""
    out = []
    for i in range(1, N_ITEMS + 1):
        a, b = (i * 37) % 90 + 10, (i * 53) % 80 + 5
        out.append({"id": i, "input": f"What is {a} + {b}?", "target": str(a + b),
                    "metadata": {"a": a, "b": b, "carry": (a % 10 + b % 10) >= 10}})
    return out


def write_data():
    DATA.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(x) + "\n" for x in items())
    if not DATA.exists() or DATA.read_text() != text:
        DATA.write_text(text)


def response(run, item):
    """What checkpoint `run` says to `item`: (text, stop_reason, tokens)."""
    a, b = item["metadata"]["a"], item["metadata"]["b"]
    if run == "ckpt-noeos" and item["id"] in RAMBLE:
        words = (f"Let us add {a} and {b} step by step and then check it once more").split()
        text = " ".join(words[k % len(words)] for k in range(MAX_TOKENS))
        return text, "max_tokens", MAX_TOKENS
    n = a + b + (1 if item["id"] in WRONG else 0)
    text = f"{a} + {b} = {n}. The answer is {n}.\nANSWER: {n}"
    return text, "stop", len(text.split())


def expected_scores(run, item):
    """Every scorer's value and answer, from the plan (not from Inspect)."""
    text, _, _ = response(run, item)
    target = item["target"]
    import re
    m = re.search(PATTERN, text, re.IGNORECASE)
    if m:
        pat = {"value": "C" if m.group(1) == target else "I", "answer": m.group(1)}
    else:
        # Inspect >= 0.3.28x: no match is "I" with reason invalid_response_format (was "N").
        pat = {"value": "I", "answer": None}
    inc = {"value": "C" if target in text else "I", "answer": text}
    exact = 1 if (m and m.group(1) == target) else 0
    verdict = {"value": {"brief": len(text) < 200, "exact": exact}, "answer": m.group(1) if m else None}
    if item["id"] in UNSCORED:
        judge = {"value": None, "answer": None}
    else:
        judge = {"value": "yes" if exact else "no", "answer": None}
    return {"pattern": pat, "includes": inc, "verdict": verdict, "judge": judge}


@scorer(metrics={"exact": [accuracy()], "brief": [accuracy()]})
def verdict():
    async def score(state: TaskState, target: Target) -> Score:
        import re
        text = state.output.completion
        m = re.search(PATTERN, text, re.IGNORECASE)
        exact = 1 if (m and m.group(1) == target.text) else 0
        return Score(value={"exact": exact, "brief": len(text) < 200}, answer=m.group(1) if m else None)
    return score


@scorer(metrics=[accuracy()])
def judge():
    async def score(state: TaskState, target: Target) -> Score:
        if state.sample_id in UNSCORED:
            return Score.unscored(explanation="scripted: no grade")
        import re
        m = re.search(PATTERN, state.output.completion, re.IGNORECASE)
        return Score(value="yes" if (m and m.group(1) == target.text) else "no")
    return score


@task
def arith():
    return Task(
        dataset=json_dataset(str(DATA), FieldSpec(input="input", target="target", id="id", metadata=["a", "b", "carry"])),
        solver=generate(),
        scorer=[pattern(PATTERN), includes(), verdict(), judge()],
        epochs=EPOCHS,
    )


def scripted(run):
    by_question = {x["input"]: x for x in items()}

    def out(input, tools, tool_choice, config):
        question = input[-1].text
        item = by_question[question]
        text, stop, tokens = response(run, item)
        o = ModelOutput.from_content(model=run, content=text, stop_reason=stop)
        o.usage = ModelUsage(input_tokens=len(question.split()), output_tokens=tokens,
                             total_tokens=len(question.split()) + tokens)
        return o
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out_dir = Path(sys.argv[1]).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.eval"):
        old.unlink()
    write_data()
    plan = {"max_tokens": MAX_TOKENS, "epochs": EPOCHS, "task": "arith",
            "scorers": ["pattern", "includes", "verdict", "judge"], "runs": {}}
    for run in ["ckpt-base", "ckpt-noeos"]:
        model = get_model(f"mockllm/{run}", custom_outputs=scripted(run))
        logs = eval(arith(), model=model, log_dir=str(out_dir), max_tokens=MAX_TOKENS,
                    display="none", log_level="warning")
        assert len(logs) == 1 and logs[0].status == "success", logs[0].status
        samples = {}
        for item in items():
            text, stop, tokens = response(run, item)
            samples[str(item["id"])] = {"target": item["target"], "input": item["input"],
                                        "response": text, "stop_reason": stop, "output_tokens": tokens,
                                        "scores": expected_scores(run, item)}
        plan["runs"][f"mockllm/{run}"] = {"log": Path(logs[0].location).name, "samples": samples}
        check(logs[0], samples)
    (out_dir / "plan.json").write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
    print(f"inspect: wrote {len(list(out_dir.glob('*.eval')))} logs to {out_dir}")


def check(log, samples):
    """The logs as Inspect reads them back agree with the plan."""
    from inspect_ai.log import read_eval_log
    import math
    full = read_eval_log(log.location)
    assert len(full.samples) == N_ITEMS * EPOCHS, len(full.samples)
    for s in full.samples:
        want = samples[str(s.id)]
        assert s.output.completion == want["response"], (s.id, s.output.completion)
        assert s.output.choices[0].stop_reason == want["stop_reason"]
        for name, w in want["scores"].items():
            got = s.scores[name]
            if w["value"] is None:
                assert isinstance(got.value, float) and math.isnan(got.value), (s.id, name, got.value)
            else:
                assert got.value == w["value"], (s.id, name, got.value, w["value"])
            if name != "includes":
                assert got.answer == w["answer"], (s.id, name, got.answer, w["answer"])


if __name__ == "__main__":
    main()
