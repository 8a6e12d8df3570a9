//! Good-practice and security rules beyond the requirements.

use super::dockerignore;
use super::{Finding, Severity, Subject};
use crate::containerfile::deno::BROAD_PERMISSIONS;
use crate::containerfile::stage::{self, Stage};
use crate::containerfile::{Command, Instruction, Kind, Position};

pub fn check(subject: &Subject<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let chain = subject.final_chain();
    let final_instructions: Vec<&Instruction> = chain
        .iter()
        .flat_map(|stage| &subject.file.instructions[stage.instructions.clone()])
        .collect();

    json_form(&final_instructions, &mut findings);
    duplicate_cmd(subject, &mut findings);
    broad_permissions(subject, &mut findings);
    relative_workdir(subject, &mut findings);
    missing_healthcheck(subject, &mut findings);
    dockerignore::check(subject.context, &mut findings);
    secret_env(subject, &mut findings);
    if let Some(last) = subject.final_stage() {
        source_before_cache(subject, last, &mut findings);
        user_before_write(last, &mut findings);
    }
    prefer_copy(subject, &mut findings);
    findings
}

fn finding(rule: &'static str, severity: Severity, position: Position, message: String) -> Finding {
    Finding { rule, severity, position: Some(position), message, help: None }
}

fn json_form(instructions: &[&Instruction], findings: &mut Vec<Finding>) {
    for instruction in instructions {
        if let Kind::Cmd(Command::Shell(_)) | Kind::Entrypoint(Command::Shell(_)) = instruction.kind
        {
            let name = instruction.kind.name();
            let mut f = finding(
                "json-form",
                Severity::Warning,
                instruction.position,
                format!(
                    "{name} in shell form runs under `/bin/sh -c`, which does not pass SIGTERM on"
                ),
            );
            f.help = Some(format!(
                "write it as a JSON array: {name} [\"run\", \"--allow-net\", \"main.ts\"]"
            ));
            findings.push(f);
        }
    }
}

fn duplicate_cmd(subject: &Subject<'_>, findings: &mut Vec<Finding>) {
    for stage in subject.stages {
        for name in ["CMD", "ENTRYPOINT"] {
            let all: Vec<&Instruction> = subject.file.instructions[stage.instructions.clone()]
                .iter()
                .filter(|i| i.kind.name() == name)
                .collect();
            let Some((last, earlier)) = all.split_last() else { continue };
            for instruction in earlier {
                let mut f = finding(
                    "duplicate-cmd",
                    Severity::Warning,
                    instruction.position,
                    format!(
                        "only the last {name} of a stage takes effect; this one is replaced at line {}",
                        last.position.line
                    ),
                );
                f.help = Some(format!("remove this {name}"));
                findings.push(f);
            }
        }
    }
}

fn broad_permissions(subject: &Subject<'_>, findings: &mut Vec<Finding>) {
    let Some(target) = subject.final_stage().and_then(Stage::run_target) else { return };
    for option in &target.run.options {
        let flag = option.split('=').next().unwrap_or(option);
        if BROAD_PERMISSIONS.contains(&flag) {
            let mut f = finding(
                "broad-permissions",
                Severity::Warning,
                target.position,
                format!("`{option}` grants more than the server needs"),
            );
            f.help = Some("grant only `--allow-net --allow-env --allow-read`".into());
            findings.push(f);
        }
    }
}

fn relative_workdir(subject: &Subject<'_>, findings: &mut Vec<Finding>) {
    for instruction in &subject.file.instructions {
        let Kind::Workdir(path) = &instruction.kind else { continue };
        let expanded_absolute = path.starts_with('/') || path.starts_with('$');
        let windows = path.chars().nth(1) == Some(':');
        if !expanded_absolute && !windows {
            let mut f = finding(
                "relative-workdir",
                Severity::Warning,
                instruction.position,
                format!("WORKDIR `{path}` is relative, so it depends on every WORKDIR before it"),
            );
            f.help = Some("use an absolute path, such as `WORKDIR /app`".into());
            findings.push(f);
        }
    }
}

fn missing_healthcheck(subject: &Subject<'_>, findings: &mut Vec<Finding>) {
    let Some(last) = subject.final_stage() else { return };
    if last.healthcheck.is_none() {
        let mut f = finding(
            "missing-healthcheck",
            Severity::Info,
            last.from_position,
            "the final stage has no HEALTHCHECK, so the engine cannot tell a hung server from a healthy one".into(),
        );
        f.help = Some("add e.g. `HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1`".into());
        findings.push(f);
    }
}

/// Names that look like they hold a secret. A `_FILE` suffix names a path to one, which is fine.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("_FILE") || upper.ends_with("_PATH") {
        return false;
    }
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|word| upper.contains(word))
}

fn secret_env(subject: &Subject<'_>, findings: &mut Vec<Finding>) {
    for instruction in &subject.file.instructions {
        let names: Vec<String> = match &instruction.kind {
            Kind::Arg(words) => {
                words.iter().map(|w| w.split('=').next().unwrap_or(w).to_string()).collect()
            }
            Kind::Env(pairs) => pairs.iter().map(|(key, _)| key.clone()).collect(),
            _ => continue,
        };
        for name in names.into_iter().filter(|n| is_secret_name(n)) {
            let kind = instruction.kind.name();
            let mut f = finding(
                "secret-env",
                Severity::Warning,
                instruction.position,
                format!(
                    "{kind} `{name}` looks like a secret; {kind} values are kept in the image metadata"
                ),
            );
            f.help = Some(
                "pass it at run time (`-e`), or use `RUN --mount=type=secret` in the build".into(),
            );
            findings.push(f);
        }
    }
}

/// Copies that bring in the whole tree or a source directory.
fn copies_source_tree(subject: &Subject<'_>, placement: &stage::Placement) -> bool {
    placement.from.is_none()
        && placement.sources.iter().any(|source| {
            let source = source.trim_start_matches("./").trim_end_matches('/');
            source.is_empty() || source == "." || subject.context.join(source).is_dir()
        })
}

fn source_before_cache(subject: &Subject<'_>, last: &Stage, findings: &mut Vec<Finding>) {
    let Some(first_cache) =
        last.cache_steps.iter().filter(|s| s.carried_from.is_none()).min_by_key(|s| s.index)
    else {
        return;
    };
    let Some(copy) = last
        .placements
        .iter()
        .find(|p| p.index < first_cache.index && copies_source_tree(subject, p))
    else {
        return;
    };
    let mut f = finding(
        "source-before-cache",
        Severity::Info,
        copy.position,
        format!(
            "the source is copied before the dependencies are cached (line {}), so any source edit downloads them again",
            first_cache.position.line
        ),
    );
    f.help = Some(
        "copy `deno.json` and `deno.lock` first, run `deno install`, then copy the rest and `deno cache main.ts`".into(),
    );
    findings.push(f);
}

fn user_before_write(last: &Stage, findings: &mut Vec<Finding>) {
    // One finding per root-owned copy: the first step that trips over it. A `--frozen` step
    // only reads the lockfile, so root-owned files do not stop it.
    let mut reported: Vec<usize> = Vec::new();
    for step in last.cache_steps.iter().filter(|s| s.carried_from.is_none() && !s.frozen) {
        let Some(user) = step.user.as_deref() else { continue };
        let name = user.split(':').next().unwrap_or(user);
        if name == "root" || name == "0" {
            continue;
        }
        let directory = step.directory.trim_end_matches('/');
        let unowned = last.placements.iter().find(|p| {
            p.index < step.index
                && !p.chown
                && p.from.is_none()
                && (p.dest.trim_end_matches('/') == directory
                    || p.dest.rsplit_once('/').is_some_and(|(parent, _)| parent == directory))
        });
        if let Some(copy) = unowned.filter(|copy| !reported.contains(&copy.index)) {
            reported.push(copy.index);
            let mut f = finding(
                "user-before-write",
                Severity::Warning,
                step.position,
                format!(
                    "this step runs as `{user}` in `{}`, but line {} copied files there owned by root; Deno 2 writes `deno.lock` there and fails",
                    step.directory, copy.position.line
                ),
            );
            f.help = Some(format!(
                "pass `--frozen`, so that the lockfile is only checked, or copy with `--chown={name}:{name}`"
            ));
            findings.push(f);
        }
    }
}

fn prefer_copy(subject: &Subject<'_>, findings: &mut Vec<Finding>) {
    for instruction in &subject.file.instructions {
        let Kind::Add { sources, .. } = &instruction.kind else { continue };
        let needs_add = sources.iter().any(|s| {
            s.contains("://")
                || s.starts_with("git@")
                || [".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".txz", ".tbz2"]
                    .iter()
                    .any(|ext| s.ends_with(ext))
        });
        if !needs_add {
            let mut f = finding(
                "prefer-copy",
                Severity::Info,
                instruction.position,
                "ADD of local files does what COPY does, plus archive extraction you may not expect".into(),
            );
            f.help = Some("use COPY; keep ADD for URLs and archives".into());
            findings.push(f);
        }
    }
}
