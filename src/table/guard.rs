//! A fence around polars' Parquet reader. polars panics on some malformed
//! files instead of returning an error: on footer metadata it cannot decode
//! and on corrupt data pages (a page header or a compressed page that lies
//! about its size; found by the fuzz targets). [`catch`] runs a polars call
//! with such a panic caught and turned into [`Error::Frame`] naming the file
//! and what was being read (exit 2, never a crash).
//!
//! The panic message is not printed: a process-wide panic hook, installed
//! once, keeps it for the error while a guarded call runs and defers to the
//! previous hook otherwise. The count of guarded calls is global, not per
//! thread, because polars decodes columns on its rayon pool and a panic there
//! reaches the caller through the pool. This fence does not make caploop's
//! own code panic-safe: only polars calls are wrapped.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use crate::error::{Error, Result};

/// Guarded calls running now (on any thread).
static GUARDED: AtomicUsize = AtomicUsize::new(0);
/// The first panic message seen while a guarded call ran.
static MESSAGE: Mutex<Option<String>> = Mutex::new(None);
static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.load(Ordering::SeqCst) == 0 {
                return previous(info);
            }
            let payload = info.payload();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_string());
            if let Ok(mut m) = MESSAGE.lock() {
                m.get_or_insert(text);
            }
        }));
    });
}

/// Decrements the guarded count when the call ends, also by unwinding.
struct Guarded;

impl Drop for Guarded {
    fn drop(&mut self) {
        GUARDED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Run `f` (a polars call) with a panic inside it caught: `Err` holds the
/// panic message.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    install_hook();
    let outcome = {
        GUARDED.fetch_add(1, Ordering::SeqCst);
        let _g = Guarded;
        catch_unwind(AssertUnwindSafe(f))
    };
    outcome.map_err(|_| {
        MESSAGE
            .lock()
            .ok()
            .and_then(|mut m| m.take())
            .unwrap_or_else(|| "the Parquet reader gave up".to_string())
    })
}

/// The error for a part of `path` polars could not read: "`path`: not a
/// readable Parquet file (`what` is malformed: `cause`)".
pub fn malformed(path: &Path, what: &str, cause: &str) -> Error {
    Error::frame(
        path,
        format!("not a readable Parquet file ({what} is malformed: {cause}); rewrite it, or leave it out"),
    )
}

/// Run `f` (a polars read of `path`); a panic inside it becomes
/// [`malformed`]. `what` says what was read ("its metadata", "row group 2
/// of 3 (rows 5-8), column 'score'").
pub fn catch<T>(path: &Path, what: impl FnOnce() -> String, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_panic(f).map_err(|cause| malformed(path, &what(), &cause))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_naming_the_file_and_the_part() {
        let r: Result<()> = catch(
            Path::new("x.parquet"),
            || "row group 1, column 'score'".into(),
            || panic!("out of spec: page too short"),
        );
        let msg = r.unwrap_err().to_string();
        assert!(msg.starts_with("x.parquet: not a readable Parquet file"), "{msg}");
        assert!(msg.contains("row group 1, column 'score' is malformed"), "{msg}");
        assert!(msg.contains("out of spec: page too short"), "{msg}");
    }

    #[test]
    fn errors_and_values_pass_through() {
        assert_eq!(catch(Path::new("x"), String::new, || Ok(3)).unwrap(), 3);
        let e = catch::<()>(Path::new("x"), String::new, || Err(Error::usage("no"))).unwrap_err();
        assert_eq!(e.to_string(), "no");
    }
}
