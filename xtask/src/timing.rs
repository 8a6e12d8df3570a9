//! Where a run's time goes: in the commands it runs (nearly all of them the engine's), and in
//! waiting on the server under test (its requests, and the pauses between polls). What is left
//! of the wall time is the tool's own work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static COMMANDS: AtomicU64 = AtomicU64::new(0);
static WAITING: AtomicU64 = AtomicU64::new(0);

/// The time spent so far, since the process started.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spent {
    pub commands: Duration,
    pub waiting: Duration,
}

impl Spent {
    /// What was spent between `earlier` and `self`.
    pub fn since(self, earlier: Spent) -> Spent {
        Spent {
            commands: self.commands.saturating_sub(earlier.commands),
            waiting: self.waiting.saturating_sub(earlier.waiting),
        }
    }
}

pub fn add_command(took: Duration) {
    COMMANDS.fetch_add(nanos(took), Ordering::Relaxed);
}

pub fn add_waiting(took: Duration) {
    WAITING.fetch_add(nanos(took), Ordering::Relaxed);
}

pub fn spent() -> Spent {
    Spent {
        commands: Duration::from_nanos(COMMANDS.load(Ordering::Relaxed)),
        waiting: Duration::from_nanos(WAITING.load(Ordering::Relaxed)),
    }
}

fn nanos(took: Duration) -> u64 {
    u64::try_from(took.as_nanos()).unwrap_or(u64::MAX)
}
