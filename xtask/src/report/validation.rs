//! `validate`'s results as text (like rustc), JSON, GitHub workflow commands or SARIF.

use serde_json::{Value, json};

use super::{Style, github_escape_data, github_escape_property};
use crate::rules::{Finding, Severity, Validation};

pub fn text(validation: &Validation, style: Style) -> String {
    let mut out = String::new();
    for finding in &validation.findings {
        out.push_str(&text_finding(validation, finding, style));
        out.push('\n');
    }

    out.push_str(&style.bold("requirements:"));
    out.push('\n');
    let width = validation.requirements.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for requirement in &validation.requirements {
        let status = if requirement.passed { style.green("pass") } else { style.red("FAIL") };
        let id = format!("{:width$}", requirement.id);
        out.push_str(&format!("  {status}  {id}  {}\n", printable(&requirement.message)));
    }

    let passed = validation.requirements.iter().filter(|r| r.passed).count();
    let count = |severity| validation.findings.iter().filter(|f| f.severity == severity).count();
    let plural =
        |n: usize, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    out.push_str(&format!(
        "{}: {passed} of {} requirements met; {}, {}, {}\n",
        printable(&validation.file),
        validation.requirements.len(),
        plural(count(Severity::Error), "error"),
        plural(count(Severity::Warning), "warning"),
        plural(count(Severity::Info), "note"),
    ));
    out
}

/// `text` with its control characters (but tabs) shown as the Unicode pictures of them, one
/// character for one, so that a Containerfile cannot drive the terminal that shows the report
/// and the carets under a line still line up.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            '\u{80}'..='\u{9f}' => '\u{fffd}',
            _ => c,
        })
        .collect()
}

fn text_finding(validation: &Validation, finding: &Finding, style: Style) -> String {
    let label = match finding.severity {
        Severity::Error => style.red(&format!("error[{}]", finding.rule)),
        Severity::Warning => style.yellow(&format!("warning[{}]", finding.rule)),
        Severity::Info => style.cyan(&format!("note[{}]", finding.rule)),
    };
    let mut out =
        format!("{label}{} {}\n", style.bold(":"), style.bold(&printable(&finding.message)));
    match finding.position {
        Some(position) => {
            let number = position.line.to_string();
            let gutter = " ".repeat(number.len());
            let source = printable(validation.line_text(position.line));
            let arrow = style.blue("-->");
            out.push_str(&format!(
                "{gutter}{arrow} {}:{}:{}\n",
                printable(&validation.file),
                position.line,
                position.column
            ));
            out.push_str(&format!("{gutter} {}\n", style.blue("|")));
            out.push_str(&format!("{} {} {source}\n", style.blue(&number), style.blue("|")));
            let indent: String = source
                .chars()
                .take(position.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let token = source
                .chars()
                .skip(position.column.saturating_sub(1))
                .take_while(|c| !c.is_whitespace());
            let carets = "^".repeat(token.count().max(1));
            let carets = match finding.severity {
                Severity::Error => style.red(&carets),
                Severity::Warning => style.yellow(&carets),
                Severity::Info => style.cyan(&carets),
            };
            out.push_str(&format!("{gutter} {} {indent}{carets}\n", style.blue("|")));
            if let Some(help) = &finding.help {
                out.push_str(&format!(
                    "{gutter} {} {}: {help}\n",
                    style.blue("="),
                    style.bold("help")
                ));
            }
        }
        None => {
            out.push_str(&format!("  {} {}\n", style.blue("-->"), validation.file));
            if let Some(help) = &finding.help {
                out.push_str(&format!("  {} {}: {help}\n", style.blue("="), style.bold("help")));
            }
        }
    }
    out
}

pub fn json(validation: &Validation) -> Value {
    let requirements: Vec<Value> = validation
        .requirements
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "status": if r.passed { "pass" } else { "fail" },
                "line": r.line,
                "message": r.message,
            })
        })
        .collect();
    let findings: Vec<Value> = validation
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule,
                "severity": f.severity.as_str(),
                "line": f.position.map(|p| p.line),
                "column": f.position.map(|p| p.column),
                "message": f.message,
                "help": f.help,
            })
        })
        .collect();
    json!({ "file": validation.file, "requirements": requirements, "findings": findings })
}

/// GitHub workflow commands: one annotation per finding.
pub fn github(validation: &Validation) -> String {
    let mut out = String::new();
    for finding in &validation.findings {
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut properties = vec![format!("file={}", github_escape_property(&validation.file))];
        if let Some(position) = finding.position {
            properties.push(format!("line={}", position.line));
            properties.push(format!("col={}", position.column));
        }
        properties.push(format!("title={}", github_escape_property(finding.rule)));
        let mut message = finding.message.clone();
        if let Some(help) = &finding.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{command} {}::{}\n",
            properties.join(","),
            github_escape_data(&message)
        ));
    }
    let passed = validation.requirements.iter().filter(|r| r.passed).count();
    out.push_str(&format!(
        "{}: {passed} of {} requirements met\n",
        validation.file,
        validation.requirements.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent_to_the_terminal() {
        assert_eq!(
            printable("RUN echo \x1b[2J\tdone\r\u{9b}"),
            "RUN echo \u{241b}[2J\tdone\u{240d}\u{fffd}"
        );
        assert_eq!(printable("FROM a\u{7f}"), "FROM a\u{2421}");
        assert_eq!(printable("plain ü"), "plain ü");
    }
}
