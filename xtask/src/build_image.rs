//! `cargo xtask build-image`: validate the Containerfile, build the server image with the chosen
//! engine, and report what the build produced and what it reused.

mod labels;
pub mod report;

pub use report::megabytes;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use xshell::Shell;

use crate::cli::{BuildImageArgs, EngineName, ReportFormat};
use crate::containerfile::Containerfile;
use crate::containerfile::stage;
use crate::engine::{BuildRequest, Engine, ImageInfo, process};
use crate::report::Style;
use crate::{Outcome, offline_images, project, validate};

/// The tag of the server image when none is given.
pub const DEFAULT_TAG: &str = "chat-server:dev";

/// What a build produced, for the report.
pub struct BuiltImage {
    pub engine: Engine,
    pub tag: String,
    pub context: PathBuf,
    pub elapsed: Duration,
    pub steps: Vec<Step>,
    /// The image, when the build succeeded.
    pub image: Option<ImageInfo>,
    /// The final stage's base image and what `inspect` says of it (`None` for `scratch` or an
    /// image the engine no longer has).
    pub base: Option<(String, ImageInfo)>,
}

/// One build step, placed in the Containerfile.
pub struct Step {
    pub instruction: String,
    /// The line of its instruction; `None` for what the engine adds, such as `--label`s.
    pub line: Option<usize>,
    pub cached: bool,
    pub failed: bool,
}

impl BuiltImage {
    pub fn succeeded(&self) -> bool {
        self.image.is_some()
    }

    /// How much the image adds to its base, when both are known.
    pub fn added_bytes(&self) -> Option<u64> {
        let image = self.image.as_ref()?;
        let (_, base) = self.base.as_ref()?;
        Some(image.size_bytes.saturating_sub(base.size_bytes))
    }
}

pub fn run(args: &BuildImageArgs, verbose: bool) -> Result<Outcome> {
    let context = args.context.clone().unwrap_or_else(project::server_dir);
    if !context.is_dir() {
        bail!("the build context `{}` is not a directory", project::display(&context));
    }
    let containerfile = validate::find_containerfile(&context)?;
    let validation = validate::validate_file(&containerfile)?;
    if validation.failed() {
        eprint!("{}", crate::report::validation::text(&validation, Style::detect()));
        eprintln!(
            "`{}` does not meet its requirements; nothing was built",
            project::display(&containerfile)
        );
        return Ok(Outcome::Failed);
    }

    let sh = Shell::new()?;
    let engine = Engine::choose(&sh, args.engine.engine)?;
    let built = build(&sh, &engine, &context, &containerfile, args, verbose)?;

    match args.format {
        ReportFormat::Text => print!("{}", report::text(&built, Style::detect())),
        ReportFormat::Json => println!("{:#}", report::json(&built)),
    }
    Ok(if built.succeeded() { Outcome::Passed } else { Outcome::Failed })
}

/// Builds `context` and inspects the result. A build that fails because its base image is
/// missing is an error (the machine lacks something); one that fails in a step is a result,
/// shown with the tail of the engine's output.
pub fn build(
    sh: &Shell,
    engine: &Engine,
    context: &Path,
    containerfile: &Path,
    args: &BuildImageArgs,
    verbose: bool,
) -> Result<BuiltImage> {
    let (parsed, stages) = read_stages(containerfile)?;
    let base_images = base_images(&stages);
    let base_images: Vec<&str> = base_images.iter().map(String::as_str).collect();

    let labels = labels::oci_labels(sh);
    let request = BuildRequest {
        context,
        containerfile,
        tag: &args.tag,
        no_cache: args.no_cache,
        labels: &labels,
    };
    // A progress line, not a `progress::group`: a GitHub log group would print to stdout, into
    // the JSON report, and cannot nest inside the group of the `ci` step that runs this.
    eprintln!("==> building `{}` with {}", args.tag, engine.program());
    let run = engine.build(sh, &request, verbose)?;
    let steps = place_steps(&parsed, &run.steps, !run.succeeded());

    let (image, base) = match &run.image_id {
        Some(image_id) => {
            let image = engine.inspect_image(sh, image_id)?.with_context(|| {
                format!("{} built `{image_id}` but cannot inspect it", engine.program())
            })?;
            let final_base =
                stages.last().map(|s| s.image.as_str()).filter(|b| base_images.contains(b));
            let base = match final_base {
                Some(reference) => {
                    engine.inspect_image(sh, reference)?.map(|info| (reference.to_string(), info))
                }
                None => None,
            };
            (Some(image), base)
        }
        None => {
            for base in &base_images {
                if engine.inspect_image(sh, base)?.is_none() {
                    return Err(missing_base_image(engine, base, &run.lines));
                }
            }
            let failed_step = steps.last().map_or_else(
                || "before its first step".to_string(),
                |step| match step.line {
                    Some(line) => format!("at line {line}: {}", step.instruction),
                    None => format!("at {}", step.instruction),
                },
            );
            let which_lines = if run.lines.len() > process::TAIL_LINES {
                format!("the last {} lines of ", process::TAIL_LINES)
            } else {
                String::new()
            };
            eprintln!(
                "the build failed {failed_step}\n{which_lines}{}'s output:\n{}",
                engine.program(),
                process::tail(&run.lines, process::TAIL_LINES)
            );
            (None, None)
        }
    };
    Ok(BuiltImage {
        engine: engine.clone(),
        tag: args.tag.clone(),
        context: context.to_path_buf(),
        elapsed: run.elapsed,
        steps,
        image,
        base,
    })
}

/// Reads and parses `containerfile`, and resolves its stages.
pub fn read_stages(containerfile: &Path) -> Result<(Containerfile, Vec<stage::Stage>)> {
    let text = validate::read_containerfile(containerfile)?;
    let parsed = Containerfile::parse(containerfile, &text).map_err(|error| {
        anyhow::anyhow!("failed to parse `{}`: {}", project::display(containerfile), error.message)
    })?;
    let stages = stage::resolve(&parsed);
    Ok((parsed, stages))
}

/// The images the stages start from (not `scratch`, not another stage).
pub fn base_images(stages: &[stage::Stage]) -> Vec<String> {
    stages
        .iter()
        .filter(|s| s.parents.is_empty() && !s.image.eq_ignore_ascii_case("scratch"))
        .map(|s| s.image.clone())
        .collect()
}

/// Why a build whose base image is missing failed, and what brings the image.
fn missing_base_image(engine: &Engine, base: &str, lines: &[String]) -> anyhow::Error {
    let program = engine.program();
    let pulled = match engine.name {
        EngineName::Docker => " and could not be pulled",
        EngineName::Podman => " (builds run with `--pull=never`)",
    };
    let has_stand_in = offline_images::stands_in_for(base);
    let hint = if has_stand_in {
        format!(
            "hint: on a machine that cannot pull, `cargo xtask offline-images --engine {program}` builds a local stand-in for it"
        )
    } else {
        format!(
            "hint: pull it first (`{program} pull {base}`), or build FROM an image the engine has"
        )
    };
    anyhow::anyhow!(
        "the base image `{base}` is not in {program}'s local storage{pulled}:\n{}{hint}",
        process::tail(lines, 5)
    )
}

/// Gives each step printed by the engine the line of its instruction: the engine prints them in
/// file order, so each step matches the next instruction of the same kind. Steps the engine
/// adds (a `LABEL` for `--label`) match nothing.
fn place_steps(
    file: &Containerfile,
    steps: &[crate::engine::BuildStep],
    failed: bool,
) -> Vec<Step> {
    let mut next = 0;
    let mut placed: Vec<Step> = steps
        .iter()
        .map(|step| {
            let keyword = step.instruction.split_whitespace().next().unwrap_or_default();
            let found = file.instructions[next..]
                .iter()
                .position(|i| i.kind.name().eq_ignore_ascii_case(keyword))
                .map(|offset| next + offset);
            if let Some(index) = found {
                next = index + 1;
            }
            Step {
                instruction: step.instruction.clone(),
                line: found.map(|index| file.instructions[index].position.line),
                cached: step.cached,
                failed: false,
            }
        })
        .collect();
    if let Some(last) = placed.last_mut() {
        last.failed = failed;
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::BuildStep;

    #[test]
    fn places_steps_on_their_lines_and_skips_added_labels() {
        let text = "FROM denoland/deno:alpine\n\nWORKDIR /app\nCOPY a b\n# comment\nCOPY . .\n";
        let file = Containerfile::parse(Path::new("server/Containerfile"), text).unwrap();
        let step =
            |instruction: &str, cached| BuildStep { instruction: instruction.into(), cached };
        let steps = [
            step("FROM denoland/deno:alpine", false),
            step("WORKDIR /app", true),
            step("COPY a b", true),
            step("COPY . .", false),
            step("LABEL \"a\"=\"b\"", false),
        ];
        let placed = place_steps(&file, &steps, true);
        let lines: Vec<Option<usize>> = placed.iter().map(|s| s.line).collect();
        assert_eq!(lines, [Some(1), Some(3), Some(4), Some(6), None]);
        assert!(placed[1].cached && !placed[3].cached);
        assert!(placed[4].failed && !placed[3].failed);
    }
}
