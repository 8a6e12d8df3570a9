//! Runs `smoke` against deliberately broken variants of the server image on podman, and shows
//! that each breaks exactly the check it should, and that a run leaves nothing behind: not when
//! it passes, not when checks fail, not when it is interrupted.
//!
//! The variants are built from a copy of `server/` with one thing changed. The database image
//! is the machine's `postgres:16-alpine`, a local stand-in where nothing can be pulled (`cargo
//! xtask offline-images` builds it, as `cargo xtask ci` does before the tests need it).

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::*;

const ENGINE: &str = "podman";
const RUN_LABEL: &str = "dev.chat-server.run";

/// Every check, in the order `smoke` reports them.
const CHECK_IDS: [&str; 12] = [
    "starts-without-mounts",
    "runs-as-deno",
    "health",
    "chat-api",
    "websocket-broadcast",
    "persisted",
    "offline-start",
    "hardened-run",
    "no-secrets",
    "no-dev-files",
    "writable-paths",
    "graceful-stop",
];

/// The tests run one at a time: the layers one test's builds create are removed when it ends,
/// and must not be in use by another test's build.
static SERIAL: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn the_server_image_passes_every_check() {
    let report = smoke_variant("as-is", |_| {});
    assert_eq!(failed_checks(&report), BTreeSet::new(), "{report:#}");
    let ids: Vec<&str> = report["checks"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, CHECK_IDS);
    for check in report["checks"].as_array().unwrap() {
        assert!(check["duration_s"].as_f64().is_some(), "{check:#}");
    }
    assert!(report["checks"][2]["healthy_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn an_image_without_user_runs_as_root() {
    let report = smoke_variant("no-user", |context| {
        edit_containerfile(context, |line| line.trim() != "USER deno");
    });
    // Root can write anywhere.
    assert_eq!(
        failed_checks(&report),
        BTreeSet::from(["runs-as-deno", "writable-paths"]),
        "{report:#}"
    );
    let detail = check(&report, "runs-as-deno")["detail"].as_str().unwrap();
    assert_eq!(detail, "the server process runs as `root` (uid 0)");
}

#[test]
fn an_image_without_its_cache_steps_cannot_start_offline() {
    let report = smoke_variant("no-cache-step", |context| {
        edit_containerfile(context, |line| !line.starts_with("RUN deno"));
    });
    // With nothing cached, the server downloads its dependencies when it starts: with no route
    // out it cannot, and with a read-only root it has nowhere to put them.
    assert_eq!(
        failed_checks(&report),
        BTreeSet::from(["offline-start", "hardened-run"]),
        "{report:#}"
    );
}

#[test]
fn an_image_that_needs_its_source_bind_mounted_does_not_start() {
    let report = smoke_variant("source-left-out", |context| {
        edit_containerfile(context, |line| line.trim() != "COPY . .");
        edit_containerfile(context, |line| !line.starts_with("RUN deno cache"));
    });
    assert_eq!(failed_checks(&report), BTreeSet::from(["starts-without-mounts"]), "{report:#}");
    let first = &report["checks"][0];
    assert!(first["detail"].as_str().unwrap().contains("exited with status"), "{first:#}");
    assert!(!first["log"].as_array().unwrap().is_empty(), "a failure shows the container's log");
    // Only the image's history and environment can be checked without a running container.
    for check in &report["checks"].as_array().unwrap()[1..] {
        if check["id"] == "no-secrets" {
            assert_eq!(check["status"], "pass", "{check:#}");
        } else {
            assert_eq!(check["status"], "fail");
            assert!(check["blocked_by"].is_string(), "{check:#}");
        }
    }
}

#[test]
fn a_server_that_ignores_sigterm_fails_only_graceful_stop() {
    let report = smoke_variant("ignores-sigterm", |context| {
        let main = context.join("main.ts");
        let text = std::fs::read_to_string(&main).unwrap();
        let patched = text.replace(r#"["SIGTERM", "SIGINT"]"#, r#"["SIGINT"]"#);
        assert_ne!(patched, text, "main.ts no longer listens for SIGTERM as this test expects");
        let ignore = "Deno.addSignalListener(\"SIGTERM\", () => {});\n";
        std::fs::write(&main, format!("{ignore}{patched}")).unwrap();
    });
    assert_eq!(failed_checks(&report), BTreeSet::from(["graceful-stop"]), "{report:#}");
    let stop = check(&report, "graceful-stop");
    assert!(stop["stop_s"].as_f64().unwrap() > 5.0, "{stop:#}");
}

#[test]
fn an_image_with_a_secret_dev_files_and_writable_code_fails_those_checks() {
    let report = smoke_variant("leaky", |context| {
        let dockerignore = context.join(".dockerignore");
        let ignored = std::fs::read_to_string(&dockerignore).unwrap();
        let kept: Vec<&str> = ignored.lines().filter(|line| !line.starts_with(".env")).collect();
        assert_ne!(kept.len(), ignored.lines().count(), "`.dockerignore` no longer lists `.env`");
        std::fs::write(&dockerignore, kept.join("\n") + "\n").unwrap();
        std::fs::write(context.join(".env"), "PGPASSWORD=from-a-dotenv-file\n").unwrap();

        let path = context.join("Containerfile");
        let text = std::fs::read_to_string(&path).unwrap();
        let leaky = text
            .replace("COPY . .", "COPY --chown=deno:deno . .")
            .replace("ENV PORT=8000", "ENV PORT=8000 API_TOKEN=t0ps3cr3t-value");
        std::fs::write(&path, leaky).unwrap();
    });
    assert_eq!(
        failed_checks(&report),
        BTreeSet::from(["no-secrets", "no-dev-files", "writable-paths"]),
        "{report:#}"
    );
    let secrets = check(&report, "no-secrets")["detail"].as_str().unwrap();
    assert_eq!(secrets, "secret-looking values in the image: API_TOKEN=…");
    let dev_files = check(&report, "no-dev-files")["detail"].as_str().unwrap();
    assert_eq!(dev_files, "in the image: `/app/.env`");
    let writable = check(&report, "writable-paths")["detail"].as_str().unwrap();
    assert!(writable.starts_with("the server's user can write `/app/"), "{writable}");
}

#[test]
fn an_interrupted_run_leaves_nothing_behind() {
    let _serial = one_at_a_time();
    require_engine(ENGINE);
    ensure_base_images(ENGINE);
    let dir = TempDir::new("smoke-interrupt");
    let images = build_variant(&dir, "interrupt", |_| {});
    let stderr_path = dir.path.join("stderr");
    let mut child = xtask(&["smoke", "--engine", ENGINE, "--image", &images.tag])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();

    // Interrupt once the server container exists, while the checks wait for it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let run_id = loop {
        let log = std::fs::read_to_string(&stderr_path).unwrap();
        if let Some(id) = run_id_in(&log).filter(|id| log.contains(&format!("--name {id}-app"))) {
            break id;
        }
        assert!(Instant::now() < deadline, "smoke never started its server:\n{log}");
        assert!(child.try_wait().unwrap().is_none(), "smoke ended before the interrupt:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();

    let log = std::fs::read_to_string(&stderr_path).unwrap();
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(log.contains("interrupted: cleaning up"), "{log}");
    assert_nothing_labelled(&run_id);
}

/// Builds the server with `change` applied to a copy of its context, runs `smoke --format json`
/// on it and checks that the run removed everything it created.
fn smoke_variant(name: &str, change: impl FnOnce(&Path)) -> Value {
    let _serial = one_at_a_time();
    require_engine(ENGINE);
    ensure_base_images(ENGINE);
    let dir = TempDir::new(&format!("smoke-{name}"));
    let images = build_variant(&dir, name, change);
    let (output, report) = xtask_json(&["smoke", "--engine", ENGINE, "--image", &images.tag]);
    let expected = if failed_checks(&report).is_empty() { 0 } else { 1 };
    assert_eq!(output.status.code(), Some(expected), "{}", stderr(&output));
    assert_nothing_labelled(report["run_id"].as_str().unwrap());
    drop(images);
    report
}

fn build_variant(dir: &TempDir, name: &str, change: impl FnOnce(&Path)) -> Images<'static> {
    let context = copy_server(&dir.path);
    change(&context);
    let mut images = Images::new(ENGINE, &format!("chat-server:smoke-{name}-{}", unique()));
    let containerfile = context.join("Containerfile").display().to_string();
    let context_arg = context.display().to_string();
    let args = [
        "build",
        "--format=docker",
        "--pull=never",
        "-f",
        &containerfile,
        "-t",
        &images.tag,
        &context_arg,
    ];
    let output = engine_command(ENGINE, &args).output().unwrap();
    images.record(&output);
    assert!(output.status.success(), "building the `{name}` variant failed:\n{}", stderr(&output));
    images
}

/// Keeps the Containerfile's lines for which `keep` is true.
fn edit_containerfile(context: &Path, keep: impl Fn(&str) -> bool) {
    let path = context.join("Containerfile");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = text.lines().filter(|line| keep(line)).collect();
    assert_ne!(kept.len(), text.lines().count(), "the edit changed nothing");
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
}

/// The checks that failed on their own, leaving out those that an earlier failure blocked.
fn failed_checks(report: &Value) -> BTreeSet<&str> {
    let checks = report["checks"].as_array().expect("the report lists its checks");
    checks.iter().filter(|c| c["status"] == "fail" && c["blocked_by"].is_null()).map(id).collect()
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    let checks = report["checks"].as_array().unwrap();
    checks.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no `{id}` check"))
}

fn id(check: &Value) -> &str {
    check["id"].as_str().unwrap()
}

fn run_id_in(log: &str) -> Option<String> {
    let start = log.find(&format!("{RUN_LABEL}="))? + RUN_LABEL.len() + 1;
    let id: String = log[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    Some(id)
}

fn assert_nothing_labelled(run_id: &str) {
    let filter = format!("label={RUN_LABEL}={run_id}");
    let containers = run_output(ENGINE, &["ps", "--all", "--quiet", "--filter", &filter]);
    assert_eq!(containers.trim(), "", "containers of `{run_id}` are left");
    let networks = run_output(ENGINE, &["network", "ls", "--quiet", "--filter", &filter]);
    assert_eq!(networks.trim(), "", "networks of `{run_id}` are left");
}

#[test]
fn smoke_of_an_image_that_is_not_there_says_how_to_build_it() {
    require_engine(ENGINE);
    let output = xtask(&["smoke", "--engine", ENGINE, "--image", "chat-server:never-built"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let stderr = stderr(&output);
    let last_lines: Vec<&str> = stderr.lines().rev().take(2).collect();
    assert_eq!(
        last_lines,
        [
            "hint: build it with `cargo xtask build-image --engine podman`",
            "error: the image `chat-server:never-built` is not in podman's local storage",
        ]
    );
}
