//! `cargo xtask verify`: validate, build-image, smoke and compare, in that order, with one
//! summary at the end. A failed step stops only the steps that need what it would have made:
//! a failed smoke check still leaves an image to compare.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};
use xshell::Shell;

use crate::cli::{BuildImageArgs, EngineArgs, ReportFormat, VerifyArgs};
use crate::engine::Engine;
use crate::report::{self, Style, round};
use crate::{Outcome, build_image, compare, offline_images, progress, project, smoke, stack};
use crate::{validate, validate::find_containerfile};

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Passed,
    Failed,
    /// It could not run: the machine lacks something.
    Error,
    /// An earlier step's failure left it nothing to work on.
    Blocked,
}

struct StepResult {
    id: &'static str,
    status: Status,
    detail: String,
    duration: Duration,
    /// The step's own JSON report, when it produced one.
    report: Option<Value>,
    /// Markdown for the job summary.
    summary: Option<String>,
}

/// A verify run: each step's result, and the whole run's time.
pub struct Verified {
    steps: Vec<StepResult>,
    pub elapsed: Duration,
}

impl Verified {
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.status == Status::Passed)
    }
}

pub fn run(args: &VerifyArgs, verbose: bool) -> Result<Outcome> {
    let sh = Shell::new()?;
    let engine = Engine::choose(&sh, args.engine.engine)?;
    let grouped = progress::in_github_actions() && args.format == ReportFormat::Text;
    let verified = verify(&sh, &engine, grouped, verbose);
    let steps = &verified.steps;

    match args.format {
        ReportFormat::Text => {
            print!("{}", text(&engine, steps, verified.elapsed, Style::detect()));
        }
        ReportFormat::Json => println!("{:#}", json(&engine, steps, verified.elapsed)),
    }
    if progress::in_github_actions() {
        annotate(steps, args.format);
        write_job_summary(&engine, steps)?;
    }

    if let Some(errored) = steps.iter().find(|s| s.status == Status::Error) {
        anyhow::bail!("`{}` could not run: {}", errored.id, errored.detail);
    }
    Ok(if verified.passed() { Outcome::Passed } else { Outcome::Failed })
}

/// Runs the four steps; `grouped` puts each in a GitHub log group.
pub fn verify(sh: &Shell, engine: &Engine, grouped: bool, verbose: bool) -> Verified {
    let started = Instant::now();
    let mut steps: Vec<StepResult> = Vec::new();
    let validated = step(&mut steps, "validate", grouped, None, validate_step);
    let blocked = (validated != Status::Passed).then_some("validate");
    let built =
        step(&mut steps, "build-image", grouped, blocked, || build_step(sh, engine, verbose));
    let blocked = blocked.or((built != Status::Passed).then_some("build-image"));
    step(&mut steps, "smoke", grouped, blocked, || smoke_step(sh, engine));
    step(&mut steps, "compare", grouped, blocked, || compare_step(sh, engine));
    Verified { steps, elapsed: started.elapsed() }
}

/// What a step returns: its outcome, a one-line detail, its JSON report and its Markdown.
struct Done {
    outcome: Outcome,
    detail: String,
    report: Value,
    summary: Option<String>,
}

/// Runs one step unless `blocked_by` names a failed one, and records how it went.
fn step(
    steps: &mut Vec<StepResult>,
    id: &'static str,
    grouped: bool,
    blocked_by: Option<&'static str>,
    body: impl FnOnce() -> Result<Done>,
) -> Status {
    let started = Instant::now();
    let result = if let Some(blocker) = blocked_by {
        StepResult {
            id,
            status: Status::Blocked,
            detail: format!("not run: `{blocker}` failed"),
            duration: Duration::ZERO,
            report: None,
            summary: None,
        }
    } else {
        let title = format!("verify: {id}");
        let done = if grouped { progress::group(&title, body) } else { labelled(&title, body) };
        match done {
            Ok(done) => StepResult {
                id,
                status: if done.outcome == Outcome::Passed {
                    Status::Passed
                } else {
                    Status::Failed
                },
                detail: done.detail,
                duration: started.elapsed(),
                report: Some(done.report),
                summary: done.summary,
            },
            Err(error) => StepResult {
                id,
                status: Status::Error,
                detail: format!("{error:#}").replace('\n', "; "),
                duration: started.elapsed(),
                report: None,
                summary: None,
            },
        }
    };
    let status = result.status;
    steps.push(result);
    status
}

/// A progress line around a step, for when there are no log groups (they go to stdout).
fn labelled<T>(title: &str, body: impl FnOnce() -> T) -> T {
    eprintln!("==> {title}");
    body()
}

fn validate_step() -> Result<Done> {
    let path = find_containerfile(&project::server_dir())?;
    let validation = validate::validate_file(&path)?;
    eprint!("{}", report::validation::text(&validation, Style::detect()));
    let failed = validation.requirements.iter().filter(|r| !r.passed).count();
    let detail = if failed == 0 {
        format!("all 5 requirements met, {} findings", validation.findings.len())
    } else {
        format!("{failed} of 5 requirements failed")
    };
    Ok(Done {
        outcome: if validation.failed() { Outcome::Failed } else { Outcome::Passed },
        detail,
        report: report::validation::json(&validation),
        summary: None,
    })
}

fn build_step(sh: &Shell, engine: &Engine, verbose: bool) -> Result<Done> {
    let context = project::server_dir();
    let containerfile = find_containerfile(&context)?;
    let (_, stages) = build_image::read_stages(&containerfile)?;
    for base in build_image::base_images(&stages) {
        stack::require_image(sh, engine, &base, &stack::missing_image_hint(engine, &base))?;
    }
    let args = BuildImageArgs {
        engine: EngineArgs { engine: Some(engine.name) },
        tag: build_image::DEFAULT_TAG.to_string(),
        no_cache: false,
        context: None,
        format: ReportFormat::Text,
    };
    let built = build_image::build(sh, engine, &context, &containerfile, &args, verbose)?;
    eprint!("{}", build_image::report::text(&built, Style::detect()));
    let detail = match (&built.image, built.added_bytes()) {
        (Some(_), Some(added)) => format!(
            "built `{}` in {:.1} s, {} over the base",
            built.tag,
            built.elapsed.as_secs_f64(),
            build_image::megabytes(added)
        ),
        (Some(_), None) => format!("built `{}` in {:.1} s", built.tag, built.elapsed.as_secs_f64()),
        (None, _) => "the build failed".to_string(),
    };
    Ok(Done {
        outcome: if built.succeeded() { Outcome::Passed } else { Outcome::Failed },
        detail,
        report: build_image::report::json(&built),
        summary: None,
    })
}

fn smoke_step(sh: &Shell, engine: &Engine) -> Result<Done> {
    let run = smoke::smoke(sh, engine, build_image::DEFAULT_TAG, offline_images::POSTGRES_IMAGE)?;
    eprint!("{}", smoke::report::text(&run, Style::detect()));
    let failed: Vec<&str> = run.checks.iter().filter(|c| !c.passed).map(|c| c.id).collect();
    let detail = if failed.is_empty() {
        format!("{} checks passed", run.checks.len())
    } else {
        format!("failed: {}", failed.join(", "))
    };
    Ok(Done {
        outcome: if run.passed() { Outcome::Passed } else { Outcome::Failed },
        detail,
        report: smoke::report::json(&run),
        summary: Some(smoke::report::markdown(&run)),
    })
}

fn compare_step(sh: &Shell, engine: &Engine) -> Result<Done> {
    let comparison =
        compare::compare(sh, engine, build_image::DEFAULT_TAG, offline_images::POSTGRES_IMAGE)?;
    eprint!("{}", compare::report::text(&comparison, Style::detect()));
    let failed: Vec<&str> = comparison.rows.iter().filter(|r| !r.passed).map(|r| r.id).collect();
    let detail = if failed.is_empty() {
        format!("{} rows measured", comparison.rows.len())
    } else {
        format!("the baked image fell short in: {}", failed.join(", "))
    };
    Ok(Done {
        outcome: if comparison.passed() { Outcome::Passed } else { Outcome::Failed },
        detail,
        report: comparison.json(),
        summary: Some(comparison.markdown()),
    })
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Passed => "pass",
        Status::Failed => "fail",
        Status::Error => "error",
        Status::Blocked => "blocked",
    }
}

fn text(engine: &Engine, steps: &[StepResult], elapsed: Duration, style: Style) -> String {
    let mut out = String::new();
    let passed = steps.iter().filter(|s| s.status == Status::Passed).count();
    let heading = format!(
        "verified with {} {} in {:.1} s: {passed} of {} steps passed",
        engine.program(),
        engine.version,
        elapsed.as_secs_f64(),
        steps.len()
    );
    let heading = if passed == steps.len() { style.green(&heading) } else { style.red(&heading) };
    let _ = writeln!(out, "{heading}");
    for step in steps {
        let status = match step.status {
            Status::Passed => style.green("pass"),
            Status::Failed => style.red("FAIL"),
            Status::Error => style.red("ERROR"),
            Status::Blocked => style.yellow("blocked"),
        };
        let seconds = format!("{:6.1} s", step.duration.as_secs_f64());
        let _ = writeln!(out, "  {status:<7}  {:<11}  {seconds}  {}", step.id, step.detail);
    }
    out
}

/// One object: `status`, `steps` (each with `id`, `status`, `detail`, `duration_s`) and each
/// step's own report under its id.
fn json(engine: &Engine, steps: &[StepResult], elapsed: Duration) -> Value {
    let all_passed = steps.iter().all(|s| s.status == Status::Passed);
    let summary: Vec<Value> = steps
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "status": if s.status == Status::Passed { "pass" } else { "fail" },
                "outcome": status_name(s.status),
                "detail": s.detail,
                "duration_s": round(s.duration.as_secs_f64()),
            })
        })
        .collect();
    let mut object = json!({
        "id": "verify",
        "status": if all_passed { "pass" } else { "fail" },
        "engine": engine.program(),
        "engine_version": engine.version,
        "elapsed_s": round(elapsed.as_secs_f64()),
        "steps": summary,
    });
    for step in steps {
        if let Some(report) = &step.report {
            object[step.id] = report.clone();
        }
    }
    object
}

/// An error annotation for each step that did not pass. The validation's own annotations point
/// at the Containerfile's lines.
fn annotate(steps: &[StepResult], format: ReportFormat) {
    if format != ReportFormat::Text {
        return;
    }
    for step in steps.iter().filter(|s| s.status != Status::Passed) {
        let title = report::github_escape_property(&format!("verify: {}", step.id));
        println!("::error title={title}::{}", report::github_escape_data(&step.detail));
    }
}

/// Appends the summary, the smoke checks and the comparison to the job's summary page.
fn write_job_summary(engine: &Engine, steps: &[StepResult]) -> Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut out = format!("## cargo xtask verify ({} {})\n\n", engine.program(), engine.version);
    out.push_str("| step | status | seconds | detail |\n| --- | --- | --- | --- |\n");
    for step in steps {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {} |",
            step.id,
            status_name(step.status),
            step.duration.as_secs_f64(),
            step.detail.replace('|', "\\|")
        );
    }
    for step in steps {
        if let Some(summary) = &step.summary {
            let _ = write!(out, "\n### {}\n\n{summary}", step.id);
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("failed to open `{}`", path.to_string_lossy()))?;
    file.write_all(out.as_bytes())
        .with_context(|| format!("failed to write `{}`", path.to_string_lossy()))
}
