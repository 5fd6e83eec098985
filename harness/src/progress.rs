//! Progress of a run on stderr: an **indicatif** bar with the current
//! experiment, what it is working on (workload × target), done/total and an
//! ETA for the whole run, drawn only when stderr is a terminal; one plain
//! line per step when stderr is piped; nothing with `--quiet`. Never written
//! to stdout, so it never mixes with the tables.
//!
//! The ETA of the whole run is the current experiment's remaining time (at
//! the rate measured so far in it) plus the plan's estimate of every
//! experiment still to come, scaled by how the finished ones compared with
//! their estimates.

use coldbench_results::Experiment;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal, plain lines otherwise.
    Auto,
    /// Nothing.
    Quiet,
}

/// Formats a duration for a person: `42 s`, `2 min 05 s` (the reports' format).
pub fn human(d: Duration) -> String {
    coldbench_reports::format_duration_s(d.as_nanos() as u64)
}

/// The run's progress display.
pub struct Progress {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    /// Planned experiments and their estimated durations, in order.
    plan: Vec<(Experiment, Duration)>,
    /// (planned, actual) of finished experiments.
    finished: Vec<(Duration, Duration)>,
    stage: String,
    stage_started: Instant,
    current: Option<Experiment>,
    done: u64,
    total: u64,
    /// Last tenth of the stage a plain line was printed for.
    last_tenth: u64,
}

impl Progress {
    /// A display in `mode` for a run that plans `plan` (experiment and
    /// estimated duration, in order; may be empty).
    pub fn new(mode: ProgressMode, plan: Vec<(Experiment, Duration)>) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = (mode == ProgressMode::Auto && tty).then(|| {
            let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{prefix:>11.bold} [{bar:28}] {pos}/{len} {wide_msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Progress {
            mode,
            bar,
            plan,
            finished: Vec::new(),
            stage: String::new(),
            stage_started: Instant::now(),
            current: None,
            done: 0,
            total: 0,
            last_tenth: 0,
        }
    }

    /// A display that shows nothing (tests, `--quiet`).
    pub fn quiet() -> Progress {
        Progress::new(ProgressMode::Quiet, Vec::new())
    }

    fn plain(&self) -> bool {
        self.mode == ProgressMode::Auto && self.bar.is_none()
    }

    /// Prints a line above the bar (or as is when piped); nothing when quiet.
    pub fn note(&self, line: &str) {
        match (&self.bar, self.mode) {
            (_, ProgressMode::Quiet) => {}
            (Some(b), _) => b.println(line),
            (None, _) => eprintln!("{line}"),
        }
    }

    /// Starts a step that is not one of the planned experiments (prepare)
    /// with `total` units of work.
    pub fn stage_untracked(&mut self, name: &str, total: u64) {
        self.begin(name.to_string(), None, total);
    }

    /// Starts experiment `e` with `total` units of work (starts, instances, cells).
    pub fn stage(&mut self, e: Experiment, total: u64) {
        self.begin(e.name().replace('_', " "), Some(e), total);
    }

    fn begin(&mut self, name: String, e: Option<Experiment>, total: u64) {
        self.stage = name;
        self.current = e;
        self.stage_started = Instant::now();
        self.done = 0;
        self.total = total;
        self.last_tenth = 0;
        if let Some(b) = &self.bar {
            b.set_prefix(self.stage.clone());
            b.set_length(total);
            b.set_position(0);
        }
        if self.plain() {
            eprintln!("{}: starting ({total} steps)", self.stage);
        }
    }

    /// Says what the current step works on (e.g. `noop × wasmtime-aot`).
    pub fn working(&mut self, what: &str) {
        if let Some(b) = &self.bar {
            // The ETA first: a narrow terminal cuts the end of the line.
            let eta = self
                .eta()
                .map(|d| format!("ETA {} · ", human(d)))
                .unwrap_or_default();
            b.set_message(format!("{eta}{what}"));
        }
    }

    /// `done` of `total` units of the current experiment are finished.
    pub fn advance(&mut self, done: u64, total: u64) {
        self.done = done;
        self.total = total;
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_position(done);
        }
        if self.plain() && total > 0 {
            let tenth = done * 10 / total;
            if tenth > self.last_tenth {
                self.last_tenth = tenth;
                eprintln!("{}: {done}/{total}{}", self.stage, self.eta_text());
            }
        }
    }

    /// Ends the current step.
    pub fn finish_stage(&mut self) {
        let took = self.stage_started.elapsed();
        if let Some(e) = self.current
            && let Some((_, planned)) = self.plan.iter().find(|(p, _)| *p == e)
        {
            self.finished.push((*planned, took));
        }
        if self.mode != ProgressMode::Quiet {
            self.note(&format!("{}: done in {}", self.stage, human(took)));
        }
        self.current = None;
    }

    /// Estimated time until the whole run ends.
    pub fn eta(&self) -> Option<Duration> {
        let elapsed = self.stage_started.elapsed();
        let here = if self.done > 0 && self.total >= self.done {
            elapsed.mul_f64((self.total - self.done) as f64 / self.done as f64)
        } else {
            let planned = self
                .current
                .and_then(|e| self.plan.iter().find(|(p, _)| *p == e))
                .map(|(_, d)| *d)?;
            planned.saturating_sub(elapsed)
        };
        let (p, a) = self.finished.iter().fold((0.0, 0.0), |(p, a), (pl, ac)| {
            (p + pl.as_secs_f64(), a + ac.as_secs_f64())
        });
        let scale = if p > 0.0 { a / p } else { 1.0 };
        let idx = self
            .current
            .and_then(|e| self.plan.iter().position(|(p, _)| *p == e));
        let later: f64 = match idx {
            Some(i) => self.plan[i + 1..]
                .iter()
                .map(|(_, d)| d.as_secs_f64())
                .sum(),
            None => 0.0,
        };
        Some(here + Duration::from_secs_f64(later * scale))
    }

    fn eta_text(&self) -> String {
        self.eta()
            .map(|d| format!(" · run ETA {}", human(d)))
            .unwrap_or_default()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_adds_the_plan_of_later_experiments() {
        let t0 = std::time::Instant::now();
        let mut p = Progress::new(
            ProgressMode::Quiet,
            vec![
                (Experiment::ColdStart, Duration::from_secs(60)),
                (Experiment::Density, Duration::from_secs(30)),
                (Experiment::Throughput, Duration::from_secs(40)),
            ],
        );
        p.stage(Experiment::Density, 100);
        // Nothing done yet: the plan's 30 s for density + 40 s for
        // throughput, less at most the time this test has taken so far.
        let eta = p.eta().unwrap();
        let plan = Duration::from_secs(70);
        assert!(eta <= plan && eta >= plan - t0.elapsed(), "{eta:?}");
        assert_eq!(human(Duration::from_secs(125)), "2 min 05 s");
    }
}
