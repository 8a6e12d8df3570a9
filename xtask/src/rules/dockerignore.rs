//! The build context's ignore file: it must exist and keep secrets and bulk out.

use std::path::Path;

use super::{Finding, Severity};

/// Entries that must never reach the build context.
const MUST_IGNORE: [&str; 3] = [".git", ".env", "node_modules"];

/// The ignore files the engines read, in the order they look for them.
const IGNORE_FILES: [&str; 2] = [".containerignore", ".dockerignore"];

pub fn check(context: &Path, findings: &mut Vec<Finding>) {
    let Some((name, text)) = IGNORE_FILES.iter().find_map(|name| {
        std::fs::read_to_string(context.join(name)).ok().map(|text| (*name, text))
    }) else {
        findings.push(Finding {
            rule: "dockerignore",
            severity: Severity::Warning,
            position: None,
            message: "the build context has no `.dockerignore`, so `.git`, `.env` and `node_modules` are sent to the builder".into(),
            help: Some("add a `.dockerignore` beside the Containerfile listing `.git`, `.env` and `node_modules`".into()),
        });
        return;
    };
    let patterns = parse(&text);
    let let_in: Vec<&str> =
        MUST_IGNORE.iter().copied().filter(|entry| !is_ignored(&patterns, entry)).collect();
    if !let_in.is_empty() {
        let list = let_in.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
        findings.push(Finding {
            rule: "dockerignore",
            severity: Severity::Warning,
            position: None,
            message: format!("`{name}` lets {list} into the build context"),
            help: Some(format!("add {} to `{name}`", let_in.join(", "))),
        });
    }
}

struct Pattern {
    glob: String,
    negated: bool,
}

fn parse(text: &str) -> Vec<Pattern> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (negated, glob) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let glob = glob.trim_start_matches("./").trim_start_matches('/').trim_end_matches('/');
            Pattern { glob: glob.to_string(), negated }
        })
        .collect()
}

/// The last matching pattern decides, as in the engines; a match on a parent directory counts.
fn is_ignored(patterns: &[Pattern], entry: &str) -> bool {
    let mut ignored = false;
    for pattern in patterns {
        if matches(&pattern.glob, entry) {
            ignored = !pattern.negated;
        }
    }
    ignored
}

/// Matches a top-level `entry` against a pattern with `*`, `?` and a leading `**/`.
fn matches(glob: &str, entry: &str) -> bool {
    let glob = glob.strip_prefix("**/").unwrap_or(glob);
    if glob == "**" {
        return true;
    }
    let first = glob.split('/').next().unwrap_or(glob);
    glob == first && crate::containerfile::stage::glob_match(first, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignored(text: &str, entry: &str) -> bool {
        is_ignored(&parse(text), entry)
    }

    #[test]
    fn reads_patterns_like_the_engines() {
        assert!(ignored(".git\n", ".git"));
        assert!(ignored("/.git/\n", ".git"));
        assert!(ignored("**/node_modules\n", "node_modules"));
        assert!(ignored(".env*\n", ".env"));
        assert!(ignored("*\n!main.ts\n", ".env"));
        assert!(!ignored(".env\n!.env\n", ".env"));
        assert!(!ignored("# .git\n", ".git"));
        assert!(!ignored("src/.git\n", ".git"));
    }
}
