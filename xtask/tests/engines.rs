//! Runs `build-image` and `offline-images` against the real engines: builds the server image
//! with podman and with docker on local stand-in base images, checks the reported figures
//! against `image inspect` and the cache reuse on a rebuild, runs the stand-ins, and checks each
//! way the tools can fail. A test that needs an engine fails when the engine is missing or does
//! not answer; none passes without it. Docker's tests start a daemon when none answers and they
//! run as root, and stop it afterwards; podman's need no daemon, but the project's
//! `containers.conf` (rendered here as `.ci/run` renders it, unless CONTAINERS_CONF is set).
//!
//! Each engine's scenario runs in one test, in order, with tags of its own, and removes the
//! images, containers and volumes it creates. The stand-in base images stay: they are what the
//! machine builds on.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::*;

/// What `.ci/run` passes too: builds reach npm through a proxy that this bundle trusts.
const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A Containerfile that meets every requirement and needs nothing from the network.
fn minimal_containerfile(base: &str) -> String {
    format!(
        "FROM {base}
WORKDIR /app
USER deno
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno install --frozen
COPY --chown=deno:deno . .
RUN deno cache --frozen main.ts
HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1
CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]
"
    )
}

#[test]
fn no_engine_on_path_is_an_error_that_says_what_was_tried() {
    let dir = TempDir::new("no-engine");
    let context = minimal_context(&dir, "denoland/deno:alpine");
    let empty = dir.path.join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();

    let output = xtask(&["build-image", "--context", context.to_str().unwrap()])
        .env("PATH", &empty)
        .env_remove("CONTAINER_ENGINE")
        .output()
        .unwrap();
    assert_eq!(
        stderr(&output),
        "\
error: no container engine is usable
  docker: `docker` is not on PATH
  podman: `podman` is not on PATH
hint: install one: `apt-get install podman`, or `apt-get install docker.io` and start `dockerd`; then choose it with `--engine` or CONTAINER_ENGINE
"
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");

    let output =
        xtask(&["offline-images", "--engine", "podman"]).env("PATH", &empty).output().unwrap();
    assert_eq!(
        stderr(&output),
        "\
error: podman is not usable: `podman` is not on PATH
hint: install one: `apt-get install podman`, or `apt-get install docker.io` and start `dockerd`; then choose it with `--engine` or CONTAINER_ENGINE
"
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_docker_client_without_its_daemon_is_not_an_engine() {
    require_engine("podman");
    assert!(which("docker").is_some(), "these tests need the docker client on PATH");
    let dir = TempDir::new("no-daemon");
    let context = minimal_context(&dir, "denoland/deno:alpine-0.0.1");
    let context = context.to_str().unwrap();
    let socket = format!("unix://{}", dir.path.join("no-daemon.sock").display());

    let output = xtask(&["build-image", "--engine", "docker", "--context", context])
        .env("DOCKER_HOST", &socket)
        .output()
        .unwrap();
    let stderr_text = stderr(&output);
    let lines: Vec<&str> = stderr_text.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr_text}");
    assert_eq!(lines[0], "$ docker version --format {{.Server.Version}}");
    assert!(
        lines[1].starts_with("error: docker is not usable: the daemon did not answer: ")
            && lines[1].contains(&socket),
        "{stderr_text}"
    );
    assert_eq!(
        lines[2],
        "hint: start the daemon (`dockerd &` as root, or `systemctl start docker`), or use `--engine podman`"
    );
    assert_eq!(output.status.code(), Some(2));

    // Unasked, the choice falls to podman, which lacks the base image: a clear error too.
    let output = xtask(&["build-image", "--context", context])
        .env("DOCKER_HOST", &socket)
        .env_remove("CONTAINER_ENGINE")
        .output()
        .unwrap();
    let stderr_text = stderr(&output);
    assert!(
        stderr_text.contains("$ podman build --format=docker --pull=never -f "),
        "{stderr_text}"
    );
    let error = stderr_text.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
    assert_eq!(
        error,
        "error: the base image `denoland/deno:alpine-0.0.1` is not in podman's local storage (builds run with `--pull=never`):"
    );
    assert!(stderr_text.ends_with(
        "hint: pull it first (`podman pull denoland/deno:alpine-0.0.1`), or build FROM an image the engine has\n"
    ));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn podman_builds_the_server_image() {
    require_engine("podman");
    builds_the_server_image("podman");
    checks_the_stand_ins_run("podman");
}

#[test]
fn docker_builds_the_server_image() {
    let _daemon = DockerDaemon::ensure();
    require_engine("docker");
    builds_the_server_image("docker");
    checks_the_stand_ins_run("docker");
}

/// The whole scenario on one engine: stand-ins, a build checked against `inspect`, a rebuild
/// after editing `main.ts`, a step that fails, and a base image that is missing.
fn builds_the_server_image(engine: &str) {
    let dir = TempDir::new(engine);
    let tag = format!("chat-server:engines-test-{engine}-{}", std::process::id());
    offline_images(engine);
    let mut images = Images::new(engine, &tag);

    // A build of the server as it is, checked against what the engine says of the image.
    let context = copy_server(&dir.path);
    let context_arg = context.to_str().unwrap();
    // Verbose, so that the engine's output names every layer the build makes.
    let args = ["build-image", "-v", "--engine", engine, "--context", context_arg, "--tag", &tag];
    let (output, report) = xtask_json(&args);
    images.record(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let image = inspect(engine, &tag);
    let base = inspect(engine, "denoland/deno:alpine");
    assert_eq!(report["status"], "pass");
    assert_eq!(report["engine"], engine);
    assert_eq!(report["image_id"], full_id(&image["Id"]));
    assert_eq!(report["image_bytes"], image["Size"]);
    assert_eq!(report["base_image"], "denoland/deno:alpine");
    assert_eq!(report["base_image_bytes"], base["Size"]);
    let added = image["Size"].as_u64().unwrap() - base["Size"].as_u64().unwrap();
    assert_eq!(report["added_bytes"], added);
    assert!(report["build_s"].as_f64().unwrap() > 0.0);
    let labels = &image["Config"]["Labels"];
    assert_eq!(labels["org.opencontainers.image.revision"], git_head());
    let created = labels["org.opencontainers.image.created"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");
    let steps = report["steps"].as_array().unwrap();
    let lines = containerfile_lines(&context);
    for step in steps.iter().filter(|s| !s["line"].is_null()) {
        let line = lines[step["line"].as_u64().unwrap() as usize - 1].as_str();
        let keyword = step["instruction"].as_str().unwrap().split(' ').next().unwrap();
        assert!(line.starts_with(keyword), "step {step} is not on line `{line}`");
    }

    // Only `main.ts` changes: the dependency layers come from the cache, the source does not.
    append(&context.join("main.ts"), &format!("\n// rebuilt at {}\n", unique()));
    let (output, report) = xtask_json(&args);
    images.record(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(step_cached(&report, "COPY deno.json deno.lock"), Some(true));
    assert_eq!(step_cached(&report, "RUN deno install"), Some(true));
    assert_eq!(step_cached(&report, "COPY . ."), Some(false));
    assert_eq!(step_cached(&report, "RUN deno cache"), Some(false));
    let cached = report["steps"].as_array().unwrap().iter().filter(|s| s["cached"] == true);
    assert_eq!(report["cached_steps"], cached.count());
    let output = xtask(&args).output().unwrap();
    images.record(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with(&format!("built `{tag}` with {engine} ")), "{text}");
    assert!(text.contains("  cached  RUN deno install --frozen\n"), "{text}");

    // A step that fails: exit 1, the report says where, stderr shows the engine's own error.
    append(&context.join("main.ts"), "import \"./src/missing_module.ts\";\n");
    let quiet_args = ["build-image", "--engine", engine, "--context", context_arg, "--tag", &tag];
    let (output, report) = xtask_json(&quiet_args);
    images.record(&output);
    let stderr_text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr_text}");
    assert_eq!(report["status"], "fail");
    assert_eq!(report["image_id"], Value::Null);
    let failed = report["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(failed["status"], "fail");
    assert_eq!(failed["instruction"], "RUN deno cache --frozen main.ts");
    let line = failed["line"].as_u64().unwrap();
    let expected = format!("the build failed at line {line}: RUN deno cache --frozen main.ts\n");
    assert!(stderr_text.contains(&expected), "{stderr_text}");
    assert!(stderr_text.contains(&format!("{engine}'s output:\n")), "{stderr_text}");
    assert!(stderr_text.contains("Module not found"), "{stderr_text}");
    assert!(!stderr_text.contains("panicked") && !stderr_text.contains("\x1b["), "{stderr_text}");

    // A base image the engine does not have: exit 2, and what brings it.
    let missing = minimal_context(&dir, "denoland/deno:alpine-0.0.1");
    let missing_args = ["build-image", "--engine", engine, "--context", missing.to_str().unwrap()];
    let output = xtask(&missing_args).output().unwrap();
    let stderr_text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr_text}");
    let error = stderr_text.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "error: the base image `denoland/deno:alpine-0.0.1` is not in {engine}'s local storage"
        )),
        "{stderr_text}"
    );
    assert_eq!(stdout(&output), "");
}

/// The stand-ins behave as the upstream images do where the project relies on them.
fn checks_the_stand_ins_run(engine: &str) {
    let deno = run_output(engine, &["run", "--rm", "denoland/deno:alpine", "--version"]);
    assert!(deno.starts_with("deno 2."), "{deno}");
    let welcome = run_output(engine, &["run", "--rm", "denoland/deno:alpine"]);
    assert_eq!(welcome, "Welcome to Deno!\n");
    let script =
        "id -u; id -u deno; id -g deno; stat -c %u /deno-dir; echo $DENO_DIR; pwd; which wget";
    let shell = run_output(engine, &["run", "--rm", "denoland/deno:alpine", "sh", "-c", script]);
    assert_eq!(shell, "0\n1000\n1000\n1000\n/deno-dir/\n/\n/usr/bin/wget\n");

    let name = format!("engines-test-postgres-{}", std::process::id());
    let _container = Container { engine, name: name.clone() };
    let started = run_output(
        engine,
        &[
            "run",
            "-d",
            "--name",
            &name,
            "-e",
            "POSTGRES_PASSWORD=secret",
            "-e",
            "POSTGRES_USER=chat",
            "-e",
            "POSTGRES_DB=chat_test",
            "postgres:16-alpine",
        ],
    );
    assert!(!started.trim().is_empty());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !engine_command(engine, &["exec", &name, "pg_isready", "-h", "127.0.0.1"])
        .output()
        .unwrap()
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "the postgres stand-in never became ready");
        std::thread::sleep(Duration::from_millis(300));
    }
    let query = "select current_user, current_database(), current_setting('server_version_num')";
    let psql = [
        "exec",
        "-e",
        "PGPASSWORD=secret",
        &name,
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "chat",
        "-d",
        "chat_test",
        "-At",
        "-c",
        query,
    ];
    let row = run_output(engine, &psql);
    assert!(row.starts_with("chat|chat_test|"), "{row}");
    let wrong = ["exec", "-e", "PGPASSWORD=wrong", &name, "psql", "-h", "127.0.0.1", "-U", "chat"];
    let output =
        engine_command(engine, &[&wrong[..], &["-c", "select 1"]].concat()).output().unwrap();
    assert!(!output.status.success(), "a wrong password must be refused");

    let labels = &inspect(engine, "postgres:16-alpine")["Config"]["Labels"];
    let version_num = row.trim().rsplit('|').next().unwrap();
    let major = &version_num[..version_num.len() - 4];
    assert_eq!(labels["dev.chat-server.stand-in"], "true");
    let contains = labels["dev.chat-server.stand-in.contains"].as_str().unwrap();
    assert!(contains.starts_with(&format!("postgresql {major}.")), "{contains}");
}

fn offline_images(engine: &str) {
    // A machine that has the real images builds on them; the stand-ins would refuse to
    // replace them.
    let deno = inspect_optional(engine, "denoland/deno:alpine");
    if deno
        .as_ref()
        .is_some_and(|image| image["Config"]["Labels"]["dev.chat-server.stand-in"] != "true")
    {
        return;
    }
    let mut args = vec!["offline-images", "--engine", engine];
    if Path::new(HOST_CA_BUNDLE).is_file() {
        args.extend(["--ca-bundle", HOST_CA_BUNDLE]);
    }
    let (output, report) = xtask_json(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let images = report["images"].as_array().unwrap();
    let names: Vec<&str> = images.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(names, ["denoland/deno:alpine", "postgres:16-alpine"]);
    for image in images {
        let inspected = inspect(engine, image["id"].as_str().unwrap());
        assert_eq!(image["image_id"], full_id(&inspected["Id"]));
        assert_eq!(image["image_bytes"], inspected["Size"]);
        let config = &inspected["Config"];
        assert_eq!(config["Labels"]["dev.chat-server.stand-in"], "true");
        assert_eq!(config["Labels"]["dev.chat-server.stand-in.contains"], image["contains"]);
    }
    let deno = inspect(engine, "denoland/deno:alpine");
    let config = &deno["Config"];
    assert!(config["User"].as_str().unwrap_or_default().is_empty());
    assert!(config["WorkingDir"].as_str().unwrap_or_default().is_empty());
    let entrypoint = serde_json::json!(["/tini", "--", "docker-entrypoint.sh"]);
    assert_eq!(config["Entrypoint"], entrypoint);
    assert_eq!(config["Cmd"], serde_json::json!(["eval", "console.log('Welcome to Deno!')"]));
    let contains = config["Labels"]["dev.chat-server.stand-in.contains"].as_str().unwrap();
    assert!(contains.starts_with("deno 2."), "{contains}");
}

fn step_cached(report: &Value, instruction_start: &str) -> Option<bool> {
    let steps = report["steps"].as_array()?;
    let step = steps
        .iter()
        .find(|s| s["instruction"].as_str().is_some_and(|i| i.starts_with(instruction_start)))?;
    step["cached"].as_bool()
}

/// A context in `dir/<base's tag>/server` that meets the requirements, on `base`.
fn minimal_context(dir: &TempDir, base: &str) -> PathBuf {
    let context = dir.path.join(base.replace(['/', ':'], "-")).join("server");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(context.join("Containerfile"), minimal_containerfile(base)).unwrap();
    std::fs::write(context.join(".dockerignore"), ".git\n.env\nnode_modules\n").unwrap();
    std::fs::write(context.join("main.ts"), "console.log(\"hello\");\n").unwrap();
    std::fs::write(context.join("deno.json"), "{}\n").unwrap();
    std::fs::write(context.join("deno.lock"), "{\"version\": \"5\"}\n").unwrap();
    context
}

fn containerfile_lines(context: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(context.join("Containerfile")).unwrap();
    text.lines().map(String::from).collect()
}

fn append(path: &Path, text: &str) {
    let mut contents = std::fs::read_to_string(path).unwrap();
    contents.push_str(text);
    std::fs::write(path, contents).unwrap();
}
