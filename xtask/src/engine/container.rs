//! Containers and networks: running them, asking about them, and removing them by label. Docker
//! and podman take the same flags for all of this; where their answers differ, this file reads
//! both.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use xshell::Shell;

use super::{Engine, process};
use crate::cli::EngineName;

/// What to run: a detached container, always labelled, never pulled implicitly by podman.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    pub name: String,
    pub image: String,
    pub network: String,
    /// `KEY=VALUE` labels; the run's label goes here so that cleanup finds the container.
    pub labels: Vec<String>,
    pub env: Vec<(String, String)>,
    /// A port inside the container, published on `127.0.0.1:host_port`.
    pub publish: Option<(u16, u16)>,
    /// `--tmpfs` targets.
    pub tmpfs: Vec<String>,
    /// `SOURCE:TARGET[:OPTIONS]` bind mounts.
    pub binds: Vec<String>,
    pub read_only: bool,
    /// `--cap-drop=ALL` and `--security-opt=no-new-privileges`.
    pub unprivileged: bool,
    pub workdir: Option<String>,
    pub entrypoint: Option<String>,
    /// Replaces the image's command; empty keeps it.
    pub command: Vec<String>,
}

/// The parts of `container inspect` the checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    pub running: bool,
    pub exit_code: i64,
    /// Each mount's destination inside the container.
    pub mounts: Vec<String>,
}

impl Engine {
    /// Creates a network with `label`; `internal` ones have no route out of the machine.
    pub fn create_network(
        &self,
        sh: &Shell,
        name: &str,
        label: &str,
        internal: bool,
    ) -> Result<()> {
        let mut args = vec!["network", "create", "--label", label];
        if internal {
            args.push("--internal");
        }
        args.push(name);
        process::read(self.command(sh, &args)).map(drop)
    }

    /// Starts `spec` in the background and returns the container's id. A container that the
    /// engine created but could not start is still there, under its label, for cleanup.
    pub fn run_detached(&self, sh: &Shell, spec: &RunSpec) -> Result<String> {
        let args = run_arguments(self.name, spec, true);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        process::read(self.command(sh, &args))
            .map(|id| id.lines().last().unwrap_or_default().trim().to_string())
    }

    /// Runs `spec` to its end and returns what it printed on stdout; the container stays, for
    /// the caller (or the session's cleanup) to remove.
    pub fn run_attached(&self, sh: &Shell, spec: &RunSpec) -> Result<String> {
        let args = run_arguments(self.name, spec, false);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        process::read(self.command(sh, &args))
    }

    pub fn inspect_container(&self, sh: &Shell, name: &str) -> Result<ContainerState> {
        let json = process::read(self.command(sh, &["container", "inspect", name]))?;
        parse_container_inspect(&json)
    }

    /// The container's address on `network`, for other containers to reach it by. Addresses
    /// work on every network backend; names resolve only where the engine runs a DNS server.
    pub fn address_on(&self, sh: &Shell, container: &str, network: &str) -> Result<String> {
        let json = process::read(self.command(sh, &["container", "inspect", container]))?;
        let value: Value = serde_json::from_str(&json)
            .context("`container inspect` printed something other than JSON")?;
        let networks = value.get(0).unwrap_or(&value).pointer("/NetworkSettings/Networks");
        let address = networks
            .and_then(|n| n.get(network))
            .and_then(|n| n.get("IPAddress"))
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty());
        address
            .map(String::from)
            .with_context(|| format!("`{container}` has no address on the network `{network}`"))
    }

    pub fn connect_network(&self, sh: &Shell, network: &str, container: &str) -> Result<()> {
        process::read(self.command(sh, &["network", "connect", network, container])).map(drop)
    }

    /// Runs `command` inside the running `container`; its stdout, or `None` when it exits
    /// non-zero.
    pub fn exec(&self, sh: &Shell, container: &str, command: &[&str]) -> Result<Option<String>> {
        let mut args = vec!["exec", container];
        args.extend_from_slice(command);
        let output = process::output(self.command(sh, &args))?;
        Ok(output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned()))
    }

    /// The last `lines` lines the container printed, both streams.
    pub fn logs_tail(&self, sh: &Shell, container: &str, lines: usize) -> Result<Vec<String>> {
        let count = lines.to_string();
        let output = process::output(self.command(sh, &["logs", "--tail", &count, container]))?;
        let mut all: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&output.stderr).lines())
            .map(process::strip_ansi)
            .collect();
        // The two streams arrive one after the other; the server's lines start with a timestamp,
        // so sorting puts them back in order.
        all.sort();
        let start = all.len().saturating_sub(lines);
        Ok(all.split_off(start))
    }

    /// Stops `container`, allowing it `grace` before the engine kills it, and says how long it
    /// took.
    pub fn stop(&self, sh: &Shell, container: &str, grace: Duration) -> Result<Duration> {
        let seconds = grace.as_secs().to_string();
        let started = Instant::now();
        process::read(self.command(sh, &["stop", "--time", &seconds, container]))?;
        Ok(started.elapsed())
    }

    pub fn start(&self, sh: &Shell, container: &str) -> Result<()> {
        process::read(self.command(sh, &["start", container])).map(drop)
    }

    /// Pulls `image`, keeping the engine's output for a failure to show.
    pub fn pull(&self, sh: &Shell, image: &str) -> Result<process::Captured> {
        process::capture(self.command(sh, &["pull", image]), false)
    }

    /// The instruction behind each layer of `image`, build arguments included.
    pub fn image_history(&self, sh: &Shell, image: &str) -> Result<String> {
        let args = ["image", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image];
        process::read(self.command(sh, &args))
    }

    /// The `NAME=value` environment `image` gives its containers.
    pub fn image_env(&self, sh: &Shell, image: &str) -> Result<Vec<String>> {
        let args = ["image", "inspect", "--format", "{{json .Config.Env}}", image];
        let json = process::read(self.command(sh, &args))?;
        let env: Option<Vec<String>> = serde_json::from_str(&json).with_context(|| {
            format!("`image inspect` printed an environment that is not a list: `{json}`")
        })?;
        Ok(env.unwrap_or_default())
    }

    /// Removes `container` and its anonymous volumes.
    pub fn remove_container(&self, sh: &Shell, container: &str) -> Result<()> {
        process::read(self.command(sh, &["rm", "--force", "--volumes", container])).map(drop)
    }

    /// Removes every container (with its anonymous volumes), image and network carrying
    /// `label`, and says how many things it removed.
    pub fn remove_labelled(&self, sh: &Shell, label: &str) -> Result<usize> {
        let filter = format!("label={label}");
        let containers = self.labelled(sh, &["ps", "--all", "--quiet", "--filter", &filter])?;
        if !containers.is_empty() {
            let mut args = vec!["rm", "--force", "--volumes"];
            args.extend(containers.iter().map(String::as_str));
            process::read(self.command(sh, &args))?;
        }
        let images = self.labelled(sh, &["image", "ls", "--quiet", "--filter", &filter])?;
        if !images.is_empty() {
            let mut unique = images.clone();
            unique.sort();
            unique.dedup();
            let mut args = vec!["image", "rm", "--force"];
            args.extend(unique.iter().map(String::as_str));
            process::read(self.command(sh, &args))?;
        }
        let networks = self.labelled(sh, &["network", "ls", "--quiet", "--filter", &filter])?;
        if !networks.is_empty() {
            let mut args = vec!["network", "rm"];
            args.extend(networks.iter().map(String::as_str));
            process::read(self.command(sh, &args))?;
        }
        Ok(containers.len() + images.len() + networks.len())
    }

    fn labelled(&self, sh: &Shell, args: &[&str]) -> Result<Vec<String>> {
        let listed = process::read(self.command(sh, args))?;
        Ok(listed.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
    }
}

/// The arguments of `run` for `spec`.
fn run_arguments(engine: EngineName, spec: &RunSpec, detached: bool) -> Vec<String> {
    let mut args: Vec<String> = vec!["run".into()];
    if detached {
        args.push("--detach".into());
    }
    args.extend(["--name", &spec.name, "--network", &spec.network].map(String::from));

    if engine == EngineName::Podman {
        // Podman schedules health checks through systemd, which these machines lack; the
        // checks poll the server themselves. It also must not reach for a registry when an
        // image is missing from local storage.
        args.extend(["--no-healthcheck".into(), "--pull=never".into()]);
    }
    for label in &spec.labels {
        args.extend(["--label".into(), label.clone()]);
    }
    for (key, value) in &spec.env {
        args.extend(["--env".into(), format!("{key}={value}")]);
    }
    if let Some((inside, host)) = spec.publish {
        args.extend(["--publish".into(), format!("127.0.0.1:{host}:{inside}")]);
    }
    for target in &spec.tmpfs {
        args.extend(["--tmpfs".into(), target.clone()]);
    }
    for bind in &spec.binds {
        args.extend(["--volume".into(), bind.clone()]);
    }
    if spec.read_only {
        args.push("--read-only".into());
    }
    if spec.unprivileged {
        args.extend(["--cap-drop=ALL".into(), "--security-opt=no-new-privileges".into()]);
    }
    if let Some(workdir) = &spec.workdir {
        args.extend(["--workdir".into(), workdir.clone()]);
    }
    if let Some(entrypoint) = &spec.entrypoint {
        args.extend(["--entrypoint".into(), entrypoint.clone()]);
    }
    args.push(spec.image.clone());
    args.extend(spec.command.iter().cloned());
    args
}

fn parse_container_inspect(json: &str) -> Result<ContainerState> {
    let value: Value = serde_json::from_str(json)
        .context("`container inspect` printed something other than JSON")?;
    let container = value.get(0).unwrap_or(&value);
    let Some(state) = container.get("State") else {
        bail!("`container inspect` printed no `State`");
    };
    let mounts = container
        .get("Mounts")
        .and_then(Value::as_array)
        .map(|mounts| {
            mounts
                .iter()
                .filter_map(|m| m.get("Destination").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    Ok(ContainerState {
        running: state.get("Running").and_then(Value::as_bool).unwrap_or(false),
        exit_code: state.get("ExitCode").and_then(Value::as_i64).unwrap_or(-1),
        mounts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_state_and_mounts_of_either_engine() {
        let docker = r#"[{"State": {"Running": false, "ExitCode": 137},
            "Mounts": [{"Type": "bind", "Source": "/src", "Destination": "/app"}]}]"#;
        let state = parse_container_inspect(docker).unwrap();
        assert_eq!(
            state,
            ContainerState { running: false, exit_code: 137, mounts: vec!["/app".into()] }
        );

        let podman = r#"[{"State": {"Running": true, "ExitCode": 0}, "Mounts": []}]"#;
        let state = parse_container_inspect(podman).unwrap();
        assert!(state.running && state.mounts.is_empty());
    }

    #[test]
    fn runs_with_the_flags_each_engine_needs() {
        let spec = RunSpec {
            name: "n".into(),
            image: "i".into(),
            network: "net".into(),
            labels: vec!["k=v".into()],
            env: vec![("A".into(), "1".into())],
            publish: Some((8000, 41000)),
            binds: vec!["/src:/app:ro".into()],
            read_only: true,
            unprivileged: true,
            command: vec!["run".into(), "main.ts".into()],
            ..RunSpec::default()
        };
        assert_eq!(
            run_arguments(EngineName::Docker, &spec, true).join(" "),
            "run --detach --name n --network net --label k=v --env A=1 \
             --publish 127.0.0.1:41000:8000 --volume /src:/app:ro --read-only --cap-drop=ALL \
             --security-opt=no-new-privileges i run main.ts"
        );
        let podman = run_arguments(EngineName::Podman, &spec, false);
        assert_eq!(podman[..6], ["run", "--name", "n", "--network", "net", "--no-healthcheck"]);
        assert!(podman.contains(&"--pull=never".to_string()));
    }

    #[test]
    fn rejects_inspect_output_without_a_state() {
        let error = parse_container_inspect("[{}]").unwrap_err();
        assert_eq!(error.to_string(), "`container inspect` printed no `State`");
    }
}
