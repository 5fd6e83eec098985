//! The claims ledger and the Markdown report on a real run: the default
//! suite as this host measured it on 2026-11-30 (`cargo run --release`,
//! fixture `fixtures/default-suite.json`, recorded histograms and all). One
//! test per verdict kind; snapshots of the Markdown (`insta`).

use coldbench_reports::claims::{self, SHIPPED_CLAIMS, VerdictKind};
use coldbench_results::RunFile;
use std::path::Path;

fn fixture() -> RunFile {
    RunFile::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/default-suite.json"))
        .unwrap()
}

fn verdict(id: &str) -> claims::Verdict {
    let run = fixture();
    let all = claims::parse(SHIPPED_CLAIMS, "claims.toml").unwrap();
    let c = all.iter().find(|c| c.id == id).unwrap();
    claims::check(c, &[&run])
}

#[test]
fn containers_starting_in_100_to_500_ms_holds() {
    // docker noop t_ready medians 266 ms [251–325] and [257–303], n = 6.
    let v = verdict("container-start-100-500ms");
    assert_eq!(v.kind, VerdictKind::Holds, "{}", v.detail);
    assert_eq!(v.figures.len(), 2);
}

#[test]
fn containers_taking_2_3_s_fails() {
    let v = verdict("container-cold-start-2.3s");
    assert_eq!(v.kind, VerdictKind::Fails, "{}", v.detail);
}

#[test]
fn wasm_under_a_millisecond_depends_on_the_runtime() {
    let v = verdict("wasm-under-1ms");
    assert_eq!(v.kind, VerdictKind::Depends, "{}", v.detail);
    // Pooled and AOT starts are sub-millisecond; JIT compile and node are not.
    assert!(v.detail.contains("holds for") && v.detail.contains("wasmtime-pooling"));
    assert!(v.detail.contains("fails for") && v.detail.contains("wasmtime-jit"));
}

#[test]
fn a_figure_no_run_holds_is_not_measured_with_the_command() {
    // The default suite runs no thumbnail throughput.
    let v = verdict("image-overhead-20pct");
    assert_eq!(v.kind, VerdictKind::NotMeasured);
    assert!(
        v.detail
            .contains("coldbench throughput --workloads thumbnail"),
        "{}",
        v.detail
    );
}

#[test]
fn a_claim_about_another_language_is_not_comparable() {
    let v = verdict("python-40pct-faster");
    assert_eq!(v.kind, VerdictKind::NotComparable);
    assert!(v.detail.contains("Python"));
}

#[test]
fn ratio_intervals_use_both_ends() {
    let v = verdict("container-vs-wasm-770x");
    for f in &v.figures {
        assert!(f.low <= f.value && f.value <= f.high, "{f:?}");
    }
    // 266 ms ÷ 300 µs is under 900×, well under 770× for the slower runtimes.
    assert_ne!(v.kind, VerdictKind::Holds);
}

#[test]
fn markdown_ledger_and_report_snapshots() {
    let run = fixture();
    let all = claims::parse(SHIPPED_CLAIMS, "claims.toml").unwrap();
    let verdicts = claims::ledger(&all, &[&run]);
    let ledger = coldbench_reports::markdown::ledger(&verdicts);
    insta::assert_snapshot!("claims_ledger", ledger);
    let md =
        coldbench_reports::markdown::report(&[&run], &verdicts, &[8 << 30, 64 << 30, 256 << 30]);
    assert!(md.len() < 64 * 1024, "{} bytes", md.len());
    insta::assert_snapshot!("default_suite_report", md);
}

/// The HTML page of a real run: self-contained (no script, nothing fetched),
/// every chart present, and text from the file escaped everywhere — a
/// target id carrying markup ends up as text, in tables and in charts alike.
#[test]
fn html_is_self_contained_and_escapes_what_it_prints() {
    let mut run = fixture();
    let evil = "<script>alert(1)</script>";
    let id = run.targets[0].id.clone();
    run.targets[0].id = evil.to_string();
    if let Some(c) = run.cold_start.as_mut() {
        for r in c.results.iter_mut().filter(|r| r.target == id) {
            r.target = evil.to_string();
        }
    }
    if let Some(t) = run.throughput.as_mut() {
        for c in t.cells.iter_mut().filter(|c| c.target == id) {
            c.target = evil.to_string();
        }
    }
    let all = claims::parse(SHIPPED_CLAIMS, "claims.toml").unwrap();
    let verdicts = claims::ledger(&all, &[&run]);
    let html = coldbench_reports::html::report(&[&run], &verdicts, &[]);
    assert!(!html.contains("<script"), "unescaped markup in the page");
    assert!(html.contains("&lt;script&gt;"));
    for needle in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the page fetches something: {needle}"
        );
    }
    // 4 workloads × (2 cold-start distributions + 1 phase chart), 2 density
    // workloads × (PSS and t_ready against N), 2 throughput modes × (slowdown
    // and latency percentiles).
    assert_eq!(html.matches("<svg").count(), 20);
    let claims_at = html.find("id=\"claims\"").unwrap();
    let cold_at = html.find("id=\"cold-start\"").unwrap();
    assert!(claims_at < cold_at, "the claims ledger comes first");
}

/// The sizing sheet of the real run never takes memory as the only limit:
/// 500 pooled noop instances cost 63 KiB each here, so memory alone would
/// allow hundreds of thousands, but the run's pooling allocator has 1,001
/// slots — the engine cap binds first, and the sheet says so.
#[test]
fn the_engine_cap_binds_before_memory_for_pooled_instances() {
    use coldbench_reports::sizing::{Limit, sheet};
    let run = fixture();
    let sheet = sheet(&run, &[64 << 30]);
    let pooled: Vec<_> = sheet
        .iter()
        .filter(|z| z.workload == "noop" && z.target == "wasmtime-pooling")
        .collect();
    assert_eq!(pooled.len(), 2, "this host and 64 GiB");
    for z in pooled {
        let memory = z
            .allowances
            .iter()
            .find(|a| a.limit == Limit::Memory)
            .unwrap();
        assert!(memory.instances > 100_000, "{memory:?}");
        let b = z.binding().unwrap();
        assert_eq!((b.limit, b.instances), (Limit::EngineCap, 1001));
    }
    // The 64 GiB host allows more by memory than this 24 GiB one.
    let mem = |h: u64| {
        sheet
            .iter()
            .find(|z| {
                z.target == "docker-scratch-runc-bridge"
                    && z.workload == "noop"
                    && z.host_memory_bytes == h
            })
            .and_then(|z| z.allowances.iter().find(|a| a.limit == Limit::Memory))
            .map(|a| a.instances)
            .unwrap()
    };
    assert!(
        mem(64 << 30)
            > mem(run
                .density
                .as_ref()
                .unwrap()
                .config
                .projection_host_memory_bytes)
    );
}

/// The PNG charts of the real run: every chart of the HTML page, 1200 px
/// wide, drawn with the embedded font (no system font needed), not blank.
#[test]
fn every_chart_renders_as_a_png_with_the_embedded_font() {
    let run = fixture();
    let charts = coldbench_reports::html::charts(&[&run]);
    assert_eq!(charts.len(), 20);
    let dir = std::env::temp_dir().join(format!("coldbench-png-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, c) in charts.iter().enumerate() {
        let path = dir.join(format!("{i}.png"));
        c.png(&path).unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.width, 1200, "{}", c.title());
        let px = info.color_type.samples();
        let colours: std::collections::HashSet<&[u8]> =
            buf[..info.buffer_size()].chunks(px).collect();
        assert!(
            colours.len() > 20,
            "{}: {} colours",
            c.title(),
            colours.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same machine's runs are merged even when its kernels report total
/// memory a few KiB apart (seen on the exhaustive runs: 25,276,502,016 vs
/// 25,276,510,208 bytes); another machine is named by what tells it apart.
#[test]
fn hosts_differing_only_by_kibibytes_of_memory_are_one_host() {
    let a = fixture();
    let mut b = fixture();
    b.host.memory_total_bytes += 8 * 1024;
    b.host.kernel = "another-kernel".into();
    assert_eq!(coldbench_reports::mixed_hosts(&[&a, &b]), None);
    b.host.memory_total_bytes = a.host.memory_total_bytes / 2;
    let why = coldbench_reports::mixed_hosts(&[&a, &b]).expect("half the memory is another host");
    assert!(
        why.contains("another-kernel") && why.contains("of memory"),
        "{why}"
    );
}
