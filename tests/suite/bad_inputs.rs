//! Replays the bad-input corpus in `tests/bad_inputs/`: one folder per case
//! (see `tests/bad_inputs/README.md`), each with the command to run (`cmd`),
//! the input files it reads, and what must come out (`expect`: the exit code
//! on the first line, then fragments that must all appear in the output).
//! Each case is its own test, named after the behaviour it pins; a last test
//! checks that every folder of the corpus is listed here.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus() -> PathBuf {
    root().join("tests/bad_inputs")
}

/// Run one case: every step of `cmd` but the last must succeed; the last one
/// must exit with the expected code and print every expected fragment.
fn replay(name: &str) {
    let case = corpus().join(name);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    let subst = |s: &str| {
        s.replace("{case}", &case.display().to_string())
            .replace("{out}", &out.display().to_string())
            .replace("{fixtures}", &root().join("tests/fixtures").display().to_string())
            .replace("{root}", &root().display().to_string())
    };
    let cmd = std::fs::read_to_string(case.join("cmd")).unwrap_or_else(|e| panic!("{name}/cmd: {e}"));
    let expect =
        std::fs::read_to_string(case.join("expect")).unwrap_or_else(|e| panic!("{name}/expect: {e}"));
    let mut lines = expect.lines();
    let code: i32 = lines.next().unwrap().trim().parse().unwrap();
    let fragments: Vec<String> = lines.filter(|l| !l.trim().is_empty()).map(subst).collect();
    let steps: Vec<Vec<String>> = cmd
        .split("\n---\n")
        .map(|step| {
            step.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(subst)
                .collect()
        })
        .collect();
    for (k, args) in steps.iter().enumerate() {
        let o = Command::new(env!("CARGO_BIN_EXE_caploop"))
            .args(args)
            .current_dir(out)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let last = k + 1 == steps.len();
        if !last {
            assert!(o.status.success(), "{name}: setup step {args:?} failed:\n{text}");
            continue;
        }
        assert_eq!(
            o.status.code(),
            Some(code),
            "{name}: {args:?} exited {:?}, expected {code}:\n{text}",
            o.status.code()
        );
        // A panic inside polars that caploop catches is part of the error, not printed.
        assert!(!text.contains("panicked"), "{name}: panic:\n{text}");
        for f in &fragments {
            assert!(text.contains(f.as_str()), "{name}: output lacks '{f}':\n{text}");
        }
    }
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { replay(stringify!($name)); })*
        const CASES: &[&str] = &[$(stringify!($name)),*];
    };
}

cases!(
    check_accepts_flat_compare_settings_that_compare_reads,
    check_accepts_the_readme_pipeline_example,
    column_mapping_errors_are_all_reported_with_lines,
    csv_stray_quote_that_would_merge_rows_is_a_located_error,
    csv_text_after_a_closing_quote_is_a_located_error,
    csv_unterminated_quote_is_a_located_error,
    filters_typo_is_an_error_listing_the_known_filters,
    parquet_corrupt_data_page_is_an_error_naming_the_file,
    parquet_decimal_score_is_read_as_a_number,
    parquet_float16_score_is_an_error_naming_the_column,
    parquet_footer_polars_decodes_slowly_is_an_error_naming_the_file,
    parquet_malformed_metadata_is_an_error_not_a_crash,
    parquet_page_header_with_a_huge_value_count_is_an_error_not_an_abort,
    parquet_small_int_and_date_columns_go_to_meta,
    parquet_struct_score_is_an_error_naming_the_column,
    plan_refuses_evidence_from_an_unfinished_run,
    run_filters_typo_is_an_error_at_its_pipeline_config_line,
    run_rejects_bad_settings_in_a_pipeline_config,
    settings_nan_threshold_is_rejected,
    settings_out_of_range_are_all_reported_with_lines,
    symlink_loop_is_an_error,
    symlinked_run_folder_is_followed,
    verify_refuses_a_plan_changed_since_its_run_finished,
);

#[test]
fn every_corpus_folder_is_replayed() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "tests/bad_inputs folders and the cases! list differ"
    );
    let _ = Path::new("");
}
