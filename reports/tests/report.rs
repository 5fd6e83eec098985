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

/// A claim of the user's own, checked against the fixture.
fn own(toml: &str) -> claims::Verdict {
    let run = fixture();
    let c = claims::parse(toml, "own.toml").unwrap();
    claims::check(&c[0], &[&run])
}

/// One claim on noop's `t_ready` of `targets` with `bound`.
fn t_ready(targets: &str, bound: &str) -> claims::Verdict {
    own(&format!(
        "[[claim]]\nid = \"x\"\nquote = \"q\"\nsource = \"s\"\nbound = {bound}\nmeasure = {{ kind = \"cold_start\", metric = \"t_ready\", workload = \"noop\", targets = [{targets}] }}\n"
    ))
}

// One test per verdict rule, on the recorded default run.

#[test]
fn holds_when_every_interval_is_inside_the_bound() {
    // docker noop t_ready medians 266 ms [251–325] and [257–303], n = 6.
    let v = verdict("container-start-100-500ms");
    assert_eq!(v.kind, VerdictKind::Holds, "{}", v.detail);
    assert_eq!(v.figures.len(), 2);
}

#[test]
fn holds_when_some_hold_and_the_rest_are_unsure_never_depends() {
    // wasmtime-aot 402 µs [351–515] holds ≤ 3 ms; wasmi 2.38 ms
    // [2.19–3.11] straddles it: no figure fails, so nothing to depend on.
    let v = t_ready("\"wasmtime-aot\", \"wasmi\"", "{ at_most = \"3 ms\" }");
    assert_eq!(v.kind, VerdictKind::Holds, "{}", v.detail);
    assert!(v.detail.contains("unsure for wasmi"), "{}", v.detail);
}

#[test]
fn fails_below_says_the_figure_is_smaller_than_claimed() {
    let v = verdict("container-cold-start-2.3s");
    assert_eq!(v.kind, VerdictKind::Fails, "{}", v.detail);
    assert_eq!(v.direction, Some(claims::Direction::Below));
    assert!(v.word().contains("below the bound"), "{}", v.word());
}

#[test]
fn fails_above_says_the_figure_is_larger_than_claimed() {
    // Every Wasm start here takes longer than 60 µs end to end.
    let v = verdict("amex-wasm-50us");
    assert_eq!(v.kind, VerdictKind::Fails, "{}", v.detail);
    assert_eq!(v.direction, Some(claims::Direction::Above));
    assert!(v.word().contains("above the bound"), "{}", v.word());
}

#[test]
fn depends_only_when_one_holds_and_one_fails() {
    let v = verdict("wasm-under-1ms");
    assert_eq!(v.kind, VerdictKind::Depends, "{}", v.detail);
    // Pooled and AOT starts are sub-millisecond; JIT compile and node are not.
    assert!(v.detail.contains("holds for") && v.detail.contains("wasmtime-pooling"));
    assert!(
        v.detail.contains("fails (above) for") && v.detail.contains("wasmtime-jit"),
        "{}",
        v.detail
    );
}

#[test]
fn inconclusive_when_every_interval_straddles_the_bound() {
    // wasmtime-pooling 300 µs [246–361].
    let v = t_ready("\"wasmtime-pooling\"", "{ at_most = \"300 µs\" }");
    assert_eq!(v.kind, VerdictKind::Inconclusive, "{}", v.detail);
}

#[test]
fn a_figure_without_an_interval_is_indicative_at_most() {
    // One density series per target: no interval.
    let v = verdict("density-15-20x");
    assert_eq!(v.kind, VerdictKind::Indicative, "{}", v.detail);
    assert!(v.figures.iter().all(|f| !f.interval));
    assert!(
        v.detail.contains("no figure carries an interval"),
        "{}",
        v.detail
    );
}

#[test]
fn a_cross_kind_pair_alone_never_holds() {
    // A new container against an instance in a warm runner: 100× and more
    // for aot and pooling, but the pair is not like for like.
    let v = own(
        "[[claim]]\nid = \"x\"\nquote = \"q\"\nsource = \"s\"\nbound = { at_least = \"100\" }\nmeasure = { kind = \"cold_start\", metric = \"t_ready\", workload = \"noop\", targets = [\"container\"], baseline = [\"start:instance_in_warm_process\"] }\n",
    );
    assert!(
        v.figures
            .iter()
            .any(|f| f.outcome == claims::Outcome::Holds)
    );
    assert!(v.figures.iter().all(|f| !f.decides()));
    assert_eq!(v.kind, VerdictKind::Indicative, "{}", v.detail);
    assert!(v.detail.contains("only cross-kind"), "{}", v.detail);
}

#[test]
fn the_770x_sentence_is_judged_on_like_for_like_pairs() {
    // In this run the only like-for-like pairs are a new container against
    // node (a new process): 2.5× [1.84–3.59], far below 770×; the 889×
    // against a pooled instance is cross-kind and decides nothing.
    let v = verdict("container-vs-wasm-770x");
    assert_eq!(v.kind, VerdictKind::Fails, "{}", v.detail);
    let deciding: Vec<_> = v.figures.iter().filter(|f| f.decides()).collect();
    assert_eq!(deciding.len(), 2, "{deciding:?}");
    let run = fixture();
    for f in &deciding {
        assert!(f.label.ends_with("vs node"), "{}", f.label);
        assert_eq!(f.pairing, Some(claims::Pairing::ProcessVsContainer));
        // Both intervals at their ends, read from the stored summaries.
        let (a, b) = f.label.split_once(" vs ").unwrap();
        let s = |t: &str| {
            &run.result("noop", t, coldbench_results::Metric::TReady)
                .unwrap()
                .summary
        };
        let (sa, sb) = (s(a), s(b));
        assert_eq!(
            f.low,
            sa.p50_ci95_low_ns as f64 / sb.p50_ci95_high_ns as f64
        );
        assert_eq!(
            f.high,
            sa.p50_ci95_high_ns as f64 / sb.p50_ci95_low_ns as f64
        );
        assert_eq!(f.n, Some(sa.n.min(sb.n)));
    }
    let pooled = v
        .figures
        .iter()
        .find(|f| f.label == "docker-scratch-runc-bridge vs wasmtime-pooling")
        .unwrap();
    assert!(matches!(
        pooled.pairing,
        Some(claims::Pairing::CrossKind(..))
    ));
    assert!(pooled.line(v.unit).contains("cross-kind"));
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
fn a_platform_claim_is_labelled_as_judged_on_a_local_stand_in() {
    let v = verdict("cpu-13-14x-slower");
    assert!(
        v.word().contains("local stand-in for Cloudflare Workers"),
        "{}",
        v.word()
    );
    assert!(
        v.attribution().contains("measured by: Cloudflare"),
        "{}",
        v.attribution()
    );
}

#[test]
fn container_images_are_judged_per_target_so_debian_images_count() {
    let v = verdict("container-image-50-400mb");
    // 4 workloads × (scratch, Debian): the 117 MB Debian images hold.
    // A size is exact (counted, not sampled): it decides.
    assert_eq!(v.figures.len(), 8, "{:?}", v.figures);
    assert!(v.figures.iter().all(|f| f.exact && f.decides()));
    assert_eq!(v.kind, VerdictKind::Depends, "{}", v.detail);
    assert!(v.detail.contains("holds for") && v.detail.contains("docker-debian"));
    assert!(v.detail.contains("fails (below) for") && v.detail.contains("docker-scratch"));
}

#[test]
fn execution_speed_is_read_from_throughput_not_cold_start() {
    // Fastly's "executes 10x faster": the container's slowdown ÷ the Wasm
    // target's on hash-iterated, reused instances.
    let v = verdict("compute-at-edge-10x");
    assert!(!v.figures.is_empty());
    assert!(v.figures.iter().all(|f| f.label.starts_with("docker-")));
    assert!(v.figures.iter().all(|f| f.value < 10.0), "{:?}", v.figures);
    assert_eq!(v.kind, VerdictKind::Fails, "{}", v.detail);
}

#[test]
fn density_claims_name_every_workload_measured() {
    let v = verdict("wasm-memory-1-10mb");
    assert!(v.figures.iter().any(|f| f.label.starts_with("noop: ")));
    assert!(
        v.figures
            .iter()
            .any(|f| f.label == "thumbnail: wasmtime-pooling")
    );
}

/// The density table, the ledger's per-host figure and the sizing sheet's
/// memory allowance are one number for one series.
#[test]
fn density_table_ledger_and_sizing_agree_per_series() {
    use coldbench_reports::sizing::{Limit, sheet};
    let run = fixture();
    let d = run.density.as_ref().unwrap();
    let sheet = sheet(&run, &[]);
    let all = claims::parse(SHIPPED_CLAIMS, "claims.toml").unwrap();
    let mut projections = Vec::new();
    for id in ["containers-150-750-per-host", "wasm-2800-15000-per-host"] {
        let c = all.iter().find(|c| c.id == id).unwrap();
        projections.extend(claims::check(c, &[&run]).figures);
    }
    let mut checked = 0;
    for s in &d.series {
        let table = coldbench_reports::density_row(s, &d.config)[10].clone();
        let sizing = sheet
            .iter()
            .find(|z| z.workload == s.workload && z.target == s.target)
            .and_then(|z| z.allowances.iter().find(|a| a.limit == Limit::Memory))
            .map(|a| a.instances)
            .unwrap();
        assert!(
            table.starts_with(&format!("{sizing} (")),
            "{} / {}: table {table}, sizing {sizing}",
            s.workload,
            s.target
        );
        if let Some(f) = projections
            .iter()
            .find(|f| f.label == format!("{}: {}", s.workload, s.target))
        {
            assert_eq!(f.value as u64, sizing, "{}", f.label);
            checked += 1;
        }
    }
    // Every series but native's three is Wasm or a container.
    assert_eq!(checked, d.series.len() - 2);
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
    // noop's t_ready by kind of start (the first screen), 4 workloads × (2
    // cold-start distributions + 1 phase chart), 2 density workloads × (PSS
    // and t_ready against N), 2 throughput modes × (slowdown and latency
    // percentiles).
    assert_eq!(html.matches("<svg").count(), 21);
    let claims_at = html.find("id=\"claims\"").unwrap();
    let cold_at = html.find("id=\"cold-start\"").unwrap();
    assert!(claims_at < cold_at, "the claims ledger comes first");
}

/// The sizing sheet of the real run never takes memory as the only limit,
/// and never lets one runner process's limits bind a host: 500 pooled noop
/// instances cost 63 KiB each here, memory alone would allow hundreds of
/// thousands, the run's pooling allocator has 1,001 slots per runner — so
/// the sheet names the host-wide limit that binds and the runner processes
/// that count needs.
#[test]
fn per_process_limits_never_bind_a_host() {
    use coldbench_reports::sizing::{Limit, Scope, sheet};
    let run = fixture();
    let sheet = sheet(&run, &[64 << 30, 256 << 30]);
    let pooled: Vec<_> = sheet
        .iter()
        .filter(|z| z.workload == "noop" && z.target == "wasmtime-pooling")
        .collect();
    assert_eq!(pooled.len(), 3, "this host, 64 GiB and 256 GiB");
    for z in &pooled {
        let memory = z
            .allowances
            .iter()
            .find(|a| a.limit == Limit::Memory)
            .unwrap();
        assert!(memory.instances > 100_000, "{memory:?}");
        let b = z.binding().unwrap();
        assert_eq!(b.limit.scope(), Scope::Host, "{b:?}");
        assert_eq!(
            z.per_process().map(|a| (a.limit, a.instances)),
            Some((Limit::EngineCap, 1001))
        );
        assert_eq!(z.runner_processes(), Some(b.instances.div_ceil(1001)));
        // The task limit as set belongs to the measured host only (this
        // fixture predates its recording); pid_max's maximum to every size.
        assert!(z.measured_host || !z.allowances.iter().any(|a| a.limit == Limit::Tasks));
        assert!(
            z.allowances
                .iter()
                .any(|a| a.limit == Limit::TasksAtMaximum)
        );
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
    assert_eq!(charts.len(), 21);
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

/// Every format opens with the three answers, generated from the run, then
/// the ledger: the cold-start answer per kind of start (never one figure
/// across kinds), memory per workload, slowdown per family.
#[test]
fn the_first_screen_answers_the_three_questions() {
    let run = fixture();
    let answers = coldbench_reports::summary::answers(&[&run]);
    assert_eq!(answers.len(), 3);
    let start = &answers[0].sentence;
    for kind in [
        "new process: native",
        "instance in a warm process: wasmtime-pooling",
        "new container: docker-",
    ] {
        assert!(start.contains(kind), "{start}");
    }
    // The pooled thumbnail instance costs more than the container's: said.
    let memory = &answers[1].sentence;
    assert!(
        memory.contains("thumbnail: from") && memory.contains("noop: from"),
        "{memory}"
    );
    let slow = &answers[2].sentence;
    assert!(
        slow.contains("wasm: ") && slow.contains("container: "),
        "{slow}"
    );
    let all = claims::parse(SHIPPED_CLAIMS, "claims.toml").unwrap();
    let verdicts = claims::ledger(&all, &[&run]);
    let md = coldbench_reports::markdown::report(&[&run], &verdicts, &[]);
    assert!(md.starts_with("## The three answers"), "{}", &md[..200]);
    assert!(md.find("## The three answers") < md.find("## Claims ledger"));
    let html = coldbench_reports::html::report(&[&run], &verdicts, &[]);
    assert!(html.find("id=\"answers\"").unwrap() < html.find("id=\"claims\"").unwrap());
}

/// Open files on the sheet: the host's `fs.file-max` binds the measured
/// host as set (and is not carried to other sizes), the harness's
/// `RLIMIT_NOFILE` binds one process; both from the slope of what the
/// samples counted, and only where the instances took descriptors.
#[test]
fn open_files_are_a_host_limit_as_set_and_a_per_process_limit_of_the_harness() {
    use coldbench_reports::sizing::{Limit, Scope, sheet};
    let mut run = fixture();
    let d = run.density.as_mut().unwrap();
    d.config.file_max = Some(100_000);
    d.config.harness_open_files_limit = Some(20_000);
    let native = d
        .series
        .iter_mut()
        .find(|s| s.workload == "noop" && s.target == "native")
        .expect("a native noop series");
    let first_n = native.samples.first().unwrap().instances;
    for x in &mut native.samples {
        // 1,000 host files and 40 harness descriptors before the first;
        // 5 more host files and 3 more descriptors per instance.
        x.host_open_files = Some(1_000 + 5 * (x.instances - first_n));
        x.harness_open_files = Some(40 + 3 * (x.instances - first_n));
    }
    let sheet = sheet(&run, &[256 << 30]);
    let rows: Vec<_> = sheet
        .iter()
        .filter(|z| z.workload == "noop" && z.target == "native")
        .collect();
    let allows = |z: &coldbench_reports::sizing::Sizing, l: Limit| {
        z.allowances
            .iter()
            .find(|a| a.limit == l)
            .map(|a| a.instances)
    };
    let measured = rows.iter().find(|z| z.measured_host).unwrap();
    // (95,000 − 1,000) ÷ 5 and (19,000 − 40) ÷ 3.
    assert_eq!(allows(measured, Limit::OpenFiles), Some(18_800));
    assert_eq!(allows(measured, Limit::ProcessFiles), Some(6_320));
    assert_eq!(Limit::OpenFiles.scope(), Scope::Host);
    assert_eq!(Limit::ProcessFiles.scope(), Scope::PerProcess);
    let bigger = rows.iter().find(|z| !z.measured_host).unwrap();
    assert_eq!(
        allows(bigger, Limit::OpenFiles),
        None,
        "as set: measured size only"
    );
    assert_eq!(allows(bigger, Limit::ProcessFiles), Some(6_320));
    // Series whose samples counted no descriptors get neither allowance.
    let pooled = sheet
        .iter()
        .find(|z| z.workload == "noop" && z.target == "wasmtime-pooling" && z.measured_host)
        .unwrap();
    assert_eq!(allows(pooled, Limit::OpenFiles), None);
    let md = coldbench_reports::sizing::markdown(&sheet);
    assert!(md.contains("| 18800 |"), "{md}");
}
