"""A deterministic, scripted lm-eval model used to produce real --log_samples fixtures.

Registered as lm-eval model ``scripted`` (subclass of ``lm_eval.api.model.LM``).
It looks only at the request text (context / continuation / gen kwargs), finds
the item in an answer key built from the committed JSONL files in ``data/``,
and answers according to a fixed plan (items ranked by sha256 of their text,
counts in N_WRONG / N_FORMAT / N_RUNAWAY), so the output is byte-identical on
every run and every machine.

Checkpoints (chosen with ``--model_args pretrained=<name>``):

* a name not ending in ``noeos`` (we use ``caploop/scripted-base``): a well
  behaved model.  Generative tasks: answers in the few-shot format, mostly
  correct (N_WRONG items wrong, N_FORMAT items with a format slip), and
  honours ``until`` like the HF backend (text cut *before* the first stop
  string).  Loglikelihood tasks: the gold choice gets the highest logprob
  except on N_WRONG items.
* a name ending in ``noeos`` (``caploop/scripted-noeos``): the same reasoning
  and the same loglikelihoods, but on N_RUNAWAY generative items per task it
  never stops: ``until`` is ignored and it keeps writing further
  "Question: ... #### n" / "Q: ... So the answer is (X)." / "Problem: ..."
  blocks until the ``max_gen_toks`` budget (counted in whitespace-separated
  words; 256 when the task sets none, like lm-eval's HF backend) is used up.
  Three runaway variants rotate: 0 = keeps its own final answer then rambles,
  1 = skips its own final answer line and rambles, 2 = degenerate loop
  re-asking its own question without ever answering.  All other items are
  byte-identical to the base checkpoint.
* the diagnosis checkpoints (``caploop/scripted-{runon,loop,bare,suffix}``)
  and ``caploop/scripted-base`` on the diagnosis tasks' items
  (``data/diagnosis/``): answered from the plan in ``diagnosis.py``.  On
  every other item the diagnosis checkpoints behave like the base one.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

import diagnosis  # the diagnosis cases' plan (data/diagnosis/, README "Diagnosis cases")

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MAX_GEN_TOKS = 256  # lm-eval HFLM default when the task does not set one

# How many evaluation items of each task get which behaviour.  Items are
# ranked by sha256 of their text, so the choice is fixed but not positional.
N_WRONG = {"gsm8k": 3, "bbh": 3, "math": 3, "arc": 4, "wino": 2}  # well formatted, wrong
N_FORMAT = {"gsm8k": 3, "bbh": 2, "math": 2}  # right answer, format slip
N_RUNAWAY = {"gsm8k": 15, "bbh": 12, "math": 10}  # noeos only: ignores `until`


def _u(*parts: str) -> float:
    """Deterministic uniform number in [0, 1) from the given strings."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def _read(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _last_boxed(s: str) -> str:
    i = s.rfind("\\boxed{")
    j, depth = i + len("\\boxed{"), 1
    while depth:
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        j += 1
    return s[i + len("\\boxed{"): j - 1]


def _cut_words(text: str, max_words: int) -> str:
    """Keep the first `max_words` whitespace-separated tokens (original spacing)."""
    for n, m in enumerate(re.finditer(r"\S+", text), start=1):
        if n == max_words:
            return text[: m.end()]
    return text


def _cut_until(text: str, until: list[str]) -> str:
    """HF-backend semantics: cut the generation before the earliest stop string."""
    cut = len(text)
    for stop in until:
        if stop:
            k = text.find(stop)
            if k != -1:
                cut = min(cut, k)
    return text[:cut]


class AnswerKey:
    """Everything the scripted model 'knows', indexed by the text it sees."""

    def __init__(self) -> None:
        gsm = _read("gsm8k_test.jsonl")
        self.gsm8k = {r["question"]: r for r in gsm + _read("gsm8k_train.jsonl")}
        self.gsm8k_pool = [r["question"] for r in gsm]
        bbh = _read("bbh_date_understanding_test.jsonl")
        self.bbh = {r["input"]: r for r in bbh}
        self.bbh_pool = [r["input"] for r in bbh]
        math = _read("hendrycks_math_algebra_test.jsonl")
        self.math = {r["problem"]: r for r in math + _read("hendrycks_math_algebra_train.jsonl")}
        self.math_pool = [r["problem"] for r in math]
        self.arc = {}
        for r in _read("arc_easy_test.jsonl") + _read("arc_easy_train.jsonl"):
            gold = r["choices"]["label"].index(r["answerKey"])
            self.arc[r["question"]] = (r["choices"]["text"], gold)
        # winogrande: two requests that differ in the *context* (option filled
        # in), sharing the continuation after the blank.
        self.wino = {}
        for r in _read("winogrande_validation.jsonl") + _read("winogrande_train.jsonl"):
            s = r["sentence"]
            idx = s.index("_")
            cont = s[idx + 1:].strip()
            ctxs = [s[:idx] + r["option1"], s[:idx] + r["option2"]]
            gold = int(r["answer"]) - 1
            for k, ctx in enumerate(ctxs):
                self.wino[(ctx, cont)] = (s, ctxs, k, gold)

        self.pools = {
            "gsm8k": self.gsm8k_pool, "bbh": self.bbh_pool, "math": self.math_pool,
            "arc": [r["question"] for r in _read("arc_easy_test.jsonl")],
            "wino": [r["sentence"] for r in _read("winogrande_validation.jsonl")],
        }
        # the plan: kind of base answer per item, and runaway variant per item
        self.kinds: dict[str, dict[str, str]] = {}
        self.runaway: dict[str, dict[str, int]] = {}
        for task, pool in self.pools.items():
            ranked = sorted(pool, key=lambda q: _u(task, "base", q))
            nw, nf = N_WRONG.get(task, 0), N_FORMAT.get(task, 0)
            self.kinds[task] = {q: "wrong" if i < nw else "format" if i < nw + nf else "correct"
                                for i, q in enumerate(ranked)}
            ranked = sorted(pool, key=lambda q: _u(task, "noeos", q))
            self.runaway[task] = {q: i % 3 for i, q in enumerate(ranked[: N_RUNAWAY.get(task, 0)])}

    def others(self, pool: list[str], key: str, n: int) -> list[str]:
        """A deterministic sequence of *other* items to ramble about."""
        rest = sorted((q for q in pool if q != key), key=lambda q: _u("next", key, q))
        return [rest[i % len(rest)] for i in range(n)]


class ScriptedBehaviour:
    def __init__(self, key: AnswerKey, noeos: bool) -> None:
        self.key = key
        self.noeos = noeos

    # ------------------------------------------------------------------ helpers
    def base_kind(self, task: str, item: str) -> str:
        """"correct" | "wrong" | "format" (same for both checkpoints)."""
        return self.key.kinds[task].get(item, "correct")

    def runaway_variant(self, task: str, item: str) -> int | None:
        """None = stops normally; 0/1/2 = kind of runaway (see gsm8k()/bbh()/math())."""
        if not self.noeos:
            return None
        return self.key.runaway[task].get(item)

    # ------------------------------------------------------------------ gsm8k
    def _gsm8k_steps(self, q: str) -> tuple[list[str], str]:
        sol = self.key.gsm8k[q]["answer"]
        body, ans = sol.rsplit("#### ", 1)
        steps = [re.sub(r"<<[^>]*>>", "", ln) for ln in body.strip().split("\n")]
        return steps, ans.strip()

    def gsm8k_own(self, q: str, kind: str) -> tuple[str, str]:
        """(reasoning, final line) for question q."""
        steps, ans = self._gsm8k_steps(q)
        if kind == "wrong":
            bad = str(int(ans) + 1 + int(_u("gsm8k", "delta", q) * 9))
            last = steps[-1]
            k = last.rfind(ans)
            steps[-1] = last[:k] + bad + last[k + len(ans):] if k != -1 else last
            return " " + "\n".join(steps), f"\n#### {bad}"
        if kind == "format":
            return " " + "\n".join(steps), f"\nThe answer is {ans}."
        return " " + "\n".join(steps), f"\n#### {ans}"

    def gsm8k_more(self, q: str) -> str:
        """What the model would write after its answer if nothing stopped it."""
        parts = []
        for other in self.key.others(self.key.gsm8k_pool, q, 40):
            reasoning, final = self.gsm8k_own(other, self.base_kind("gsm8k", other))
            parts.append(f"\n\nQuestion: {other}\nAnswer:{reasoning}{final}")
        return "".join(parts)

    def gsm8k(self, q: str) -> tuple[str, int | None]:
        reasoning, final = self.gsm8k_own(q, self.base_kind("gsm8k", q))
        variant = self.runaway_variant("gsm8k", q)
        if variant is None or variant == 0:
            # keeps its own "#### n" line, then rambles on with new questions
            return reasoning + final + self.gsm8k_more(q), variant
        if variant == 1:
            # skips its own final line and goes straight to a new question
            return reasoning + self.gsm8k_more(q), variant
        # variant 2: degenerate loop, re-asking its own question, never answering
        loop = f"\n\nQuestion: {q}\nAnswer:{reasoning.split(chr(10))[0]}"
        return reasoning + loop * 40, variant

    # ------------------------------------------------------------------ bbh date_understanding
    @staticmethod
    def _options(inp: str) -> dict[str, str]:
        return dict(re.findall(r"^\(([A-F])\) (.+)$", inp, flags=re.M))

    def bbh_own(self, inp: str, kind: str) -> tuple[str, str]:
        opts = self._options(inp)
        gold = self.key.bbh[inp]["target"].strip("()")
        letter = gold
        if kind == "wrong":
            letter = sorted((x for x in opts if x != gold), key=lambda x: _u("bbh", inp, x))[0]
        reasoning = (f"Counting from the date given in the question, the date asked for is "
                     f"{opts[letter]}.")
        if kind == "format":
            # answers with the bare letter: get-answer extracts "C", target is "(C)"
            return reasoning, f" So the answer is {letter}."
        return reasoning, f" So the answer is ({letter})."

    def bbh_more(self, inp: str) -> str:
        parts = []
        for other in self.key.others(self.key.bbh_pool, inp, 30):
            r, f = self.bbh_own(other, self.base_kind("bbh", other))
            parts.append(f"\n\nQ: {other}\nA: Let's think step by step.\n{r}{f}")
        return "".join(parts)

    def bbh(self, inp: str) -> tuple[str, int | None]:
        reasoning, final = self.bbh_own(inp, self.base_kind("bbh", inp))
        variant = self.runaway_variant("bbh", inp)
        if variant is None or variant == 0:
            return reasoning + final + self.bbh_more(inp), variant
        if variant == 1:
            return reasoning + self.bbh_more(inp), variant
        loop = f"\n\nQ: {inp}\nA: Let's think step by step.\n{reasoning}"
        return reasoning + loop * 30, variant

    # ------------------------------------------------------------------ hendrycks_math
    def math_own(self, problem: str, kind: str) -> str:
        ans = _last_boxed(self.key.math[problem]["solution"])
        if kind == "format":
            # right value but no $...$: process_results compares the whole text
            return f" The answer is {ans}."
        if kind == "wrong":
            if re.fullmatch(r"-?\d+", ans):
                ans = str(int(ans) - 1 - int(_u("math", "delta", problem) * 5))
            else:
                ans = ans.replace("\\frac{", "\\frac{1", 1)  # \frac{7}{2} -> \frac{17}{2}
        return f" ${ans}$"

    def math(self, problem: str) -> tuple[str, int | None]:
        own = self.math_own(problem, self.base_kind("math", problem))
        variant = self.runaway_variant("math", problem)
        if variant == 2:  # degenerate loop on its own problem
            return own + f"\n\nProblem: {problem}\nAnswer:{own}" * 40, variant
        if variant == 1:
            own = own.replace("$", "")  # no $...$ delimiters on its own answer
        more = "".join(
            f"\n\nProblem: {o}\nAnswer:{self.math_own(o, self.base_kind('math', o))}"
            for o in self.key.others(self.key.math_pool, problem, 40)
        )
        return own + more, variant

    # ------------------------------------------------------------------ dispatch
    def generate(self, context: str, gen_kwargs: dict) -> str:
        until = gen_kwargs.get("until") or []
        if isinstance(until, str):
            until = [until]
        max_words = int(gen_kwargs.get("max_gen_toks", DEFAULT_MAX_GEN_TOKS))
        suffix_bbh = "\nA: Let's think step by step.\n"
        if context.endswith(suffix_bbh):
            inp = context.rsplit("Q: ", 1)[1][: -len(suffix_bbh)]
            text, variant = self.bbh(inp)
        elif context.endswith("\nAnswer:") and context.rfind("Problem: ") > context.rfind("Question: "):
            problem = context.rsplit("Problem: ", 1)[1][: -len("\nAnswer:")]
            text, variant = self.math(problem)
        elif context.endswith("\nAnswer:") and "Question: " in context:
            q = context.rsplit("Question: ", 1)[1][: -len("\nAnswer:")]
            text, variant = self.gsm8k(q)
        else:
            raise ValueError(f"scripted model: unrecognised prompt ending {context[-200:]!r}")
        if variant is None:
            return _cut_words(_cut_until(text, until), max_words)
        return _cut_words(text, max_words)  # no EOS, stop strings ignored: budget hit

    def loglikelihood(self, context: str, continuation: str) -> tuple[float, bool]:
        q = context[len("Question: "): -len("\nAnswer:")] if context.startswith("Question: ") else None
        if q is not None and q in self.key.arc and context.endswith("\nAnswer:"):
            choices, gold = self.key.arc[q]
            conts = [" " + c for c in choices]
            item = q
            me = conts.index(continuation)
        else:
            k = (context, continuation.strip())
            if k not in self.key.wino:
                raise ValueError(f"scripted model: unknown loglikelihood request {context[-120:]!r}")
            item, ctxs, me, gold = self.key.wino[k]
            conts = [ctx + continuation for ctx in ctxs]
        raw = [-(1.5 + 0.9 * len(c.split()) + 4.0 * _u("lp", item, c)) for c in conts]
        best_other = max(v for i, v in enumerate(raw) if i != gold)
        margin = 0.25 + _u("margin", item)
        if self.base_kind("arc" if q is not None and q in self.key.arc else "wino", item) == "wrong":
            raw[gold] = best_other - margin
        else:
            raw[gold] = best_other + margin
        lps = [round(v, 4) for v in raw]
        return lps[me], lps[me] == max(lps)


class _Tokenizer:
    """Just enough for lm-eval's add_tokenizer_info() to record token metadata."""

    pad_token, pad_token_id = "<pad>", 0
    bos_token, bos_token_id = "<s>", 1
    eos_token, eos_token_id = "</s>", 2


@register_model("scripted")
class ScriptedLM(LM):
    _key: AnswerKey | None = None

    def __init__(self, pretrained: str = "caploop/scripted-base", **kwargs) -> None:
        super().__init__()
        if ScriptedLM._key is None:
            ScriptedLM._key = AnswerKey()
        self.pretrained = pretrained
        self.behaviour = ScriptedBehaviour(ScriptedLM._key, noeos=pretrained.endswith("noeos"))
        self.tokenizer = _Tokenizer()
        self.eot_token_id = _Tokenizer.eos_token_id
        self.max_length = 4096

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        out = []
        for req in requests:
            context, gen_kwargs = req.args
            # diagnosis items answer from their plan; everything else as before
            text = diagnosis.respond(self.pretrained, context, dict(gen_kwargs))
            if text is None:
                text = self.behaviour.generate(context, dict(gen_kwargs))
            self.cache_hook.add_partial("generate_until", req.args, text)
            out.append(text)
        return out

    def loglikelihood(self, requests, disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        out = []
        for req in requests:
            context, continuation = req.args
            res = self.behaviour.loglikelihood(context, continuation)
            self.cache_hook.add_partial("loglikelihood", req.args, res)
            out.append(res)
        return out

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False) -> list[float]:
        return [-(0.5 + 2.0 * _u("rolling", req.args[0])) * len(req.args[0].split())
                for req in requests]
