//! `cargo xtask explain`: why a rule exists, how to fix it, where to read more.

use anyhow::{Result, bail};

use crate::Outcome;
use crate::cli::ExplainArgs;
use crate::rules::catalog::{self, RuleInfo};

const SUPPRESSION: &str = "\
To silence a rule for one instruction, put a comment on the line above it:

    # xtask-ignore: rule-id[, other-rule] -- the reason
    RUN ...

Requirements (deno-alpine-base, app-baked-in, runs-as-deno, deps-cached,
containerfile-location) cannot be silenced.";

pub fn run(args: &ExplainArgs) -> Result<Outcome> {
    if args.list {
        print!("{}", list());
        return Ok(Outcome::Passed);
    }
    let id = args.rule.as_deref().unwrap_or_default();
    let Some(rule) = catalog::find(id) else {
        bail!("no rule named `{id}`\nhint: `cargo xtask explain --list` lists them");
    };
    print!("{}", explain(rule));
    Ok(Outcome::Passed)
}

fn list() -> String {
    let width = catalog::RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for rule in catalog::RULES {
        let kind = if rule.requirement { "requirement" } else { rule.severity.as_str() };
        out.push_str(&format!("{:width$}  {kind:11}  {}\n", rule.id, rule.title));
    }
    out.push('\n');
    out.push_str(SUPPRESSION);
    out.push('\n');
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("    {line}\n")).collect()
}

/// Breaks `text` into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
}

fn explain(rule: &RuleInfo) -> String {
    let kind = if rule.requirement {
        "requirement (cannot be silenced)".to_string()
    } else {
        format!("{} (silence with `# xtask-ignore: {} -- reason`)", rule.severity.as_str(), rule.id)
    };
    let why = wrap(rule.why, 80);
    format!(
        "{id}: {title}\nkind: {kind}\n\n{why}\n\nbefore:\n{before}\nafter:\n{after}\nsee: {link}\n",
        id = rule.id,
        title = rule.title,
        before = indent(rule.before),
        after = indent(rule.after),
        link = rule.link,
    )
}
