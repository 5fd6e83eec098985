//! Why one start, request or series step failed, as data: a phase and a
//! kind (enums from `coldbench-results`, so every match is checked by the
//! compiler) and a message naming the thing and what to do.

use crate::stream::LineError;
use crate::targets::TargetError;
pub use coldbench_results::{FailureKind, Phase};

/// One failure of one step of an instance's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartFailure {
    /// Where it happened (`start`, `ready`, `request`, `verify`, `teardown`).
    pub phase: Phase,
    /// What went wrong.
    pub kind: FailureKind,
    /// Message naming the problem.
    pub message: String,
}

impl StartFailure {
    /// A failure of `phase` of `kind` with `message`.
    pub fn new(phase: Phase, kind: FailureKind, message: impl Into<String>) -> Self {
        StartFailure {
            phase,
            kind,
            message: message.into(),
        }
    }

    /// A target error in `phase`.
    pub fn target(phase: Phase, e: TargetError) -> Self {
        let kind = match e {
            TargetError::Timeout(_) => FailureKind::Timeout,
            TargetError::Unavailable(_) => FailureKind::Unavailable,
            TargetError::Failed(_)
            | TargetError::Exited { .. }
            | TargetError::NotPrepared { .. } => FailureKind::Failed,
        };
        StartFailure::new(phase, kind, e.to_string())
    }

    /// A line that could not be read in `phase`.
    pub fn line(phase: Phase, e: &LineError, message: String) -> Self {
        let kind = match e {
            LineError::Timeout { .. } => FailureKind::Timeout,
            LineError::Eof { .. } => FailureKind::Eof,
            LineError::TooLong { .. } | LineError::Backlog { .. } => FailureKind::Protocol,
        };
        StartFailure::new(phase, kind, message)
    }

    /// A response whose checksum differs from native's.
    pub fn mismatch(crc32: u32, expected: u32) -> Self {
        StartFailure::new(
            Phase::Verify,
            FailureKind::Mismatch,
            format!("result crc32 {crc32:08x} differs from native's {expected:08x}"),
        )
    }

    /// The failure with what the target's recovery did appended to its
    /// message (see [`crate::targets::Recovery`]).
    pub fn with_recovery(mut self, r: &crate::targets::Recovery) -> Self {
        if let Some(note) = r.note() {
            self.message.push_str("; ");
            self.message.push_str(note);
        }
        self
    }

    /// Whether this failure is a wrong answer (counted as a mismatch in the
    /// verification counts) rather than a missing one.
    pub fn is_mismatch(&self) -> bool {
        self.kind == FailureKind::Mismatch
    }
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.phase, self.kind, self.message)
    }
}
