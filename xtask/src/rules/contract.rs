//! The contract a validation keeps whatever the input: the five requirement ids in order,
//! every line number inside the file, every rule known to `explain`, and every report format
//! rendering. The property test and the fuzzer both check results against it.

use crate::report::{self, Style};
use crate::rules::{Severity, Validation, catalog};

/// The five requirement ids, in the order every validation reports them.
const REQUIREMENT_IDS: [&str; 5] =
    ["deno-alpine-base", "app-baked-in", "runs-as-deno", "deps-cached", "containerfile-location"];

/// The first way in which `validation`, the result for `text`, breaks the contract.
pub fn check(validation: &Validation, text: &str) -> Result<(), String> {
    let ids: Vec<&str> = validation.requirements.iter().map(|r| r.id).collect();
    if ids != REQUIREMENT_IDS {
        return Err(format!("the requirements are {ids:?}"));
    }

    let last_line = text.lines().count().max(1);
    for requirement in &validation.requirements {
        if let Some(line) = requirement.line.filter(|line| !(1..=last_line).contains(line)) {
            let id = requirement.id;
            return Err(format!("requirement `{id}` is at line {line}, outside 1..={last_line}"));
        }
    }
    for finding in &validation.findings {
        let rule = finding.rule;
        if catalog::find(rule).is_none() {
            return Err(format!("finding `{rule}` is not a rule `explain` knows"));
        }
        let Some(position) = finding.position else { continue };
        if !(1..=last_line).contains(&position.line) || position.column == 0 {
            let (line, column) = (position.line, position.column);
            return Err(format!("finding `{rule}` is at {line}:{column}, outside 1..={last_line}"));
        }
    }

    let is_error = |rule: &str| {
        validation.findings.iter().any(|f| f.severity == Severity::Error && f.rule == rule)
    };
    for requirement in validation.requirements.iter().filter(|r| !r.passed) {
        if !is_error(requirement.id) && !is_error("syntax") {
            return Err(format!("requirement `{}` failed with no error finding", requirement.id));
        }
    }

    check_reports(validation)
}

fn check_reports(validation: &Validation) -> Result<(), String> {
    let passed = validation.requirements.iter().filter(|r| r.passed).count();

    let text = report::validation::text(validation, Style::detect());
    let summary = format!("{}: {passed} of 5 requirements met; ", validation.file);
    if !text.lines().last().is_some_and(|line| line.starts_with(&summary)) {
        return Err(format!("the text report does not end with its summary:\n{text}"));
    }

    let json = report::validation::json(validation);
    let reparsed: serde_json::Value = serde_json::from_str(&json.to_string())
        .map_err(|error| format!("the JSON report does not parse back: {error}"))?;
    let findings = reparsed["findings"].as_array().map(Vec::len);
    if reparsed != json || findings != Some(validation.findings.len()) {
        return Err(format!("the JSON report does not list every finding:\n{json:#}"));
    }

    // One workflow command per finding, then the summary: a message cannot break a line.
    let github = report::validation::github(validation);
    if github.lines().count() != validation.findings.len() + 1 || !github.ends_with('\n') {
        return Err(format!(
            "the GitHub report is not a line per finding and a summary:\n{github}"
        ));
    }

    let sarif = report::sarif::validation(validation);
    let results = sarif["runs"][0]["results"].as_array().cloned().unwrap_or_default();
    if results.len() != validation.findings.len()
        || results.iter().any(|r| !r["ruleIndex"].is_u64())
    {
        return Err(format!("the SARIF results do not match the findings:\n{sarif:#}"));
    }
    Ok(())
}
