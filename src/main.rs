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
    fn mi_version() -> std::ffi::c_int;
}
/// `mi_option_purge_delay` in `mimalloc.h`'s `mi_option_e` (v2 and v3).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
/// Milliseconds; see above.
const PURGE_DELAY_MS: std::ffi::c_long = 1000;

// Transparent huge pages: mimalloc asks for them on its arenas, and a fault
// in one zeroes 2 MiB at once. On the VMs these benchmarks run on
// (Firecracker, 2 cores) that zeroing was 28% of the samples of
// `ingest --taxonomy` on the anchor workload, and its cost varied from run
// to run with the host (system time 0.5 to 1.3 s). With 4 KiB pages only
// what is touched is zeroed (5 alternating runs, medians): `ingest
// --taxonomy` 2.14 -> 1.99 s and peak 523 -> 476 MiB, `compare` 1.00 ->
// 0.86 s, `run` 4.51 -> 3.87 s. The one-second purge delay still pays with
// them off (2.22 s at mimalloc's 10 ms). `MIMALLOC_ALLOW_THP` in the
// environment still wins.
#[cfg(target_os = "linux")]
extern "C" {
    fn prctl(option: std::ffi::c_int, ...) -> std::ffi::c_int;
}
/// `PR_SET_THP_DISABLE` in `<linux/prctl.h>`.
#[cfg(target_os = "linux")]
const PR_SET_THP_DISABLE: std::ffi::c_int = 41;
/// `mi_option_allow_thp` in mimalloc v2's `mi_option_e`. v3 (whose
/// `mi_version()` is 3xxxx, v2's 2xxxx) numbers its options otherwise past
/// 28, so it is set only under v2; the prctl alone turns the pages off.
const MI_OPTION_ALLOW_THP: std::ffi::c_int = 37;

fn main() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: the option is an integer mimalloc reads before each new
        // mapping; the prctl sets a flag of this process that the kernel
        // checks on every later fault (the arena mimalloc mapped before
        // `main` included), with integer arguments only.
        unsafe {
            if mi_version() / 10000 == 2 {
                mi_option_set(MI_OPTION_ALLOW_THP, 0);
            }
            #[cfg(target_os = "linux")]
            prctl(
                PR_SET_THP_DISABLE,
                1 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
                0 as std::ffi::c_ulong,
            );
        }
    }
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
