//! A run's containers, images and networks: every one carries the run's label, and all of them
//! are removed when the run ends, whether it passes, fails, panics or is interrupted.
//!
//! Removal goes by label rather than by a list of what was created, so that it also finds what
//! an engine command created and then failed on. Ctrl-C (and SIGTERM, SIGHUP) runs the same
//! removal for every open session and exits with status 130. Creating something and removing
//! everything take one lock, so an interrupt never lists the labelled resources while one is
//! being created.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use xshell::Shell;

use crate::engine::Engine;

/// The label key on everything a run creates; its value is the run's id.
pub const RUN_LABEL: &str = "dev.chat-server.run";

/// The sessions still open, for the interrupt handler to clean up.
static OPEN: Mutex<Vec<(Engine, String)>> = Mutex::new(Vec::new());
/// Held while a resource is created and while the handler removes them.
static CREATING: Mutex<()> = Mutex::new(());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static HANDLER: Once = Once::new();

pub struct Session {
    engine: Engine,
    /// `smoke-1234-5678`: what it is for, the process id and a clock reading.
    pub id: String,
    /// `dev.chat-server.run=<id>`.
    pub label: String,
}

impl Session {
    /// Opens a session for `purpose` (`smoke`, `compare`) and makes sure an interrupt cleans it
    /// up.
    pub fn open(engine: &Engine, purpose: &str) -> Session {
        install_interrupt_handler();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let id = format!("{purpose}-{}-{nanos:08x}", std::process::id());
        let label = format!("{RUN_LABEL}={id}");
        lock(&OPEN).push((engine.clone(), label.clone()));
        Session { engine: engine.clone(), id, label }
    }

    /// A name for a resource of this session: `<id>-<role>`.
    pub fn name(&self, role: &str) -> String {
        format!("{}-{role}", self.id)
    }

    /// Runs `create` (which must label what it creates with `self.label`) unless the run was
    /// interrupted.
    pub fn create<T>(&self, create: impl FnOnce() -> Result<T>) -> Result<T> {
        let _creating = lock(&CREATING);
        if INTERRUPTED.load(Ordering::SeqCst) {
            bail!("interrupted");
        }
        create()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _creating = lock(&CREATING);
        remove(&self.engine, &self.label);
        lock(&OPEN).retain(|(_, label)| *label != self.label);
    }
}

fn remove(engine: &Engine, label: &str) {
    eprintln!("==> removing what `{label}` labels");
    let result =
        Shell::new().map_err(anyhow::Error::from).and_then(|sh| engine.remove_labelled(&sh, label));
    if let Err(error) = result {
        eprintln!("warning: cleanup failed: {error:#}");
    }
}

fn install_interrupt_handler() {
    HANDLER.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            eprintln!("interrupted: cleaning up");
            let _creating = lock(&CREATING);
            let open: Vec<(Engine, String)> = lock(&OPEN).drain(..).collect();
            for (engine, label) in &open {
                remove(engine, label);
            }
            std::process::exit(130);
        });
        if let Err(error) = installed {
            eprintln!("warning: Ctrl-C will not clean up: {error}");
        }
    });
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
