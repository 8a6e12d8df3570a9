//! Where the project's files are.

use std::path::{Path, PathBuf};

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
