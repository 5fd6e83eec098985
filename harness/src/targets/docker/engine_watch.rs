//! An engine's outages as a target sees them (Docker and containerd alike):
//! waiting for it before a start's clock is read, and the outage after a failed
//! start, bounded by `ENGINE_WAIT`.

use super::*;

/// How long a start waits for a Docker engine that stopped answering to
/// answer again (a daemon restart takes seconds), before giving up on it.
pub const ENGINE_WAIT: Duration = Duration::from_secs(60);

/// Whether a target's engine (Docker's, containerd) answers, for a target
/// that must wait for it: since when it has not, once a start found it gone.
#[derive(Debug, Default)]
pub struct EngineWatch {
    pub(super) down_since: Option<Instant>,
}

impl EngineWatch {
    /// [`Target::waiting`]: why to wait for the engine (`what`: "the Docker
    /// engine", "containerd") while it is down for less than [`ENGINE_WAIT`]
    /// and `ping` fails; `None` once it answers (then it is up again), or past
    /// the bound (its starts then fail at once).
    pub fn waiting(&mut self, what: &str, ping: impl FnOnce() -> bool) -> Option<String> {
        let since = self.down_since?;
        if since.elapsed() >= ENGINE_WAIT {
            return None;
        }
        if ping() {
            self.down_since = None;
            return None;
        }
        Some(format!(
            "{what} has not answered for {:.1} s (waiting up to {} s)",
            since.elapsed().as_secs_f64(),
            ENGINE_WAIT.as_secs()
        ))
    }

    /// Before a start: `Err(seconds down)` when the engine has not answered
    /// for [`ENGINE_WAIT`] or more (callers waited for it before their clock
    /// started, [`Target::waiting`]; past that bound starts fail at once).
    pub fn before_start(&mut self, ping: impl FnOnce() -> bool) -> Result<(), f64> {
        let Some(since) = self.down_since else {
            return Ok(());
        };
        if ping() {
            self.down_since = None;
        } else if since.elapsed() >= ENGINE_WAIT {
            return Err(since.elapsed().as_secs_f64());
        }
        Ok(())
    }

    /// After a failed start: whether the engine went away under it (`ping`
    /// fails). Then this start is lost, and the next ones wait (bounded) for
    /// it before their clock starts — cold start defers them and goes on
    /// with the other targets.
    pub fn lost(&mut self, ping: impl FnOnce() -> bool) -> bool {
        if ping() {
            return false;
        }
        self.down_since.get_or_insert_with(Instant::now);
        true
    }
}
