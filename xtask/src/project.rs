//! Where the project's files are.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The repository root: the workspace this xtask belongs to.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// The server's directory, the build context of the image.
pub fn server_dir() -> PathBuf {
    root().join("server")
}

/// `path` relative to the working directory when it is below it, for messages.
pub fn display(path: &Path) -> String {
    let relative = std::env::current_dir().ok().and_then(|cwd| {
        let absolute = std::path::absolute(path).ok()?;
        absolute.strip_prefix(&cwd).ok().map(Path::to_path_buf)
    });
    relative.unwrap_or_else(|| path.to_path_buf()).display().to_string()
}

/// The bytes of every file under `dir`: what a bind mount needs on the host.
pub fn tree_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let unreadable = || format!("failed to read `{}`", display(&dir));
        for entry in std::fs::read_dir(&dir).with_context(unreadable)? {
            let entry = entry.with_context(unreadable)?;
            let kind = entry.file_type().with_context(unreadable)?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                total += entry.metadata().with_context(unreadable)?.len();
            }
        }
    }
    Ok(total)
}

/// Copies `source` to `target`, leaving out `node_modules` and `.git`: a copy of the server to
/// edit or tamper with.
pub fn copy_tree(source: &Path, target: &Path) -> Result<()> {
    std::fs::create_dir_all(target)
        .with_context(|| format!("failed to create `{}`", target.display()))?;
    let unreadable = || format!("failed to read `{}`", display(source));
    for entry in std::fs::read_dir(source).with_context(unreadable)? {
        let entry = entry.with_context(unreadable)?;
        let name = entry.file_name();
        if name == "node_modules" || name == ".git" {
            continue;
        }
        let to = target.join(&name);
        if entry.file_type().with_context(unreadable)?.is_dir() {
            copy_tree(&entry.path(), &to)?;
        } else {
            std::fs::copy(entry.path(), &to)
                .with_context(|| format!("failed to copy `{}`", entry.path().display()))?;
        }
    }
    Ok(())
}
