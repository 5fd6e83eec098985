//! `compare` and the exports on real runs of the reference host: the
//! default suite of 2026-11-30 (`fixtures/default-suite.json`), and each
//! export checked against its consumer's documented format.

use coldbench_reports::compare::{self, CompareError, FailOn, Options, Verdict};
use coldbench_reports::export;
use coldbench_results::RunFile;
use std::path::Path;

fn fixture(name: &str) -> RunFile {
    RunFile::read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn a_run_compared_with_itself_is_unchanged_everywhere() {
    let run = fixture("default-suite.json");
    let c = compare::compare(&run, "a", &run, "a", &Options::default()).unwrap();
    assert!(c.rows.len() > 100, "{} rows", c.rows.len());
    let odd: Vec<String> = c
        .rows
        .iter()
        .filter(|r| r.verdict != Verdict::Unchanged)
        .map(|r| r.key.to_string())
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    assert!(c.differences.is_empty(), "{:?}", c.differences);
    assert!(c.only_base.is_empty() && c.only_new.is_empty());
    assert!(!c.fails(FailOn::Slower) && !c.fails(FailOn::Any));
}

/// One run of the stored CI baseline (five runs of one build on the
/// reference host, 2026-11-30).
fn baseline(n: u32) -> RunFile {
    RunFile::read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ci/baseline")
            .join(n.to_string())
            .join("run.json"),
    )
    .unwrap()
}

/// Two different runs of the same build: the bootstrap runs (each
/// histogram row gets an interval of its own around its ratio, not the
/// degenerate [1, 1] of a run compared with itself), and the comparison says what
/// such an interval leaves out — run-to-run drift. (On these runs, one
/// against one calls 13–29 rows of 276 slower and 12–25 faster: the drift
/// between runs of one build; see the set comparison below.)
#[test]
fn one_run_against_another_of_the_same_build_reaches_the_bootstrap() {
    let (a, b) = (baseline(1), baseline(2));
    let c = compare::compare(&a, "1", &b, "2", &Options::default()).unwrap();
    let boot: Vec<_> = c
        .rows
        .iter()
        .filter(|r| r.method == compare::Method::ExactBootstrap)
        .collect();
    assert!(boot.len() > 100, "{} bootstrapped rows", boot.len());
    for r in &boot {
        assert!(
            r.low < r.high && r.low <= r.ratio && r.ratio <= r.high,
            "{}: {r:?}",
            r.key
        );
    }
    assert!(
        compare::summary_line(&c).contains("one run per side: sampling noise only"),
        "{}",
        compare::summary_line(&c)
    );
}

/// Two sets of runs of the same build (runs 1–2 against 3–5): with the
/// run-to-run spread in the interval, no row is called slower or faster.
#[test]
fn two_sets_of_runs_of_one_build_call_nothing_slower_or_faster() {
    let base: Vec<RunFile> = (1..=2).map(baseline).collect();
    let new: Vec<RunFile> = (3..=5).map(baseline).collect();
    let b: Vec<&RunFile> = base.iter().collect();
    let n: Vec<&RunFile> = new.iter().collect();
    let c = compare::compare_sets(&b, "1-2", &n, "3-5", &Options::default()).unwrap();
    assert!(c.rows.len() > 200, "{} rows", c.rows.len());
    assert!(
        compare::summary_line(&c).contains("2 BASE run(s) vs 3 NEW run(s): run-to-run spread"),
        "{}",
        compare::summary_line(&c)
    );
    let called: Vec<String> = c
        .rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Slower | Verdict::Faster))
        .map(|r| {
            format!(
                "{} {:?} {:.3} [{:.3}–{:.3}]",
                r.key, r.verdict, r.ratio, r.low, r.high
            )
        })
        .collect();
    assert!(called.is_empty(), "{called:#?}");
    assert!(!c.fails(FailOn::Any));
}

#[test]
fn runs_with_no_row_in_common_are_an_error_naming_both() {
    let run = fixture("default-suite.json");
    let mut empty = run.clone();
    empty.cold_start = None;
    empty.density = None;
    empty.throughput = None;
    for t in &mut empty.targets {
        t.artifacts.clear();
    }
    let e =
        compare::compare(&run, "base.json", &empty, "new.json", &Options::default()).unwrap_err();
    assert!(matches!(e, CompareError::NothingInCommon { .. }));
    let text = e.to_string();
    assert!(
        text.contains("base.json") && text.contains("new.json"),
        "{text}"
    );
}

#[test]
fn rows_on_one_side_only_are_listed() {
    let run = fixture("default-suite.json");
    let mut fewer = run.clone();
    fewer
        .cold_start
        .as_mut()
        .unwrap()
        .results
        .retain(|r| r.target != "wasmi");
    let c = compare::compare(&run, "a", &fewer, "b", &Options::default()).unwrap();
    assert!(!c.only_base.is_empty());
    assert!(c.only_base.iter().all(|k| k.target == "wasmi"));
    assert!(c.only_new.is_empty());
    let text = compare::terminal(&c, false);
    assert!(text.contains("Only in BASE"), "{text}");
}

#[test]
fn a_different_cpu_downgrades_every_verdict_unless_allowed() {
    let run = fixture("default-suite.json");
    let mut other = run.clone();
    other.host.cpu_model = "Another CPU".into();
    // Make one row clearly slower: every throughput cell at 60 % of its rate.
    for c in &mut other.throughput.as_mut().unwrap().cells {
        c.rps *= 0.6;
        c.rps_ci95_low *= 0.6;
        c.rps_ci95_high *= 0.6;
    }
    let c = compare::compare(&run, "a", &other, "b", &Options::default()).unwrap();
    assert!(c.host_warning.is_some());
    assert!(
        c.rows
            .iter()
            .all(|r| r.verdict == Verdict::Unsure || r.verdict == Verdict::Unchanged)
    );
    assert!(!c.fails(FailOn::Slower));
    let keep = Options {
        same_host_not_required: true,
        ..Options::default()
    };
    let c = compare::compare(&run, "a", &other, "b", &keep).unwrap();
    assert!(c.fails(FailOn::Slower));
    assert!(
        c.rows
            .iter()
            .filter(|r| r.key.metric.ends_with(".rps"))
            .any(|r| r.verdict == Verdict::Slower)
    );
    assert!(c.differences.iter().any(|d| d.what == "host.cpu_model"));
}

#[test]
fn the_markdown_is_a_pr_comment() {
    let run = fixture("default-suite.json");
    let c = compare::compare(
        &run,
        "base/run.json",
        &run,
        "new/run.json",
        &Options::default(),
    )
    .unwrap();
    let md = compare::markdown(&c);
    assert!(md.starts_with("## coldbench compare"));
    assert!(md.contains("<details>") && md.contains("unchanged rows"));
    assert!(md.len() < 64 * 1024, "{} bytes", md.len());
}

#[test]
fn bmf_validates_against_bencher_schema() {
    let run = fixture("default-suite.json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schemas/bmf.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let bmf = export::bmf(&run);
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&bmf).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let map = bmf.as_object().unwrap();
    // Measures are Bencher's slugs (at most 64 characters); every kind is there.
    let mut measures = std::collections::BTreeSet::new();
    for (name, m) in map {
        assert!(name.split('/').count() >= 3, "{name}");
        for slug in m.as_object().unwrap().keys() {
            assert!(slug.len() <= 64);
            measures.insert(slug.clone());
        }
    }
    for m in ["latency", "throughput", "memory-per-instance", "file-size"] {
        assert!(measures.contains(m), "{measures:?}");
    }
    // Latency is in ns, its bounds the run's own interval of the median
    // (not any interval that happens to contain the value).
    let latency = &map["noop/wasmtime-pooling/t_ready"]["latency"];
    let source = run
        .result(
            "noop",
            "wasmtime-pooling",
            coldbench_results::Metric::TReady,
        )
        .unwrap()
        .summary;
    assert_eq!(
        [
            latency["value"].as_f64(),
            latency["lower_value"].as_f64(),
            latency["upper_value"].as_f64()
        ],
        [
            Some(source.p50_ns as f64),
            Some(source.p50_ci95_low_ns as f64),
            Some(source.p50_ci95_high_ns as f64)
        ]
    );
}

#[test]
fn hyperfine_json_has_its_fields_in_seconds() {
    let run = fixture("default-suite.json");
    let j = export::hyperfine_json(&run);
    let results = j["results"].as_array().unwrap();
    assert_eq!(results.len(), run.cold_start_results().len());
    for r in results {
        for f in ["command", "mean", "stddev", "median", "min", "max", "times"] {
            assert!(r.get(f).is_some(), "{f} missing in {r}");
        }
    }
    let r = results
        .iter()
        .find(|r| r["command"] == "noop/docker-scratch-runc-bridge/t_ready")
        .unwrap();
    // Seconds: a container start is between 10 ms and 10 s.
    let median = r["median"].as_f64().unwrap();
    assert!((0.01..10.0).contains(&median), "{median}");
    let times = r["times"].as_array().unwrap();
    let source = run
        .result(
            "noop",
            "docker-scratch-runc-bridge",
            coldbench_results::Metric::TReady,
        )
        .unwrap();
    assert_eq!(times.len() as u64, source.summary.n);
    // min and max are the run's own (its summary, in s), and the times
    // (recovered from the histogram) reach them, within HDR's 3 digits.
    let (min, max) = (r["min"].as_f64().unwrap(), r["max"].as_f64().unwrap());
    assert_eq!(
        (min, max),
        (
            source.summary.min_ns as f64 / 1e9,
            source.summary.max_ns as f64 / 1e9
        )
    );
    let times: Vec<f64> = times.iter().map(|t| t.as_f64().unwrap()).collect();
    let (lo, hi) = times
        .iter()
        .fold((f64::MAX, 0.0f64), |(l, h), t| (l.min(*t), h.max(*t)));
    assert!(
        (lo / min - 1.0).abs() < 1e-3 && (hi / max - 1.0).abs() < 1e-3,
        "times {lo}..{hi}, summary {min}..{max}"
    );
}

#[test]
fn github_benchmark_lists_have_its_fields() {
    let run = fixture("default-suite.json");
    let (smaller, bigger) = export::github_benchmark(&run);
    let smaller = smaller.as_array().unwrap();
    let bigger = bigger.as_array().unwrap();
    assert!(!smaller.is_empty() && !bigger.is_empty());
    for e in smaller.iter().chain(bigger) {
        assert!(e["name"].is_string() && e["unit"].is_string());
        assert!(e["value"].is_number());
        assert!(e["range"].as_str().unwrap().starts_with('±'));
        assert!(e["extra"].is_string());
    }
    assert!(bigger.iter().all(|e| e["unit"] == "requests/s"));
    assert!(
        smaller
            .iter()
            .all(|e| e["unit"] == "ns" || e["unit"] == "bytes")
    );
    // Names are unique within a list (a dashboard keys its series by them).
    let names: std::collections::BTreeSet<&str> = smaller
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), smaller.len());
}

#[test]
fn the_compare_page_is_self_contained_and_escapes_labels() {
    let run = fixture("default-suite.json");
    let c = compare::compare(&run, "<script>x</script>", &run, "new", &Options::default()).unwrap();
    let labels = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    let pairs = vec![
        (&run, "a".to_string()),
        (&run, "b".to_string()),
        (&run, "c".to_string()),
    ];
    let trends = compare::trends(
        &pairs,
        &Options {
            metrics: vec!["t_ready".into()],
            ..Options::default()
        },
    );
    let html = coldbench_reports::html::compare(&c, &labels, &trends);
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("<svg"));
    assert!(html.contains("across runs"));
    // Nothing fetched: no remote source, link, import or url() at all.
    for needle in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the page fetches something: {needle}"
        );
    }
}
