//! `cargo xtask ci`: every check CI runs, in order, stopping at the first failure.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::cli::{CiArgs, EngineArgs, EngineName, OfflineImagesArgs, ReportFormat, VerifyArgs};
use crate::progress;
use crate::{Outcome, offline_images, project, tools, validate, verify};

struct Step {
    name: &'static str,
    /// Whether the step runs a container engine; `--no-engines` leaves these out.
    engine: bool,
    run: fn(&Shell) -> Result<Outcome>,
}

const STEPS: &[Step] = &[
    Step {
        name: "rustfmt",
        engine: false,
        run: |sh| ok(cmd!(sh, "cargo fmt --all --check").run()),
    },
    Step {
        name: "clippy",
        engine: false,
        run: |sh| {
            ok(cmd!(sh, "cargo clippy --workspace --all-targets --quiet -- -D warnings").run())
        },
    },
    Step {
        name: "cargo test",
        engine: false,
        run: |sh| ok(cmd!(sh, "cargo test --workspace").run()),
    },
    Step { name: "fuzz", engine: false, run: fuzz },
    Step { name: "validate", engine: false, run: |_| validate_server() },
    Step { name: "workflows", engine: false, run: lint_workflows },
    Step { name: "deno fmt", engine: false, run: |sh| deno(sh, &["fmt", "--check"]) },
    Step { name: "deno lint", engine: false, run: |sh| deno(sh, &["lint"]) },
    Step {
        name: "deno check",
        engine: false,
        run: |sh| deno(sh, &["check", "main.ts", "src/", "bench/", "e2e/", "testing/", "load/"]),
    },
    Step { name: "deno test", engine: false, run: |sh| deno(sh, &["task", "test"]) },
    Step { name: "deno load", engine: false, run: |sh| deno(sh, &["task", "load", "--short"]) },
    Step { name: "podman base", engine: true, run: |_| base_images(EngineName::Podman) },
    Step { name: "podman verify", engine: true, run: |_| verify_server_image(EngineName::Podman) },
    Step { name: "docker base", engine: true, run: |_| base_images(EngineName::Docker) },
    Step { name: "docker verify", engine: true, run: |_| verify_server_image(EngineName::Docker) },
];

/// The CA bundle of the machines CI runs on, which trust a TLS-intercepting proxy through it.
const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The base images: stand-ins, unless the upstream images are there (the machines CI runs on
/// cannot pull them).
fn base_images(engine: EngineName) -> Result<Outcome> {
    let ca_bundle = Path::new(HOST_CA_BUNDLE);
    let args = OfflineImagesArgs {
        engine: EngineArgs { engine: Some(engine) },
        force: false,
        ca_bundle: ca_bundle.is_file().then(|| ca_bundle.to_path_buf()),
        format: ReportFormat::Text,
    };
    offline_images::run_unless_upstream_present(&args, false)
}

/// Validate, build, smoke and compare: what the verify job runs on GitHub Actions.
fn verify_server_image(engine: EngineName) -> Result<Outcome> {
    let args =
        VerifyArgs { engine: EngineArgs { engine: Some(engine) }, format: ReportFormat::Text };
    verify::run(&args, false)
}

fn ok(result: xshell::Result<()>) -> Result<Outcome> {
    Ok(match result {
        Ok(()) => Outcome::Passed,
        Err(error) => {
            eprintln!("{error}");
            Outcome::Failed
        }
    })
}

fn validate_server() -> Result<Outcome> {
    let path = validate::find_containerfile(&project::server_dir())?;
    let validation = validate::validate_file(&path)?;
    let style = crate::report::Style::detect();
    eprint!("{}", crate::report::validation::text(&validation, style));
    let clean = !validation.failed()
        && validation.findings.iter().all(|f| f.severity == crate::rules::Severity::Info);
    if !clean {
        eprintln!("the server's Containerfile must meet every requirement with no warning");
    }
    Ok(if clean { Outcome::Passed } else { Outcome::Failed })
}

/// A minute of coverage-guided fuzzing of the validator (`fuzz/run`); a crash fails the step.
fn fuzz(sh: &Shell) -> Result<Outcome> {
    which::which("cargo-fuzz").ok().context(
        "`cargo-fuzz` is not on PATH\nhint: `.ci/install` installs it (`cargo install cargo-fuzz --locked`)",
    )?;
    let fuzz_run = project::root().join("fuzz/run");
    ok(cmd!(sh, "{fuzz_run} 60").run())
}

/// The GitHub Actions workflows, relative to the repository root.
const WORKFLOWS_DIR: &str = ".github/workflows";

/// zizmor with every audit that runs offline, at every severity and confidence, honouring no
/// configuration file or ignore comment; then GitHub's workflow schema over each file.
fn lint_workflows(sh: &Shell) -> Result<Outcome> {
    let zizmor = required_tool("zizmor")?;
    let check_jsonschema = required_tool("check-jsonschema")?;
    let workflows = workflow_files(&project::root().join(WORKFLOWS_DIR))?;

    let strictest = ["--persona=auditor", "--no-config", "--no-ignores", "--strict-collection"];
    let audit = cmd!(sh, "{zizmor} --offline --no-progress {strictest...} {WORKFLOWS_DIR}");
    let audited = ok(audit.run())?;
    let schema = "vendor.github-workflows";
    let checked =
        ok(cmd!(sh, "{check_jsonschema} --builtin-schema {schema} {workflows...}").run())?;
    Ok(if audited == Outcome::Passed { checked } else { Outcome::Failed })
}

/// A linter the step cannot do without: a missing one is an error, never a skipped check.
fn required_tool(name: &str) -> Result<PathBuf> {
    which::which(name).ok().with_context(|| {
        format!("`{name}` is not on PATH\nhint: `.ci/install` installs it (`pip install {name}`)")
    })
}

/// The workflow files in `dir`, sorted and relative to the repository root.
fn workflow_files(dir: &Path) -> Result<Vec<String>> {
    let unreadable = || format!("failed to read `{}`", project::display(dir));
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(unreadable)? {
        let name = entry.with_context(unreadable)?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            files.push(format!("{WORKFLOWS_DIR}/{name}"));
        }
    }
    if files.is_empty() {
        bail!("no workflow in `{WORKFLOWS_DIR}`");
    }
    files.sort();
    Ok(files)
}

fn deno(sh: &Shell, args: &[&str]) -> Result<Outcome> {
    let deno = tools::deno()?;
    let _dir = sh.push_dir(project::server_dir());
    ok(cmd!(sh, "{deno} {args...}").run())
}

pub fn run(args: &CiArgs) -> Result<Outcome> {
    let sh = Shell::new()?;
    sh.change_dir(project::root());
    let mut timings: Vec<(&str, Outcome, Duration)> = Vec::new();
    let steps: Vec<&Step> = STEPS.iter().filter(|step| !(args.no_engines && step.engine)).collect();
    let total = steps.len();

    for (number, step) in steps.iter().enumerate() {
        let started = Instant::now();
        let outcome = progress::group(&format!("({}/{total}) {}", number + 1, step.name), || {
            (step.run)(&sh)
        })?;
        timings.push((step.name, outcome, started.elapsed()));
        if outcome == Outcome::Failed {
            break;
        }
    }

    let failed = timings.iter().any(|(_, outcome, _)| *outcome == Outcome::Failed);
    let width = timings.iter().map(|(name, _, _)| name.len()).max().unwrap_or(0).max(4);
    println!("{:<width$}  {:<6}  {:>8}", "step", "status", "seconds");
    for (name, outcome, elapsed) in &timings {
        let status = if *outcome == Outcome::Passed { "pass" } else { "FAIL" };
        println!("{name:<width$}  {status:<6}  {:>8.1}", elapsed.as_secs_f64());
    }
    let skipped = total - timings.len();
    let passed = timings.iter().filter(|(_, outcome, _)| *outcome == Outcome::Passed).count();
    let failed_count = timings.len() - passed;
    if skipped > 0 {
        println!("{passed} passed, {failed_count} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed_count} failed");
    }
    Ok(if failed { Outcome::Failed } else { Outcome::Passed })
}
