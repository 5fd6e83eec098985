//! A scripted target for unit tests of the orchestration (hyperfine's
//! `MockExecutor`): every start follows the next step of its script — a
//! prompt answer, a failed start, a wrong answer, or a hang — with no
//! process, runtime or engine behind it. It complements the end-to-end
//! tests on real targets; it never replaces them.

use super::{Instance, MemoryScope, Target, TargetError, TargetResult};
use crate::stream::LineReader;
use coldbench_protocol::{Response, checksum, ready_line};
use coldbench_results::{Family, TargetRecord};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The result bytes a well-behaved fake instance answers every request with.
pub const FAKE_RESULT: &[u8] = b"fake result";

/// What one start of a [`FakeTarget`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ready after `ready`, then answers [`FAKE_RESULT`].
    Answer {
        /// Time the start call takes before the ready line is there.
        ready: Duration,
    },
    /// The start call fails.
    FailStart,
    /// Ready, then answers with other bytes (a checksum mismatch).
    WrongAnswer,
    /// Started, but never writes its ready line (nor exits).
    Hang,
}

/// Counters a test reads after the run.
#[derive(Debug, Default)]
pub struct Counters {
    /// Start calls.
    pub starts: AtomicU64,
    /// `recover` calls.
    pub recovers: AtomicU64,
    /// Instances torn down.
    pub teardowns: AtomicU64,
    /// `waiting` calls that answered "wait".
    pub waits: AtomicU64,
    /// What the target saw, stamped by the target itself (the harness's
    /// monotonic clock, ns), in the order it happened.
    pub events: Mutex<Vec<Event>>,
}

/// One thing a fake instance did, stamped by the fake (not by the harness):
/// the independent side of the throughput tests' arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The instance, numbered from 0 in start order.
    pub instance: u64,
    /// What happened.
    pub what: EventKind,
    /// When, `coldbench_protocol::monotonic_ns`.
    pub at_ns: u64,
}

/// What an [`Event`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The start call returned an instance.
    Started,
    /// The instance sent its answer to a request (after its service time).
    Answered,
    /// The instance was torn down.
    TornDown,
}

impl Counters {
    fn stamp(&self, instance: u64, what: EventKind) {
        let at_ns = coldbench_protocol::monotonic_ns();
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Event {
                instance,
                what,
                at_ns,
            });
    }
}

/// A scripted target.
pub struct FakeTarget {
    id: String,
    script: Vec<Step>,
    /// What starts past the end of the script do.
    then: Step,
    /// Counters shared with the test.
    pub counters: Arc<Counters>,
    /// An outage: after this many starts, `waiting` answers "wait" this
    /// many times (an engine restarting).
    outage: Option<(u64, u64)>,
    /// Every start of every fake sharing it, in order: the starter's id.
    log: Option<Arc<Mutex<Vec<String>>>>,
    /// Time each answer takes (the instance's service time).
    service: Duration,
}

impl FakeTarget {
    /// A target `id` whose n-th start follows `script[n]`, then `then`.
    pub fn new(id: &str, script: Vec<Step>, then: Step) -> FakeTarget {
        FakeTarget {
            id: id.to_string(),
            script,
            then,
            counters: Arc::new(Counters::default()),
            outage: None,
            log: None,
            service: Duration::ZERO,
        }
    }

    /// Every answer takes `service` (slept before it is sent).
    pub fn with_service(mut self, service: Duration) -> FakeTarget {
        self.service = service;
        self
    }

    /// After `after_starts` starts, [`Target::waiting`] answers "wait" for
    /// its next `polls` calls (as a Docker target while its engine restarts).
    pub fn with_outage(mut self, after_starts: u64, polls: u64) -> FakeTarget {
        self.outage = Some((after_starts, polls));
        self
    }

    /// Appends this target's id to `log` at every start.
    pub fn logging(mut self, log: Arc<Mutex<Vec<String>>>) -> FakeTarget {
        self.log = Some(log);
        self
    }

    /// The checksum every well-behaved fake answer carries.
    pub fn expected_crc32() -> u32 {
        checksum(FAKE_RESULT)
    }
}

impl Target for FakeTarget {
    fn id(&self) -> &str {
        &self.id
    }

    fn record(&self) -> TargetRecord {
        TargetRecord {
            id: self.id.clone(),
            family: Family::Native,
            runtime: "fake".into(),
            runtime_version: "0".into(),
            knobs: BTreeMap::from([("script".to_string(), format!("{:?}", self.script))]),
            available: true,
            unavailable_reason: None,
            artifacts: Vec::new(),
            start: None,
        }
    }

    fn prepare(&mut self, _workload: &str, _timeout: Duration) -> TargetResult<Option<u64>> {
        Ok(Some(1_000))
    }

    fn start(
        &mut self,
        workload: &str,
        _serve: bool,
        _timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        let n = self.counters.starts.fetch_add(1, Ordering::SeqCst) as usize;
        if let Some(log) = &self.log {
            log.lock().expect("log").push(self.id.clone());
        }
        let step = self.script.get(n).copied().unwrap_or(self.then);
        let (tx, rx) = mpsc::channel();
        let answer: &[u8] = match step {
            Step::FailStart => {
                return Err(TargetError::Failed(format!(
                    "{}: scripted start failure (start {n})",
                    self.id
                )));
            }
            Step::Answer { ready } => {
                std::thread::sleep(ready);
                let _ = tx.send(ready_line(workload).into_bytes());
                FAKE_RESULT
            }
            Step::WrongAnswer => {
                let _ = tx.send(ready_line(workload).into_bytes());
                b"a different result"
            }
            Step::Hang => b"",
        };
        self.counters.stamp(n as u64, EventKind::Started);
        Ok(Box::new(FakeInstance {
            stdout: LineReader::new(rx),
            tx,
            answer: answer.to_vec(),
            counters: self.counters.clone(),
            number: n as u64,
            service: self.service,
        }))
    }

    fn waiting(&mut self) -> Option<String> {
        let (after, polls) = self.outage?;
        let c = &self.counters;
        (c.starts.load(Ordering::SeqCst) >= after && c.waits.load(Ordering::SeqCst) < polls).then(
            || {
                c.waits.fetch_add(1, Ordering::SeqCst);
                format!("{}: scripted outage", self.id)
            },
        )
    }

    fn recover(&mut self) -> super::Recovery {
        self.counters.recovers.fetch_add(1, Ordering::SeqCst);
        super::Recovery::Nothing
    }
}

struct FakeInstance {
    stdout: LineReader,
    tx: Sender<Vec<u8>>,
    answer: Vec<u8>,
    counters: Arc<Counters>,
    /// Its start's number (from 0).
    number: u64,
    service: Duration,
}

impl Instance for FakeInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, _bytes: &[u8], _timeout: Duration) -> TargetResult<()> {
        let line = Response::ok(&self.answer, Vec::new()).to_line();
        std::thread::sleep(self.service);
        self.counters.stamp(self.number, EventKind::Answered);
        let _ = self.tx.send(line.into_bytes());
        Ok(())
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        Ok(())
    }

    fn teardown(self: Box<Self>, _timeout: Duration) -> TargetResult<()> {
        self.counters.teardowns.fetch_add(1, Ordering::SeqCst);
        self.counters.stamp(self.number, EventKind::TornDown);
        Ok(())
    }

    fn memory_scope(&mut self, _timeout: Duration) -> MemoryScope {
        MemoryScope::Processes(vec![std::process::id()])
    }
}
