//! Finding the external programs the tasks run.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// The deno binary: `DENO` when set, else the first on PATH.
pub fn deno() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("DENO").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    which::which("deno").context(
        "`deno` is not on PATH\nhint: install it with `pip install deno`, or set DENO to its path",
    )
}
