//! The container engine, docker or podman: which one to use, and every place where the two
//! behave differently (build flags, output, inspect formats).

mod build;
mod container;
pub mod process;

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use serde_json::Value;
use xshell::{Shell, cmd};

pub use build::{BuildRequest, BuildStep};
pub use container::RunSpec;

use crate::cli::EngineName;

/// The environment variable that chooses the engine when `--engine` is not given.
pub const ENGINE_VARIABLE: &str = "CONTAINER_ENGINE";

const INSTALL_HINT: &str = "hint: install one: `apt-get install podman`, or `apt-get install docker.io` and start `dockerd`; then choose it with `--engine` or CONTAINER_ENGINE";

/// An engine that answered: its client is installed and, for docker, its daemon is running.
#[derive(Debug, Clone)]
pub struct Engine {
    pub name: EngineName,
    /// The server's version for docker, the client's for podman (it has no server).
    pub version: String,
}

/// An image as the engine's `image inspect` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// `sha256:` and 64 hex digits, on both engines.
    pub id: String,
    pub size_bytes: u64,
    pub labels: BTreeMap<String, String>,
}

impl EngineName {
    pub fn program(self) -> &'static str {
        match self {
            EngineName::Docker => "docker",
            EngineName::Podman => "podman",
        }
    }
}

impl Engine {
    /// `--engine` when given, else `CONTAINER_ENGINE`, else docker when its daemon answers,
    /// else podman.
    pub fn choose(sh: &Shell, requested: Option<EngineName>) -> Result<Engine> {
        if let Some(name) = requested {
            return probe(sh, name).map_err(|reason| unusable(name, &reason));
        }
        if let Some(value) = std::env::var_os(ENGINE_VARIABLE).filter(|v| !v.is_empty()) {
            let value = value.to_string_lossy();
            let name = match value.as_ref() {
                "docker" => EngineName::Docker,
                "podman" => EngineName::Podman,
                _ => bail!(
                    "{ENGINE_VARIABLE} is `{value}`, not `docker` or `podman`\nhint: unset it, or set it to one of the two"
                ),
            };
            return probe(sh, name).map_err(|reason| unusable(name, &reason));
        }

        let docker = match probe(sh, EngineName::Docker) {
            Ok(engine) => return Ok(engine),
            Err(reason) => reason,
        };
        let podman = match probe(sh, EngineName::Podman) {
            Ok(engine) => return Ok(engine),
            Err(reason) => reason,
        };
        bail!(
            "no container engine is usable\n  docker: {docker}\n  podman: {podman}\n{INSTALL_HINT}"
        )
    }

    pub fn program(&self) -> &'static str {
        self.name.program()
    }

    /// A command running this engine with `args`.
    fn command<'a>(&self, sh: &'a Shell, args: &[&str]) -> xshell::Cmd<'a> {
        let program = self.program();
        let command = cmd!(sh, "{program} {args...}");
        match self.name {
            // The legacy builder's output is what `build` parses; BuildKit's differs, and the
            // docker client of these machines has no buildx to run BuildKit with.
            EngineName::Docker => command.env("DOCKER_BUILDKIT", "0"),
            EngineName::Podman => command,
        }
    }

    /// The image named `reference` in local storage, or `None` when there is none.
    pub fn inspect_image(&self, sh: &Shell, reference: &str) -> Result<Option<ImageInfo>> {
        let output = process::output(self.command(sh, &["image", "inspect", reference]))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            // docker: "No such image: NAME"; podman: "NAME: image not known".
            if stderr.contains("No such image") || stderr.contains("image not known") {
                return Ok(None);
            }
            bail!(
                "`{} image inspect {reference}` failed:\n{}",
                self.program(),
                process::tail(&stderr.lines().map(String::from).collect::<Vec<_>>(), 10)
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        parse_inspect(&stdout).map(Some)
    }

    /// Removes the image `id`; `false` when the engine refuses because containers or other
    /// images use it.
    pub fn remove_image(&self, sh: &Shell, id: &str) -> Result<bool> {
        let output = process::output(self.command(sh, &["image", "rm", id]))?;
        if output.status.success() {
            return Ok(true);
        }
        // docker: "conflict: unable to delete ... image has dependent child images" or "image is
        // being used by stopped container"; podman: "image used by ...: image is in use by a
        // container" or "image has dependent children".
        let stderr = String::from_utf8_lossy(&output.stderr);
        if ["conflict", "in use", "being used", "dependent child"]
            .iter()
            .any(|m| stderr.contains(m))
        {
            return Ok(false);
        }
        bail!("`{} image rm {id}` failed:\n    {}", self.program(), stderr.trim())
    }
}

/// Whether `name` answers, and its version; else why not, in a phrase.
fn probe(sh: &Shell, name: EngineName) -> Result<Engine, String> {
    let program = name.program();
    if which::which(program).is_err() {
        return Err(format!("`{program}` is not on PATH"));
    }
    // `docker version` asks the daemon, so it fails when only the client is installed.
    // Podman has no daemon; `podman info` sets up its runtime and storage, as a build would.
    let (subcommand, format) = match name {
        EngineName::Docker => ("version", "{{.Server.Version}}"),
        EngineName::Podman => ("info", "{{.Version.Version}}"),
    };
    let output = process::output(cmd!(sh, "{program} {subcommand} --format {format}"))
        .map_err(|error| format!("{error:#}"))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if output.status.success() && !version.is_empty() {
        return Ok(Engine { name, version });
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
    Err(match name {
        EngineName::Docker => format!("the daemon did not answer: {}", last.trim()),
        EngineName::Podman => format!("`podman info` failed: {}", last.trim()),
    })
}

fn unusable(name: EngineName, reason: &str) -> anyhow::Error {
    let hint = if reason.contains("not on PATH") {
        INSTALL_HINT
    } else {
        match name {
            EngineName::Docker => {
                "hint: start the daemon (`dockerd &` as root, or `systemctl start docker`), or use `--engine podman`"
            }
            EngineName::Podman => "hint: `podman info` shows the whole error",
        }
    };
    anyhow::anyhow!("{} is not usable: {reason}\n{hint}", name.program())
}

/// The first image of `image inspect`'s JSON array. Docker prints `Id` as `sha256:...`, podman
/// as bare hex; both keep the labels under `Config.Labels` (null when there are none).
fn parse_inspect(json: &str) -> Result<ImageInfo> {
    let value: Value = serde_json::from_str(json).map_err(|error| {
        anyhow::anyhow!("`image inspect` printed something other than JSON: {error}")
    })?;
    let image = value.get(0).unwrap_or(&value);
    let Some(id) = image.get("Id").and_then(Value::as_str) else {
        bail!("`image inspect` printed no `Id`");
    };
    let Some(size_bytes) = image.get("Size").and_then(Value::as_u64) else {
        bail!("`image inspect` printed no `Size`");
    };
    let labels = image
        .pointer("/Config/Labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(ImageInfo { id: full_id(id), size_bytes, labels })
}

/// `sha256:<hex>` for an id with or without its algorithm.
pub fn full_id(id: &str) -> String {
    let id = id.trim();
    if id.contains(':') { id.to_string() } else { format!("sha256:{id}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_inspect() {
        let json = r#"[{"Id": "sha256:5d55", "Size": 1995853,
            "Config": {"Labels": {"a": "b"}}}]"#;
        let info = parse_inspect(json).unwrap();
        assert_eq!(info.id, "sha256:5d55");
        assert_eq!(info.size_bytes, 1995853);
        assert_eq!(info.labels.get("a").map(String::as_str), Some("b"));
    }

    #[test]
    fn parses_podman_inspect_with_bare_id_and_no_labels() {
        let json = r#"[{"Id": "190bda", "Size": 12, "Config": {"Labels": null}, "Labels": null}]"#;
        let info = parse_inspect(json).unwrap();
        assert_eq!(info.id, "sha256:190bda");
        assert!(info.labels.is_empty());
    }

    #[test]
    fn rejects_inspect_output_without_an_id() {
        let error = parse_inspect(r#"[{"Size": 1}]"#).unwrap_err();
        assert_eq!(error.to_string(), "`image inspect` printed no `Id`");
    }
}
