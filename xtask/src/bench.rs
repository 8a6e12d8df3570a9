//! `cargo xtask bench`: the image's performance figures beside a naive Containerfile's, measured
//! in the same run and repeated, with the bounds that fail the run when missed.
//!
//! The baseline is what a tutorial reader writes first: the same base image, the whole context
//! copied in one step, then the dependency cache, then `USER` and `CMD`. It is generated in a
//! temporary copy of `server/` for the run.

mod measure;
mod report;

use std::time::Instant;

use anyhow::{Context, Result};
use xshell::Shell;

use crate::cli::{BenchArgs, ReportFormat};
use crate::engine::Engine;
use crate::session::Session;
use crate::{Outcome, offline_images, project, stack};

/// The naive Containerfile of the baseline.
pub const BASELINE_CONTAINERFILE: &str = r#"FROM denoland/deno:alpine
WORKDIR /app
COPY . .
RUN deno cache main.ts
USER deno
CMD ["run", "--allow-net", "--allow-env", "--allow-read", "main.ts"]
"#;

pub fn run(args: &BenchArgs, verbose: bool) -> Result<Outcome> {
    if args.repeat == 0 {
        anyhow::bail!("`--repeat` must be at least 1");
    }
    let sh = Shell::new()?;
    let engine = Engine::choose(&sh, args.engine.engine)?;
    let started = Instant::now();

    let server = project::server_dir();
    let base_image = offline_images::DENO_IMAGE;
    for needed in [base_image, offline_images::POSTGRES_IMAGE] {
        stack::require_image(&sh, &engine, needed, &stack::missing_image_hint(&engine, needed))?;
    }

    let scratch = sh.create_temp_dir().context("failed to create a temporary directory")?;
    let ours = scratch.path().join("ours");
    project::copy_tree(&server, &ours)?;
    let baseline = scratch.path().join("baseline");
    project::copy_tree(&server, &baseline)?;
    std::fs::write(baseline.join("Containerfile"), BASELINE_CONTAINERFILE)
        .context("failed to write the baseline's Containerfile")?;

    let session = Session::open(&engine, "bench");
    let setup = measure::Setup {
        sh: &sh,
        engine: &engine,
        session: &session,
        base_image,
        server: &server,
        ours: &ours,
        baseline: &baseline,
        verbose,
    };
    let samples = measure::measure(&setup, args.repeat)?;
    drop(session);

    let entries = report::entries(&samples);
    let elapsed = started.elapsed();
    match args.format {
        ReportFormat::Text => {
            print!(
                "{}",
                report::text(
                    &engine,
                    args.repeat,
                    &entries,
                    elapsed,
                    crate::report::Style::detect()
                )
            );
        }
        ReportFormat::Json => {
            println!("{:#}", report::json(&engine, args.repeat, &entries, elapsed))
        }
    }
    Ok(if entries.iter().all(|e| e.passed) { Outcome::Passed } else { Outcome::Failed })
}
