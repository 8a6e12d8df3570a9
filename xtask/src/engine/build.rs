//! `build`: the flags each engine needs, and reading its output back into steps.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use xshell::Shell;

use super::{Engine, process};
use crate::cli::EngineName;

/// What to build.
pub struct BuildRequest<'a> {
    pub context: &'a Path,
    pub containerfile: &'a Path,
    pub tag: &'a str,
    pub no_cache: bool,
    /// `--label` pairs, applied to the final image.
    pub labels: &'a [(String, String)],
}

/// How a build went: its steps as the engine printed them, and its whole output.
#[derive(Debug)]
pub struct BuildRun {
    /// `sha256:...`, when the build succeeded.
    pub image_id: Option<String>,
    pub steps: Vec<BuildStep>,
    pub lines: Vec<String>,
    pub elapsed: Duration,
}

/// One step as the engine printed it, in order; a build that failed ends with the step that
/// failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildStep {
    /// The instruction as the engine echoed it (`COPY . .`).
    pub instruction: String,
    /// Whether the engine reused a cached layer for it.
    pub cached: bool,
}

impl BuildRun {
    pub fn succeeded(&self) -> bool {
        self.image_id.is_some()
    }
}

impl Engine {
    /// Builds `request`. An engine that runs and reports a failed build is not an error: the
    /// run says so, with the output to show. Podman gets `--format docker` so that HEALTHCHECK
    /// is kept (the OCI format has no field for it) and `--pull=never` so that a missing base
    /// image fails at once instead of retrying a registry; docker needs `-f` to find a file
    /// named `Containerfile`, only pulls a base image it does not have, and needs `--force-rm`
    /// to remove the container of a step that failed.
    pub fn build(&self, sh: &Shell, request: &BuildRequest<'_>, verbose: bool) -> Result<BuildRun> {
        let scratch = sh.create_temp_dir().context("failed to create a temporary directory")?;
        let id_file = scratch.path().join("image-id");

        let mut args: Vec<String> = vec!["build".into()];
        match self.name {
            EngineName::Podman => args.extend(["--format=docker".into(), "--pull=never".into()]),
            // Without it, the container of a step that failed is left behind.
            EngineName::Docker => args.push("--force-rm".into()),
        }
        args.extend(["-f".into(), request.containerfile.display().to_string()]);
        args.extend(["-t".into(), request.tag.to_string()]);
        args.extend(["--iidfile".into(), id_file.display().to_string()]);
        if request.no_cache {
            args.push("--no-cache".into());
        }
        for (key, value) in request.labels {
            args.extend(["--label".into(), format!("{key}={value}")]);
        }
        args.push(request.context.display().to_string());

        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let captured = process::capture(self.command(sh, &args), verbose)?;
        let steps = parse_steps(self.name, &captured.lines);
        let image_id = if captured.succeeded() {
            let id = std::fs::read_to_string(&id_file).with_context(|| {
                format!("{} built the image but wrote no `--iidfile`", self.program())
            })?;
            Some(super::full_id(&id))
        } else {
            None
        };
        Ok(BuildRun { image_id, steps, lines: captured.lines, elapsed: captured.elapsed })
    }
}

/// The steps in an engine's build output. Docker's legacy builder prints `Step 2/9 : COPY ...`
/// and ` ---> Using cache`; podman prints `STEP 2/9: COPY ...` (after `[1/2] ` in a multi-stage
/// build) and `--> Using cache <id>`.
pub fn parse_steps(engine: EngineName, lines: &[String]) -> Vec<BuildStep> {
    let mut steps: Vec<BuildStep> = Vec::new();
    for line in lines {
        if let Some(instruction) = step_instruction(engine, line) {
            steps.push(BuildStep { instruction: instruction.to_string(), cached: false });
        } else if is_cache_hit(engine, line) {
            if let Some(step) = steps.last_mut() {
                step.cached = true;
            }
        }
    }
    steps
}

fn step_instruction(engine: EngineName, line: &str) -> Option<&str> {
    let (marker, separator) = match engine {
        EngineName::Docker => ("Step ", " : "),
        EngineName::Podman => ("STEP ", ": "),
    };
    let line = match engine {
        EngineName::Docker => line,
        EngineName::Podman => strip_stage_prefix(line),
    };
    let rest = line.strip_prefix(marker)?;
    let (counter, instruction) = rest.split_once(separator)?;
    let (number, total) = counter.split_once('/')?;
    let is_number = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    (is_number(number) && is_number(total)).then_some(instruction.trim())
}

/// `STEP 1/3: FROM x` for `[1/2] STEP 1/3: FROM x`.
fn strip_stage_prefix(line: &str) -> &str {
    let Some(rest) = line.strip_prefix('[') else { return line };
    match rest.split_once("] ") {
        Some((stage, after)) if stage.contains('/') => after,
        _ => line,
    }
}

fn is_cache_hit(engine: EngineName, line: &str) -> bool {
    let line = line.trim();
    match engine {
        EngineName::Docker => line == "---> Using cache",
        EngineName::Podman => line.starts_with("--> Using cache"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn reads_docker_legacy_builder_output() {
        let output = lines(
            "Sending build context to Docker daemon  1.989MB
Step 1/4 : FROM denoland/deno:alpine
 ---> 0a20ab97357f
Step 2/4 : COPY deno.json deno.lock ./
 ---> Using cache
 ---> da7c8543cd93
Step 3/4 : COPY . .
 ---> 33d86521e725
Step 4/4 : LABEL a=b
 ---> Running in 67b88a6d8257
Successfully built 4ea58cd013b1",
        );
        let steps = parse_steps(EngineName::Docker, &output);
        let cached: Vec<(&str, bool)> =
            steps.iter().map(|s| (s.instruction.as_str(), s.cached)).collect();
        assert_eq!(
            cached,
            [
                ("FROM denoland/deno:alpine", false),
                ("COPY deno.json deno.lock ./", true),
                ("COPY . .", false),
                ("LABEL a=b", false),
            ]
        );
    }

    #[test]
    fn reads_podman_output_with_stage_prefixes() {
        let output = lines(
            "[1/2] STEP 1/2: FROM scratch AS base
[1/2] STEP 2/2: COPY rootfs/ /
--> Using cache 3ddd4c98f6a09a9b7439bf604c6547b3f6027aed1302cfc5522b794436317283
--> 3ddd4c98f6a
[2/2] STEP 1/2: FROM base
[2/2] STEP 2/2: RUN deno install --frozen
error running container: exit status 1",
        );
        let steps = parse_steps(EngineName::Podman, &output);
        let cached: Vec<(&str, bool)> =
            steps.iter().map(|s| (s.instruction.as_str(), s.cached)).collect();
        assert_eq!(
            cached,
            [
                ("FROM scratch AS base", false),
                ("COPY rootfs/ /", true),
                ("FROM base", false),
                ("RUN deno install --frozen", false),
            ]
        );
    }

    #[test]
    fn ignores_lines_that_only_look_like_steps() {
        let output = lines("STEP 1/2: FROM x\nSTEP one: nothing\nStep 1/2 : FROM y");
        assert_eq!(parse_steps(EngineName::Podman, &output).len(), 1);
        assert_eq!(parse_steps(EngineName::Docker, &output).len(), 1);
    }
}
