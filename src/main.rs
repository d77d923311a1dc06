//! caploop's entry point: parse, dispatch, map errors to exit codes.

use clap::Parser;

// Ingest allocates and frees many large strings; glibc's allocator spent a
// third of ingest time zeroing fresh pages (measured with perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
// mimalloc hands memory that fell idle back to the OS after 10 ms by
// default. Stages free and allocate batch-sized buffers all the time, so that
// memory came straight back as fresh pages: each a fault and (with
// transparent huge pages) 2 MiB zeroed by the kernel, a fifth of `ingest`'s
// and a quarter of `compare`'s wall time on the anchor benchmark. A delay of
// one second keeps what the next batch reuses: the anchor's `ingest --taxonomy`
// went from 3.52 to 3.03 s and `compare` from 1.3 to 1.0 s, and the generic
// 10M run's peak from 3.50 to 3.66 GiB. Never purging (-1) was faster still
// but raised that peak to 4.8 GB, because memory freed when a vector or map
// grows was then never returned. `MIMALLOC_PURGE_DELAY` in the environment
// still wins.
extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
/// `mi_option_purge_delay` in `mimalloc.h`'s `mi_option_e` (v2 and v3).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
/// Milliseconds; see above.
const PURGE_DELAY_MS: std::ffi::c_long = 1000;

fn main() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option of the linked allocator; mimalloc
        // reads it on its next purge, from any thread.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
    let cli = caploop::cli::Cli::parse();
    let code = match caploop::cli::dispatch(cli) {
        Ok(code) => {
            caploop::trace::print();
            code
        }
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            caploop::ExitCode::Failed
        }
    };
    std::process::exit(code as i32);
}
