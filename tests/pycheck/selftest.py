"""Self-test of read_outputs.py on Parquet files written by pyarrow itself.

    python tests/pycheck/selftest.py

- a well-formed sample table (canonical columns, list<string> tag columns,
  ingest.json beside it) plus another non-empty Parquet file: must pass;
- the same table with its tag columns as list<string_view> (what polars
  writes): must fail, naming the column and the view type;
- a wrong row count, a score of 1.5 and an empty extra file: must fail, each
  with its message.
Exit 0 when read_outputs.py behaves so, 1 otherwise.
"""
import json
import os
import subprocess
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import read_outputs  # noqa: E402

N = 6


def table(view=False, score=None):
    base, _ = read_outputs.base_columns()
    cols = {}
    for c in base:
        if c in ("primary_filter", "correct"):
            cols[c] = pa.array([True] * N)
        elif c == "score":
            cols[c] = pa.array(score or [1.0, 0.0, 0.5, float("nan"), 1.0, 0.0], pa.float64())
        elif c in ("sample_idx", "response_tokens", "response_chars", "n_shot", "max_gen_toks"):
            cols[c] = pa.array([0] * N, pa.uint32())
        else:
            cols[c] = pa.array([f"{c}-{i}" for i in range(N)], pa.large_string())
    item = pa.string_view() if view else pa.large_string()
    for axis in ("operation", "tag_rules"):
        cols[axis] = pa.array([["a", "b"], [], ["unknown"], ["c"], ["a"], ["b"]], pa.large_list(item))
    return pa.table(cols)


def write_case(root, name, t, rows=N, extra=None):
    d = os.path.join(root, name)
    os.makedirs(d)
    pq.write_table(t, os.path.join(d, "samples.parquet"))
    with open(os.path.join(d, "ingest.json"), "w") as f:
        json.dump({"files": [{"path": "x", "format": "generic", "run": "a", "task": "t", "rows": rows}],
                   "skipped": [], "ignored": [], "warnings": []}, f)
    if extra is not None:
        os.makedirs(os.path.join(d, "more"))
        pq.write_table(extra, os.path.join(d, "more", "other.parquet"))
    return d


def run(d):
    p = subprocess.run([sys.executable, os.path.join(HERE, "read_outputs.py"), d], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    failures = []
    with tempfile.TemporaryDirectory() as root:
        cases = [
            ("good", write_case(root, "good", table(), extra=pa.table({"x": [1, 2]})), 0, ["all 2 Parquet"]),
            ("string_view", write_case(root, "view", table(view=True)), 1,
             ["column 'operation'", "string_view", "inside a list"]),
            ("row count", write_case(root, "rows", table(), rows=N + 1), 1, ["reports 7 rows"]),
            ("score", write_case(root, "score", table(score=[1.5, 0, 0, 0, 0, 0])), 1, ["score outside [0, 1]"]),
            ("empty extra", write_case(root, "empty", table(), extra=pa.table({"x": pa.array([], pa.int64())})), 1,
             ["other.parquet: no rows"]),
        ]
        for name, d, want_rc, want_text in cases:
            rc, text = run(d)
            missing = [w for w in want_text if w not in text]
            if rc != want_rc or missing:
                failures.append(f"{name}: exit {rc} (want {want_rc}), missing {missing} in:\n{text}")
            else:
                print(f"selftest ok: {name} (exit {rc})")
    for f in failures:
        print("SELFTEST FAIL " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
