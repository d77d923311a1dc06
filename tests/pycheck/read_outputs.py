"""Every Parquet file caploop wrote must open in pyarrow and pandas.

    python tests/pycheck/read_outputs.py OUT_DIR

Opens every `*.parquet` under OUT_DIR (recursively) with
pyarrow.parquet.read_table and pandas.read_parquet and checks:

- no column has an Arrow view type (string_view, binary_view, list_view) inside
  a list: pandas cannot convert those ("Not implemented type for Arrow list to
  pandas: string_view"); a top-level view column fails only if pandas cannot
  convert it;
- pandas.read_parquet succeeds;
- `samples.parquet` (the canonical sample table): its row count equals the
  rows caploop reported (the sum of files[].rows in the ingest.json beside
  it: `ingest.json` in the same folder, or `<name>.ingest.json`); it has every
  canonical base column (src/table/columns.rs BASE); every other column (the
  tag axes and `tag_rules`) is a list of str in pandas; `score` is a float
  column with values in [0, 1] or NaN;
- any other Parquet file: at least one row.

Exit 0 when every file passes, 1 when one fails (each problem printed as
`FAIL <file>: ...`), 2 on bad usage. Needs pyarrow and pandas only.
"""
import json
import math
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# src/table/columns.rs BASE, for when the script runs outside the repository.
BASE_FALLBACK = [
    "run", "benchmark", "task", "filter", "primary_filter", "item_id", "sample_idx", "prompt",
    "target", "response", "extracted", "score", "correct", "finish_reason", "response_tokens",
    "response_chars", "meta", "prompt_hash", "task_version", "n_shot", "max_gen_toks", "source",
]


def base_columns():
    """BASE from src/table/columns.rs when the file is there (so the check
    follows the code), else the copy above; and where it came from."""
    path = os.path.join(REPO, "src", "table", "columns.rs")
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return BASE_FALLBACK, "built-in list (src/table/columns.rs not found)"
    consts = dict(re.findall(r'pub const (\w+): &str = "([^"]*)";', text))
    m = re.search(r"pub const BASE: \[&str; \d+\] = \[(.*?)\];", text, re.S)
    if not m:
        return BASE_FALLBACK, f"built-in list (no BASE in {path})"
    names = [n.strip() for n in m.group(1).split(",") if n.strip()]
    if not names or any(n not in consts for n in names):
        return BASE_FALLBACK, f"built-in list (could not resolve BASE in {path})"
    return [consts[n] for n in names], os.path.relpath(path, REPO)


class Problems:
    def __init__(self):
        self.items = []

    def add(self, path, msg):
        self.items.append((path, msg))
        print(f"FAIL {path}: {msg}", flush=True)


def view_types(t, pa):
    """Names of the view types anywhere in an Arrow type, and whether one sits inside a list."""
    found, nested = [], False
    def walk(t, inside):
        nonlocal nested
        if pa.types.is_string_view(t) or pa.types.is_binary_view(t):
            found.append(str(t))
            nested = nested or inside
            return
        if hasattr(pa.types, "is_list_view") and (pa.types.is_list_view(t) or pa.types.is_large_list_view(t)):
            found.append(str(t))
            nested = nested or inside
            walk(t.value_type, True)
            return
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            walk(t.value_type, True)
        elif pa.types.is_struct(t):
            for i in range(t.num_fields):
                walk(t.field(i).type, inside)
        elif pa.types.is_map(t):
            walk(t.key_type, True)
            walk(t.item_type, True)
    walk(t, False)
    return found, nested


def ingest_rows(path):
    """Rows caploop reported for the sample table at `path`, and the report file."""
    folder = os.path.dirname(path)
    stem = os.path.splitext(path)[0]
    for cand in (stem + ".ingest.json", os.path.join(folder, "ingest.json")):
        if os.path.isfile(cand):
            with open(cand, encoding="utf-8") as f:
                report = json.load(f)
            files = report.get("files")
            if not isinstance(files, list):
                raise ValueError(f"{cand}: no `files` list")
            return sum(int(f["rows"]) for f in files), cand
    return None, f"{stem}.ingest.json or {os.path.join(folder, 'ingest.json')}"


def is_str_list(v):
    if v is None:
        return False
    if isinstance(v, (str, bytes)):
        return False
    try:
        return all(isinstance(x, str) for x in v)
    except TypeError:
        return False


def check_samples(path, table, df, problems, base, pa, pd):
    """The sample table's checks; `df` is None when pandas could not read it
    (then what pyarrow alone can check is still checked)."""
    rows, report = ingest_rows(path)
    if rows is None:
        problems.add(path, f"no ingest report to check the row count against (looked for {report})")
    elif table.num_rows != rows or (df is not None and len(df) != rows):
        got = f"{table.num_rows} rows in pyarrow" + ("" if df is None else f", {len(df)} in pandas")
        problems.add(path, f"{got}, but {report} reports {rows} rows (sum of files[].rows)")
    names = table.schema.names
    missing = [c for c in base if c not in names]
    if missing:
        problems.add(path, f"missing canonical column(s): {', '.join(missing)}")
    extra = [c for c in names if c not in base]
    for c in extra:
        t = table.schema.field(c).type
        is_list = pa.types.is_list(t) or pa.types.is_large_list(t)
        if not is_list or not (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)
                               or pa.types.is_string_view(t.value_type)):
            problems.add(path, f"tag column '{c}' has Arrow type {t}; expected a list of strings")
            continue
        if df is None:
            continue
        bad = next((i for i, v in enumerate(df[c]) if not is_str_list(v)), None)
        if bad is not None:
            v = df[c].iloc[bad]
            problems.add(path, f"tag column '{c}' in pandas: row {bad} is {type(v).__name__} {v!r}, not a list of str")
    if "score" in names:
        t = table.schema.field("score").type
        if df is not None and not pd.api.types.is_float_dtype(df["score"].dtype):
            problems.add(path, f"score has pandas dtype {df['score'].dtype}; expected float")
        elif not pa.types.is_floating(t):
            problems.add(path, f"score has Arrow type {t}; expected float")
        else:
            values = table.column("score").to_pylist()
            bad = [(i, x) for i, x in enumerate(values)
                   if x is not None and not (math.isnan(x) or 0.0 <= x <= 1.0)]
            if bad:
                problems.add(path, f"score outside [0, 1] in {len(bad)} rows, first row {bad[0][0]}: {bad[0][1]}")
    tags = f"{len(extra)} tag columns ({', '.join(extra)})" if extra else "no tag columns"
    return f"{table.num_rows} rows (= ingest report), {len(base)} canonical columns, {tags}, score in [0, 1]"


def check_file(path, problems, base, pa, pq, pd):
    before = len(problems.items)
    try:
        table = pq.read_table(path)
    except Exception as e:  # noqa: BLE001 (any reader error is the finding)
        problems.add(path, f"pyarrow.parquet.read_table failed: {type(e).__name__}: {e}")
        return
    for field in table.schema:
        found, nested = view_types(field.type, pa)
        if not found:
            continue
        if nested:
            problems.add(path, f"column '{field.name}' has Arrow type {field.type}: a view type "
                               f"({', '.join(found)}) inside a list, which pandas cannot convert; "
                               "write string / large_string (and list<large_string>) instead")
        else:
            try:
                table.select([field.name]).to_pandas()
            except Exception as e:  # noqa: BLE001
                problems.add(path, f"column '{field.name}' has Arrow type {field.type}, which pandas "
                                   f"cannot convert: {type(e).__name__}: {e}")
    try:
        df = pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001
        problems.add(path, f"pandas.read_parquet failed: {type(e).__name__}: {e}")
        df = None
    if os.path.basename(path) == "samples.parquet":
        what = check_samples(path, table, df, problems, base, pa, pd)
    else:
        if table.num_rows == 0:
            problems.add(path, "no rows")
        what = f"{table.num_rows} rows, {table.num_columns} columns"
    if len(problems.items) == before:
        print(f"ok   {path}: {what}", flush=True)


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    if not os.path.isdir(out):
        print(f"error: {out} is not a folder", file=sys.stderr)
        return 2
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    base, source = base_columns()
    print(f"read_outputs: pandas {pd.__version__}, pyarrow {pa.__version__}; canonical columns from {source}")
    files = sorted(
        os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs if f.endswith(".parquet")
    )
    problems = Problems()
    if not files:
        problems.add(out, "no *.parquet files under this folder")
    for f in files:
        check_file(f, problems, base, pa, pq, pd)
    if problems.items:
        n = len({p for p, _ in problems.items})
        print(f"read_outputs: {len(problems.items)} problem(s) in {n} of {len(files)} Parquet file(s) under {out}",
              file=sys.stderr)
        return 1
    print(f"read_outputs: all {len(files)} Parquet file(s) under {out} read in pyarrow and pandas")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
