#!/usr/bin/env python3
"""Regenerate the small local datasets in tests/lmeval/data/ (deterministic).

The JSONL files are committed; this script only documents where they came
from and lets a maintainer rebuild them.  Every row uses the *real* document
schema of the corresponding Hugging Face dataset so that lm-eval's task YAMLs
(prompts, targets, process_docs, filters) work on them unchanged:

  gsm8k                      {question, answer}  (answer ends with "#### <n>",
                             calculator annotations <<a*b=c>> like the original)
  bbh date_understanding     {input, target}     (target "(A)".."(F)")
  arc_easy                   {id, question, choices{text,label}, answerKey}
  hendrycks_math (algebra)   {problem, level, type, solution}  (\\boxed{} answer)
  winogrande                 {sentence, option1, option2, answer}  (answer "1"/"2")

and, in data/diagnosis/ (README "Diagnosis cases"; new seeds, the files above
are unchanged), 80-doc test splits of gsm8k and bbh date_understanding and
  mmlu_pro (math)            {question_id, question, options[10], answer,
                             answer_index, cot_content, category, src}
                             (validation rows carry the CoT exemplar answer)

Usage: python tests/lmeval/build_data.py   (stdlib only, no lm-eval needed)
"""

from __future__ import annotations

import datetime as dt
import json
import random
from fractions import Fraction
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def write_jsonl(name: str, rows: list[dict]) -> None:
    path = DATA / name
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path.relative_to(DATA.parent)}: {len(rows)} rows")


# --------------------------------------------------------------------------- gsm8k
NAMES = ["Natalia", "Weng", "Betty", "Julie", "James", "Albert", "Ken", "Alexis",
         "Tina", "Mark", "Rosa", "Omar", "Priya", "Diego", "Hannah", "Leo"]


def _fmt_money(x: int) -> str:
    return f"${x}"


def gsm8k_items(rng: random.Random, n: int = 38) -> list[dict]:
    def t_clips(n):
        a = rng.randrange(20, 90, 2)
        b = a // 2
        c = a + b
        q = (f"{n} sold clips to {a} of the friends in April, and then {n} sold half as many "
             f"clips in May. How many clips did {n} sell altogether in April and May?")
        s = [f"{n} sold {a}/2 = <<{a}/2={b}>>{b} clips in May.",
             f"{n} sold {a}+{b} = <<{a}+{b}={c}>>{c} clips altogether in April and May."]
        return q, s, c

    def t_change(n):
        k = rng.randint(2, 6)
        p = rng.randint(3, 12)
        t = k * p
        bill = 50 if t < 50 else 100
        r = bill - t
        q = (f"{n} buys {k} packs of markers. Each pack costs {_fmt_money(p)}. {n} pays with a "
             f"{_fmt_money(bill)} bill. How much change, in dollars, does {n} get back?")
        s = [f"The markers cost {k}*{p} = $<<{k}*{p}={t}>>{t}.",
             f"{n} gets back {bill}-{t} = $<<{bill}-{t}={r}>>{r} in change."]
        return q, s, r

    def t_cookies(n):
        d = rng.randint(3, 9)
        t = d * 12
        sold = rng.randint(10, t // 2)
        given = rng.randint(2, 9)
        r = t - sold - given
        q = (f"{n} bakes {d} dozen cookies for a school fair. {n} sells {sold} cookies and "
             f"gives {given} cookies to the teachers. How many cookies does {n} have left?")
        s = [f"{d} dozen cookies is {d}*12 = <<{d}*12={t}>>{t} cookies.",
             f"{n} has {t}-{sold}-{given} = <<{t}-{sold}-{given}={r}>>{r} cookies left."]
        return q, s, r

    def t_pages(n):
        p1, d1 = rng.randint(8, 30), rng.randint(3, 7)
        p2, d2 = rng.randint(10, 40), rng.randint(2, 6)
        a, b = p1 * d1, p2 * d2
        c = a + b
        q = (f"{n} reads {p1} pages a day for {d1} days, and then {p2} pages a day for the next "
             f"{d2} days. How many pages did {n} read in total?")
        s = [f"In the first {d1} days {n} read {p1}*{d1} = <<{p1}*{d1}={a}>>{a} pages.",
             f"In the next {d2} days {n} read {p2}*{d2} = <<{p2}*{d2}={b}>>{b} pages.",
             f"{n} read {a}+{b} = <<{a}+{b}={c}>>{c} pages in total."]
        return q, s, c

    def t_train(n):
        v, h, m = rng.randint(40, 80), rng.randint(2, 6), rng.randint(15, 95)
        a = v * h
        c = a + m
        q = (f"{n} drives at {v} miles per hour for {h} hours, and then drives another {m} miles "
             f"in town. How many miles did {n} drive in total?")
        s = [f"On the highway {n} drove {v}*{h} = <<{v}*{h}={a}>>{a} miles.",
             f"In total {n} drove {a}+{m} = <<{a}+{m}={c}>>{c} miles."]
        return q, s, c

    def t_class(n):
        tot = rng.choice([20, 25, 30, 40, 50])
        pct = rng.choice([20, 40, 60, 80])
        g = tot * pct // 100
        b = tot - g
        q = (f"There are {tot} students in {n}'s class. {pct}% of them are girls. "
             f"How many boys are in the class?")
        s = [f"There are {tot}*{pct}/100 = <<{tot}*{pct}/100={g}>>{g} girls.",
             f"So there are {tot}-{g} = <<{tot}-{g}={b}>>{b} boys."]
        return q, s, b

    def t_wage(n):
        w, h, k = rng.randint(12, 30), rng.randint(20, 40), rng.randint(3, 6)
        a = w * h
        c = a * k
        q = (f"{n} earns {_fmt_money(w)} an hour and works {h} hours a week. How much money, "
             f"in dollars, does {n} earn in {k} weeks?")
        s = [f"{n} earns {w}*{h} = $<<{w}*{h}={a}>>{a} a week.",
             f"In {k} weeks {n} earns {a}*{k} = $<<{a}*{k}={c}>>{c}."]
        return q, s, c

    def t_legs(n):
        cows, hens = rng.randint(3, 15), rng.randint(5, 25)
        a, b = cows * 4, hens * 2
        c = a + b
        q = (f"{n}'s farm has {cows} cows and {hens} chickens. How many legs do the animals "
             f"on the farm have in total?")
        s = [f"The cows have {cows}*4 = <<{cows}*4={a}>>{a} legs.",
             f"The chickens have {hens}*2 = <<{hens}*2={b}>>{b} legs.",
             f"Together they have {a}+{b} = <<{a}+{b}={c}>>{c} legs."]
        return q, s, c

    def t_third(n):
        m = rng.randrange(30, 150, 3)
        x = rng.randint(4, 15)
        a = m // 3
        r = m - a - x
        q = (f"{n} has {_fmt_money(m)}. {n} spends a third of it on a book and "
             f"{_fmt_money(x)} on lunch. How much money, in dollars, does {n} have left?")
        s = [f"The book costs {m}/3 = $<<{m}/3={a}>>{a}.",
             f"{n} has {m}-{a}-{x} = $<<{m}-{a}-{x}={r}>>{r} left."]
        return q, s, r

    def t_fence(n):
        ln, wd, c = rng.randint(10, 40), rng.randint(5, 25), rng.randint(3, 9)
        p = 2 * (ln + wd)
        t = p * c
        q = (f"{n}'s garden is a rectangle {ln} feet long and {wd} feet wide. Fencing costs "
             f"{_fmt_money(c)} per foot. How much will it cost, in dollars, to fence the whole garden?")
        s = [f"The perimeter is 2*({ln}+{wd}) = <<2*({ln}+{wd})={p}>>{p} feet.",
             f"The fence costs {p}*{c} = $<<{p}*{c}={t}>>{t}."]
        return q, s, t

    templates = [t_clips, t_change, t_cookies, t_pages, t_train,
                 t_class, t_wage, t_legs, t_third, t_fence]
    rows = []
    for i in range(n):
        tmpl = templates[i % len(templates)]
        name = NAMES[(i * 7) % len(NAMES)]
        q, steps, ans = tmpl(name)
        rows.append({"question": q, "answer": "\n".join(steps) + f"\n#### {ans}"})
    return rows


# --------------------------------------------------------------------------- bbh
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def _mdy(d: dt.date) -> str:
    return d.strftime("%m/%d/%Y")


def _words(d: dt.date) -> str:
    return f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}"


def _shift_years(d: dt.date, k: int) -> dt.date:
    try:
        return d.replace(year=d.year + k)
    except ValueError:  # Feb 29
        return d.replace(year=d.year + k, day=28)


def bbh_items(rng: random.Random, n: int = 25) -> list[dict]:
    def base_date():
        return dt.date(rng.randint(1930, 2030), rng.randint(1, 12), rng.randint(1, 28))

    def days_ago():
        today, n = base_date(), rng.choice([3, 5, 10, 14, 30])
        return f"Today is {_words(today)}. What is the date {n} days ago in MM/DD/YYYY?", today - dt.timedelta(days=n)

    def week_from_today():
        today = base_date()
        return f"Today is {_mdy(today)}. What is the date one week from today in MM/DD/YYYY?", today + dt.timedelta(days=7)

    def year_ago_tomorrow():
        tomorrow = base_date()
        today = tomorrow - dt.timedelta(days=1)
        return (f"Tomorrow is {_mdy(tomorrow)}. What is the date one year ago from today in MM/DD/YYYY?",
                _shift_years(today, -1))

    def yesterday_24h():
        yday = base_date()
        return (f"Yesterday was {_words(yday)}. What is the date 24 hours later in MM/DD/YYYY?",
                yday + dt.timedelta(days=2))

    def birthday():
        born = base_date()
        k = rng.choice([5, 10, 18, 21, 30])
        today = _shift_years(born, k)
        name = rng.choice(["Jane", "Anna", "Maria", "Lena"])
        return (f"{name} was born on {_mdy(born)}. Today is her {k}-year birthday. "
                f"What is the date yesterday in MM/DD/YYYY?", today - dt.timedelta(days=1))

    def delayed():
        sched = base_date()
        today = sched + dt.timedelta(days=1)
        return (f"The concert was scheduled to be on {_mdy(sched)}, but was delayed by one day to today. "
                f"What is the date 10 days ago in MM/DD/YYYY?", today - dt.timedelta(days=10))

    gens = [days_ago, week_from_today, year_ago_tomorrow, yesterday_24h, birthday, delayed]
    rows = []
    for i in range(n):
        text, gold = gens[i % len(gens)]()
        cands = [gold - dt.timedelta(days=1), gold + dt.timedelta(days=1),
                 _shift_years(gold, -1), _shift_years(gold, 1), gold - dt.timedelta(days=7),
                 _shift_years(gold, 10)]
        if gold.day <= 12 and gold.day != gold.month:
            cands.append(dt.date(gold.year, gold.day, gold.month))  # MM/DD swapped
        distractors = []
        for c in cands:
            if c != gold and c not in distractors:
                distractors.append(c)
        n_opts = 5 if i % 3 == 0 else 6
        opts = [gold] + rng.sample(distractors, n_opts - 1)
        rng.shuffle(opts)
        letters = "ABCDEF"
        lines = [f"({letters[j]}) {_mdy(o)}" for j, o in enumerate(opts)]
        rows.append({"input": text + "\nOptions:\n" + "\n".join(lines),
                     "target": f"({letters[opts.index(gold)]})"})
    return rows


# --------------------------------------------------------------------------- arc
ARC = [
    # (question, [choices], answer_index)
    ("Which of these is the best conductor of electricity?", ["a wooden spoon", "a copper wire", "a rubber band", "a plastic cup"], 1),
    ("What do plants need from the air to make their own food?", ["oxygen", "nitrogen", "carbon dioxide", "helium"], 2),
    ("Which planet is closest to the Sun?", ["Mercury", "Venus", "Earth", "Mars"], 0),
    ("A student pushes a toy car across the floor. What force slows the car down?", ["magnetism", "friction", "gravity pulling it sideways", "electricity"], 1),
    ("Which state of matter has a definite volume but no definite shape?", ["solid", "liquid", "gas", "plasma"], 1),
    ("Which body system carries oxygen to the cells of the body?", ["digestive system", "skeletal system", "nervous system", "circulatory system"], 3),
    ("What is the main source of energy for the water cycle?", ["the Moon", "the Sun", "wind", "volcanoes"], 1),
    ("Which of these is a renewable resource?", ["coal", "oil", "natural gas", "sunlight"], 3),
    ("What happens to water when it freezes?", ["It becomes a gas.", "It expands.", "It loses mass.", "It becomes denser."], 1),
    ("Which tool is best for measuring the mass of a rock?", ["a ruler", "a thermometer", "a balance", "a graduated cylinder"], 2),
    ("Why does the Moon appear to change shape during a month?", ["Clouds cover parts of it.", "Earth's shadow covers it every night.", "Different amounts of its lit side face Earth.", "It changes size."], 2),
    ("Which animal is a mammal?", ["a shark", "a whale", "a frog", "a penguin"], 1),
    ("A ball is dropped from a table. Which force makes it fall to the floor?", ["gravity", "friction", "magnetism", "air pressure"], 0),
    ("Which part of a plant takes in water from the soil?", ["the leaves", "the flower", "the roots", "the seeds"], 2),
    ("What is formed when rocks are broken down into small pieces by wind and water?", ["magma", "sediment", "fossils", "crystals"], 1),
    ("Which of these changes is a chemical change?", ["ice melting", "paper being cut", "wood burning", "salt dissolving in water"], 2),
    ("What causes day and night on Earth?", ["Earth revolving around the Sun", "Earth rotating on its axis", "the Moon orbiting Earth", "the tilt of the Sun"], 1),
    ("Which organ pumps blood through the body?", ["the heart", "the lungs", "the stomach", "the brain"], 0),
    ("A magnet will attract which of these objects?", ["a glass marble", "an iron nail", "a paper clip made of plastic", "a copper coin"], 1),
    ("Which layer of Earth do people live on?", ["the inner core", "the outer core", "the mantle", "the crust"], 3),
    ("What is the boiling point of pure water at sea level?", ["0 degrees Celsius", "50 degrees Celsius", "100 degrees Celsius", "212 degrees Celsius"], 2),
    # items with numeric labels, 3 and 5 choices (these shapes occur in the real ARC-Easy test split)
    ("Which gas do humans breathe out that plants use?", ["carbon dioxide", "oxygen", "hydrogen"], 0),
    ("Which of these is an example of an insulator?", ["aluminum foil", "a steel spoon", "a wool blanket", "a copper pot", "an iron pan"], 2),
    ("Which adaptation helps a cactus survive in the desert?", ["broad flat leaves", "a thick stem that stores water", "shallow roots that avoid water", "bright flowers all year"], 1),
    ("Which is the smallest unit of life?", ["an organ", "a tissue", "a cell", "an organism"], 2),
]
ARC_TRAIN = [
    ("Which of these is a source of light?", ["a mirror", "the Sun", "the Moon", "a window"], 1),
    ("What do animals need to survive?", ["sand", "food and water", "rocks", "metal"], 1),
    ("Which sense do people use to hear sounds?", ["sight", "touch", "hearing", "smell"], 2),
    ("Which object is attracted to a magnet?", ["a steel paper clip", "a rubber eraser", "a wooden block", "a glass bead"], 0),
    ("Where does a plant make most of its food?", ["the roots", "the stem", "the leaves", "the seeds"], 2),
]


def arc_rows(items, prefix, numeric_from=None):
    rows = []
    for i, (q, choices, gold) in enumerate(items):
        numeric = numeric_from is not None and i >= numeric_from and i % 2 == 1
        labels = [str(k + 1) for k in range(len(choices))] if numeric else list("ABCDE"[: len(choices)])
        rows.append({"id": f"{prefix}_{i:03d}", "question": q,
                     "choices": {"text": choices, "label": labels},
                     "answerKey": labels[gold]})
    return rows


# --------------------------------------------------------------------------- hendrycks_math
def _latex_frac(f: Fraction) -> str:
    if f.denominator == 1:
        return str(f.numerator)
    sign = "-" if f < 0 else ""
    return f"{sign}\\frac{{{abs(f.numerator)}}}{{{f.denominator}}}"


def math_items(rng: random.Random) -> list[dict]:
    def linear():
        a, x, b = rng.randint(2, 9), rng.randint(-6, 12), rng.randint(1, 20)
        c = a * x + b
        return (f"Solve for $x$: ${a}x + {b} = {c}$.",
                f"Subtracting {b} from both sides gives ${a}x = {c - b}$, so $x = \\boxed{{{x}}}$.",
                "Level 1")

    def two_sided():
        a, c = rng.randint(5, 9), rng.randint(1, 4)
        b, d = rng.randint(1, 15), rng.randint(1, 15)
        x = Fraction(d + b, a - c)
        cx = "x" if c == 1 else f"{c}x"
        return (f"What is the value of $x$ if ${a}x - {b} = {cx} + {d}$?",
                f"Collecting terms gives ${a - c}x = {d + b}$, so $x = \\boxed{{{_latex_frac(x)}}}$."
                if a - c != 1 else f"Collecting terms gives $x = \\boxed{{{d + b}}}$.",
                "Level 2")

    def evaluate():
        a, b, c, k = rng.randint(2, 5), rng.randint(2, 9), rng.randint(1, 9), rng.randint(-3, 4)
        v = a * k * k + b * k - c
        return (f"If $f(x) = {a}x^2 + {b}x - {c}$, what is the value of $f({k})$?",
                f"We have $f({k}) = {a}({k})^2 + {b}({k}) - {c} = {a * k * k} + ({b * k}) - {c} = \\boxed{{{v}}}$.",
                "Level 2")

    def roots_sum():
        r1, r2 = rng.randint(1, 9), rng.randint(1, 9)
        s, p = r1 + r2, r1 * r2
        return (f"What is the sum of the roots of the equation $x^2 - {s}x + {p} = 0$?",
                f"By Vieta's formulas the sum of the roots is $\\boxed{{{s}}}$.",
                "Level 3")

    def slope():
        x1, y1 = rng.randint(-5, 5), rng.randint(-5, 5)
        x2, y2 = x1 + rng.randint(1, 6), y1 + rng.randint(-7, 7)
        m = Fraction(y2 - y1, x2 - x1)
        return (f"What is the slope of the line passing through $({x1},{y1})$ and $({x2},{y2})$? "
                f"Express your answer as a common fraction if necessary.",
                f"The slope is $\\frac{{{y2} - ({y1})}}{{{x2} - ({x1})}} = \\boxed{{{_latex_frac(m)}}}$.",
                "Level 4")

    gens = [linear, two_sided, evaluate, roots_sum, slope]
    rows = []
    for i in range(23):
        problem, solution, level = gens[i % len(gens)]()
        rows.append({"problem": problem, "level": level, "type": "Algebra", "solution": solution})
    return rows


# --------------------------------------------------------------------------- winogrande
WINO = [
    ("The trophy doesn't fit into the brown suitcase because the _ is too large.", "trophy", "suitcase", "1"),
    ("The trophy doesn't fit into the brown suitcase because the _ is too small.", "trophy", "suitcase", "2"),
    ("Sarah lent her umbrella to Emily because _ was going out in the rain.", "Sarah", "Emily", "2"),
    ("The bottle would not fit in the bag because the _ was too narrow.", "bottle", "bag", "2"),
    ("Kevin was better at chess than Brian, so _ usually won their games.", "Kevin", "Brian", "1"),
    ("The ice melted faster on the plate than in the glass because the _ was in the sun.", "plate", "glass", "1"),
    ("Maria asked Olivia for help with math because _ had failed the last test.", "Maria", "Olivia", "1"),
    ("The dog chased the cat up the tree, and the _ barked at it for an hour.", "dog", "cat", "1"),
    ("John poured water from the jug into the cup until the _ was empty.", "jug", "cup", "1"),
    ("John poured water from the jug into the cup until the _ was full.", "jug", "cup", "2"),
    ("The lamp was brighter than the candle because the _ used electricity.", "lamp", "candle", "1"),
    ("Rachel had more free time than Monica, so _ volunteered to plan the party.", "Rachel", "Monica", "1"),
    ("The shoes hurt more than the sandals because the _ were too tight.", "shoes", "sandals", "1"),
    ("Adam could not lift the box onto the shelf because the _ was too heavy.", "box", "shelf", "1"),
    ("Adam could not put the box on the shelf because the _ was too high.", "box", "shelf", "2"),
    ("The soup was colder than the tea because the _ had been left on the counter.", "soup", "tea", "1"),
    ("Jessica gave her old bike to Amy because _ had outgrown it.", "Jessica", "Amy", "1"),
    ("The fish swam away from the net because the _ was moving toward it.", "fish", "net", "2"),
    ("Carlos studied harder than Ben, so _ was less nervous before the exam.", "Carlos", "Ben", "1"),
    ("The car was faster than the bicycle because the _ had an engine.", "car", "bicycle", "1"),
    ("Linda watered the plant more than the cactus because the _ needed more water.", "plant", "cactus", "1"),
    ("The book was easier to read than the article because the _ used simpler words.", "book", "article", "1"),
    ("Megan laughed at Paula's joke because _ thought it was very funny.", "Megan", "Paula", "1"),
    ("The window broke when the ball hit it because the _ was made of thin glass.", "window", "ball", "1"),
]
WINO_TRAIN = [
    ("Ian volunteered to eat Dennis's menudo after already having a bowl because _ despised eating intestine.", "Ian", "Dennis", "2"),
    ("The paint on the wall dried faster than on the door because the _ was in the sun.", "wall", "door", "1"),
    ("Emma helped Chloe move because _ had a big truck.", "Emma", "Chloe", "1"),
    ("The cup held less than the bowl because the _ was smaller.", "cup", "bowl", "1"),
]


def wino_rows(items):
    return [{"sentence": s, "option1": o1, "option2": o2, "answer": a} for s, o1, o2, a in items]


# --------------------------------------------------------------------------- mmlu_pro (math)
LETTERS10 = "ABCDEFGHIJ"


def mmlu_pro_math_items(rng: random.Random, n: int, first_id: int, with_cot: bool) -> list[dict]:
    """TIGER-Lab/MMLU-Pro rows of category "math": 10 options, letter answer.

    The real test split has cot_content ""; the validation split (the 5-shot
    exemplars) has "A: Let's think step by step. ... The answer is (X)."
    """
    def product():
        a, b = rng.randint(12, 49), rng.randint(11, 29)
        return f"What is the value of {a} * {b}?", f"{a} * {b} = {a * b}.", a * b

    def linear():
        a, x, b = rng.randint(2, 9), rng.randint(3, 40), rng.randint(5, 60)
        return (f"Find x if {a}x + {b} = {a * x + b}.",
                f"Subtracting {b} gives {a}x = {a * x}, so x = {x}.", x)

    def percent():
        p, q = rng.choice([10, 15, 20, 25, 30, 40, 60, 75]), rng.randrange(40, 400, 20)
        return f"What is {p}% of {q}?", f"{p}/100 * {q} = {p * q // 100}.", p * q // 100

    def remainder():
        a, b = rng.randint(100, 999), rng.randint(6, 19)
        return (f"What is the remainder when {a} is divided by {b}?",
                f"{a} = {b} * {a // b} + {a % b}, so the remainder is {a % b}.", a % b)

    def sum_diff():
        a, b, c = rng.randint(100, 900), rng.randint(100, 900), rng.randint(10, 99)
        return f"What is {a} + {b} - {c}?", f"{a} + {b} = {a + b} and {a + b} - {c} = {a + b - c}.", a + b - c

    gens = [product, linear, percent, remainder, sum_diff]
    rows = []
    for i in range(n):
        question, steps, gold = gens[i % len(gens)]()
        values = {gold}
        while len(values) < 10:
            values.add(gold + rng.choice([-1, 1]) * rng.randint(1, max(12, abs(gold) // 4)))
        opts = sorted(values)
        rng.shuffle(opts)
        k = opts.index(gold)
        rows.append({
            "question_id": first_id + i,
            "question": question,
            "options": [str(o) for o in opts],
            "answer": LETTERS10[k],
            "answer_index": k,
            "cot_content": (f"A: Let's think step by step. {steps} The answer is ({LETTERS10[k]})."
                            if with_cot else ""),
            "category": "math",
            "src": "caploop-local-math",
        })
    return rows


def diagnosis_data() -> None:
    """data/diagnosis/: the larger test splits of the diagnosis cases (README "Diagnosis cases").

    New seeds, so the files above are unaffected; no item repeats one of the
    main fixture set (the scripted model identifies items by their text).
    """
    (DATA / "diagnosis").mkdir(exist_ok=True)
    main_gsm = {r["question"] for r in gsm8k_items(random.Random(8))}
    gsm = [r for r in gsm8k_items(random.Random(2606), n=90) if r["question"] not in main_gsm]
    seen = set()
    gsm = [r for r in gsm if not (r["question"] in seen or seen.add(r["question"]))][:80]
    assert len(gsm) == 80
    write_jsonl("diagnosis/gsm8k_test.jsonl", gsm)
    main_bbh = {r["input"] for r in bbh_items(random.Random(1937))}
    bbh = [r for r in bbh_items(random.Random(2847), n=90) if r["input"] not in main_bbh]
    seen = set()
    bbh = [r for r in bbh if not (r["input"] in seen or seen.add(r["input"]))][:80]
    assert len(bbh) == 80
    write_jsonl("diagnosis/bbh_date_understanding_test.jsonl", bbh)
    rng = random.Random(28471)
    val = mmlu_pro_math_items(rng, 5, 70000, with_cot=True)
    test = mmlu_pro_math_items(rng, 90, 71000, with_cot=False)
    seen = {r["question"] for r in val}
    test = [r for r in test if not (r["question"] in seen or seen.add(r["question"]))][:80]
    assert len(test) == 80
    write_jsonl("diagnosis/mmlu_pro_math_validation.jsonl", val)
    write_jsonl("diagnosis/mmlu_pro_math_test.jsonl", test)


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    gsm = gsm8k_items(random.Random(8))
    write_jsonl("gsm8k_train.jsonl", gsm[:8])
    write_jsonl("gsm8k_test.jsonl", gsm[8:])
    write_jsonl("bbh_date_understanding_test.jsonl", bbh_items(random.Random(1937)))
    write_jsonl("arc_easy_train.jsonl", arc_rows(ARC_TRAIN, "Local-Train"))
    write_jsonl("arc_easy_test.jsonl", arc_rows(ARC, "Local-Test", numeric_from=20))
    m = math_items(random.Random(5))
    write_jsonl("hendrycks_math_algebra_train.jsonl", m[:3])
    write_jsonl("hendrycks_math_algebra_test.jsonl", m[3:])
    write_jsonl("winogrande_train.jsonl", wino_rows(WINO_TRAIN))
    write_jsonl("winogrande_validation.jsonl", wino_rows(WINO))
    diagnosis_data()


if __name__ == "__main__":
    main()
