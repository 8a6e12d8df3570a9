//! What the tests that run the engines share: running the xtask binary and the engines, the
//! project's podman configuration, and guards that remove what a test created.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args).env("NO_COLOR", "1").env_remove("GITHUB_ACTIONS");
    command.env("CONTAINERS_CONF", containers_conf());
    command
}

pub fn xtask_json(args: &[&str]) -> (Output, Value) {
    let output = xtask(&[args, &["--format", "json"]].concat()).output().unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!("stdout is not JSON ({error}):\n{}\nstderr:\n{}", stdout(&output), stderr(&output))
    });
    (output, report)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn engine_command(engine: &str, args: &[&str]) -> Command {
    let mut command = Command::new(engine);
    command.args(args).env("CONTAINERS_CONF", containers_conf());
    command
}

/// `CONTAINERS_CONF` when set (`.ci/run` sets it), else the project's `containers.conf`
/// rendered as `.ci/run` renders it: podman cannot run containers on these machines without it.
pub fn containers_conf() -> &'static Path {
    static RENDERED: OnceLock<PathBuf> = OnceLock::new();
    RENDERED.get_or_init(|| {
        if let Some(path) = std::env::var_os("CONTAINERS_CONF").filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let template = std::fs::read_to_string(root.join(".ci/podman/containers.conf")).unwrap();
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let open_files = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
        let hard_limit = open_files.split_whitespace().nth(4).unwrap();
        let hard_limit = if hard_limit == "unlimited" { "1048576" } else { hard_limit };
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("containers.conf");
        std::fs::write(&path, template.replace("@NOFILE_HARD_LIMIT@", hard_limit)).unwrap();
        path
    })
}

/// The stdout of `engine args`, which must succeed.
pub fn run_output(engine: &str, args: &[&str]) -> String {
    let output = engine_command(engine, args).output().unwrap();
    assert!(output.status.success(), "`{engine} {}` failed:\n{}", args.join(" "), stderr(&output));
    stdout(&output)
}

pub fn inspect(engine: &str, reference: &str) -> Value {
    inspect_optional(engine, reference)
        .unwrap_or_else(|| panic!("{engine} has no image `{reference}`"))
}

pub fn inspect_optional(engine: &str, reference: &str) -> Option<Value> {
    let output = engine_command(engine, &["image", "inspect", reference]).output().unwrap();
    if !output.status.success() {
        return None;
    }
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    Some(value[0].clone())
}

/// Docker prints ids as `sha256:...`, podman as bare hex.
pub fn full_id(id: &Value) -> String {
    let id = id.as_str().unwrap();
    if id.contains(':') { id.to_string() } else { format!("sha256:{id}") }
}

pub fn git_head() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let output = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(root).output();
    String::from_utf8(output.unwrap().stdout).unwrap().trim().to_string()
}

/// Panics, in CI and outside it, unless `engine` answers.
pub fn require_engine(engine: &str) {
    let format = if engine == "docker" { "{{.Server.Version}}" } else { "{{.Client.Version}}" };
    let answer = engine_command(engine, &["version", "--format", format]).output();
    let reason = match answer {
        Ok(output) if output.status.success() => return,
        Ok(output) => stderr(&output),
        Err(error) => format!("cannot run `{engine}`: {error}"),
    };
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let where_ = if in_ci { "in CI" } else { "here" };
    panic!("this test needs {engine}, which is not usable {where_}: {reason}");
}

pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// The server's sources, copied to `dir/server`: the tests edit the copy, never `server/`.
pub fn copy_server(dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("server");
    let target = dir.join("server");
    copy_tree(&source, &target);
    target
}

pub fn copy_tree(source: &Path, target: &Path) {
    std::fs::create_dir_all(target).unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "node_modules" || name == ".git" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target.join(&name));
        } else {
            std::fs::copy(entry.path(), target.join(&name)).unwrap();
        }
    }
}

/// Different on every run, so that an edit is never in the cache from an earlier run.
pub fn unique() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}-{}", now.as_nanos(), std::process::id())
}

pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("xtask-tests-{name}-{}", unique()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The images a test builds, removed when it ends, however it ends: its tag, and every layer
/// its builds created, read from the engine's output (`--> 228183a2982` from podman,
/// ` ---> c7df8bbb267b` from docker) and absent before the test began.
pub struct Images<'a> {
    pub engine: &'a str,
    pub tag: String,
    pub before: Vec<String>,
    pub created: Vec<String>,
}

impl Images<'_> {
    pub fn new<'a>(engine: &'a str, tag: &str) -> Images<'a> {
        let listing = run_output(engine, &["images", "--all", "--quiet", "--no-trunc"]);
        let before =
            listing.lines().map(|id| id.trim_start_matches("sha256:").to_string()).collect();
        Images { engine, tag: tag.to_string(), before, created: Vec::new() }
    }

    /// Notes the layers in a build's output that did not exist before the test.
    pub fn record(&mut self, output: &Output) {
        for line in stderr(output).lines() {
            let line = line.trim();
            let Some(id) = line.strip_prefix("---> ").or_else(|| line.strip_prefix("--> ")) else {
                continue;
            };
            let is_id = id.len() >= 11 && id.bytes().all(|b| b.is_ascii_hexdigit());
            if is_id && !self.before.iter().any(|known| known.starts_with(id)) {
                self.created.push(id.to_string());
            }
        }
    }
}

impl Drop for Images<'_> {
    fn drop(&mut self) {
        let _ = engine_command(self.engine, &["image", "rm", &self.tag]).output();
        // The newest first: an image goes only once no other builds on it.
        for id in self.created.iter().rev() {
            let _ = engine_command(self.engine, &["image", "rm", id]).output();
        }
    }
}

/// A container a test started, removed with its anonymous volumes when it ends.
pub struct Container<'a> {
    pub engine: &'a str,
    pub name: String,
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = engine_command(self.engine, &["rm", "--force", "--volumes", &self.name]).output();
    }
}

/// The docker daemon this test started, if it had to, stopped by its pid when dropped.
pub struct DockerDaemon {
    pub started: Option<Child>,
    pub log: Option<PathBuf>,
}

impl DockerDaemon {
    pub fn ensure() -> DockerDaemon {
        let answers = || {
            let version = ["version", "--format", "{{.Server.Version}}"];
            engine_command("docker", &version).output().is_ok_and(|o| o.status.success())
        };
        if answers() || which("dockerd").is_none() || !is_root() {
            // `require_engine` says why docker cannot be used.
            return DockerDaemon { started: None, log: None };
        }
        let log_path = std::env::temp_dir().join(format!("xtask-tests-dockerd-{}.log", unique()));
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new("dockerd")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let daemon = DockerDaemon { started: Some(child), log: Some(log_path.clone()) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            assert!(Instant::now() < deadline, "dockerd did not answer within 30 s:\n{log}");
            std::thread::sleep(Duration::from_millis(200));
        }
        daemon
    }
}

impl Drop for DockerDaemon {
    fn drop(&mut self) {
        if let Some(child) = &mut self.started {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            let _ = child.wait();
        }
        if let Some(log) = &self.log {
            let _ = std::fs::remove_file(log);
        }
    }
}

pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Makes sure `engine` has the two base images: pulled where the machine can pull them, else
/// the local stand-ins, built as `cargo xtask ci` builds them.
pub fn ensure_base_images(engine: &str) {
    let images = ["denoland/deno:alpine", "postgres:16-alpine"];
    for image in images {
        if inspect_optional(engine, image).is_none() {
            let _ = engine_command(engine, &["pull", image]).output();
        }
    }
    if images.iter().all(|image| inspect_optional(engine, image).is_some()) {
        return;
    }
    let mut args = vec!["offline-images", "--engine", engine];
    let ca_bundle = "/etc/ssl/certs/ca-certificates.crt";
    if Path::new(ca_bundle).is_file() {
        args.extend(["--ca-bundle", ca_bundle]);
    }
    let output = xtask(&args).output().unwrap();
    assert!(output.status.success(), "`offline-images` failed:\n{}", stderr(&output));
}
