#!/usr/bin/env python3
"""Diagnosis cases: the scripted plan, the texts it makes, and the truth it implies.

Stdlib only (no lm-eval import), so the truth can be computed and checked
without the harness.  Used three ways:

* ``scripted_lm.py`` asks :func:`respond` for the response to a request of
  one of the diagnosis tasks (``data/diagnosis/``), per checkpoint;
* :func:`plan_truth` computes ``diagnosis_truth.json`` from the plan alone
  (what each checkpoint was told to do on each doc), never from logs;
* ``make_logs.py --check`` calls :func:`verify_logs`, which reads the samples
  files the harness wrote and checks, row by row, that the response, the
  filtered answer and the metric are the ones the plan predicts, then
  recomputes the whole truth from the logs' own fields and compares.

    python tests/lmeval/diagnosis.py [--write diagnosis_truth.json | --check diagnosis_truth.json]

See README.md, section "Diagnosis cases", for the cases and the definitions.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import string
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
DIAG = DATA / "diagnosis"

BASE = "caploop/scripted-base"
CASES = {  # case -> candidate checkpoint and the tasks its behaviour changes
    "a_runon": {"model": "caploop/scripted-runon", "tasks": ["gsm8k", "mmlu_pro_math"]},
    "b_loop": {"model": "caploop/scripted-loop", "tasks": ["gsm8k"]},
    "c_bare": {"model": "caploop/scripted-bare", "tasks": ["mmlu_pro_math"]},
    "d_suffix": {"model": "caploop/scripted-suffix", "tasks": ["bbh_zeroshot_date_understanding"]},
}
MODELS = [BASE] + [c["model"] for c in CASES.values()]
TASKS = ["gsm8k", "mmlu_pro_math", "bbh_zeroshot_date_understanding"]
# Filters in the order the package's YAML lists them (the first is "primary").
FILTERS = {
    "gsm8k": ["strict-match", "flexible-extract"],
    "mmlu_pro_math": ["custom-extract"],
    "bbh_zeroshot_date_understanding": ["strict-match", "flexible-extract"],
}
# The generation kwargs the package's YAMLs give (checked against every logged
# request); None = no max_gen_toks, so the scripted model's default applies.
GEN = {
    "gsm8k": {"until": ["Question:", "</s>", "<|im_end|>"], "max_gen_toks": None},
    "mmlu_pro_math": {"until": ["Question:"], "max_gen_toks": 2048},
    "bbh_zeroshot_date_understanding": {"until": ["</s>", "Q:", "<|im_end|>"], "max_gen_toks": None},
}
DEFAULT_MAX_GEN_TOKS = 256  # scripted_lm.DEFAULT_MAX_GEN_TOKS (HF backend default)
FORMAT_HEALTH_THRESHOLD_PCT = 5.0

# Base plan: how many docs of each task are answered wrong / with a format slip.
N_WRONG = {"gsm8k": 8, "mmlu_pro_math": 10, "bbh_zeroshot_date_understanding": 20}
N_FORMAT = {"gsm8k": 2}  # "The answer is n." without "####": strict-match [invalid]
# Candidate subsets (docs with the case's behaviour) per case and task.
SUBSET = {
    ("a_runon", "gsm8k"): 24,
    ("a_runon", "mmlu_pro_math"): 24,
    ("b_loop", "gsm8k"): 24,
    ("c_bare", "mmlu_pro_math"): 72,
    ("d_suffix", "bbh_zeroshot_date_understanding"): 48,
}
FLIPS = {"a_runon", "b_loop", "d_suffix"}  # one content regression + one content fix, well formatted
N_STOPPED = 4  # d_suffix: answer, then "\n\nQ: ..." which the stop string "Q:" cuts (trap)

LETTERS10 = "ABCDEFGHIJ"
LOOP_OPEN = " Let me think step by step."
LOOP_LINE = " Let me check the question again."
RAMBLE = [
    " First I need to understand what the question asks.",
    " The question gives several quantities.",
    " I should combine them in the right order.",
    " Let me reconsider the first quantity.",
    " That depends on how the second one is used.",
    " I am not sure which operation comes first.",
    " Maybe I should start over.",
    " Let me read the problem once more.",
]
SITES = ["www.example-news.org", "forum.example.net", "blog.example.com", "docs.example.io",
         "shop.example.co.uk"]
WORDS = ("the city council said on monday that the new bridge will open next spring after years "
         "of delays and rising costs local residents welcomed the news but some shop owners "
         "worried about traffic during the final months of construction a spokesperson added "
         "that more details would follow in the coming weeks readers can subscribe to our "
         "newsletter for updates on this and other stories from the region").split()


def _u(*parts: str) -> float:
    """Deterministic uniform number in [0, 1) from the given strings."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _ranked(ids, *salt: str) -> list[int]:
    """Doc ids in a fixed pseudo-random order seeded by (salt, doc id)."""
    return sorted(ids, key=lambda d: _u(*salt, str(d)))


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _n_words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def _cut_words(text: str, max_words: int) -> str:
    for n, m in enumerate(re.finditer(r"\S+", text), start=1):
        if n == max_words:
            return text[: m.end()]
    return text


def _cut_until(text: str, until: list[str]) -> str:
    cut = len(text)
    for stop in until:
        k = text.find(stop)
        if k != -1:
            cut = min(cut, k)
    return text[:cut]


def budget(task: str) -> int:
    return GEN[task]["max_gen_toks"] or DEFAULT_MAX_GEN_TOKS


# ---------------------------------------------------------------------------- metric model
# exact_match as the package's YAMLs configure it (lm_eval.api.metrics.
# exact_match_hf_evaluate: regexes_to_ignore on both sides, then case, then
# punctuation).  The log check verifies this model against the logged metric.
METRIC = {
    "gsm8k": {"regexes": [",", "\\$", "(?s).*#### ", "\\.$"], "case": True, "punct": False},
    "mmlu_pro_math": {"regexes": [], "case": True, "punct": True},
    "bbh_zeroshot_date_understanding": {"regexes": ["\\.$", ",", "\n", "\\\\", '"'], "case": True,
                                        "punct": False},
}


def _norm(task: str, s: str) -> str:
    m = METRIC[task]
    for rx in m["regexes"]:
        s = re.sub(rx, "", s)
    if m["case"]:
        s = s.lower()
    if m["punct"]:
        s = s.translate(str.maketrans("", "", string.punctuation))
    return s


def exact_match(task: str, pred: str, target: str) -> bool:
    return _norm(task, pred) == _norm(task, target)


# ---------------------------------------------------------------------------- docs
@dataclass
class Doc:
    doc_id: int
    key: str  # the text the model identifies the item by
    target: str  # str(doc_to_target(doc)) as lm-eval logs it
    gold: str  # gsm8k: the number; mmlu_pro: the letter; bbh: "(X)"
    raw: dict


def load_docs() -> dict[str, list[Doc]]:
    docs = {}
    gsm = _read(DIAG / "gsm8k_test.jsonl")
    docs["gsm8k"] = [Doc(i, r["question"], r["answer"], r["answer"].rsplit("#### ", 1)[1].strip(), r)
                     for i, r in enumerate(gsm)]
    mp = _read(DIAG / "mmlu_pro_math_test.jsonl")  # all rows are category "math": doc_id = row
    docs["mmlu_pro_math"] = [Doc(i, r["question"], r["answer"], r["answer"], r) for i, r in enumerate(mp)]
    bbh = _read(DIAG / "bbh_date_understanding_test.jsonl")
    docs["bbh_zeroshot_date_understanding"] = [Doc(i, r["input"], r["target"], r["target"], r)
                                               for i, r in enumerate(bbh)]
    return docs


def _bbh_options(inp: str) -> dict[str, str]:
    return dict(re.findall(r"^\(([A-F])\) (.+)$", inp, flags=re.M))


# ---------------------------------------------------------------------------- plan
@dataclass
class Planned:
    """One checkpoint's planned response to one doc, and what the plan implies."""

    behaviour: str  # base | flip_down | flip_up | runon | loop | ramble | bare | suffix_url | ...
    text: str  # the logged response (after the backend's stop-string and budget cuts)
    first_answer: str | None  # the first complete answer (gsm8k number, letter, "(X)"); None: none
    first_correct: bool | None
    answer_end: int | None  # char offset just after the first complete answer
    limit_hit: bool  # the budget (max_gen_toks, whitespace words) was used up
    run_on: bool  # non-whitespace text follows the first complete answer
    scored: dict[str, str] = field(default_factory=dict)  # filter -> filtered_resps[0]
    correct: dict[str, bool] = field(default_factory=dict)  # filter -> metric == 1


class Plan:
    def __init__(self) -> None:
        self.docs = load_docs()
        self.by_key = {t: {d.key: d for d in ds} for t, ds in self.docs.items()}
        for t, ds in self.docs.items():
            assert len(self.by_key[t]) == len(ds), f"{t}: duplicate item text"
        # base kinds
        self.base_kind: dict[str, dict[int, str]] = {}
        for t, ds in self.docs.items():
            order = _ranked([d.doc_id for d in ds], "diag-base", t)
            nw, nf = N_WRONG.get(t, 0), N_FORMAT.get(t, 0)
            self.base_kind[t] = {d: "wrong" if i < nw else "format" if i < nw + nf else "correct"
                                 for i, d in enumerate(order)}
        # candidate behaviours: case -> task -> doc -> behaviour (absent = base)
        self.behaviour: dict[str, dict[str, dict[int, str]]] = {}
        for case, spec in CASES.items():
            self.behaviour[case] = {}
            for t in spec["tasks"]:
                eligible = [d.doc_id for d in self.docs[t] if self.base_kind[t][d.doc_id] != "format"]
                order = _ranked(eligible, case, t)
                k = SUBSET[(case, t)]
                sub, rest = order[:k], order[k:]
                beh = {}
                for i, d in enumerate(sub):
                    if case == "a_runon":
                        beh[d] = "runon"
                    elif case == "b_loop":
                        beh[d] = "loop" if i % 2 == 0 else "ramble"
                    elif case == "c_bare":
                        beh[d] = "bare"
                    else:
                        beh[d] = ("suffix_url", "suffix_url", "suffix_url", "suffix_explain",
                                  "suffix_repeat")[i % 5]
                if case in FLIPS:
                    down = next(d for d in rest if self.base_kind[t][d] == "correct")
                    up = next(d for d in rest if self.base_kind[t][d] == "wrong")
                    beh[down], beh[up] = "flip_down", "flip_up"
                    rest = [d for d in rest if d not in (down, up)]
                if case == "d_suffix":
                    for d in rest[:N_STOPPED]:
                        beh[d] = "stopped"
                self.behaviour[case][t] = beh
        self.case_of = {spec["model"]: case for case, spec in CASES.items()}
        self._cache: dict[tuple[str, str, int], Planned] = {}

    # ------------------------------------------------------------------ content
    def believed_correct(self, model: str, task: str, doc_id: int) -> bool:
        """Whether the checkpoint's own (first) answer is right: its content."""
        beh = self.behaviour_of(model, task, doc_id)
        if beh == "flip_down":
            return False
        if beh == "flip_up":
            return True
        return self.base_kind[task][doc_id] != "wrong"

    def behaviour_of(self, model: str, task: str, doc_id: int) -> str:
        case = self.case_of.get(model)
        if case is None:
            return "base"
        return self.behaviour[case].get(task, {}).get(doc_id, "base")

    def _wrong_value(self, task: str, d: Doc) -> str:
        if task == "gsm8k":
            return str(int(d.gold) + 1 + int(_u("diag-gsm8k-delta", d.key) * 9))
        if task == "mmlu_pro_math":
            others = [x for x in LETTERS10[: len(d.raw["options"])] if x != d.gold]
            return sorted(others, key=lambda x: _u("diag-mmlu-wrong", d.key, x))[0]
        letters = [x for x in _bbh_options(d.key) if f"({x})" != d.gold]
        return "(" + sorted(letters, key=lambda x: _u("diag-bbh-wrong", d.key, x))[0] + ")"

    def answer_value(self, model: str, task: str, d: Doc) -> str:
        return d.gold if self.believed_correct(model, task, d.doc_id) else self._wrong_value(task, d)

    # ------------------------------------------------------------------ per-task texts
    def _gsm8k_own(self, d: Doc, value: str, style: str) -> tuple[str, str]:
        """(reasoning, final line) in the 5-shot style; value replaces the gold in the last step."""
        body = d.raw["answer"].rsplit("#### ", 1)[0]
        steps = [re.sub(r"<<[^>]*>>", "", ln) for ln in body.strip().split("\n")]
        if value != d.gold:
            last = steps[-1]
            k = last.rfind(d.gold)
            steps[-1] = last[:k] + value + last[k + len(d.gold):] if k != -1 else last
        final = f"\n#### {value}" if style == "hash" else f"\nThe answer is {value}."
        return " " + "\n".join(steps), final

    def _other(self, task: str, d: Doc, salt: str, ok) -> Doc:
        """Another doc of the task, in a fixed order, passing the test ok(other)."""
        cands = [o for o in self.docs[task] if o.doc_id != d.doc_id]
        cands.sort(key=lambda o: _u(salt, task, str(d.doc_id), str(o.doc_id)))
        return next(o for o in cands if ok(o))

    def _mmlu_own(self, d: Doc, letter: str) -> str:
        value = d.raw["options"][LETTERS10.index(letter)]
        return f" Computing step by step, the result is {value}."

    @staticmethod
    def _mmlu_question(doc: dict) -> str:
        # lm_eval/tasks/mmlu_pro/utils.py format_cot_example(including_answer=False)
        s = "Question:\n" + doc["question"] + "\nOptions:\n"
        for i, opt in enumerate(doc["options"]):
            s += f"{LETTERS10[i]}. {opt.strip()}\n"
        return s + "Answer: Let's think step by step."

    def record(self, model: str, task: str, doc_id: int) -> Planned:
        k = (model, task, doc_id)
        if k not in self._cache:
            self._cache[k] = self._record(model, task, doc_id)
        return self._cache[k]

    def _record(self, model: str, task: str, doc_id: int) -> Planned:
        d = self.docs[task][doc_id]
        beh = self.behaviour_of(model, task, doc_id)
        value = self.answer_value(model, task, d)
        until, limit = GEN[task]["until"], budget(task)
        honour_until = True  # the backend cuts at the first stop string ...
        scored: dict[str, str] = {}
        if task == "gsm8k":
            style = "plain" if self.base_kind[task][doc_id] == "format" else "hash"
            reasoning, final = self._gsm8k_own(d, value, style)
            own = reasoning + final
            first, end = value, len(own)  # "#### n" / "The answer is n." (with its period)
            if beh == "runon":
                # one more exemplar with an answer of its own, then EOS; the stop
                # string "Question:" is not applied on these docs (as noeos does)
                o = self._other(task, d, "diag-runon-next",
                                lambda o: self.base_kind[task][o.doc_id] != "format"
                                and self.answer_value(BASE, task, o) != d.gold)
                m = self.answer_value(BASE, task, o)
                r2, f2 = self._gsm8k_own(o, m, "hash")
                raw = own + f"\n\nQuestion: {o.key}\nAnswer:{r2}{f2}"
                honour_until = False
                scored = {"strict-match": value, "flexible-extract": m}
            elif beh in ("loop", "ramble"):
                if beh == "loop":
                    raw = LOOP_OPEN + LOOP_LINE * (2 * limit)
                else:
                    raw = LOOP_OPEN + "".join(RAMBLE[i % len(RAMBLE)] for i in range(2 * limit))
                # no digit, no two of "$.," in a row: neither regex can match
                assert not re.search(r"[0-9]|[$.,]{2}|answer is|####", raw)
                first, end = None, None
                scored = {"strict-match": "[invalid]", "flexible-extract": "[invalid]"}
            else:  # base, flips: the model goes on with "\n\nQuestion: ..." which until cuts
                o = self._other(task, d, "diag-next", lambda o: True)
                raw = own + f"\n\nQuestion: {o.key}\nAnswer:"
                scored = {"strict-match": value if style == "hash" else "[invalid]",
                          "flexible-extract": value if style == "hash" else value + "."}
        elif task == "mmlu_pro_math":
            own = self._mmlu_own(d, value)
            if beh == "bare":
                raw = own + f"\n{value}"
                first, end = value, len(raw)
                scored = {"custom-extract": "[invalid]"}
            else:
                own += f" The answer is ({value})."
                first, end = value, len(own)
                raw = own
                if beh == "runon":
                    o = self._other(task, d, "diag-runon-next", lambda o: True)
                    ov = self.answer_value(BASE, task, o)
                    raw = own + "\n\n" + self._mmlu_question(o.raw) + self._mmlu_own(o, ov) + \
                        f" The answer is ({ov})."
                    honour_until = False
                scored = {"custom-extract": value}
        else:  # bbh_zeroshot_date_understanding
            own = value  # "(X)"
            first, end = value, len(own)
            if beh == "suffix_url":
                n_body = 15 + int(_u("diag-url-len", d.key) * 420)
                site = SITES[int(_u("diag-url-site", d.key) * len(SITES))]
                start = int(_u("diag-url-start", d.key) * len(WORDS))
                body = " ".join(WORDS[(start + i) % len(WORDS)] for i in range(n_body))
                slug = "-".join(WORDS[(start + i) % len(WORDS)] for i in range(4))
                raw = (own + f"<begin_url>https://{site}/{slug}\n<begin_title>"
                       + " ".join(WORDS[(start + 5 + i) % len(WORDS)] for i in range(5)).title()
                       + "\n" + body[0].upper() + body[1:] + ".")
            elif beh == "suffix_explain":
                date = _bbh_options(d.key)[value.strip("()")]
                raw = own + f" because counting from the date given, the date asked for is {date}."
            elif beh == "suffix_repeat":
                raw = own + f"\n{own}" * (2 + int(_u("diag-repeat", d.key) * 8))
            elif beh == "stopped":
                o = self._other(task, d, "diag-next", lambda o: True)
                raw = own + f"\n\nQ: {o.key}\nA: {self.answer_value(BASE, task, o)}"
            else:
                raw = own  # then EOS
            if beh.startswith("suffix_"):
                assert not any(s in raw for s in until)
                # flexible-extract takes the first "(X)": the own answer, whatever follows
                assert beh == "suffix_repeat" or not re.search(r"\([A-Z]\)", raw[len(own):])
            scored = {"flexible-extract": value}  # the first "(X)"
        text = _cut_until(raw, until) if honour_until else raw
        limit_hit = _n_words(text) > limit
        text = _cut_words(text, limit)
        if not limit_hit:
            assert _n_words(text) < limit, (model, task, doc_id)  # exactly `limit` words <=> cut
        if task == "bbh_zeroshot_date_understanding":
            scored["strict-match"] = text  # take_first: the whole response
            scored = {f: scored[f] for f in FILTERS[task]}
        if end is not None:
            assert end <= len(text), (model, task, doc_id)
        run_on = end is not None and text[end:].strip() != ""
        correct = {f: exact_match(task, s, d.target) for f, s in scored.items()}
        first_correct = None if first is None else exact_match(task, first, d.target)
        return Planned(beh, text, first, first_correct, end, limit_hit, run_on, scored, correct)

    # ------------------------------------------------------------------ serving
    def respond(self, model: str, context: str, gen_kwargs: dict) -> str | None:
        """The response to a diagnosis request, or None if this is not one."""
        task = key = None
        if context.endswith("Answer: Let's think step by step.") and "Question:\n" in context:
            task = "mmlu_pro_math"
            key = context.rsplit("Question:\n", 1)[1].split("\nOptions:\n", 1)[0]
        elif context.endswith("\nA:") and "Q: " in context:
            task = "bbh_zeroshot_date_understanding"
            key = context.rsplit("Q: ", 1)[1][: -len("\nA:")]
        elif context.endswith("\nAnswer:") and "Question: " in context:
            task = "gsm8k"
            key = context.rsplit("Question: ", 1)[1][: -len("\nAnswer:")]
        if task is None or key not in self.by_key[task]:
            return None
        until = gen_kwargs.get("until") or []
        until = [until] if isinstance(until, str) else list(until)
        if until != GEN[task]["until"] or gen_kwargs.get("max_gen_toks") != GEN[task]["max_gen_toks"]:
            raise ValueError(f"diagnosis plan assumes {GEN[task]} for {task}, harness sent {gen_kwargs}")
        return self.record(model, task, self.by_key[task][key].doc_id).text


_PLAN: Plan | None = None


def plan() -> Plan:
    global _PLAN
    if _PLAN is None:
        _PLAN = Plan()
    return _PLAN


def respond(model: str, context: str, gen_kwargs: dict) -> str | None:
    return plan().respond(model, context, gen_kwargs)


# ---------------------------------------------------------------------------- truth
def _pct(k: int, n: int) -> float:
    return round(100.0 * k / n, 4) if n else 0.0


def _nearest_rank(xs: list[int], p: float) -> int | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[max(1, math.ceil(p / 100.0 * len(s))) - 1]


def _linear(xs: list[int], p: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    h = (len(s) - 1) * p / 100.0
    lo = math.floor(h)
    hi = min(lo + 1, len(s) - 1)
    return round(s[lo] + (h - lo) * (s[hi] - s[lo]), 4)


def _dist(xs: list[int]) -> dict:
    return {"n": len(xs), "mean": round(sum(xs) / len(xs), 4) if xs else None,
            "p50": _nearest_rank(xs, 50), "p90": _nearest_rank(xs, 90),
            "p50_linear": _linear(xs, 50), "p90_linear": _linear(xs, 90)}


def format_affected(r: Planned, f: str) -> bool:
    """README "Diagnosis cases": extraction failed, or the budget ran out before any
    complete answer, or the scored answer's correctness differs from the first
    complete answer's."""
    if r.scored[f] == "[invalid]":
        return True
    if r.limit_hit and r.first_answer is None:
        return True
    return r.first_answer is not None and r.first_correct != r.correct[f]


def answer_audit(recs: list[Planned], targets: list[str], f: str) -> dict:
    """PAPER.md section 4 statistics on the filtered answers of one run."""
    n = len(recs)
    prefix = [(r, t) for r, t in zip(recs, targets) if r.scored[f].startswith(t)]
    suffixes = []
    for r, t in prefix:
        rest = r.scored[f][len(t):]
        suffixes.append(rest if rest.strip() else "")
    with_suffix = [s for s in suffixes if s]
    starts = Counter(s[:12] for s in with_suffix)
    return {
        "n": n,
        "gold_prefix": len(prefix),
        "gold_prefix_pct": _pct(len(prefix), n),
        "accepted_given_prefix": sum(r.correct[f] for r, _ in prefix),
        "accepted_given_prefix_pct": _pct(sum(r.correct[f] for r, _ in prefix), len(prefix)),
        "extra_suffix": len(with_suffix),
        "extra_suffix_pct_of_prefix": _pct(len(with_suffix), len(prefix)),
        "extra_suffix_pct_of_n": _pct(len(with_suffix), n),
        "suffix_len_over_prefix_items": _dist([len(s) for s in suffixes]),
        "suffix_len_over_suffixed_items": _dist([len(s) for s in with_suffix]),
        "filtered_answer_len": _dist([len(r.scored[f]) for r in recs]),
        "suffix_starts_12": [[s, c] for s, c in sorted(starts.items(), key=lambda kv: (-kv[1], kv[0]))],
    }


def _rates(recs: list[Planned], f: str) -> dict:
    n = len(recs)
    inv = sum(r.scored[f] == "[invalid]" for r in recs)
    lim = sum(r.limit_hit for r in recs)
    lim_before = sum(r.limit_hit and r.first_answer is None for r in recs)
    ro = sum(r.run_on for r in recs)
    return {"extraction_failures": inv, "extraction_failure_pct": _pct(inv, n),
            "limit_hits": lim, "truncation_pct": _pct(lim, n),
            "limit_hits_before_answer": lim_before,
            "run_ons": ro, "run_on_pct": _pct(ro, n)}


def task_truth(base: list[Planned], cand: list[Planned], targets: list[str], task: str, f: str) -> dict:
    n = len(base)
    b = [int(r.correct[f]) for r in base]
    c = [int(r.correct[f]) for r in cand]
    fa_c = [i for i in range(n) if format_affected(cand[i], f)]
    fa_b = [i for i in range(n) if format_affected(base[i], f)]
    clean = [i for i in range(n) if i not in fa_c and i not in fa_b]
    base_only = [i for i in fa_b if i not in fa_c]
    content = sum(c[i] - b[i] for i in clean)
    t = {
        "filter": f,
        "primary_filter": f == FILTERS[task][0],
        "n": n,
        "baseline_correct": sum(b),
        "candidate_correct": sum(c),
        "baseline_accuracy_pct": _pct(sum(b), n),
        "candidate_accuracy_pct": _pct(sum(c), n),
        "net_delta_pp": _pct(sum(c) - sum(b), n),
        "format_affected_candidate": {"count": len(fa_c), "doc_ids": fa_c},
        "format_affected_baseline": {"count": len(fa_b), "doc_ids": fa_b},
        "format_cost_pp": _pct(sum(c[i] - b[i] for i in fa_c), n),
        "format_regressed_doc_ids": [i for i in fa_c if b[i] > c[i]],
        "format_fixed_doc_ids": [i for i in fa_c if c[i] > b[i]],
        "content": {
            "items": len(clean),
            "delta_pp": _pct(content, len(clean)),
            "delta_pp_of_n": _pct(content, n),
            "regressed_doc_ids": [i for i in clean if b[i] > c[i]],
            "improved_doc_ids": [i for i in clean if c[i] > b[i]],
        },
        "baseline_only_format_pp": _pct(sum(c[i] - b[i] for i in base_only), n),
        "rates": {"baseline": _rates(base, f), "candidate": _rates(cand, f)},
    }
    if task == "bbh_zeroshot_date_understanding":
        t["answer_audit"] = {"baseline": answer_audit(base, targets, f),
                             "candidate": answer_audit(cand, targets, f)}
    return t


VERDICTS = {
    "a_runon": {
        "regression": False,
        "format_caused": False,
        "format_health_warning": False,
        "words": ("No regression and nothing format-caused on the primary filters (gsm8k strict-match, "
                  "mmlu_pro_math custom-extract): the run-on answers are scored on their first answer, "
                  "so no format failure should be inferred; the run-on rate rises, scores do not. "
                  "Exception by design: gsm8k flexible-extract takes the LAST number "
                  "(group_select -1), i.e. the answer of the invented exemplar, so on that secondary "
                  "filter the whole drop is format-caused (format cost = net delta, content 0)."),
    },
    "b_loop": {
        "regression": True,
        "verdict": "data_out",
        "format_caused": True,
        "format_kinds": ["termination", "length"],
        "format_health_warning": True,
        "words": ("data_out (format: termination / length): the loops hit max_gen_toks without an "
                  "answer ([invalid]); the format cost is the whole drop and the paired content delta "
                  "is 0 (one content regression and one content fix cancel)."),
    },
    "c_bare": {
        "regression": True,
        "format_caused": True,
        "format_health_warning": True,
        "words": ("Format-health warning: extraction failures are far above 5% of the run (bare "
                  "letters never match 'answer is \\(?([A-J])\\)?'); the run scores near 0 on "
                  "mmlu_pro_math, the format cost is the whole drop, content 0: not a knowledge "
                  "regression."),
    },
    "d_suffix": {
        "regression": True,
        "verdict": "data_out",
        "fix": "termination (EOS)",
        "format_caused": True,
        "format_health_warning": False,
        "words": ("data_out with the termination (EOS) fix (PAPER.md section 4): on strict-match "
                  "(take_first of the raw response) answers start with the gold answer but carry a "
                  "suffix (<begin_url> documents, explanations, repeats), so exact match rejects them; "
                  "the format cost is the whole drop, content 0. flexible-extract takes the first "
                  "'(X)' and is unaffected (no regression there)."),
    },
}


def truth_from(records, targets) -> dict:
    """records[model][task] = list[Planned] by doc id; targets[task] = list[str]."""
    out = {
        "definitions": "tests/lmeval/README.md, section 'Diagnosis cases'",
        "baseline": BASE,
        "format_health_threshold_pct": FORMAT_HEALTH_THRESHOLD_PCT,
        "runs": {},
        "cases": {},
    }
    for model in MODELS:
        inv = sum(r.scored[FILTERS[t][0]] == "[invalid]" for t in TASKS for r in records[model][t])
        n = sum(len(records[model][t]) for t in TASKS)
        out["runs"][model] = {
            "primary_rows": n,
            "primary_extraction_failures": inv,
            "primary_extraction_failure_pct": _pct(inv, n),
            "format_health_warning": _pct(inv, n) > FORMAT_HEALTH_THRESHOLD_PCT,
        }
    for case, spec in CASES.items():
        model = spec["model"]
        c = {"baseline": BASE, "candidate": model, "tasks": spec["tasks"],
             "unchanged_tasks": [t for t in TASKS if t not in spec["tasks"]],
             "expected": VERDICTS[case], "per_task": {}}
        for t in spec["tasks"]:
            c["per_task"][t] = {f: task_truth(records[BASE][t], records[model][t], targets[t], t, f)
                                for f in FILTERS[t]}
        out["cases"][case] = c
    return out


def plan_description(p: Plan) -> dict:
    """What each checkpoint was told to do (doc ids), for the truth file."""
    desc = {"baseline": {}, "cases": {}}
    for t in TASKS:
        kinds = p.base_kind[t]
        desc["baseline"][t] = {k: sorted(d for d, v in kinds.items() if v == k) for k in ("wrong", "format")}
    for case in CASES:
        desc["cases"][case] = {}
        for t, beh in p.behaviour[case].items():
            groups: dict[str, list[int]] = {}
            for d, b in sorted(beh.items()):
                groups.setdefault(b, []).append(d)
            desc["cases"][case][t] = groups
    return desc


def plan_truth() -> dict:
    p = plan()
    records = {m: {t: [p.record(m, t, d.doc_id) for d in p.docs[t]] for t in TASKS} for m in MODELS}
    targets = {t: [d.target for d in p.docs[t]] for t in TASKS}
    truth = truth_from(records, targets)
    truth["plan"] = plan_description(p)
    truth["plan"]["notes"] = PLAN_NOTES
    truth["docs"] = {t: len(p.docs[t]) for t in TASKS}
    truth["generation_kwargs"] = GEN
    return truth


PLAN_NOTES = {
    "subsets": "doc ids ranked by sha256(case, task, doc id); base kinds by sha256('diag-base', task, doc id)",
    "runon": "own answer, then one invented exemplar ('\\n\\nQuestion: ...' with its own answer), then EOS; "
             "the stop string is not applied on these docs",
    "loop": "digit-free sentence repeated until max_gen_toks (whitespace words); no answer",
    "ramble": "8 digit-free sentences cycled until max_gen_toks; no answer",
    "bare": "reasoning, then the bare letter on its own line",
    "suffix_url": "'(X)<begin_url>https://...' web document; long ones hit max_gen_toks after the answer",
    "suffix_explain": "'(X) because counting from the date given, ...'",
    "suffix_repeat": "'(X)' then 2-9 more '\\n(X)' lines",
    "stopped": "'(X)\\n\\nQ: ...' cut by the stop string 'Q:' to '(X)\\n\\n': accepted, not a run-on (trap)",
    "flip_down": "well formatted wrong answer where the baseline is right (content regression)",
    "flip_up": "well formatted right answer where the baseline is wrong (content fix)",
}


# ---------------------------------------------------------------------------- logs
def _log_first_answer(task: str, text: str) -> tuple[str | None, int | None]:
    """Log-side detector of the first complete answer (independent of the plan)."""
    if task == "gsm8k":
        ms = [m for m in (re.search(r"#### (-?[0-9][0-9,]*)", text),
                          re.search(r"The answer is (-?[0-9][0-9,]*)\.", text)) if m]
        if not ms:
            return None, None
        m = min(ms, key=lambda m: m.start())
        return m.group(1), m.end()
    if task == "mmlu_pro_math":
        ms = [m for m in (re.search(r"answer is \(?([A-J])\)?\.?", text),
                          re.search(r"(?m)^([A-J])$", text)) if m]
        if not ms:
            return None, None
        m = min(ms, key=lambda m: m.start())
        return m.group(1), m.end()
    m = re.match(r"\([A-Z]\)", text)
    return (m.group(0), m.end()) if m else (None, None)


def _load_diag_run(model_dir: Path) -> tuple[dict, dict[str, list[dict]]]:
    res = sorted(model_dir.glob("results_*.json"))
    if len(res) != 1:
        raise SystemExit(f"{model_dir}: expected exactly one results_*.json, found {len(res)}")
    ts = res[0].stem[len("results_"):]
    results = json.loads(res[0].read_text(encoding="utf-8"))
    samples = {}
    for t in TASKS:
        p = model_dir / f"samples_{t}_{ts}.jsonl"
        if not p.exists():
            raise SystemExit(f"missing {p}")
        samples[t] = _read(p)
    extra = sorted(f.name for f in model_dir.iterdir()
                   if f.name != res[0].name and f.name not in {f"samples_{t}_{ts}.jsonl" for t in TASKS})
    if extra:
        raise SystemExit(f"{model_dir}: unexpected files {extra}")
    return results, samples


def verify_logs(out_dir: Path, sanitize) -> list[str]:
    """Check the written logs against the plan; return a list of problems (empty = ok)."""
    p = plan()
    problems: list[str] = []
    log_records: dict[str, dict[str, list[Planned]]] = {}
    targets = {t: [d.target for d in p.docs[t]] for t in TASKS}
    for model in MODELS:
        results, samples = _load_diag_run(out_dir / sanitize(model))
        if results.get("model_name") != model:
            problems.append(f"{model}: results model_name {results.get('model_name')!r}")
        log_records[model] = {}
        for t in TASKS:
            rows = {(r["doc_id"], r["filter"]): r for r in samples[t]}
            n = len(p.docs[t])
            if sorted(rows) != sorted((d, f) for d in range(n) for f in FILTERS[t]):
                problems.append(f"{model} {t}: rows are not docs 0..{n - 1} x {FILTERS[t]}")
                continue
            recs = []
            for d in range(n):
                plan_rec = p.record(model, t, d)
                first_row = rows[(d, FILTERS[t][0])]
                text = first_row["resps"][0][0]
                args = first_row["arguments"]["gen_args_0"]["arg_1"]
                limit = int(args.get("max_gen_toks", DEFAULT_MAX_GEN_TOKS))
                if args.get("until") != GEN[t]["until"] or args.get("max_gen_toks") != GEN[t]["max_gen_toks"]:
                    problems.append(f"{model} {t} doc {d}: generation kwargs {args}")
                if first_row["target"] != targets[t][d]:
                    problems.append(f"{model} {t} doc {d}: target {first_row['target']!r}")
                if text != plan_rec.text:
                    problems.append(f"{model} {t} doc {d}: response differs from the plan")
                first, end = _log_first_answer(t, text)
                scored, correct = {}, {}
                for f in FILTERS[t]:
                    row = rows[(d, f)]
                    if row["resps"][0][0] != text:
                        problems.append(f"{model} {t} doc {d}: resps differ between filters")
                    scored[f] = row["filtered_resps"][0]
                    correct[f] = float(row[row["metrics"][0]]) >= 1.0
                    if scored[f] != plan_rec.scored[f]:
                        problems.append(f"{model} {t} doc {d} {f}: filtered {scored[f][:60]!r}, "
                                        f"plan {plan_rec.scored[f][:60]!r}")
                    if correct[f] != plan_rec.correct[f]:
                        problems.append(f"{model} {t} doc {d} {f}: metric {correct[f]}, plan {plan_rec.correct[f]}")
                gold = p.docs[t][d].gold
                first_correct = None if first is None else (first.replace(",", "") == gold.replace(",", "")
                                                            if t == "gsm8k" else first == gold)
                n_words = _n_words(text)
                if n_words > limit:
                    problems.append(f"{model} {t} doc {d}: {n_words} words > max_gen_toks {limit}")
                rec = Planned("log", text, first, first_correct, end, n_words == limit,
                              end is not None and text[end:].strip() != "", scored, correct)
                for attr in ("first_answer", "first_correct", "answer_end", "limit_hit", "run_on"):
                    if getattr(rec, attr) != getattr(plan_rec, attr):
                        problems.append(f"{model} {t} doc {d}: log-side {attr} {getattr(rec, attr)!r}, "
                                        f"plan {getattr(plan_rec, attr)!r}")
                recs.append(rec)
            log_records[model][t] = recs
        for t in TASKS:
            if results["task_hashes"].get(t) is None:
                problems.append(f"{model}: no task hash for {t}")
    if problems:
        return problems
    # the candidates answer like the base outside their case's tasks
    for case, spec in CASES.items():
        for t in TASKS:
            same = all(a.text == b.text for a, b in zip(log_records[BASE][t], log_records[spec["model"]][t]))
            if (t not in spec["tasks"]) != same:
                problems.append(f"{case} {t}: responses {'equal' if same else 'differ'} vs base")
    # the whole truth again, from the logs' own fields
    log_truth = truth_from(log_records, targets)
    plan_t = plan_truth()
    for k in ("runs", "cases"):
        if log_truth[k] != plan_t[k]:
            a = json.dumps(plan_t[k], indent=1, sort_keys=True).splitlines()
            b = json.dumps(log_truth[k], indent=1, sort_keys=True).splitlines()
            import difflib

            problems.append(f"truth recomputed from the logs differs from the plan ({k}):\n"
                            + "\n".join(list(difflib.unified_diff(a, b, "plan", "logs", lineterm=""))[:80]))
    return problems


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", type=Path, help="write the truth computed from the plan")
    g.add_argument("--check", type=Path, help="fail if this truth file differs from the plan's")
    args = ap.parse_args()
    truth = plan_truth()
    text = json.dumps(truth, indent=2) + "\n"
    if args.write:
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    elif args.check:
        if json.loads(args.check.read_text(encoding="utf-8")) != json.loads(text):
            raise SystemExit(f"{args.check} differs from the truth computed from the plan")
        print(f"{args.check} matches the plan")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
