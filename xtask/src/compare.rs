//! `cargo xtask compare`: the same server run two ways against the same throwaway database, the
//! image with the application baked in and the stock base image with `server/` bind-mounted
//! read-only, each measured in the same run, with a verdict per row.

mod measure;
pub mod report;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use xshell::Shell;

use crate::cli::{CompareArgs, CompareFormat};
use crate::engine::Engine;
use crate::session::Session;
use crate::{Outcome, build_image, project, stack, validate};

/// Which variant a row favours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    Baked,
    BindMount,
    Neither,
}

/// One row of the comparison: what each variant did, and what that means.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: &'static str,
    pub question: &'static str,
    pub baked: String,
    pub bind_mount: String,
    pub winner: Winner,
    pub verdict: String,
    /// False when the baked image fell short of what it promises in this row.
    pub passed: bool,
    /// The row's measured figures, units in their names.
    pub figures: Vec<(String, Value)>,
}

pub struct Comparison {
    pub engine: Engine,
    pub image: String,
    pub base_image: String,
    pub run_id: String,
    pub rows: Vec<Row>,
    pub elapsed: Duration,
}

impl Comparison {
    pub fn passed(&self) -> bool {
        self.rows.iter().all(|row| row.passed)
    }

    pub fn json(&self) -> Value {
        report::json(self)
    }

    pub fn markdown(&self) -> String {
        report::markdown(self)
    }
}

pub fn run(args: &CompareArgs) -> Result<Outcome> {
    let sh = Shell::new()?;
    let engine = Engine::choose(&sh, args.engine.engine)?;
    let comparison = compare(&sh, &engine, &args.image, &args.db_image)?;
    match args.format {
        CompareFormat::Text => {
            print!("{}", report::text(&comparison, crate::report::Style::detect()));
        }
        CompareFormat::Json => println!("{:#}", report::json(&comparison)),
        CompareFormat::Markdown => print!("{}", report::markdown(&comparison)),
    }
    Ok(if comparison.passed() { Outcome::Passed } else { Outcome::Failed })
}

/// Measures `image` against the base image of the server's Containerfile with `server/`
/// mounted. Errors are for a comparison that could not run; what the variants do is a result.
pub fn compare(
    sh: &Shell,
    engine: &Engine,
    image: &str,
    database_image: &str,
) -> Result<Comparison> {
    let started = Instant::now();
    let server = project::server_dir();
    let base_image = final_base_image(&server)?;
    let Some(baked) = engine.inspect_image(sh, image)? else {
        bail!(
            "the image `{image}` is not in {}'s local storage\nhint: build it with `cargo xtask build-image --engine {}`",
            engine.program(),
            engine.program()
        );
    };
    for needed in [base_image.as_str(), database_image] {
        stack::require_image(sh, engine, needed, &stack::missing_image_hint(engine, needed))?;
    }
    let base = engine
        .inspect_image(sh, &base_image)?
        .with_context(|| format!("{} cannot inspect `{base_image}`", engine.program()))?;

    let session = Session::open(engine, "compare");
    let scratch = sh.create_temp_dir().context("failed to create a temporary directory")?;
    let setup = measure::Setup {
        sh,
        engine,
        session: &session,
        image,
        base_image: &base_image,
        server: &server,
        scratch: scratch.path(),
    };
    let measured = measure::measure(&setup, database_image)?;
    let rows = report::rows(&measured, baked.size_bytes.saturating_sub(base.size_bytes));
    Ok(Comparison {
        engine: engine.clone(),
        image: image.to_string(),
        base_image,
        run_id: session.id.clone(),
        rows,
        elapsed: started.elapsed(),
    })
}

/// The image the final stage of the server's Containerfile builds on: the stock image the
/// bind-mount variant runs.
fn final_base_image(server: &Path) -> Result<String> {
    let path = validate::find_containerfile(server)?;
    let (_, stages) = build_image::read_stages(&path)?;
    let Some(last) = stages.last() else {
        bail!("`{}` has no stage", project::display(&path));
    };
    Ok(last.image.clone())
}
