"""Seeded random datasets and the `sliceline` package's top-k slices on them.

    python peer.py OUT_DIR

Writes, for every case of CASES:
  OUT_DIR/case-<i>.csv     one row per item: f0..f<m-1> (one value per axis), error
  OUT_DIR/case-<i>.json    the parameters (alpha, k, max_l, min_sup) and the
                           package's result: each top slice as {feature: value}
                           (axes it does not use left out), with its score,
                           size, error sum and maximum error, in its order
and OUT_DIR/manifest.json listing the cases. The package's result is first
checked against an exhaustive enumeration of every slice (exit 1 if they
differ), so the peer is known right on these cases. tests/suite/sliceline_peer.rs runs
caploop's lattice on each CSV with the same parameters and compares.

Errors are continuous (uniform, raised in a few planted regions) so that no
two slices tie on score by chance: the package returns every slice tied
with the k-th, caploop exactly k (ties by name), which this comparison does
not exercise.
"""

import itertools
import json
import sys
from pathlib import Path

import numpy as np
import sliceline
from sliceline import Slicefinder

# (seed, items, values per axis, alpha, k, max_l, min_sup)
CASES = [
    (1, 3000, [4, 5, 3, 6, 4], 0.99, 20, 3, 30),
    (2, 2000, [3, 3, 4, 4, 5, 2], 0.995, 25, 3, 20),
    (3, 5000, [6, 6, 6, 6], 0.999, 30, 4, 15),
    (4, 1500, [2, 3, 4, 5, 6, 7, 3], 0.95, 10, 2, 10),
    (5, 4000, [3, 4, 5, 3, 4, 5, 3, 4], 0.998, 40, 4, 12),
]


def make(seed, n, domains):
    rng = np.random.default_rng(seed)
    x = np.stack([rng.integers(0, d, size=n) for d in domains], axis=1)
    err = rng.uniform(0.0, 1.0, size=n) ** 2
    # Planted regions: one pair, one single value, one triple (when there are
    # enough axes), each raising the error of its items.
    boost = np.zeros(n)
    boost += 0.5 * ((x[:, 0] == 1) & (x[:, 1] == 2 % domains[1]))
    boost += 0.2 * (x[:, 2] == 0)
    if len(domains) > 3:
        boost += 0.3 * ((x[:, 1] == 0) & (x[:, 2] == 1) & (x[:, 3] == 1))
    err = np.clip(err + boost * rng.uniform(0.5, 1.0, size=n), 0.0, 1.0)
    values = np.array([[f"v{v}" for v in row] for row in x], dtype=object)
    return values, err


def exhaustive(x, err, alpha, k, max_l, min_sup):
    """Every slice of up to max_l predicates, scored; the top k with score > 0."""
    n, m = x.shape
    mean = err.mean()
    found = []
    for level in range(1, max_l + 1):
        for cols in itertools.combinations(range(m), level):
            for vals in itertools.product(*[sorted(set(x[:, j])) for j in cols]):
                mask = np.all([x[:, j] == v for j, v in zip(cols, vals)], axis=0)
                size = int(mask.sum())
                if size < min_sup or size == 0:
                    continue
                score = alpha * (err[mask].sum() / size / mean - 1) - (1 - alpha) * (n / size - 1)
                if score > 0:
                    found.append((score, {f"f{j}": str(v) for j, v in zip(cols, vals)}))
    found.sort(key=lambda t: -t[0])
    return found[:k]


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for i, (seed, n, domains, alpha, k, max_l, min_sup) in enumerate(CASES):
        x, err = make(seed, n, domains)
        cols = [f"f{j}" for j in range(len(domains))]
        with open(out / f"case-{i}.csv", "w") as f:
            f.write(",".join(cols + ["error"]) + "\n")
            for row, e in zip(x, err):
                f.write(",".join(list(row) + [repr(float(e))]) + "\n")
        sf = Slicefinder(alpha=alpha, k=k, max_l=max_l, min_sup=min_sup, verbose=False)
        sf.fit(x, err)
        # The peer itself is checked against exhaustive enumeration first.
        truth = exhaustive(x, err, alpha, k, max_l, min_sup)
        got = [(st["slice_score"], {c: v for c, v in zip(cols, top) if v is not None})
               for top, st in zip(sf.top_slices_, sf.top_slices_statistics_)]
        if len(truth) != len(got) or any(
            a[1] != b[1] or abs(a[0] - b[0]) > 1e-9 * max(1.0, abs(a[0])) for a, b in zip(truth, got)
        ):
            sys.exit(f"sliceline: case {i}: the package disagrees with exhaustive enumeration")
        slices = []
        for top, st in zip(sf.top_slices_, sf.top_slices_statistics_):
            slices.append(
                {
                    "predicates": {c: v for c, v in zip(cols, top) if v is not None},
                    "score": st["slice_score"],
                    "size": int(st["slice_size"]),
                    "error_sum": st["sum_slice_error"],
                    "max_error": st["max_slice_error"],
                }
            )
        case = {
            "seed": seed,
            "items": n,
            "domains": domains,
            "alpha": alpha,
            "k": k,
            "max_l": max_l,
            "min_sup": min_sup,
            "average_error": sf.average_error_,
            "sliceline_version": sliceline.__version__ if hasattr(sliceline, "__version__") else "0.3.0",
            "slices": slices,
        }
        (out / f"case-{i}.json").write_text(json.dumps(case, indent=1) + "\n")
        manifest.append(f"case-{i}")
        print(f"sliceline: case {i}: {n} items, {len(domains)} axes, {len(slices)} slices (= exhaustive enumeration)")
    (out / "manifest.json").write_text(json.dumps(manifest) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: peer.py OUT_DIR")
    main(sys.argv[1])
