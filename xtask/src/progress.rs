//! Progress on stderr, with GitHub Actions log groups when running there.

use std::time::Instant;

pub fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Runs `body` as one named, timed step of a longer job.
pub fn group<T>(title: &str, body: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    if in_github_actions() {
        println!("::group::{title}");
    }
    eprintln!("==> {title}");
    let result = body();
    if in_github_actions() {
        println!("::endgroup::");
    }
    eprintln!("==> {title}: {:.1}s", started.elapsed().as_secs_f64());
    result
}
