//! `cargo xtask validate`: find, read, parse and check a Containerfile.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use crate::Outcome;
use crate::cli::{ValidateArgs, ValidateFormat};
use crate::project;
use crate::report::{self, Style};
use crate::rules::{self, Validation};

pub fn run(args: &ValidateArgs) -> Result<Outcome> {
    let path = match &args.path {
        Some(path) => path.clone(),
        None => find_containerfile(&project::server_dir())?,
    };
    let validation = validate_file(&path)?;

    let in_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let format = args.format.unwrap_or(if in_actions {
        ValidateFormat::Github
    } else {
        ValidateFormat::Text
    });
    match format {
        ValidateFormat::Text => {
            print!("{}", report::validation::text(&validation, Style::detect()))
        }
        ValidateFormat::Json => println!("{:#}", report::validation::json(&validation)),
        ValidateFormat::Github => print!("{}", report::validation::github(&validation)),
        ValidateFormat::Sarif => println!("{:#}", report::sarif::validation(&validation)),
    }
    Ok(if validation.failed() { Outcome::Failed } else { Outcome::Passed })
}

/// `Containerfile`, else `Dockerfile`, in `dir`; both is an error.
pub fn find_containerfile(dir: &Path) -> Result<PathBuf> {
    let containerfile = dir.join("Containerfile");
    let dockerfile = dir.join("Dockerfile");
    match (containerfile.is_file(), dockerfile.is_file()) {
        (true, true) => bail!(
            "both `{}` and `{}` exist; delete `{}` so that every engine builds the same file",
            project::display(&containerfile),
            project::display(&dockerfile),
            project::display(&dockerfile),
        ),
        (true, false) => Ok(containerfile),
        (false, true) => Ok(dockerfile),
        (false, false) => bail!(
            "no `Containerfile` or `Dockerfile` in `{}`\nhint: give the file's path: `cargo xtask validate PATH`",
            project::display(dir)
        ),
    }
}

/// The largest file `validate` reads. Real Containerfiles are a few kilobytes; the work grows
/// with the file, so the bound also bounds the time a hostile one can take.
const MAX_BYTES: u64 = 1024 * 1024;

/// Reads and checks one file. Input that cannot be a Containerfile (a directory, a binary or
/// non-UTF-8 file, more than 1 MiB) is an error; a file that does not parse is a validation
/// with a `syntax` finding.
pub fn validate_file(path: &Path) -> Result<Validation> {
    let text = read_containerfile(path)?;
    Ok(rules::validate(path, &text, &project::display(path)))
}

/// The text of a file that can be a Containerfile: not a directory, not binary, UTF-8, at most
/// 1 MiB.
pub fn read_containerfile(path: &Path) -> Result<String> {
    let display = project::display(path);
    if path.is_dir() {
        bail!("`{display}` is a directory, not a Containerfile");
    }
    let bytes =
        read_at_most(path, MAX_BYTES).with_context(|| format!("failed to read `{display}`"))?;
    let Some(bytes) = bytes else {
        bail!("`{display}` is larger than 1 MiB, too large for a Containerfile");
    };
    if bytes.contains(&0) {
        bail!("`{display}` is a binary file, not a Containerfile");
    }
    let text = String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        // The bytes before the invalid one on its line are valid UTF-8.
        let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
        anyhow!("`{display}` is not UTF-8 text: invalid byte at line {line}, column {column}")
    })?;
    Ok(text)
}

/// The file's bytes, or `None` when it holds more than `limit`. Reads no further than that,
/// whatever the file is (`/dev/zero` included).
fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_containerfile_then_dockerfile_and_refuses_both() {
        let dir = std::env::temp_dir().join(format!("xtask-find-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let error = find_containerfile(&dir).unwrap_err().to_string();
        assert!(error.starts_with("no `Containerfile` or `Dockerfile` in `"), "{error}");

        std::fs::write(dir.join("Dockerfile"), "FROM a\n").unwrap();
        assert_eq!(find_containerfile(&dir).unwrap(), dir.join("Dockerfile"));
        std::fs::write(dir.join("Containerfile"), "FROM a\n").unwrap();
        let error = find_containerfile(&dir).unwrap_err().to_string();
        assert!(error.starts_with("both `"), "{error}");
        assert!(
            error.ends_with("Dockerfile` so that every engine builds the same file"),
            "{error}"
        );
        std::fs::remove_file(dir.join("Dockerfile")).unwrap();
        assert_eq!(find_containerfile(&dir).unwrap(), dir.join("Containerfile"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
