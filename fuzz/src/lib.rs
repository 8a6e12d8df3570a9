//! The validator of `cargo xtask validate`, compiled from the xtask's own source files, and one
//! function that runs it on arbitrary input the way the command does.
//!
//! The model, the rules and the reports depend only on each other, `parse-dockerfile` and
//! `serde_json`, so this crate includes those module trees as they are instead of linking the
//! whole xtask with its engine, network and CLI dependencies. The output contract is the one
//! the xtask's property test checks.

#[path = "../../xtask/src/containerfile/mod.rs"]
pub mod containerfile;
#[path = "../../xtask/src/rules/contract.rs"]
mod contract;
#[path = "../../xtask/src/report/mod.rs"]
pub mod report;
#[path = "../../xtask/src/rules/mod.rs"]
pub mod rules;

use std::path::Path;

/// Where the fuzzed text is said to live: the server's real directory, so that the rules that
/// look at the build context (`.dockerignore`, copied files) read real files.
pub const CONTAINERFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/Containerfile");

/// Validates `data` as `validate` does once it has read UTF-8 text (other input is refused
/// before parsing), and panics when the result breaks the output contract.
pub fn validate_bytes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let validation = rules::validate(Path::new(CONTAINERFILE), text, "server/Containerfile");
    if let Err(breach) = contract::check(&validation, text) {
        panic!("{breach}");
    }
}
