//! Unit tests of the orchestration on scripted fake targets: a failed
//! start, a wrong answer, a hang, a time budget and an interrupted run,
//! through the session and every experiment, in milliseconds. The
//! end-to-end tests (`harness/tests/`) run the same code on real targets.

use crate::cases::{Case, discover};
use crate::experiment::{coldstart, density, throughput};
use crate::failure::{FailureKind, Phase};
use crate::session::{Sections, Session};
use crate::targets::Target;
use crate::targets::fake::{FakeTarget, Step};
use coldbench_results::{DensityStop, Experiment, Metric, RunFile, ThroughputMode};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const QUICK: Step = Step::Answer {
    ready: Duration::ZERO,
};

fn noop_case() -> Vec<Case> {
    let (cases, problems) = discover(
        std::path::Path::new("/nonexistent"),
        &["noop".into()],
        crate::cases::HASH_HEAVY_ITERATIONS,
    );
    assert!(problems.is_empty());
    cases
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldbench-unit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn session(name: &str, targets: Vec<FakeTarget>, timeout: Duration) -> Session {
    let cases = noop_case();
    let expected = vec![Some(FakeTarget::expected_crc32()); cases.len()];
    let targets: Vec<Box<dyn Target>> = targets
        .into_iter()
        .map(|t| Box::new(t) as Box<dyn Target>)
        .collect();
    Session::with_targets(cases, expected, targets, tmp(name), timeout)
}

fn fixed(runs: u32, warmup: u32) -> coldstart::Settings {
    coldstart::Settings {
        runs,
        min_runs: runs,
        warmup,
        budget_per_cell: None,
        cases: None,
    }
}

fn schema_valid(path: &std::path::Path) {
    let schema: serde_json::Value =
        serde_json::from_str(coldbench_results::RUN_SCHEMA_JSON).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn failed_start_mismatch_and_hang_are_errors_never_samples() {
    let good = FakeTarget::new("good", vec![], QUICK);
    // Warm-up answers; then: a failed start, an answer, a wrong answer, a
    // hang, an answer.
    let flaky = FakeTarget::new(
        "flaky",
        vec![QUICK, Step::FailStart, QUICK, Step::WrongAnswer, Step::Hang],
        QUICK,
    );
    let flaky_counters = flaky.counters.clone();
    let timeout = Duration::from_millis(200);
    let mut s = session("faults", vec![good, flaky], timeout);
    let t0 = Instant::now();
    let section = coldstart::run(&mut s, &fixed(5, 1));
    // The hang is bounded by the timeout (plus the other starts, all instant).
    assert!(t0.elapsed() < Duration::from_secs(5));
    let (back, path) = s
        .finish(Sections {
            cold_start: Some(section),
            ..Sections::default()
        })
        .unwrap();
    schema_valid(&path);
    let n = |t: &str| back.result("noop", t, Metric::TReady).map(|r| r.summary.n);
    assert_eq!(n("good"), Some(5));
    // Only the two measured starts that answered correctly are samples.
    assert_eq!(n("flaky"), Some(2));
    let kinds: Vec<(Phase, FailureKind)> = back
        .errors
        .iter()
        .filter(|e| e.target.as_deref() == Some("flaky"))
        .map(|e| (e.phase, e.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Phase::Start, FailureKind::Failed),
            (Phase::Verify, FailureKind::Mismatch),
            (Phase::Ready, FailureKind::Timeout),
        ]
    );
    assert!(
        back.errors
            .iter()
            .all(|e| e.experiment == Some(Experiment::ColdStart))
    );
    let ver = |t: &str| {
        back.verification
            .iter()
            .find(|v| v.target == t)
            .map(|v| (v.verified, v.mismatched))
    };
    assert_eq!(ver("good"), Some((6, 0)));
    assert_eq!(ver("flaky"), Some((3, 1)));
    // Every failure is followed by a recovery of the target.
    assert_eq!(flaky_counters.recovers.load(Ordering::SeqCst), 3);
    assert_eq!(back.experiments(), vec![Experiment::ColdStart]);
}

#[test]
fn a_budget_gives_slow_cells_min_runs_and_fast_cells_all_runs() {
    // The slow target's first start (400 ms) is over the whole budget: it
    // gets min_runs. The fast one gets all 20 as long as its first start
    // takes under 50 ms (it takes microseconds: a 50 ms stall of one thread
    // is what it would take to fail on a busy host).
    let slow = FakeTarget::new(
        "slow",
        vec![],
        Step::Answer {
            ready: Duration::from_millis(400),
        },
    );
    let fast = FakeTarget::new("fast", vec![], QUICK);
    let mut s = session("budget", vec![slow, fast], Duration::from_secs(5));
    let settings = coldstart::Settings {
        runs: 20,
        min_runs: 3,
        warmup: 1,
        budget_per_cell: Some(Duration::from_secs(1)),
        cases: None,
    };
    let section = coldstart::run(&mut s, &settings);
    let (back, _) = s
        .finish(Sections {
            cold_start: Some(section),
            ..Sections::default()
        })
        .unwrap();
    let n = |t: &str| back.result("noop", t, Metric::TReady).unwrap().summary.n;
    assert_eq!(n("slow"), 3);
    assert_eq!(n("fast"), 20);
    let c = back.cold_start.as_ref().unwrap();
    assert_eq!(
        (c.min_runs, c.budget_per_cell_ns),
        (Some(3), Some(1_000_000_000))
    );
}

#[test]
fn an_interrupted_run_keeps_what_it_measured_and_skips_the_rest() {
    let t = FakeTarget::new(
        "steady",
        vec![],
        Step::Answer {
            ready: Duration::from_millis(2),
        },
    );
    let starts = t.counters.clone();
    let mut s = session("interrupt", vec![t], Duration::from_secs(5));
    let flag = s.interrupted.clone();
    // Interrupted once 10 starts are made (waited for, not slept for).
    let stopper = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while starts.starts.load(Ordering::SeqCst) < 10 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        flag.store(true, Ordering::SeqCst);
    });
    let section = coldstart::run(&mut s, &fixed(100_000, 0));
    stopper.join().unwrap();
    // Later experiments see the flag and measure nothing.
    let plan = vec![density::SeriesPlan {
        workload: "noop".into(),
        target: "steady".into(),
        cap: 10,
        capped_by_target: false,
    }];
    let d = density::run(&mut s, &test_density_settings(), &plan);
    assert!(d.series.is_empty());
    let (back, path) = s
        .finish(Sections {
            cold_start: Some(section),
            ..Sections::default()
        })
        .unwrap();
    assert!(back.interrupted);
    let n = back
        .result("noop", "steady", Metric::TReady)
        .unwrap()
        .summary
        .n;
    // 10 starts before the flag, a few more while it was being seen (one
    // warm-up-free cell: every start is measured).
    assert!((9..100_000).contains(&n), "{n}");
    assert!(path.is_file());
}

/// A target that must wait (its engine restarting) is skipped, not
/// charged: the other target's starts go on meanwhile, and the waiting one
/// gets every planned start once it can start again.
#[test]
fn a_waiting_target_is_deferred_while_the_others_go_on() {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let good = FakeTarget::new("good", vec![], QUICK).logging(log.clone());
    // After 3 starts (1 warm-up, 2 measured), 40 polls of "wait" (≥ 40
    // rounds, the last ones 250 ms apart once `good` is done).
    let engine = FakeTarget::new("engine", vec![], QUICK)
        .with_outage(3, 40)
        .logging(log.clone());
    let waits = engine.counters.clone();
    let mut s = session("waiting", vec![good, engine], Duration::from_secs(5));
    let section = coldstart::run(&mut s, &fixed(20, 1));
    let (back, _) = s
        .finish(Sections {
            cold_start: Some(section),
            ..Sections::default()
        })
        .unwrap();
    let n = |t: &str| back.result("noop", t, Metric::TReady).map(|r| r.summary.n);
    assert_eq!(n("good"), Some(20));
    assert_eq!(n("engine"), Some(20), "every deferred start made later");
    assert!(back.errors.is_empty(), "{:#?}", back.errors);
    assert_eq!(waits.waits.load(Ordering::SeqCst), 40);
    // Between the engine's 3rd and 4th start, `good` made every start it
    // had left (21 in all, 3 or 4 of them before the outage).
    let log = log.lock().unwrap();
    let engine_at: Vec<usize> = (0..log.len()).filter(|&i| log[i] == "engine").collect();
    let (third, fourth) = (engine_at[2], engine_at[3]);
    let good_between = log[third..fourth].iter().filter(|id| *id == "good").count();
    let good_before = log[..third].iter().filter(|id| *id == "good").count();
    assert_eq!(good_before + good_between, 21, "{log:?}");
}

/// Everything a run records is journalled as it is recorded: an unfinished
/// run's `run.json` (its last checkpoint) read with its journal holds what
/// the finished run holds.
#[test]
fn the_journal_of_a_run_holds_what_its_finished_file_holds() {
    let good = FakeTarget::new("good", vec![], QUICK);
    let flaky = FakeTarget::new("flaky", vec![QUICK, Step::FailStart], QUICK);
    let mut s = session("journal", vec![good, flaky], Duration::from_secs(5));
    let section = coldstart::run(&mut s, &fixed(30, 1));
    let plan = vec![density::SeriesPlan {
        workload: "noop".into(),
        target: "good".into(),
        cap: 7,
        capped_by_target: false,
    }];
    let d = density::run(&mut s, &test_density_settings(), &plan);
    let dir = s.out_dir.clone();
    let (finished, _) = s
        .finish(Sections {
            cold_start: Some(section),
            density: Some(d),
            ..Sections::default()
        })
        .unwrap();
    // What a harness killed right after its first checkpoints would have
    // left in run.json: the sections' settings, nothing measured.
    let mut killed = finished.clone();
    killed.in_progress = true;
    killed.cold_start.as_mut().unwrap().results.clear();
    killed.density.as_mut().unwrap().series.clear();
    killed.errors.clear();
    killed.verification.clear();
    killed.prepare.clear();
    let replayed = coldbench_results::journal::replay(
        &mut killed,
        &dir.join(coldbench_results::journal::JOURNAL_FILE),
    )
    .unwrap()
    .expect("the journal is this run's");
    let n = |t: &str| {
        killed
            .result("noop", t, Metric::TReady)
            .map(|r| r.summary.n)
    };
    assert_eq!((n("good"), n("flaky")), (Some(30), Some(29)));
    assert_eq!(
        replayed.samples,
        finished
            .cold_start_results()
            .iter()
            .map(|m| m.summary.n)
            .sum::<u64>()
    );
    let key = |r: &RunFile| {
        let mut v: Vec<(String, String, String, u64, u64)> = r
            .cold_start_results()
            .iter()
            .map(|m| {
                (
                    m.workload.clone(),
                    m.target.clone(),
                    m.metric.name().to_string(),
                    m.summary.n,
                    m.summary.p50_ns,
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&killed), key(&finished));
    assert_eq!(killed.errors.len(), finished.errors.len());
    assert_eq!(killed.errors.len(), 1);
    let counts = |r: &RunFile| {
        r.verification
            .iter()
            .map(|v| (v.experiment, v.target.clone(), v.verified, v.mismatched))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&killed), counts(&finished));
    let series = |r: &RunFile| {
        r.density_series()
            .iter()
            .map(|s| (s.target.clone(), s.instances, s.t_ready.n))
            .collect::<Vec<_>>()
    };
    assert_eq!(series(&killed), series(&finished));
    assert_eq!(series(&killed), vec![("good".to_string(), 7, 7)]);
}

fn test_density_settings() -> density::Settings {
    density::Settings {
        max_instances: 10,
        per_target_max: Vec::new(),
        floor_fraction: 0.0,
        task_limit_fraction: 1.0,
        time_limit: Duration::from_secs(10),
        host_memory_bytes: None,
        timeout: Duration::from_millis(200),
    }
}

#[test]
fn density_stops_at_its_cap_or_at_a_failed_start_and_tears_everything_down() {
    let good = FakeTarget::new("good", vec![], QUICK);
    let good_counters = good.counters.clone();
    // The third instance hangs: the series stops there with two live ones.
    let hangs = FakeTarget::new("hangs", vec![QUICK, QUICK, Step::Hang], QUICK);
    let hang_counters = hangs.counters.clone();
    let mut s = session("density", vec![good, hangs], Duration::from_millis(200));
    let plan: Vec<density::SeriesPlan> = ["good", "hangs"]
        .iter()
        .map(|t| density::SeriesPlan {
            workload: "noop".into(),
            target: t.to_string(),
            cap: 6,
            capped_by_target: true,
        })
        .collect();
    let section = density::run(&mut s, &test_density_settings(), &plan);
    let stop = |t: &str| {
        let x = section.series.iter().find(|x| x.target == t).unwrap();
        (x.instances, x.stop_reason)
    };
    assert_eq!(stop("good"), (6, DensityStop::TargetMax));
    assert_eq!(stop("hangs"), (2, DensityStop::StartFailed));
    assert_eq!(good_counters.teardowns.load(Ordering::SeqCst), 6);
    assert_eq!(hang_counters.teardowns.load(Ordering::SeqCst), 2);
    // The hung instance's host is recovered once, after the live ones are
    // torn down (a runner holding a hung guest must not live on).
    assert_eq!(hang_counters.recovers.load(Ordering::SeqCst), 1);
    assert_eq!(good_counters.recovers.load(Ordering::SeqCst), 0);
    // Samples at 1, 2, 5 and the stopping point 6; PSS read for real.
    let g = section.series.iter().find(|x| x.target == "good").unwrap();
    let ns: Vec<u64> = g.samples.iter().map(|x| x.instances).collect();
    assert_eq!(ns, vec![1, 2, 5, 6]);
    assert!(g.samples.iter().all(|x| x.pss_bytes.is_some()));
    let (back, path) = s
        .finish(Sections {
            density: Some(section),
            ..Sections::default()
        })
        .unwrap();
    schema_valid(&path);
    assert!(
        back.errors
            .iter()
            .any(|e| e.kind == FailureKind::Timeout && e.experiment == Some(Experiment::Density))
    );
}

#[test]
fn throughput_counts_only_verified_requests() {
    let good = FakeTarget::new("native", vec![], QUICK);
    let wrong = FakeTarget::new("wrong", vec![], Step::WrongAnswer);
    let mut s = session("throughput", vec![good, wrong], Duration::from_millis(200));
    let settings = throughput::Settings {
        duration: Duration::from_millis(50),
        min_requests: 5,
        max_cell: Duration::from_millis(500),
        warmup_requests: 1,
        batches: 5,
        timeout: Duration::from_millis(200),
    };
    let plan = vec![
        throughput::CellPlan {
            row: "noop".into(),
            mode: ThroughputMode::Reused,
        },
        throughput::CellPlan {
            row: "noop".into(),
            mode: ThroughputMode::InstancePerRequest,
        },
    ];
    let section = throughput::run(&mut s, &settings, 1, &plan);
    assert_eq!(section.cells.len(), 2, "only the good target has cells");
    assert!(
        section
            .cells
            .iter()
            .all(|c| c.target == "native" && c.requests >= 5)
    );
    let (back, path): (RunFile, _) = s
        .finish(Sections {
            throughput: Some(section),
            ..Sections::default()
        })
        .unwrap();
    schema_valid(&path);
    let wrong_errors: Vec<_> = back
        .errors
        .iter()
        .filter(|e| e.target.as_deref() == Some("wrong"))
        .map(|e| e.kind)
        .collect();
    assert!(wrong_errors.contains(&FailureKind::Mismatch));
    assert!(wrong_errors.contains(&FailureKind::NoRequests));
    let v = back
        .verification
        .iter()
        .find(|v| v.target == "wrong")
        .unwrap();
    assert_eq!(v.verified, 0);
    assert!(v.mismatched > 0);
}

/// What the target itself stamped around one throughput cell of one client:
/// `(answers after the warm-up, rps bounds)`. The bounds follow from the
/// order of events alone, not from any speed: the window opens after the
/// last warm-up answer and before the first measured request, and (reused
/// mode) closes after the last counted answer and before the teardown; so
/// `requests / (teardown − last warm-up answer) < rps < requests / (last
/// counted answer − first measured answer)`.
fn stamped_bounds(
    events: &[crate::targets::fake::Event],
    warmup: usize,
    requests: u64,
    mode: ThroughputMode,
) -> (u64, f64, f64) {
    use crate::targets::fake::EventKind;
    let of = |i: u64, k: EventKind| -> Vec<u64> {
        events
            .iter()
            .filter(|e| e.instance == i && e.what == k)
            .map(|e| e.at_ns)
            .collect()
    };
    let r = requests as usize;
    assert!(r >= 2, "{r} requests: too few for a span");
    match mode {
        ThroughputMode::Reused => {
            // The cell's instance: the one that answered the most.
            let inst = (0..=events.iter().map(|e| e.instance).max().unwrap())
                .max_by_key(|&i| of(i, EventKind::Answered).len())
                .unwrap();
            let answers = of(inst, EventKind::Answered);
            let torn = of(inst, EventKind::TornDown);
            assert_eq!(torn.len(), 1, "one teardown of the cell's instance");
            let measured = (answers.len() - warmup) as u64;
            let lo = requests as f64 / ((torn[0] - answers[warmup - 1]) as f64 / 1e9);
            let hi = requests as f64 / ((answers[warmup + r - 1] - answers[warmup]) as f64 / 1e9);
            (measured, lo, hi)
        }
        ThroughputMode::InstancePerRequest => {
            // One instance per request, numbered in start order, the first
            // `warmup` of them the warm-up. The window opens before the
            // first measured start and closes after the last counted
            // request's teardown (nothing the fake stamps bounds it above).
            let n = events.iter().map(|e| e.instance).max().unwrap() + 1;
            let w = warmup as u64;
            let start_first = of(w, EventKind::Started)[0];
            let torn_last = of(w + requests - 1, EventKind::TornDown)[0];
            let hi = requests as f64 / ((torn_last - start_first) as f64 / 1e9);
            (n - w, 0.0, hi)
        }
    }
}

/// requests/s and the slowdown against native, checked against what the
/// targets stamped themselves (not against the formula `throughput.rs`
/// uses): every measured answer but the one in flight at the close is
/// counted, no warm-up answer is, and each rate lies between the bounds the
/// order of the fakes' own events gives — so a window in the wrong unit, a
/// warm-up request counted, or a ratio taken the wrong way round fails.
/// Nothing here depends on how fast the host runs the fakes.
#[test]
fn requests_per_second_and_slowdown_agree_with_what_the_targets_stamped() {
    let warmup = 2u32;
    let settings = throughput::Settings {
        duration: Duration::from_millis(60),
        min_requests: 10,
        max_cell: Duration::from_secs(5),
        warmup_requests: warmup,
        batches: 5,
        timeout: Duration::from_secs(5),
    };
    for mode in [ThroughputMode::Reused, ThroughputMode::InstancePerRequest] {
        let native =
            FakeTarget::new("native", vec![], QUICK).with_service(Duration::from_millis(1));
        let slow = FakeTarget::new("slow", vec![], QUICK).with_service(Duration::from_millis(3));
        let (nc, sc) = (native.counters.clone(), slow.counters.clone());
        let mut s = session(
            &format!("tp-stamps-{}", mode.name()),
            vec![native, slow],
            Duration::from_secs(5),
        );
        let plan = vec![throughput::CellPlan {
            row: "noop".into(),
            mode,
        }];
        let section = throughput::run(&mut s, &settings, 1, &plan);
        let cell = |t: &str| section.cells.iter().find(|c| c.target == t).unwrap();
        let mut bounds = Vec::new();
        for (t, counters) in [("native", &nc), ("slow", &sc)] {
            let c = cell(t);
            let events = counters.events.lock().unwrap().clone();
            let (measured, lo, hi) = stamped_bounds(&events, warmup as usize, c.requests, mode);
            assert!(
                c.requests == measured || c.requests + 1 == measured,
                "{t} {mode:?}: {} requests counted, {measured} answered after the warm-up",
                c.requests
            );
            assert!(
                lo < c.rps && c.rps < hi,
                "{t} {mode:?}: {} rps outside what the target stamped: {lo}..{hi}",
                c.rps
            );
            bounds.push((lo, hi));
        }
        let ((nlo, nhi), (slo, shi)) = (bounds[0], bounds[1]);
        let ratio = cell("slow").slowdown_vs_native.as_ref().unwrap().ratio;
        assert!(cell("native").slowdown_vs_native.is_none());
        // native's rate over slow's: at least its lower bound over slow's
        // upper one; at most the reverse (unbounded above per request).
        let least = nlo / shi;
        let most = if slo > 0.0 { nhi / slo } else { f64::INFINITY };
        assert!(
            least < ratio && ratio < most,
            "{mode:?}: slowdown {ratio} outside {least}..{most}"
        );
    }
}
