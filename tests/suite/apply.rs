//! `caploop apply`: the streaming selection equals a brute-force reference,
//! budgets / epoch caps / d_max hold, outputs are byte-identical, the hashes
//! are Spark's, the paper mapping and patch requests, located errors, and
//! (with CAPLOOP_PYSPARK set, see .ci/spark.sh) the emitted Spark job selects
//! the identical (doc_id, copies) set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use caploop::apply::hash;
use caploop::apply::{self, ApplyOptions};
use proptest::prelude::*;

struct Doc {
    id: String,
    tokens: u64,
    cat: String,
    labels: Vec<String>,
}

/// A plan.json with these (category, share) and weak features (labels, order, weak).
fn write_plan(
    dir: &Path,
    cats: &[(String, f64)],
    feats: &[(Vec<&str>, u32, f64)],
    max_epochs: f64,
) -> PathBuf {
    let mut v = serde_json::json!({
        "schema_version": 1,
        "settings": {"max_epochs": max_epochs},
        "mixture": {"budget_tokens": 1.0e6, "categories":
            cats.iter().map(|(c, s)| serde_json::json!({"category": c, "new_share": s, "base_share": s})).collect::<Vec<_>>()},
    });
    if !feats.is_empty() {
        v["weakness"] = serde_json::json!({
            "axis": "operation",
            "constants": {"kappa": 50, "rho": 1.0, "d_max": 2},
            "features": feats.iter().map(|(l, o, w)| serde_json::json!({"labels": l, "order": o, "weak": w, "n": 40, "q_value": 0.01})).collect::<Vec<_>>(),
        });
    }
    let p = dir.join("plan.json");
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    p
}

fn write_jsonl(path: &Path, docs: &[Doc], column: &str) {
    let mut s = String::new();
    for d in docs {
        s.push_str(
            &serde_json::json!({"doc_id": d.id, "tokens": d.tokens, "category": d.cat, column: d.labels})
                .to_string(),
        );
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

fn read_ids(dir: &Path) -> BTreeMap<String, u32> {
    std::fs::read_to_string(dir.join("ids.tsv"))
        .unwrap()
        .lines()
        .map(|l| {
            let (a, b) = l.split_once('\t').unwrap();
            (a.to_string(), b.parse().unwrap())
        })
        .collect()
}

/// Independent reference: every slot of every document materialised, each
/// pool sorted by (key, doc_id, slot), the shortest prefix reaching the
/// target kept (PAPER.md section 5; DESIGN section 8).
#[allow(clippy::too_many_arguments)]
fn reference(
    docs: &[Doc],
    cats: &[(String, f64)],
    feats: &[(Vec<&str>, u32, f64)],
    salt: &str,
    budget: u64,
    tokens_mode: bool,
    rho: f64,
    d_max: u32,
    cap: f64,
) -> BTreeMap<String, u32> {
    // Priority: order desc, weak desc, plan order.
    let mut pri: Vec<usize> = (0..feats.len()).collect();
    pri.sort_by(|&a, &b| {
        feats[b]
            .1
            .cmp(&feats[a].1)
            .then(feats[b].2.total_cmp(&feats[a].2))
    });
    let seed0 = hash::salt_seed(salt);
    let mut out = BTreeMap::new();
    let shares: Vec<f64> = cats.iter().map(|c| c.1).collect();
    let targets = apply::apportion(&shares, budget);
    for ((cat, _), &target) in cats.iter().zip(&targets) {
        #[derive(PartialEq, PartialOrd)]
        struct S<'a>(f64, u64, &'a str, u32, u64);
        let mut m: Vec<S> = Vec::new();
        let mut c: Vec<S> = Vec::new();
        let mut single = 0u64;
        for d in docs.iter().filter(|d| &d.cat == cat) {
            let w = if tokens_mode { d.tokens } else { 1 };
            let seed = hash::chain_str(seed0, &d.id);
            let dom = pri
                .iter()
                .find(|&&f| feats[f].0.iter().all(|l| d.labels.iter().any(|x| x == l)));
            match dom {
                Some(&f) => {
                    for s in 0..d_max {
                        let k = -hash::unit(hash::h53(seed, s)).ln() / feats[f].2;
                        m.push(S(k, 0, &d.id, s, w));
                    }
                }
                None => {
                    single += w;
                    for s in 0..cap.ceil() as u32 {
                        c.push(S(s as f64, hash::h53(seed, s), &d.id, s, w));
                    }
                }
            }
        }
        let take = |v: &mut Vec<S>, t: u64, out: &mut BTreeMap<String, u32>| -> u64 {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let mut cum = 0;
            for e in v.iter() {
                if cum >= t {
                    break;
                }
                cum += e.4;
                *out.entry(e.2.to_string()).or_insert(0) += 1;
            }
            cum
        };
        let mtotal: u64 = m.iter().map(|e| e.4).sum();
        let q = ((rho * target as f64).ceil() as u64).min(mtotal);
        let sel = take(&mut m, q, &mut out);
        let ctotal: u64 = c.iter().map(|e| e.4).sum();
        let t = target
            .saturating_sub(sel)
            .min(((cap * single as f64).floor() as u64).min(ctotal));
        take(&mut c, t, &mut out);
    }
    out
}

const OPS: &[&str] = &[
    "counting",
    "equation_formulation",
    "fact_recall",
    "compare_or_rank",
    "span_extraction",
];

fn random_docs(n: usize, ncat: usize, seed: u64) -> Vec<Doc> {
    // A small LCG: the corpus only has to be arbitrary, not random.
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    (0..n)
        .map(|i| {
            let k = next() % 3;
            let mut labels: Vec<String> = Vec::new();
            for _ in 0..k {
                let l = OPS[(next() % OPS.len() as u64) as usize].to_string();
                if !labels.contains(&l) {
                    labels.push(l);
                }
            }
            Doc {
                id: format!("doc-{i}-{}", next() % 1000),
                tokens: 1 + next() % 500,
                cat: format!("cat/{}", next() % ncat as u64),
                labels,
            }
        })
        .collect()
}

fn run_apply(dir: &Path, plan: &Path, corpus: &Path, f: impl FnOnce(&mut ApplyOptions)) -> apply::Applied {
    let mut o = ApplyOptions::new(plan, vec![corpus.to_path_buf()], &dir.join("out"));
    f(&mut o);
    apply::run(&o).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]
    #[test]
    fn streaming_equals_brute_force(
        n in 1usize..300, ncat in 1usize..4, seed in 0u64..1000,
        tokens_mode in any::<bool>(), budget_frac in 0.0f64..3.0,
        rho in prop_oneof![Just(1.0), 0.0f64..1.0], d_max in 1u32..4, cap in prop_oneof![Just(1.0), 0.5f64..3.5],
        with_feats in any::<bool>(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let docs = random_docs(n, ncat, seed);
        let cats: Vec<(String, f64)> = (0..ncat).map(|c| (format!("cat/{c}"), 1.0 / ncat as f64)).collect();
        let feats: Vec<(Vec<&str>, u32, f64)> = if with_feats {
            vec![(vec!["counting", "equation_formulation"], 2, 3.0), (vec!["counting"], 1, 1.5), (vec!["fact_recall"], 1, 0.8)]
        } else { vec![] };
        let plan = write_plan(tmp.path(), &cats, &feats, cap);
        let corpus = tmp.path().join("c.jsonl");
        write_jsonl(&corpus, &docs, "operation");
        let supply: u64 = docs.iter().map(|d| if tokens_mode { d.tokens } else { 1 }).sum();
        let budget = (budget_frac * supply as f64) as u64;
        let salt = format!("s{seed}");
        run_apply(tmp.path(), &plan, &corpus, |o| {
            if tokens_mode { o.budget_tokens = Some(budget) } else { o.budget_examples = Some(budget) }
            o.salt = salt.clone();
            o.rho = Some(rho);
            o.d_max = Some(d_max);
        });
        let got = read_ids(&tmp.path().join("out"));
        let want = reference(&docs, &cats, &feats, &salt, budget, tokens_mode, rho, d_max, cap);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn hashes_are_sparks_check_vectors() {
    // FORMATS.md section 9.
    let h = hash::chain_int(hash::chain_int(hash::chain_str(42, "Spark"), 123), 2);
    assert_eq!(h as i64, 5602566077635097486);
    assert_eq!(hash::chain_str(42, "hello"), 0xc3629e6318d53932);
    assert_eq!(hash::chain_str(42, ""), 0x98b1582b0977e704);
    assert_eq!(hash::chain_str(42, "abc"), 0x13c1d910702770e6);
}

/// Budgets within one document, epoch caps, d_max, shortfalls reported,
/// determinism, a different salt.
#[test]
fn budgets_caps_determinism_and_salt() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = random_docs(2000, 3, 11);
    let cats: Vec<(String, f64)> = vec![
        ("cat/0".into(), 0.5),
        ("cat/1".into(), 0.3),
        ("cat/2".into(), 0.2),
    ];
    let feats = vec![(vec!["counting"], 1, 2.0)];
    let plan = write_plan(tmp.path(), &cats, &feats, 2.5);
    let corpus = tmp.path().join("c.jsonl");
    write_jsonl(&corpus, &docs, "operation");
    let max_tok = docs.iter().map(|d| d.tokens).max().unwrap();
    let a = run_apply(tmp.path(), &plan, &corpus, |o| o.budget_tokens = Some(300_000));
    let bytes1 = std::fs::read(tmp.path().join("out/selection.parquet")).unwrap();
    let ids1 = read_ids(&tmp.path().join("out"));
    for c in &a.categories {
        // Supply of this category within the caps: matched docs x d_max + unmatched x 2.5.
        let of_cat: Vec<&Doc> = docs.iter().filter(|d| d.cat == c.category).collect();
        let matched: u64 = of_cat
            .iter()
            .filter(|d| d.labels.iter().any(|l| l == "counting"))
            .map(|d| d.tokens)
            .sum();
        let other: u64 = of_cat.iter().map(|d| d.tokens).sum::<u64>() - matched;
        let cap_supply = matched * 2 + (2.5 * other as f64).floor() as u64;
        if c.target <= cap_supply {
            assert!(c.selected >= c.target && c.selected < c.target + max_tok, "{c:?}");
        } else {
            assert_eq!(c.short, c.target - c.selected, "{c:?}");
            assert!(
                c.selected <= cap_supply && c.selected + max_tok > cap_supply,
                "{c:?}"
            );
        }
    }
    // Budget 300k over ~500k tokens: cat/0 (share 0.5 of 300k = 150k of its ~170k)
    // needs repeats, so copies > 1 appear; never more than d_max / ceil(2.5).
    assert!(ids1.values().all(|&c| (1..=3).contains(&c)));
    let matched: std::collections::BTreeSet<&str> = docs
        .iter()
        .filter(|d| d.labels.iter().any(|l| l == "counting"))
        .map(|d| d.id.as_str())
        .collect();
    assert!(ids1
        .iter()
        .filter(|(id, _)| matched.contains(id.as_str()))
        .all(|(_, &c)| c <= 2));
    // Same inputs: byte-identical selection.
    run_apply(tmp.path(), &plan, &corpus, |o| o.budget_tokens = Some(300_000));
    assert_eq!(
        bytes1,
        std::fs::read(tmp.path().join("out/selection.parquet")).unwrap()
    );
    // Another salt: another selection of about the same size.
    let b = run_apply(tmp.path(), &plan, &corpus, |o| {
        o.budget_tokens = Some(300_000);
        o.salt = "other".into();
    });
    assert_ne!(ids1, read_ids(&tmp.path().join("out")));
    assert!(b.totals.selected >= a.totals.target.min(b.totals.selected));
}

/// Data-side labels through the shipped paper mapping; a task_type weakness
/// (no document-side counterpart) becomes a patch request.
#[test]
fn paper_mapping_and_patch_requests() {
    let tmp = tempfile::tempdir().unwrap();
    // operation_opportunity labels: docs 0..10 quantitative, the rest grounding.
    let docs: Vec<Doc> = (0..40)
        .map(|i| Doc {
            id: format!("x{i}"),
            tokens: 10,
            cat: "web".into(),
            labels: vec![if i < 10 {
                "quantitative_and_symbolic_reasoning"
            } else {
                "knowledge_and_concept_grounding"
            }
            .into()],
        })
        .collect();
    let plan = write_plan(
        tmp.path(),
        &[("web".into(), 1.0)],
        &[(vec!["counting", "arithmetic_computation"], 2, 2.0)],
        1.0,
    );
    let corpus = tmp.path().join("c.jsonl");
    write_jsonl(&corpus, &docs, "operation_opportunity");
    let r = run_apply(tmp.path(), &plan, &corpus, |o| o.budget_examples = Some(8));
    // 8 examples, rho 1, d_max 2: all 8 from the 10 quantitative docs (20 slots).
    let ids = read_ids(&tmp.path().join("out"));
    assert_eq!(ids.values().sum::<u32>(), 8);
    assert!(ids.keys().all(|k| k[1..].parse::<u32>().unwrap() < 10), "{ids:?}");
    assert_eq!(r.features[0].column.as_deref(), Some("operation_opportunity"));
    // A task_type plan: patch requests, mixture only.
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    v["weakness"]["axis"] = "task_type".into();
    std::fs::write(&plan, v.to_string()).unwrap();
    let r = run_apply(tmp.path(), &plan, &corpus, |o| o.budget_examples = Some(8));
    assert_eq!(r.patch_requests.len(), 1);
    assert!(r.feature_results.is_empty());
    assert_eq!(read_ids(&tmp.path().join("out")).values().sum::<u32>(), 8);
}

/// `verify --apply` ties the checkpoint to its data: the selection's hash,
/// only when apply.json was made from the same plan.
#[test]
fn applied_selection_is_checked_against_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = write_plan(tmp.path(), &[("web".into(), 1.0)], &[], 1.0);
    let corpus = tmp.path().join("c.jsonl");
    write_jsonl(
        &corpus,
        &random_docs(50, 1, 2)
            .into_iter()
            .map(|d| Doc {
                cat: "web".into(),
                ..d
            })
            .collect::<Vec<_>>(),
        "operation",
    );
    let r = run_apply(tmp.path(), &plan, &corpus, |o| o.budget_examples = Some(10));
    let aj = tmp.path().join("out/apply.json");
    let sel = apply::check_applied(&plan, &aj).unwrap();
    assert_eq!(sel, r.outputs.selection_sha256);
    let other = write_plan(&tmp.path().join("out"), &[("web".into(), 1.0)], &[], 2.0);
    let err = apply::check_applied(&other, &aj).unwrap_err().to_string();
    assert!(err.contains("another plan"), "{err}");
}

#[test]
fn bad_manifest_rows_are_located_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = write_plan(tmp.path(), &[("web".into(), 1.0)], &[], 1.0);
    let corpus = tmp.path().join("bad.jsonl");
    std::fs::write(
        &corpus,
        "{\"doc_id\":\"a\",\"tokens\":3,\"category\":\"web\"}\n\n{\"doc_id\":\"b\",\"tokens\":-1,\"category\":\"web\"}\n",
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("caploop")
        .unwrap()
        .args(["apply", "--plan"])
        .arg(&plan)
        .arg("--corpus")
        .arg(&corpus)
        .arg("--out")
        .arg(tmp.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:3") && err.contains("tokens"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn synth_corpus_parquet_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let c = tmp.path().join("c.parquet");
    assert_cmd::Command::cargo_bin("caploop")
        .unwrap()
        .args(["synth", "--corpus", "5000", "--seed", "1", "--out"])
        .arg(&c)
        .assert()
        .success();
    let plan = write_plan(
        tmp.path(),
        &[("web/general/high".into(), 0.6), ("code/python/high".into(), 0.4)],
        &[(vec!["counting"], 1, 2.0)],
        1.0,
    );
    let r = run_apply(tmp.path(), &plan, &c, |o| o.budget_examples = Some(100));
    assert_eq!(r.totals.docs_read, 5000);
    assert_eq!(r.totals.selected, 100);
    assert!(!r.unplanned_categories.is_empty());
}

/// The emitted PySpark job (local mode) selects the identical (doc_id,
/// copies) set, on manifests with categories, labels, repeats and fallback.
#[test]
fn spark_job_selects_the_same_set() {
    use polars::prelude::{NamedFrom, SerReader};
    let Ok(py) = std::env::var("CAPLOOP_PYSPARK") else {
        eprintln!("note: CAPLOOP_PYSPARK unset (run .ci/spark.sh); skipping the Spark parity test");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let docs = random_docs(3000, 3, 5);
    let cats: Vec<(String, f64)> = vec![
        ("cat/0".into(), 0.6),
        ("cat/1".into(), 0.3),
        ("cat/2".into(), 0.1),
    ];
    let feats = vec![
        (vec!["counting", "equation_formulation"], 2, 3.0),
        (vec!["fact_recall"], 1, 1.0),
    ];
    let plan = write_plan(tmp.path(), &cats, &feats, 2.5);
    let jsonl = tmp.path().join("a.jsonl");
    write_jsonl(&jsonl, &docs[..1000], "operation");
    let pq = tmp.path().join("b.parquet");
    let pdocs = &docs[1000..];
    let mut df = polars::prelude::DataFrame::new(
        pdocs.len(),
        vec![
            polars::prelude::Column::new(
                "doc_id".into(),
                pdocs.iter().map(|d| d.id.clone()).collect::<Vec<_>>(),
            ),
            polars::prelude::Column::new(
                "tokens".into(),
                pdocs.iter().map(|d| d.tokens as u32).collect::<Vec<_>>(),
            ),
            polars::prelude::Column::new(
                "category".into(),
                pdocs.iter().map(|d| d.cat.clone()).collect::<Vec<_>>(),
            ),
            polars::prelude::Column::new(
                "operation".into(),
                pdocs
                    .iter()
                    .map(|d| polars::prelude::Series::new("".into(), d.labels.clone()))
                    .collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap();
    let f = std::fs::File::create(&pq).unwrap();
    polars::prelude::ParquetWriter::new(f).finish(&mut df).unwrap();
    for (budget, rho) in [(600_000u64, 0.7), (1_200_000, 1.0)] {
        let mut o = ApplyOptions::new(&plan, vec![jsonl.clone(), pq.clone()], &tmp.path().join("out"));
        o.budget_tokens = Some(budget);
        o.rho = Some(rho);
        o.emit_spark = Some(tmp.path().join("spark"));
        let r = apply::run(&o).unwrap();
        assert!(r.categories.iter().any(|c| c.cover_selected > 0), "fallback used");
        let want = read_ids(&tmp.path().join("out"));
        assert!(want.values().any(|&c| c > 1), "repeats present");
        let sout = tmp.path().join("spark-out");
        let st = std::process::Command::new(&py)
            .arg(tmp.path().join("spark/select.py"))
            .arg("--corpus")
            .arg(&jsonl)
            .arg(&pq)
            .arg("--out")
            .arg(&sout)
            .status()
            .unwrap();
        assert!(st.success());
        let mut got = BTreeMap::new();
        for e in std::fs::read_dir(&sout).unwrap() {
            let p = e.unwrap().path();
            if p.extension().and_then(|x| x.to_str()) != Some("parquet") {
                continue;
            }
            let df = polars::prelude::ParquetReader::new(std::fs::File::open(&p).unwrap())
                .finish()
                .unwrap();
            let ids = df.column("doc_id").unwrap().str().unwrap().clone();
            let copies = df.column("copies").unwrap().i32().unwrap().clone();
            for (i, c) in ids.iter().zip(copies.iter()) {
                got.insert(i.unwrap().to_string(), c.unwrap() as u32);
            }
        }
        assert_eq!(got, want, "budget {budget}");
    }
}

/// `caploop demo` ends with an apply step on a synthetic corpus.
#[test]
fn demo_ends_with_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("caploop")
        .unwrap()
        .args(["demo", "--items", "300", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("apply: 20000 documents read"), "{text}");
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("apply/apply.json")).unwrap()).unwrap();
    // The 5M-token budget is met to within one document per category (< 4050 tokens each).
    let sel = a["totals"]["selected_tokens"].as_u64().unwrap();
    let ncat = a["categories"].as_array().unwrap().len() as u64;
    assert!((5_000_000..5_000_000 + 4050 * ncat).contains(&sel), "{sel}");
    assert!(tmp.path().join("apply/spark/select.py").exists());
    assert_eq!(
        a["outputs"]["selection_sha256"].as_str().unwrap(),
        caploop::apply::output::sha256_file(&tmp.path().join("apply/selection.parquet")).unwrap()
    );
}
