//! Checks a Containerfile: the five requirements of the image, then good practice.

pub mod catalog;
#[cfg(test)]
mod contract;
mod dockerignore;
mod practice;
#[cfg(test)]
mod property_tests;
mod requirements;

pub use practice::is_secret_name;

use std::path::Path;

use crate::containerfile::stage::{self, Stage};
use crate::containerfile::{Containerfile, ParseError, Position};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One problem found, pointing at a place in the file when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub position: Option<Position>,
    pub message: String,
    /// How to fix it, when the fix can be said in a line.
    pub help: Option<String>,
}

/// The verdict on one requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub id: &'static str,
    pub passed: bool,
    pub line: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

/// Everything `validate` found in one file.
#[derive(Debug)]
pub struct Validation {
    /// The path as the user gave it (or as found), for reports.
    pub file: String,
    pub requirements: Vec<Requirement>,
    /// Sorted by position; failed requirements included, as `error`s under the same id.
    pub findings: Vec<Finding>,
    /// Source lines by number, for reports that quote them.
    pub lines: Vec<String>,
}

impl Validation {
    /// Whether any requirement failed or any finding is an error.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn line_text(&self, line: usize) -> &str {
        self.lines.get(line.wrapping_sub(1)).map_or("", String::as_str)
    }
}

/// What a rule needs to look at.
pub struct Subject<'a> {
    pub file: &'a Containerfile,
    pub stages: &'a [Stage],
    /// The directory holding the Containerfile, also the build context.
    pub context: &'a Path,
}

impl Subject<'_> {
    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// The stages whose instructions end up in the final image, oldest first.
    pub fn final_chain(&self) -> Vec<&Stage> {
        let Some(last) = self.final_stage() else { return vec![] };
        let mut chain: Vec<&Stage> = last.parents.iter().rev().map(|&i| &self.stages[i]).collect();
        chain.push(last);
        chain
    }
}

/// Parses and checks `text`, read from `path` and shown as `display`. A file that does not
/// parse is a validation with a `syntax` finding.
pub fn validate(path: &Path, text: &str, display: &str) -> Validation {
    match Containerfile::parse(path, text) {
        Ok(file) => check(&file, display),
        Err(error) => unparsable(path, text, display, &error),
    }
}

/// Validates a parsed file.
fn check(file: &Containerfile, display: &str) -> Validation {
    let stages = stage::resolve(file);
    let subject = Subject { file, stages: &stages, context: file.context_dir() };

    let requirements = requirements::check(&subject);
    let mut findings: Vec<Finding> = requirements
        .iter()
        .filter(|r| !r.passed)
        .map(|r| Finding {
            rule: r.id,
            severity: Severity::Error,
            position: r.line.map(|line| Position { line, column: 1 }),
            message: r.message.clone(),
            help: r.help.clone(),
        })
        .collect();

    // The instructions are in file order and do not overlap: the one a finding points into is
    // the last to start on or before its line.
    let suppressed = |finding: &Finding| {
        let Some(position) = finding.position else { return false };
        let after = file.instructions.partition_point(|i| i.position.line <= position.line);
        after.checked_sub(1).map(|at| &file.instructions[at]).is_some_and(|i| {
            position.line <= i.end_line && i.ignored_rules.iter().any(|rule| rule == finding.rule)
        })
    };
    findings.extend(practice::check(&subject).into_iter().filter(|f| !suppressed(f)));
    findings.sort_by_key(|f| (f.position.map_or((0, 0), |p| (p.line, p.column)), f.severity));

    Validation {
        file: display.to_string(),
        requirements,
        findings,
        lines: file.text.lines().map(String::from).collect(),
    }
}

/// A file that does not parse: one error finding, and every requirement that depends on the
/// content fails with it.
fn unparsable(path: &Path, text: &str, display: &str, error: &ParseError) -> Validation {
    let location = requirements::check_location(path);
    let line = Some(error.position.line);
    let mut requirements: Vec<Requirement> = requirements::IDS
        .iter()
        .filter(|&&id| id != location.id)
        .map(|&id| Requirement {
            id,
            passed: false,
            line,
            message: "the Containerfile could not be parsed".into(),
            help: None,
        })
        .collect();
    requirements.push(location.clone());
    requirements.sort_by_key(|r| requirements::IDS.iter().position(|&id| id == r.id));

    let mut findings = vec![Finding {
        rule: "syntax",
        severity: Severity::Error,
        position: Some(error.position),
        message: error.message.clone(),
        help: None,
    }];
    if !location.passed {
        findings.push(Finding {
            rule: location.id,
            severity: Severity::Error,
            position: None,
            message: location.message,
            help: location.help,
        });
    }
    Validation {
        file: display.to_string(),
        requirements,
        findings,
        lines: text.lines().map(String::from).collect(),
    }
}
