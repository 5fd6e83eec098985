//! The reports of every committed results file, byte for byte: each dated set
//! in `docs/runs/` is rendered as `coldbench report <files> --format
//! markdown,html` renders it, and must equal the `report.md` / `report.html`
//! stored beside it; its terminal rendering and two comparisons of the CI
//! runs (`ci/`) must equal the files in `tests/golden/`. So a refactor of the
//! renderers, the statistics or the results types that changes one byte of
//! any report fails here, with the first line that differs.
//!
//! A deliberate change of a report: `COLDBENCH_BLESS=1 cargo test -p
//! coldbench-reports --test golden` rewrites the stored files; review the diff.

use coldbench_reports::claims::{self, SHIPPED_CLAIMS};
use coldbench_reports::compare::{self, Options};
use coldbench_results::RunFile;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("reports/ is inside the repository")
        .to_path_buf()
}

/// One report: the results files rendered together, and where its outputs live.
struct Set {
    /// Results files, relative to the repository.
    files: &'static [&'static str],
    /// Directory of `report.md` and `report.html`, relative to the repository.
    dir: &'static str,
    /// Name of the terminal rendering in `tests/golden/`.
    terminal: &'static str,
}

const SETS: &[Set] = &[
    Set {
        files: &[REFERENCE_RUN],
        dir: "docs/runs/2026-12-07-epyc-2vcpu/default",
        terminal: "2026-12-07-epyc-default.txt",
    },
    Set {
        files: &["docs/runs/2026-12-07-xeon-2vcpu/containerd-exec/run.json"],
        dir: "docs/runs/2026-12-07-xeon-2vcpu/containerd-exec",
        terminal: "2026-12-07-xeon-containerd-exec.txt",
    },
    Set {
        files: &["docs/runs/2026-11-30-epyc-2vcpu/default/run.json"],
        dir: "docs/runs/2026-11-30-epyc-2vcpu/default",
        terminal: "2026-11-30-epyc-default.txt",
    },
    Set {
        files: &[
            "docs/runs/2026-11-30-epyc-2vcpu/families/coldstart.json",
            "docs/runs/2026-11-30-epyc-2vcpu/families/density.json",
            "docs/runs/2026-11-30-epyc-2vcpu/families/throughput.json",
        ],
        dir: "docs/runs/2026-11-30-epyc-2vcpu/families",
        terminal: "2026-11-30-epyc-families.txt",
    },
    Set {
        files: &[
            "docs/runs/2026-11-30-xeon-2vcpu/coldstart.json",
            "docs/runs/2026-11-30-xeon-2vcpu/throughput.json",
            "docs/runs/2026-11-30-xeon-2vcpu/throughput-tiers.json",
            "docs/runs/2026-11-30-xeon-2vcpu/density-noop.json",
            "docs/runs/2026-11-30-xeon-2vcpu/density-real.json",
        ],
        dir: "docs/runs/2026-11-30-xeon-2vcpu",
        terminal: "2026-11-30-xeon-exhaustive.txt",
    },
    Set {
        files: &[
            "docs/runs/2026-12-01-xeon-2vcpu/versions/coldstart/1/run.json",
            "docs/runs/2026-12-01-xeon-2vcpu/versions/coldstart/2/run.json",
        ],
        dir: "docs/runs/2026-12-01-xeon-2vcpu/versions/coldstart",
        terminal: "2026-12-01-xeon-versions-coldstart.txt",
    },
    Set {
        files: &[
            "docs/runs/2026-12-01-xeon-2vcpu/versions/throughput/1/run.json",
            "docs/runs/2026-12-01-xeon-2vcpu/versions/throughput/2/run.json",
        ],
        dir: "docs/runs/2026-12-01-xeon-2vcpu/versions/throughput",
        terminal: "2026-12-01-xeon-versions-throughput.txt",
    },
];

fn bless() -> bool {
    std::env::var_os("COLDBENCH_BLESS").is_some()
}

/// `actual` must equal the file at `path` (or becomes it when blessing).
/// Returns a description of the difference, if any.
fn check(path: &Path, actual: &str) -> Option<String> {
    if bless() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return None;
    }
    let stored = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            return Some(format!(
                "{}: {e} (COLDBENCH_BLESS=1 writes it)",
                path.display()
            ));
        }
    };
    if stored == actual {
        return None;
    }
    let line = stored
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| stored.lines().count().min(actual.lines().count()));
    Some(format!(
        "{} differs from its rendering now, first at line {}:\n  stored: {:?}\n  now:    {:?}\n\
         ({} bytes stored, {} now; COLDBENCH_BLESS=1 rewrites it if the change is meant)",
        path.display(),
        line + 1,
        stored.lines().nth(line).unwrap_or("<end of file>"),
        actual.lines().nth(line).unwrap_or("<end of file>"),
        stored.len(),
        actual.len(),
    ))
}

fn read(files: &[&str]) -> Vec<RunFile> {
    files
        .iter()
        .map(|f| RunFile::read_run(&repo().join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect()
}

/// What `coldbench report --format terminal` prints.
fn terminal(runs: &[RunFile], files: &[&str], verdicts: &[claims::Verdict]) -> String {
    let refs: Vec<&RunFile> = runs.iter().collect();
    let mut out = String::new();
    for (run, f) in runs.iter().zip(files) {
        if runs.len() > 1 {
            out.push_str(&format!("== {f}\n"));
        }
        out.push_str(&coldbench_reports::full(run));
    }
    out.push_str(&coldbench_reports::summary::terminal(
        &coldbench_reports::summary::answers(&refs),
    ));
    out.push_str(&coldbench_reports::ledger_table(verdicts, true));
    out
}

#[test]
fn every_committed_results_file_renders_as_its_stored_report() {
    let shipped = claims::parse(SHIPPED_CLAIMS, "reports/claims.toml").unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut diffs = Vec::new();
    for set in SETS {
        let runs = read(set.files);
        let refs: Vec<&RunFile> = runs.iter().collect();
        let verdicts = claims::ledger(&shipped, &refs);
        let dir = repo().join(set.dir);
        let md = coldbench_reports::markdown::report(&refs, &verdicts, &[]);
        let html = coldbench_reports::html::report(&refs, &verdicts, &[]);
        diffs.extend(check(&dir.join("report.md"), &md));
        diffs.extend(check(&dir.join("report.html"), &html));
        diffs.extend(check(
            &golden.join(set.terminal),
            &terminal(&runs, set.files, &verdicts),
        ));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// Runs of a directory of numbered run directories or `N.json` files, in order.
fn runs_in(dir: &str) -> Vec<RunFile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { p.join("run.json") } else { p })
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| RunFile::read_run(p).unwrap())
        .collect()
}

#[test]
fn the_ci_comparisons_render_as_stored() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut diffs = Vec::new();
    // One run against one (the exact bootstrap of the medians) and five
    // against five (the run-to-run spread).
    let base = runs_in("ci/baseline");
    let one = compare::compare(&base[0], "1", &base[1], "2", &Options::default()).unwrap();
    let b = runs_in("ci/ground-truth/hash-1250/base");
    let m = runs_in("ci/ground-truth/hash-1250/more");
    let c = compare::compare_sets(
        &b.iter().collect::<Vec<_>>(),
        "base",
        &m.iter().collect::<Vec<_>>(),
        "more",
        &Options::default(),
    )
    .unwrap();
    for (name, c) in [("compare-baseline-1-2", &one), ("compare-hash-1250", &c)] {
        diffs.extend(check(
            &golden.join(format!("{name}.md")),
            &compare::markdown(c),
        ));
        diffs.extend(check(
            &golden.join(format!("{name}.txt")),
            &compare::terminal(c, true),
        ));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// The README's headline — the three answers of the reference run — is what
/// `coldbench report` renders for that run today, word for word.
#[test]
fn the_readme_headline_is_the_reference_runs_rendering() {
    let run = &read(&[REFERENCE_RUN])[0];
    let answers =
        coldbench_reports::summary::markdown(&coldbench_reports::summary::answers(&[run]));
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let begin = "<!-- generated: the-three-answers -->\n";
    let end = "<!-- end generated -->";
    let a = readme
        .find(begin)
        .expect("README.md has the generated block's begin marker")
        + begin.len();
    let b = a + readme[a..]
        .find(end)
        .expect("README.md has the block's end marker");
    let block = &readme[a..b];
    if bless() {
        let mut s = readme.clone();
        s.replace_range(a..b, &answers);
        std::fs::write(repo().join("README.md"), s).unwrap();
        return;
    }
    assert_eq!(
        block, answers,
        "README.md's three answers are not {REFERENCE_RUN} as rendered now \
         (COLDBENCH_BLESS=1 cargo test -p coldbench-reports --test golden rewrites the block)"
    );
}

/// The run the README quotes.
const REFERENCE_RUN: &str = "docs/runs/2026-12-07-epyc-2vcpu/default/run.json";
