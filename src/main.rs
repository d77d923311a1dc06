//! caploop's entry point: parse, dispatch, map errors to exit codes.

use clap::Parser;

// Ingest allocates and frees many large strings; glibc's allocator spent a
// third of ingest time zeroing fresh pages (measured with perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (v2's option enum; the binding
/// crate names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Keep freed memory instead of returning it to the OS 10 ms later: a
    // batch's buffers are reused by the next batch, and on this project's
    // VMs every returned page is zeroed again when touched (the kernel's
    // clear_page was a quarter of ingest's profile). Measured on the anchor
    // ingest: page faults 62-74k -> 2.5k, CPU time 3.5-3.9 s -> 3.0 s; peak
    // RSS +9%, and RSS no longer shrinks after a stage.
    // SAFETY: sets one integer option; valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    let cli = caploop::cli::Cli::parse();
    let code = match caploop::cli::dispatch(cli) {
        Ok(code) => code,
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
