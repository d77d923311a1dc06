#!/usr/bin/env python3
"""The selection of `caploop apply`, as a PySpark job (generated; do not edit).

    python select.py --corpus FILE... --out OUT      (local mode unless a master is set)
    spark-submit select.py --corpus FILE... --out OUT

Reads Parquet or JSONL manifests (doc_id, tokens, category, labels) and writes
OUT as Parquet with the columns of caploop's selection.parquet. Every decision
compares a 53-bit Spark xxhash64 of (salt, doc_id, slot) with an integer
threshold computed by caploop, so the (doc_id, copies) set is the one caploop
selects. The hash check vectors run first; the job stops if one fails.
"""
import os
import sys

# This file is named select.py: keep its folder off the import path so that
# the standard library's `select` module (used by sockets) is found.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402

PARAMS = json.loads(r'''__PARAMS__''')

H_MASK = (1 << 53) - 1


def signed(x):
    return x - (1 << 64) if x >= 1 << 63 else x


def self_test(spark, F):
    # FORMATS.md section 9, and a hash caploop computed for this salt.
    row = spark.sql(
        "SELECT xxhash64('Spark', array(123), 2) AS a, xxhash64('hello') AS b, "
        "xxhash64('') AS c, xxhash64('abc') AS d"
    ).first()
    want = [5602566077635097486, signed(0xC3629E6318D53932),
            signed(0x98B1582B0977E704), signed(0x13C1D910702770E6)]
    got = [row.a, row.b, row.c, row.d]
    if got != want:
        sys.exit(f"xxhash64 check vectors failed: got {got}, want {want}")
    df = spark.createDataFrame([(PARAMS["check_doc"],)], "doc_id string").withColumn("_salt", F.lit(PARAMS["salt"]))
    got = [df.select(h53(F, s)).first()[0] for s in range(len(PARAMS["check_h53"]))]
    if got != PARAMS["check_h53"]:
        sys.exit(f"salted hash check failed: got {got}, want {PARAMS['check_h53']}")


def h53(F, s):
    return F.expr(f"shiftrightunsigned(xxhash64(_salt, doc_id, CAST({int(s)} AS INT)), 11)")


def read(spark, F, T, files):
    label = PARAMS["label_column"]
    frames = []
    for path in files:
        if path.endswith((".jsonl", ".json", ".ndjson")):
            fields = [T.StructField("doc_id", T.StringType()), T.StructField("tokens", T.LongType()),
                      T.StructField("category", T.StringType())]
            if label:
                fields.append(T.StructField(label, T.ArrayType(T.StringType())))
            df = spark.read.schema(T.StructType(fields)).json(path)
        else:
            df = spark.read.parquet(path)
        cols = [F.col("doc_id").cast("string"), F.col("tokens").cast("long"), F.col("category").cast("string")]
        cols.append(F.col(label).alias("_labels") if label else F.lit(None).cast("array<string>").alias("_labels"))
        frames.append(df.select(*cols))
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    from pyspark import SparkConf
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    builder = SparkSession.builder.appName("caploop-select").config("spark.ui.showConsoleProgress", "false")
    if not SparkConf().contains("spark.master"):
        builder = builder.master("local[*]")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    self_test(spark, F)

    df = read(spark, F, T, args.corpus).withColumn("_salt", F.lit(PARAMS["salt"]))
    cats = PARAMS["categories"]
    if not cats:
        sys.exit("the plan has no categories")
    cat_map = F.create_map(*[x for i, c in enumerate(cats) for x in (F.lit(c), F.lit(i))])
    df = df.withColumn("_cat", F.element_at(cat_map, F.col("category"))).filter(F.col("_cat").isNotNull())
    conds = []
    for i, f in enumerate(PARAMS["features"]):
        c = None
        for lab in f["labels"]:
            t = F.array_contains(F.col("_labels"), F.lit(lab))
            c = t if c is None else (c & t)
        conds.append(F.when(c, F.lit(i)))
    df = df.withColumn("_feat", F.coalesce(*conds, F.lit(-1)) if conds else F.lit(-1))

    rules = spark.createDataFrame(
        [(r["cat"], r["feat"], r["pass"], r["h_max"], r["bid"], r["s"], r["t"], r["bslot"], float(r["w"]), r["fname"])
         for r in PARAMS["rules"]],
        "_cat int, _feat int, _pass int, _hmax long, _bid string, _s long, _t long, _bslot int, _w double, feature string",
    )
    df = df.join(F.broadcast(rules), ["_cat", "_feat"], "inner")

    doc = F.col("doc_id")
    bid = F.col("_bid")
    m_kept, m_keys = [], []
    for s in range(PARAMS["d_max"]):
        h = h53(F, s)
        kept = (h >= F.col("_s")) | ((h >= F.col("_t")) & ((doc < bid) | ((doc == bid) & (F.lit(s) <= F.col("_bslot")))))
        m_kept.append(kept.cast("int"))
        u = (h.cast("double") + F.lit(0.5)) / F.lit(float(1 << 53))
        m_keys.append(F.when(kept, -F.log(u) / F.col("_w")))
    c_kept = []
    for s in range(PARAMS["cover_slots"]):
        h = h53(F, s)
        kept = (F.lit(s) < F.col("_pass")) | ((F.lit(s) == F.col("_pass")) & (
            (h < F.col("_hmax")) | ((h == F.col("_hmax")) & (doc <= bid))))
        c_kept.append(kept.cast("int"))
    def total(xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out
    is_match = F.col("_feat") >= 0
    copies = F.when(is_match, total(m_kept)).otherwise(total(c_kept))
    u0 = (h53(F, 0).cast("double") + F.lit(0.5)) / F.lit(float(1 << 53))
    key = F.when(is_match, F.least(*m_keys) if len(m_keys) > 1 else m_keys[0]).otherwise(u0)
    out = (df.withColumn("copies", copies.cast("int"))
             .filter(F.col("copies") > 0)
             .select("doc_id", "copies", "category", "feature", key.alias("key"), "tokens"))
    out.write.mode("overwrite").parquet(args.out)
    spark.stop()


if __name__ == "__main__":
    main()
