//! Where the time of a run goes, for profiling: with `CAPLOOP_TRACE=1` in
//! the environment, a command prints the time spent in each part of ingest
//! (reading, converting, tagging, indexing, diagnosis summaries, building
//! and writing Parquet) on stderr. Counters are process-wide and cheap; they
//! are summed over batches (and over threads, where parts overlap).

use std::sync::Mutex;
use std::time::Duration;

static TIMES: Mutex<Vec<(&'static str, f64)>> = Mutex::new(Vec::new());

/// Add `d` to the counter `name`.
pub fn add(name: &'static str, d: Duration) {
    let Ok(mut t) = TIMES.lock() else { return };
    match t.iter_mut().find(|x| x.0 == name) {
        Some(x) => x.1 += d.as_secs_f64(),
        None => t.push((name, d.as_secs_f64())),
    }
}

/// Run `f`, adding its time to the counter `name`.
pub fn time<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    let t = std::time::Instant::now();
    let out = f();
    add(name, t.elapsed());
    out
}

/// Print every counter when `CAPLOOP_TRACE` is set.
pub fn print() {
    if std::env::var_os("CAPLOOP_TRACE").is_none() {
        return;
    }
    if let Ok(t) = TIMES.lock() {
        for (n, s) in t.iter() {
            eprintln!("trace {n}: {s:.3} s");
        }
    }
}

/// With `CAPLOOP_TRACE` set, print the process's resident memory now and
/// at its peak so far (Linux `/proc/self/status`), after stage `label`.
pub fn memory(label: &str) {
    if std::env::var_os("CAPLOOP_TRACE").is_none() {
        return;
    }
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    eprintln!(
        "trace memory after {label}: rss {} peak {}",
        field("VmRSS:"),
        field("VmHWM:")
    );
}
