//! Labeler agreement and the labels that are applied.
//!
//! Per item and axis: an adjudicated label wins; else the labelers' labels
//! when they all agree (the same set of values), or the one labeler's when
//! only one labelled it; else the item and axis are a *disagreement*: they
//! keep their rule-derived tags and go to the disagreement file for a person.
//!
//! Agreement, per axis and pair of labelers, over the items both labelled
//! on that axis: the share agreeing (identical value sets) and Cohen's
//! kappa, `(p_o - p_e) / (1 - p_e)` with `p_e` from each labeler's own
//! category shares (as `sklearn.metrics.cohen_kappa_score`). When every one
//! of those labels holds exactly one value, kappa is *nominal*, over the
//! values. Otherwise (multi-label axes such as `operation`) it is *presence*
//! kappa: one binary decision per item and declared value of the axis (does
//! the label hold the value?), all pooled into one 2x2 table; i.e.
//! `cohen_kappa_score` of the two flattened item x value indicator vectors.
//! Kappa is `null` when `p_e = 1` (both labelers used one category only).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{ItemIndex, ItemKey, LabelFiles};
use crate::taxonomy::Axis;

/// The applied labels of one item: (axis index, values, provenance).
pub type Applied = Vec<(usize, Vec<String>, Vec<String>)>;

/// Agreement of two labelers on one axis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AxisAgreement {
    pub axis: String,
    pub labeler_a: String,
    pub labeler_b: String,
    /// Items both labelled on the axis.
    pub items: usize,
    /// Of those, items with identical value sets.
    pub agreeing: usize,
    pub share: Option<f64>,
    pub kappa: Option<f64>,
    /// `nominal` or `presence` (see the module docs).
    pub kappa_mode: String,
    /// Decisions kappa is computed over (items, or items x declared values).
    pub units: usize,
}

/// How the labels of one axis were applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AxisApplied {
    pub axis: String,
    /// Items with an applied label on the axis.
    pub items: usize,
    pub agreed: usize,
    pub single_labeler: usize,
    pub adjudicated: usize,
    /// Disagreements without an adjudicated label: rule-derived tags kept.
    pub open: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelFile {
    pub path: String,
    pub sha256: String,
    pub records: usize,
    pub adjudicated: bool,
}

/// What `tag --labels` writes next to the tagged table (`*.labels.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelReport {
    pub files: Vec<LabelFile>,
    pub labelers: Vec<String>,
    pub adjudicators: Vec<String>,
    /// Distinct items with at least one label record.
    pub items_labelled: usize,
    pub applied: Vec<AxisApplied>,
    pub agreement: Vec<AxisAgreement>,
    /// Items with at least one disagreeing axis, and (item, axis) pairs.
    pub disagreement_items: usize,
    pub disagreements: usize,
    pub disagreements_open: usize,
    pub kappa: String,
}

/// One disagreeing axis: (axis index, labeler -> values, adjudicated values).
pub type AxisDisagreement = (usize, BTreeMap<String, Vec<String>>, Option<Vec<String>>);

/// One item the labelers disagree on.
#[derive(Debug, Clone, PartialEq)]
pub struct Disagreement {
    pub key: ItemKey,
    /// (axis index, labeler -> values, adjudicated values).
    pub axes: Vec<AxisDisagreement>,
}

/// Everything label import decides.
#[derive(Debug, Default)]
pub struct Resolution {
    pub applied: BTreeMap<ItemKey, Applied>,
    pub disagreements: Vec<Disagreement>,
}

/// Cohen's kappa of two label sequences of equal length (categories as
/// any ordered type); `None` when empty or when `p_e = 1`.
pub fn cohen_kappa<T: Ord + Clone>(a: &[T], b: &[T]) -> Option<f64> {
    if a.is_empty() || a.len() != b.len() {
        return None;
    }
    let n = a.len() as f64;
    let agree = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64;
    let mut ca: BTreeMap<&T, f64> = BTreeMap::new();
    let mut cb: BTreeMap<&T, f64> = BTreeMap::new();
    for x in a {
        *ca.entry(x).or_default() += 1.0;
    }
    for y in b {
        *cb.entry(y).or_default() += 1.0;
    }
    let pe: f64 = ca
        .iter()
        .map(|(k, na)| na * cb.get(k).copied().unwrap_or(0.0))
        .sum::<f64>()
        / (n * n);
    let po = agree / n;
    if (1.0 - pe).abs() < 1e-12 {
        return None;
    }
    Some((po - pe) / (1.0 - pe))
}

/// Resolve the labels and measure agreement. `labels` are the labelers'
/// files, `adjudicated` the person's.
pub fn resolve(
    labels: &LabelFiles,
    adjudicated: &LabelFiles,
    axes: &[Axis],
    items: &ItemIndex,
) -> crate::Result<(Resolution, LabelReport)> {
    // key -> axis -> labeler -> values
    type ByAxis = BTreeMap<usize, BTreeMap<String, Vec<String>>>;
    let mut by_item: BTreeMap<ItemKey, ByAxis> = BTreeMap::new();
    let mut labelers = BTreeSet::new();
    for r in &labels.records {
        labelers.insert(r.labeler.clone());
        let e = by_item
            .entry((r.benchmark.clone(), r.item_id.clone()))
            .or_default();
        for (ax, vals) in &r.values {
            e.entry(*ax).or_default().insert(r.labeler.clone(), vals.clone());
        }
    }
    let mut labelled: BTreeSet<ItemKey> = labels
        .records
        .iter()
        .map(|r| (r.benchmark.clone(), r.item_id.clone()))
        .collect();
    // key -> axis -> (adjudicator, values, location)
    type Adjudication = (String, Vec<String>, String);
    let mut adj: BTreeMap<ItemKey, BTreeMap<usize, Adjudication>> = BTreeMap::new();
    let mut adjudicators = BTreeSet::new();
    let mut errors = Vec::new();
    for r in &adjudicated.records {
        adjudicators.insert(r.labeler.clone());
        labelled.insert((r.benchmark.clone(), r.item_id.clone()));
        let e = adj.entry((r.benchmark.clone(), r.item_id.clone())).or_default();
        for (ax, vals) in &r.values {
            if let Some((_, _, first)) = e.get(ax) {
                errors.push(format!(
                    "{}: axis '{}' of item '{}' of benchmark '{}' is adjudicated twice (first at {first})",
                    r.location, axes[*ax].name, r.item_id, r.benchmark
                ));
            } else {
                e.insert(*ax, (r.labeler.clone(), vals.clone(), r.location.clone()));
            }
        }
    }
    if !errors.is_empty() {
        return Err(crate::Error::usage(errors.join("\n")));
    }

    let mut counts: Vec<AxisApplied> = axes
        .iter()
        .map(|a| AxisApplied {
            axis: a.name.clone(),
            items: 0,
            agreed: 0,
            single_labeler: 0,
            adjudicated: 0,
            open: 0,
        })
        .collect();
    let mut res = Resolution::default();
    let keys: BTreeSet<&ItemKey> = by_item.keys().chain(adj.keys()).collect();
    let empty = ByAxis::new();
    for key in keys {
        let labels_of = by_item.get(key).unwrap_or(&empty);
        let adj_of = adj.get(key);
        let mut applied = Applied::new();
        let mut disagreeing = Vec::new();
        for (ax, count) in counts.iter_mut().enumerate() {
            let given = labels_of.get(&ax);
            let adjudicated = adj_of.and_then(|m| m.get(&ax));
            let distinct: BTreeSet<&Vec<String>> = given.map(|g| g.values().collect()).unwrap_or_default();
            let disagree = distinct.len() > 1;
            if disagree {
                disagreeing.push((
                    ax,
                    given.cloned().unwrap_or_default(),
                    adjudicated.map(|a| a.1.clone()),
                ));
            }
            if let Some((who, vals, _)) = adjudicated {
                applied.push((ax, vals.clone(), vec![format!("label:{who}")]));
                count.adjudicated += 1;
            } else if let Some(g) = given {
                if disagree {
                    count.open += 1;
                    continue;
                }
                let vals = g.values().next().cloned().unwrap_or_default();
                let prov = g.keys().map(|l| format!("label:{l}")).collect();
                applied.push((ax, vals, prov));
                if g.len() > 1 {
                    count.agreed += 1;
                } else {
                    count.single_labeler += 1;
                }
            } else {
                continue;
            }
            count.items += 1;
        }
        if !disagreeing.is_empty() {
            res.disagreements.push(Disagreement {
                key: key.clone(),
                axes: disagreeing,
            });
        }
        if !applied.is_empty() {
            res.applied.insert(key.clone(), applied);
        }
    }

    // Agreement per axis and pair of labelers.
    let labelers: Vec<String> = labelers.into_iter().collect();
    let mut agreement = Vec::new();
    for (ax, axis) in axes.iter().enumerate() {
        for i in 0..labelers.len() {
            for j in i + 1..labelers.len() {
                let (la, lb) = (&labelers[i], &labelers[j]);
                let pairs: Vec<(&Vec<String>, &Vec<String>)> = by_item
                    .values()
                    .filter_map(|m| m.get(&ax))
                    .filter_map(|m| Some((m.get(la)?, m.get(lb)?)))
                    .collect();
                if pairs.is_empty() {
                    continue;
                }
                let agreeing = pairs.iter().filter(|(a, b)| a == b).count();
                let nominal = pairs.iter().all(|(a, b)| a.len() == 1 && b.len() == 1);
                let (kappa, units) = if nominal {
                    let a: Vec<&str> = pairs.iter().map(|(a, _)| a[0].as_str()).collect();
                    let b: Vec<&str> = pairs.iter().map(|(_, b)| b[0].as_str()).collect();
                    (cohen_kappa(&a, &b), a.len())
                } else {
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    for (x, y) in &pairs {
                        for v in &axis.values {
                            a.push(x.contains(v));
                            b.push(y.contains(v));
                        }
                    }
                    (cohen_kappa(&a, &b), a.len())
                };
                agreement.push(AxisAgreement {
                    axis: axis.name.clone(),
                    labeler_a: la.clone(),
                    labeler_b: lb.clone(),
                    items: pairs.len(),
                    agreeing,
                    share: Some(agreeing as f64 / pairs.len() as f64),
                    kappa,
                    kappa_mode: if nominal { "nominal" } else { "presence" }.to_string(),
                    units,
                });
            }
        }
    }
    let _ = items;
    let files = labels
        .files
        .iter()
        .map(|f| (f, false))
        .chain(adjudicated.files.iter().map(|f| (f, true)))
        .map(|((p, sha, n), adjudicated)| LabelFile {
            path: p.display().to_string(),
            sha256: sha.clone(),
            records: *n,
            adjudicated,
        })
        .collect();
    let disagreements = res.disagreements.iter().map(|d| d.axes.len()).sum();
    let report = LabelReport {
        files,
        labelers,
        adjudicators: adjudicators.into_iter().collect(),
        items_labelled: labelled.len(),
        applied: counts.iter().filter(|c| c.items + c.open > 0).cloned().collect(),
        agreement,
        disagreement_items: res.disagreements.len(),
        disagreements,
        disagreements_open: counts.iter().map(|c| c.open).sum(),
        kappa: "Cohen's kappa per axis and labeler pair over the items both labelled: nominal over the values when every label holds one value, else presence kappa over item x declared-value decisions pooled into one 2x2 table; null when chance agreement is 1".to_string(),
    };
    Ok((res, report))
}

/// The disagreement file: one JSON object per item, for a person to
/// adjudicate. Fill `labeler` and the axis fields and pass the file as
/// `--adjudicated`; `candidates`, `status`, `task`, `target` and `text` are
/// ignored on import.
pub fn disagreement_lines(res: &Resolution, axes: &[Axis], items: &ItemIndex) -> String {
    use serde_json::{json, Map, Value};
    let mut out = String::new();
    for d in &res.disagreements {
        let info = items.get(&d.key);
        let mut m = Map::new();
        m.insert("benchmark".into(), json!(d.key.0));
        m.insert("item_id".into(), json!(d.key.1));
        m.insert("labeler".into(), Value::Null);
        let mut candidates = Map::new();
        let mut open = false;
        for (ax, by, adjudicated) in &d.axes {
            let name = &axes[*ax].name;
            m.insert(
                name.clone(),
                adjudicated.as_ref().map_or(Value::Null, |v| json!(v)),
            );
            open |= adjudicated.is_none();
            candidates.insert(name.clone(), json!(by));
        }
        m.insert("candidates".into(), Value::Object(candidates));
        m.insert("status".into(), json!(if open { "open" } else { "adjudicated" }));
        if let Some(info) = info {
            m.insert("task".into(), json!(info.task));
            m.insert("target".into(), json!(info.target));
            let text = serde_json::from_str::<Value>(&info.meta).unwrap_or(Value::String(info.meta.clone()));
            m.insert("text".into(), text);
        }
        out.push_str(&Value::Object(m).to_string());
        out.push('\n');
    }
    out
}
