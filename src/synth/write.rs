//! Writing synthetic samples in the lm-evaluation-harness layout (one sample
//! per item) or as generic JSONL (several samples per item, which lm-eval
//! logs cannot represent per sample).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One sample of one run.
pub struct Sample<'a> {
    pub benchmark: &'a str,
    pub task: &'a str,
    pub doc_id: usize,
    pub doc: &'a Value,
    pub prompt: &'a str,
    pub target: &'a str,
    pub response: &'a str,
    pub extracted: &'a str,
    pub filter: &'a str,
    pub sample_idx: u32,
    pub correct: bool,
}

const DATES: [&str; 4] = [
    "2026-01-01T00-00-00.000001",
    "2026-01-02T00-00-00.000001",
    "2026-01-03T00-00-00.000001",
    "2026-01-04T00-00-00.000001",
];

pub fn logs_path(out: &Path, generic: bool) -> PathBuf {
    if generic {
        out.join("samples.jsonl")
    } else {
        out.join("logs")
    }
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[derive(Clone)]
struct TaskSeen {
    filter: String,
}

pub struct Writers {
    out: PathBuf,
    generic: bool,
    runs: Vec<String>,
    max_gen_toks: u32,
    files: BTreeMap<(usize, String), (PathBuf, BufWriter<File>)>,
    tasks: Vec<BTreeMap<String, TaskSeen>>,
}

fn open(path: &Path) -> Result<BufWriter<File>> {
    if let Some(p) = path.parent() {
        crate::error::create_dir(p)?;
    }
    Ok(BufWriter::with_capacity(
        1 << 20,
        File::create(path).map_err(|e| Error::io(path, e))?,
    ))
}

impl Writers {
    pub fn new(out: &Path, generic: bool, runs: &[&str], max_gen_toks: u32) -> Result<Writers> {
        if runs.len() > DATES.len() {
            return Err(Error::usage("synth: too many runs"));
        }
        let logs = logs_path(out, generic);
        if logs.exists() {
            let removed = if generic {
                std::fs::remove_file(&logs)
            } else {
                std::fs::remove_dir_all(&logs)
            };
            removed.map_err(|e| Error::io(&logs, e))?;
        }
        Ok(Writers {
            out: out.to_path_buf(),
            generic,
            runs: runs.iter().map(|r| r.to_string()).collect(),
            max_gen_toks,
            files: BTreeMap::new(),
            tasks: vec![BTreeMap::new(); runs.len()],
        })
    }

    pub fn write(&mut self, run: usize, s: &Sample<'_>) -> Result<()> {
        let doc_text = s.doc.to_string();
        let doc_hash = sha256(&doc_text);
        let key = if self.generic {
            (0, String::new())
        } else {
            (run, s.task.to_string())
        };
        if !self.files.contains_key(&key) {
            let path = if self.generic {
                logs_path(&self.out, true)
            } else {
                logs_path(&self.out, false)
                    .join(&self.runs[run])
                    .join(format!("samples_{}_{}.jsonl", s.task, DATES[run]))
            };
            let f = open(&path)?;
            self.files.insert(key.clone(), (path, f));
        }
        self.tasks[run].entry(s.task.to_string()).or_insert(TaskSeen {
            filter: s.filter.to_string(),
        });
        let score = if s.correct { 1.0 } else { 0.0 };
        let line = if self.generic {
            let mut m = serde_json::Map::new();
            m.insert("run".into(), json!(self.runs[run]));
            m.insert("benchmark".into(), json!(s.benchmark));
            m.insert("task".into(), json!(s.task));
            // Generated problems can repeat word for word: the doc id keeps
            // such items apart (the lm-eval layout does it with `#k`).
            m.insert("item_id".into(), json!(format!("{}:{}", s.task, s.doc_id)));
            m.insert("sample_idx".into(), json!(s.sample_idx));
            m.insert("prompt".into(), json!(s.prompt));
            m.insert("target".into(), json!(s.target));
            m.insert("response".into(), json!(s.response));
            m.insert("extracted".into(), json!(s.extracted));
            m.insert("score".into(), json!(score));
            if let Value::Object(doc) = s.doc {
                for (k, v) in doc {
                    if !m.contains_key(k) {
                        m.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(m).to_string()
        } else {
            json!({
                "doc_id": s.doc_id,
                "doc": s.doc,
                "target": s.target,
                "arguments": {"gen_args_0": {"arg_0": s.prompt, "arg_1": {"until": ["\n\nQ:", "Problem:"], "do_sample": false, "max_gen_toks": self.max_gen_toks}}},
                "resps": [[s.response]],
                "filtered_resps": [s.extracted],
                "filter": s.filter,
                "metrics": ["exact_match"],
                "doc_hash": doc_hash,
                "prompt_hash": sha256(s.prompt),
                "target_hash": sha256(s.target),
                "exact_match": score,
            })
            .to_string()
        };
        let (path, f) = self
            .files
            .get_mut(&key)
            .ok_or_else(|| Error::usage("synth: writer lost its file"))?;
        f.write_all(line.as_bytes())
            .and_then(|_| f.write_all(b"\n"))
            .map_err(|e| Error::io(path, e))
    }

    /// Flush every file and write the lm-eval results files.
    pub fn finish(mut self) -> Result<PathBuf> {
        for (path, f) in self.files.values_mut() {
            f.flush().map_err(|e| Error::io(path, e))?;
        }
        if !self.generic {
            for (run, date) in DATES.iter().enumerate().take(self.runs.len()) {
                let mut configs = serde_json::Map::new();
                let mut versions = serde_json::Map::new();
                let mut nshot = serde_json::Map::new();
                for (task, seen) in &self.tasks[run] {
                    configs.insert(
                        task.clone(),
                        json!({
                            "task": task,
                            "output_type": "generate_until",
                            "num_fewshot": 1,
                            "generation_kwargs": {"until": ["\n\nQ:", "Problem:"], "do_sample": false, "max_gen_toks": self.max_gen_toks},
                            "filter_list": [{"name": seen.filter}],
                            "metadata": {"version": 1.0},
                        }),
                    );
                    versions.insert(task.clone(), json!(1.0));
                    nshot.insert(task.clone(), json!(1));
                }
                let results = json!({
                    "results": {},
                    "configs": configs,
                    "versions": versions,
                    "n-shot": nshot,
                    "model_name": self.runs[run],
                    "model_name_sanitized": self.runs[run],
                    "config": {"model": "caploop-synth", "model_args": format!("pretrained={}", self.runs[run])},
                    "date": 0,
                });
                let path = logs_path(&self.out, false)
                    .join(&self.runs[run])
                    .join(format!("results_{date}.json"));
                let text = serde_json::to_string_pretty(&results).map_err(|e| Error::usage(e.to_string()))?;
                crate::error::write_file(&path, text)?;
            }
        }
        Ok(logs_path(&self.out, self.generic))
    }
}
