//! caploop's entry point: parse, dispatch, map errors to exit codes.

use clap::Parser;

// Ingest allocates and frees many large strings; glibc's allocator spent a
// third of ingest time zeroing fresh pages (measured with perf).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
