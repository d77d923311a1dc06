//! Reports: charts snapshotted as SVG text, PNGs decoded and checked for
//! size and ink, the HTML checked for escaping, self-containment and order.
//!
//! Snapshots live in `tests/snapshots/`; after a reviewed change, refresh
//! them with `UPDATE_SNAPSHOTS=1 cargo test --test suite report::`.

use std::fs;
use std::path::Path;

use caploop::ingest::{FileRead, IngestReport, Skipped};
use caploop::report::charts::{self, Chart};
use caploop::report::{html, markdown, ExampleItem, Grid, ReportInput, Sections};
use caploop::slices::{CompareSettings, Comparison, Pairing, SliceComparison, SliceStats, Status};
use caploop::stats::PairedDelta;
use caploop::tagging::Coverage;

const EVIL: &str = "<script>alert(1)</script>\"&'";

/// Compare with `tests/snapshots/<name>`, or write it when
/// `UPDATE_SNAPSHOTS=1`. On a difference the new text is saved under the
/// target folder for review.
fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        )
    });
    if expected != actual {
        let new = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        fs::write(&new, actual).unwrap();
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or(expected.lines().count().min(actual.lines().count()), |i| i)
            + 1;
        panic!(
            "{name} differs from its snapshot from line {line}; new output in {} (diff it, and if right, UPDATE_SNAPSHOTS=1)",
            new.display()
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    benchmark: &str,
    slice: &str,
    items: usize,
    base: f64,
    cand: f64,
    lo: f64,
    hi: f64,
    q: f64,
    status: Status,
) -> SliceComparison {
    SliceComparison {
        benchmark: benchmark.into(),
        slice: slice.into(),
        paired: PairedDelta {
            items,
            baseline_mean: base,
            candidate_mean: cand,
            delta: cand - base,
            ci_low: lo,
            ci_high: hi,
            p_value: q / 2.0,
            q_value: q,
        },
        mde: 0.08,
        status,
        method: "mcnemar_exact",
        regressed: items / 4,
        fixed: items / 10,
        regressed_ids: vec!["item-7".into(), "item-3#2".into()],
        fixed_ids: vec![],
    }
}

fn pairing(benchmark: &str) -> Pairing {
    Pairing {
        benchmark: benchmark.into(),
        paired: 400,
        only_baseline: 0,
        only_candidate: 0,
        prompt_changed: 0,
    }
}

/// A comparison with the cases a forest plot must handle: the whole
/// benchmark, regressed, improved, stable, underpowered, a very long name,
/// an interval that is not a number.
fn comparison(benchmark: &str) -> Comparison {
    let b = benchmark;
    Comparison {
        baseline: "ckpt-1000".into(),
        candidate: "ckpt-2000".into(),
        settings: CompareSettings::default(),
        pairing: vec![pairing(b)],
        slices: vec![
            row(b, "*", 400, 0.62, 0.50, -0.16, -0.08, 1e-6, Status::Regressed),
            row(
                b,
                "operation=counting",
                120,
                0.64,
                0.29,
                -0.45,
                -0.25,
                1e-9,
                Status::Regressed,
            ),
            row(
                b,
                "operation=counting & operation=modular_arithmetic_with_a_remarkably_long_name",
                60,
                0.60,
                0.40,
                -0.35,
                -0.05,
                0.03,
                Status::Regressed,
            ),
            row(
                b,
                "operation=ratio",
                110,
                0.50,
                0.58,
                0.01,
                0.15,
                0.04,
                Status::Improved,
            ),
            row(
                b,
                "task_type=mc",
                300,
                0.60,
                0.59,
                -0.03,
                0.01,
                0.6,
                Status::Stable,
            ),
            row(
                b,
                "operation=percentage",
                22,
                0.70,
                0.66,
                -0.25,
                0.17,
                0.8,
                Status::Underpowered,
            ),
            row(
                b,
                "operation=sequences",
                20,
                0.50,
                0.50,
                f64::NAN,
                f64::NAN,
                f64::NAN,
                Status::Underpowered,
            ),
        ],
    }
}

/// The heatmap's cells: two task types by three operations, one cell
/// empty, one too small to trust.
fn grid_comparison(benchmark: &str) -> Comparison {
    let b = benchmark;
    Comparison {
        slices: vec![
            row(
                b,
                "operation=counting & task_type=mc",
                80,
                0.6,
                0.3,
                -0.42,
                -0.18,
                1e-5,
                Status::Regressed,
            ),
            row(
                b,
                "operation=counting & task_type=open_ended_generation",
                40,
                0.7,
                0.5,
                -0.35,
                -0.05,
                0.02,
                Status::Regressed,
            ),
            row(
                b,
                "operation=ratio & task_type=mc",
                110,
                0.5,
                0.58,
                0.01,
                0.15,
                0.04,
                Status::Improved,
            ),
            row(
                b,
                "operation=percentage & task_type=open_ended_generation",
                6,
                0.5,
                0.33,
                -0.6,
                0.3,
                0.7,
                Status::Underpowered,
            ),
        ],
        ..comparison(benchmark)
    }
}

fn stats(run: &str, benchmark: &str, slice: &str, items: usize, mean: f64) -> SliceStats {
    SliceStats {
        run: run.into(),
        benchmark: benchmark.into(),
        slice: slice.into(),
        items,
        samples: items as u64,
        mean,
        ci_low: mean - 0.05,
        ci_high: mean + 0.05,
        k: None,
        pass_at_k: None,
        pass_at: Vec::new(),
    }
}

fn input(c: &Comparison) -> ReportInput<'_> {
    ReportInput {
        title: format!("caploop: {} vs {}", c.baseline, c.candidate),
        comparison: Some(c),
        ..ReportInput::default()
    }
}

fn grid<'a>(c: Option<&'a Comparison>, stats: &'a [SliceStats]) -> Grid<'a> {
    Grid {
        rows: "operation",
        cols: "task_type",
        comparison: c,
        stats,
    }
}

#[test]
fn forest_plot_svg_matches_snapshot() {
    let c = comparison("math");
    let charts = charts::plan(&input(&c), &Sections::default());
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0].stem(), "forest-math");
    assert_snapshot("forest.svg", &charts[0].svg().unwrap());
}

#[test]
fn heatmap_svg_matches_snapshot() {
    let c = comparison("math");
    let g = grid_comparison("math");
    let sections = Sections {
        grid: Some(grid(Some(&g), &[])),
        ..Sections::default()
    };
    let charts = charts::plan(&input(&c), &sections);
    let heat: Vec<&Chart> = charts.iter().filter(|c| matches!(c, Chart::Heatmap(_))).collect();
    assert_eq!(heat.len(), 1);
    assert_eq!(heat[0].stem(), "heatmap-math");
    assert_snapshot("heatmap.svg", &heat[0].svg().unwrap());
}

#[test]
fn accuracy_heatmap_without_a_comparison_matches_snapshot() {
    let s = vec![
        stats("ckpt-1", "bbh", "operation=add & task_type=mc", 40, 0.8),
        stats("ckpt-1", "bbh", "operation=mul & task_type=mc", 30, 0.35),
        stats("ckpt-1", "bbh", "operation=mul", 50, 0.4),
    ];
    let sections = Sections {
        grid: Some(grid(None, &s)),
        ..Sections::default()
    };
    let input = ReportInput {
        title: "one run".into(),
        slices: &s,
        ..ReportInput::default()
    };
    let charts = charts::plan(&input, &sections);
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0].stem(), "heatmap-bbh-ckpt-1");
    assert_snapshot("heatmap-accuracy.svg", &charts[0].svg().unwrap());
    // The page shows the run's heatmap and slices without a comparison.
    let page = html::render(&input, &sections);
    assert!(page.contains("<svg class=\"chart\""));
    assert!(page.contains("operation=mul &amp; task_type=mc"));
}

#[test]
fn long_names_are_cut_in_charts_and_whole_in_tooltips() {
    let c = comparison("math");
    let svg = charts::plan(&input(&c), &Sections::default())[0].svg().unwrap();
    assert!(svg.contains(
        "<title>operation=counting &amp; operation=modular_arithmetic_with_a_remarkably_long_name\n"
    ));
    assert!(svg.contains("…\n</text>"), "no label was cut");
}

#[test]
fn charts_are_byte_identical_on_every_run() {
    let c = comparison("math");
    let g = grid_comparison("math");
    let sections = Sections {
        grid: Some(grid(Some(&g), &[])),
        ..Sections::default()
    };
    let input = input(&c);
    for chart in charts::plan(&input, &sections) {
        assert_eq!(chart.svg().unwrap(), chart.svg().unwrap());
        assert_eq!(chart.png().unwrap(), chart.png().unwrap());
    }
    assert_eq!(html::render(&input, &sections), html::render(&input, &sections));
}

/// Decode a PNG: (width, height, RGB bytes).
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Pixels in a rectangle of the image that are not near-white.
fn ink(rgb: &[u8], width: u32, (x0, y0, x1, y1): (u32, u32, u32, u32)) -> usize {
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = ((y * width + x) * 3) as usize;
            if rgb[i..i + 3].iter().any(|&v| v < 200) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn png_is_twice_the_svg_size_with_text_and_marks_drawn() {
    let c = comparison("math");
    let chart = &charts::plan(&input(&c), &Sections::default())[0];
    let bytes = chart.png().unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h, rgb) = decode(&bytes);
    let (lw, lh) = chart.size();
    assert_eq!((w, h), (2 * lw, 2 * lh));
    // The slice labels (left column) and the plot (middle) have ink: text
    // drawn with the embedded font, points and whiskers.
    let labels = ink(&rgb, w, (32, 200, 700, h - 200));
    let plot = ink(&rgb, w, (760, 200, 1450, h - 200));
    assert!(labels > 2000, "labels: {labels} dark pixels");
    assert!(plot > 2000, "plot: {plot} dark pixels");
    // Regressed points are red: some pixel is clearly red.
    let red = rgb
        .chunks(3)
        .filter(|p| p[0] > 150 && p[1] < 60 && p[2] < 80)
        .count();
    assert!(red > 100, "red pixels: {red}");
}

#[test]
fn heatmap_png_has_coloured_cells() {
    let c = comparison("math");
    let g = grid_comparison("math");
    let sections = Sections {
        grid: Some(grid(Some(&g), &[])),
        ..Sections::default()
    };
    let charts = charts::plan(&input(&c), &sections);
    let heat = charts.iter().find(|c| matches!(c, Chart::Heatmap(_))).unwrap();
    let (w, h, rgb) = decode(&heat.png().unwrap());
    assert_eq!((w, h), (2 * heat.size().0, 2 * heat.size().1));
    let blue = rgb
        .chunks(3)
        .filter(|p| u16::from(p[2]) > u16::from(p[0]) + 40)
        .count();
    let red = rgb
        .chunks(3)
        .filter(|p| u16::from(p[0]) > u16::from(p[2]) + 40)
        .count();
    assert!(blue > 1000 && red > 1000, "blue {blue}, red {red}");
}

#[test]
fn write_all_writes_an_svg_and_a_png_per_chart() {
    let c = comparison("math");
    let g = grid_comparison("math");
    let sections = Sections {
        grid: Some(grid(Some(&g), &[])),
        ..Sections::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let files = charts::write_all(dir.path(), &input(&c), &sections).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.svg.as_str()).collect();
    assert_eq!(names, ["charts/forest-math.svg", "charts/heatmap-math.svg"]);
    for f in &files {
        let svg = fs::read_to_string(dir.path().join(&f.svg)).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(fs::read(dir.path().join(&f.png)).unwrap().starts_with(b"\x89PNG"));
    }
    let md = markdown::render_linked(&input(&c), &files);
    assert!(
        md.contains("(charts/forest-math.svg) ([PNG](charts/forest-math.png))"),
        "{md}"
    );
    assert!(!markdown::render(&input(&c)).contains("charts/"));
}

/// A report whose every log-derived string is hostile.
fn hostile() -> (
    Comparison,
    Comparison,
    IngestReport,
    Vec<Coverage>,
    Vec<ExampleItem>,
) {
    let b = format!("bench{EVIL}");
    let mut c = comparison(&b);
    c.slices[1].slice = format!("operation={EVIL}");
    c.slices[1].regressed_ids = vec![format!("id{EVIL}")];
    c.pairing[0].only_baseline = 3;
    let mut g = grid_comparison(&b);
    g.slices[0].slice = format!("operation={EVIL} & task_type=mc");
    let ingest = IngestReport {
        detected: Vec::new(),
        files: vec![FileRead {
            path: format!("logs/{EVIL}.jsonl"),
            format: "lm-eval".into(),
            run: "ckpt-1000".into(),
            task: EVIL.into(),
            rows: 10,
        }],
        skipped: vec![Skipped {
            location: format!("logs/{EVIL}.jsonl:3"),
            field: Some(EVIL.into()),
            message: EVIL.into(),
        }],
        ignored: vec![EVIL.into()],
        warnings: vec![EVIL.into()],
    };
    let coverage = vec![Coverage {
        benchmark: b.clone(),
        items: 400,
        unknown: vec![(EVIL.into(), 3)],
    }];
    let examples = vec![ExampleItem {
        benchmark: b.clone(),
        slice: format!("operation={EVIL}"),
        item_id: format!("id{EVIL}"),
        prompt: Some(format!("Q: what is 2+2?{EVIL}")),
        target: Some(EVIL.into()),
        baseline_response: Some(format!("4 {EVIL}")),
        candidate_response: Some(format!("{EVIL} ").repeat(300)),
        baseline_score: Some(1.0),
        candidate_score: Some(0.0),
    }];
    (c, g, ingest, coverage, examples)
}

#[test]
fn every_string_from_a_log_is_escaped() {
    let (c, g, ingest, coverage, examples) = hostile();
    let input = ReportInput {
        ingest: Some(&ingest),
        coverage: &coverage,
        ..input(&c)
    };
    let sections = Sections {
        grid: Some(grid(Some(&g), &[])),
        examples: &examples,
        diagnosis: None,
        plan: None,
        verifications: &[],
        history: None,
    };
    let page = html::render(&input, &sections);
    assert!(
        !page.to_lowercase().contains("<script"),
        "a raw <script> reached the page"
    );
    assert!(!page.contains("\"&'"), "raw quote and ampersand reached the page");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;"));
    // Inside the inline charts the escaping is plotters' (text) or ours (tooltips).
    assert!(page.matches("<svg class=\"chart\"").count() >= 2);
    for chart in charts::plan(&input, &sections) {
        let svg = chart.svg().unwrap();
        assert!(!svg.contains("<script"), "{svg}");
    }
}

#[test]
fn the_page_references_nothing_outside_itself() {
    let (c, g, ingest, coverage, examples) = hostile();
    let input = ReportInput {
        ingest: Some(&ingest),
        coverage: &coverage,
        ..input(&c)
    };
    let sections = Sections {
        grid: Some(grid(Some(&g), &[])),
        examples: &examples,
        diagnosis: None,
        plan: None,
        verifications: &[],
        history: None,
    };
    let page = html::render(&input, &sections);
    let lower = page.to_lowercase();
    for needle in [
        "http:", "https:", "src=", "<link", "<script", "url(", "@import", "<iframe", "<img", "xlink:",
    ] {
        assert!(!lower.contains(needle), "the page contains {needle:?}");
    }
    for (i, _) in page.match_indices("href=\"") {
        assert_eq!(
            &page[i + 6..i + 7],
            "#",
            "a link leaves the page: {}",
            &page[i..(i + 60).min(page.len())]
        );
    }
    assert!(page.contains("@media print"));
}

#[test]
fn summary_comes_first_and_empty_sections_are_left_out() {
    let c = comparison("math");
    let page = html::render(&input(&c), &Sections::default());
    let summary = page.find("<section id=\"summary\">").unwrap();
    let bench = page.find("<section id=\"b-math\">").unwrap();
    assert!(summary < bench);
    assert!(page.find("<table").unwrap() > summary);
    // No pairing problem, no examples, no coverage, no inputs: no such sections.
    for absent in [
        "id=\"pairing\"",
        "Example items",
        "id=\"coverage\"",
        "id=\"inputs\"",
    ] {
        assert!(!page.contains(absent), "{absent}");
    }
    // Numbers are right-aligned and percentages have one decimal.
    assert!(page.contains("<td class=\"num\">62.0%</td>"));
    assert!(page.contains("<td class=\"num\"><b>-12.0</b></td>"));
}

#[test]
fn examples_show_the_end_of_the_prompt_and_the_start_of_responses() {
    let c = comparison("math");
    let examples = vec![ExampleItem {
        benchmark: "math".into(),
        slice: "operation=counting".into(),
        item_id: "item-7".into(),
        prompt: Some(format!("{}THE QUESTION", "few-shot exemplar. ".repeat(100))),
        target: Some("42".into()),
        baseline_response: Some("The answer is 42.".into()),
        candidate_response: Some(format!("START{}", " and so on".repeat(200))),
        baseline_score: Some(1.0),
        candidate_score: Some(0.0),
    }];
    let sections = Sections {
        examples: &examples,
        ..Sections::default()
    };
    let page = html::render(&input(&c), &sections);
    assert!(page.contains("THE QUESTION</pre>"));
    assert!(page.contains("<pre>START and so on"));
    assert!(page.contains("(last 700 characters;"));
    assert!(page.contains("score 1 → 0"));
}

// ---- End to end on the demo scenario (the main crate only) ----

/// What a run saw and said on one item.
struct Texts {
    prompt: Option<String>,
    target: Option<String>,
    response: Option<String>,
    score: f64,
}

/// Texts of `id` in `benchmark` for the first sample of `run`.
fn texts(t: &caploop::table::SampleTable, benchmark: &str, id: &str, run: &str) -> Option<Texts> {
    (0..t.len())
        .find(|&i| {
            t.benchmark[i] == benchmark
                && t.item_id[i] == id
                && t.run[i] == run
                && t.sample_idx[i] == 0
                && t.primary_filter[i]
        })
        .map(|i| Texts {
            prompt: t.prompt[i].clone(),
            target: t.target[i].clone(),
            response: t.response[i].clone(),
            score: t.score[i],
        })
}

/// The demo scenario through the library as the pipeline wires the report:
/// comparison, heatmap cells, example items from the sample table. With
/// `CAPLOOP_REPORT_DIR` set the report is also written there, to be looked at.
#[test]
fn demo_report_shows_every_benchmark_with_its_charts_and_nothing_external() {
    use caploop::slices;
    use caploop::synth::{self, Scenario, SynthOptions};

    let tmp = tempfile::tempdir().unwrap();
    let planted = synth::generate(&SynthOptions {
        scenario: Scenario::Demo,
        items: 1200,
        samples: 1,
        seed: 7,
        out: tmp.path().join("demo"),
        effect: None,
        after: false,
    })
    .unwrap();
    let taxonomies = caploop::shipped::write_taxonomies(&tmp.path().join("taxonomies")).unwrap();
    let taxonomy = caploop::taxonomy::TaxonomySet::load(&taxonomies).unwrap();
    let logs = [std::path::PathBuf::from(&planted.logs)];
    let (mut table, ingest) =
        caploop::ingest::ingest(&logs, &caploop::ingest::IngestOptions::default()).unwrap();
    let coverage = caploop::tagging::tag_table(&mut table, &taxonomy);
    let samples = tmp.path().join("samples.parquet");
    caploop::table::write_parquet(&table, &samples).unwrap();

    let settings = CompareSettings::default();
    let ds = slices::load(&samples, &settings.filters).unwrap();
    let base = ds.run_index(&planted.baseline).unwrap();
    let cand = ds.run_index(&planted.candidate).unwrap();
    let defined = slices::slices(&ds, settings.max_order, settings.min_items);
    let stats = slices::measure_all(&ds, &defined, settings.confidence, &settings.pass_k);
    let comparison = slices::compare(&ds, base, cand, &defined, &settings);
    let cells = charts::cell_slices(&ds, "operation", "task_type");
    let grid_cmp = slices::compare(&ds, base, cand, &cells, &settings);

    // Two example items of each benchmark's largest regression.
    let mut examples = Vec::new();
    for p in &comparison.pairing {
        let top = comparison
            .slices
            .iter()
            .filter(|s| s.benchmark == p.benchmark && s.slice != "*" && s.status == Status::Regressed)
            .min_by(|a, b| a.paired.delta.total_cmp(&b.paired.delta));
        for id in top.iter().flat_map(|t| t.regressed_ids.iter().take(2)) {
            let b = texts(&table, &p.benchmark, id, &planted.baseline);
            let c = texts(&table, &p.benchmark, id, &planted.candidate);
            if let (Some(b), Some(c)) = (b, c) {
                examples.push(ExampleItem {
                    benchmark: p.benchmark.clone(),
                    slice: top.map(|t| t.slice.clone()).unwrap_or_default(),
                    item_id: id.clone(),
                    prompt: b.prompt,
                    target: b.target,
                    baseline_response: b.response,
                    candidate_response: c.response,
                    baseline_score: Some(b.score),
                    candidate_score: Some(c.score),
                });
            }
        }
    }

    let input = ReportInput {
        title: format!("caploop: {} vs {}", planted.baseline, planted.candidate),
        ingest: Some(&ingest),
        coverage: &coverage,
        slices: &stats,
        comparison: Some(&comparison),
    };
    let sections = Sections {
        grid: Some(grid(Some(&grid_cmp), &[])),
        examples: &examples,
        diagnosis: None,
        plan: None,
        verifications: &[],
        history: None,
    };
    let out = match std::env::var_os("CAPLOOP_REPORT_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => tmp.path().join("report"),
    };
    let files = charts::write_all(&out, &input, &sections).unwrap();
    let page = html::render(&input, &sections);
    fs::write(out.join("report.html"), &page).unwrap();
    fs::write(out.join("report.md"), markdown::render_linked(&input, &files)).unwrap();

    let stems: Vec<&str> = files.iter().map(|f| f.svg.as_str()).collect();
    assert_eq!(
        stems,
        [
            "charts/forest-bbh.svg",
            "charts/heatmap-bbh.svg",
            "charts/forest-math.svg",
            "charts/heatmap-math.svg"
        ]
    );
    assert_eq!(examples.len(), 4, "two examples per benchmark");
    let lower = page.to_lowercase();
    for needle in ["http:", "https:", "src=", "<link", "<script"] {
        assert!(!lower.contains(needle), "{needle}");
    }
    // The bbh heatmap has a cell for each of its operations, though the
    // measured slices drop those conjunctions as redundant.
    let bbh_ops: std::collections::BTreeSet<&str> = comparison
        .slices
        .iter()
        .filter(|s| s.benchmark == "bbh")
        .filter_map(|s| s.slice.strip_prefix("operation="))
        .filter(|s| !s.contains(" & "))
        .collect();
    let cells: std::collections::BTreeSet<&str> = grid_cmp
        .slices
        .iter()
        .filter(|s| s.benchmark == "bbh")
        .filter_map(|s| s.slice.split(" & ").next()?.strip_prefix("operation="))
        .collect();
    assert_eq!(bbh_ops, cells);
    assert!(page.find("id=\"summary\"").unwrap() < page.find("id=\"b-bbh\"").unwrap());
}

/// A `data_out` verdict whose candidate fails by format: runaway and
/// truncated samples grew, wrong answers did not.
fn format_verdict() -> caploop::diagnose::BenchmarkVerdict {
    use caploop::diagnose::failure::FailureMode::{Empty, NoAnswer, Runaway, Truncated, Wrong};
    use caploop::diagnose::verdict::{ContentSplit, FormatSplit, RescoreSplit};
    use caploop::diagnose::{BenchmarkVerdict, Verdict};
    let modes = |e, t, r, n, w| {
        [
            (Empty, e),
            (Truncated, t),
            (Runaway, r),
            (NoAnswer, n),
            (Wrong, w),
        ]
        .into_iter()
        .collect()
    };
    BenchmarkVerdict {
        benchmark: "bbh".into(),
        verdict: Verdict::DataOut,
        reason: "format failures explain the drop".into(),
        items: 300,
        baseline_mean: 0.72,
        candidate_mean: 0.41,
        delta: -0.31,
        ci_low: -0.37,
        ci_high: -0.25,
        q_value: 1e-9,
        regressed_slices: 0,
        content: ContentSplit {
            items: 180,
            delta: -0.01,
            ci_low: -0.05,
            ci_high: 0.03,
            p_value: 0.7,
            contribution: -0.005,
        },
        format: FormatSplit {
            items: 120,
            contribution: -0.305,
            ci_low: -0.35,
            ci_high: -0.26,
            candidate_cost: -0.3,
            baseline_only: -0.005,
            share_of_drop: 0.98,
            baseline_rate: 0.01,
            candidate_rate: 0.33,
            baseline_modes: modes(0.0, 0.005, 0.0, 0.005, 0.27),
            candidate_modes: modes(0.01, 0.12, 0.18, 0.02, 0.26),
            template_leak_share: 0.4,
            flipped_items: 110,
            flipped_by_format: 95,
        },
        rescore: RescoreSplit {
            candidate_mean: 0.41,
            rescored_mean: 0.69,
            recovered_share: 0.9,
        },
        fix: None,
        slices: Vec::new(),
        weak_slices: Vec::new(),
        regressed_slice: None,
        weakness_kind: None,
        weakness_kind_slice: None,
    }
}

#[test]
fn failure_modes_svg_matches_snapshot() {
    let v = format_verdict();
    let chart = Chart::Failures(charts::failures::Failures::new(&v, "base-7b", "cand-7b"));
    assert_eq!(chart.stem(), "failures-bbh");
    assert_eq!(chart.title(), "Failure modes: bbh");
    let svg = chart.svg().unwrap();
    assert_eq!(svg, chart.svg().unwrap());
    for label in [
        "correct",
        "runaway",
        "truncated",
        "no_answer",
        "wrong",
        "18.0%",
        "base-7b",
    ] {
        assert!(svg.contains(label), "{label}");
    }
    assert_snapshot("failures.svg", &svg);
    let (w, h, rgb) = decode(&chart.png().unwrap());
    assert_eq!((w, h), (2 * chart.size().0, 2 * chart.size().1));
    // The candidate's runaway segment is red (OrRd).
    let red = rgb
        .chunks(3)
        .filter(|p| p[0] > 190 && p[1] < 70 && p[2] < 60)
        .count();
    assert!(red > 1000, "red pixels: {red}");
}

/// The end-of-sequence scenario through the pipeline: its `data_out`
/// benchmark gets a failure-mode chart, shown in the diagnosis and linked
/// from `report.md`.
#[test]
fn pipeline_draws_the_failure_modes_of_a_diagnosed_benchmark() {
    use caploop::pipeline::{self, PipelineConfig};
    use caploop::synth::{self, Scenario, SynthOptions};

    let tmp = tempfile::tempdir().unwrap();
    let planted = synth::generate(&SynthOptions {
        scenario: Scenario::Eos,
        items: 300,
        samples: 1,
        seed: 1,
        out: tmp.path().join("eos"),
        effect: None,
        after: false,
    })
    .unwrap();
    let tax = Path::new(env!("CARGO_MANIFEST_DIR")).join("taxonomies");
    let cfg = PipelineConfig::new(
        vec![std::path::PathBuf::from(&planted.logs)],
        vec![tax.join("bbh.yaml"), tax.join("math.yaml")],
        &planted.baseline,
        &planted.candidate,
    );
    let out = tmp.path().join("out");
    pipeline::run(&cfg, &out).unwrap();
    let svg = fs::read_to_string(out.join("charts/failures-bbh.svg")).unwrap();
    assert!(svg.contains("Failure modes: bbh"));
    assert!(svg.contains("runaway") && svg.contains("truncated"));
    let (w, h, rgb) = decode(&fs::read(out.join("charts/failures-bbh.png")).unwrap());
    assert!(ink(&rgb, w, (0, 0, w, h)) > 5000);
    let page = fs::read_to_string(out.join("report.html")).unwrap();
    let diagnosis = page.find("id=\"diagnosis\"").unwrap();
    let figure = page.find("aria-label=\"Failure modes: bbh\"").unwrap();
    assert!(diagnosis < figure && figure < page.find("id=\"summary\"").unwrap());
    assert_eq!(page.matches("aria-label=\"Failure modes: bbh\"").count(), 1);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("(charts/failures-bbh.svg)"), "{md}");
}
