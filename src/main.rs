//! caploop's entry point: parse, dispatch, map errors to exit codes.

use clap::Parser;

// Ingest allocates and frees many large strings; glibc's allocator spent a
// third of ingest time zeroing fresh pages (measured with perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
// Tried and left at the default: mimalloc's purge delay -1 (idle memory is
// never handed back) saves the kernel re-zeroing pages a batch freed, up to
// a fifth of a run's wall time here, but the memory freed whenever a vector
// or map grows is then never returned either: generic 10M peaked at 4.8
// instead of 3.6 GB. `MIMALLOC_PURGE_DELAY=-1` in the environment makes
// that trade for one run.

fn main() {
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
