//! SARIF 2.1.0 for GitHub code scanning.

use serde_json::{Value, json};

use crate::rules::catalog::{self, RuleInfo};
use crate::rules::{Severity, Validation};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule(info: &RuleInfo) -> Value {
    let markdown = format!(
        "{}\n\nBefore:\n\n```dockerfile\n{}\n```\n\nAfter:\n\n```dockerfile\n{}\n```\n\n[Reference]({})",
        info.why, info.before, info.after, info.link
    );
    json!({
        "id": info.id,
        "name": info.id,
        "shortDescription": { "text": info.title },
        "fullDescription": { "text": info.why },
        "helpUri": info.link,
        "help": { "text": format!("{} See {}", info.why, info.link), "markdown": markdown },
        "defaultConfiguration": { "level": level(info.severity) },
        "properties": { "tags": if info.requirement { vec!["requirement"] } else { vec!["practice"] } },
    })
}

pub fn validation(validation: &Validation) -> Value {
    let rules: Vec<Value> = catalog::RULES.iter().map(rule).collect();
    let uri = validation.file.replace('\\', "/");
    let results: Vec<Value> = validation
        .findings
        .iter()
        .map(|finding| {
            let index = catalog::RULES.iter().position(|r| r.id == finding.rule);
            // Code scanning needs a region; file-level findings point at the first line.
            let (line, column) = finding.position.map_or((1, 1), |p| (p.line, p.column));
            let mut text = finding.message.clone();
            if let Some(help) = &finding.help {
                text.push_str(&format!(" (help: {help})"));
            }
            json!({
                "ruleId": finding.rule,
                "ruleIndex": index,
                "level": level(finding.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": line, "startColumn": column },
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "xtask-validate",
                    "informationUri": "https://docs.docker.com/reference/dockerfile/",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "results": results,
        }],
    })
}
