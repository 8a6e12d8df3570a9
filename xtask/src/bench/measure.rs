//! The runs behind each figure, repeated; ours and the baseline alternate which goes first.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use xshell::Shell;

use crate::cli::EngineName;
use crate::engine::{BuildRequest, Engine, RunSpec, process};
use crate::offline_images::POSTGRES_IMAGE;
use crate::session::{RUN_LABEL, Session};
use crate::stack::{self, Database};
use crate::{live, timing, tools, verify};

pub struct Setup<'a> {
    pub sh: &'a Shell,
    pub engine: &'a Engine,
    pub session: &'a Session,
    pub base_image: &'a str,
    pub server: &'a Path,
    /// A copy of `server/` to edit, with our Containerfile.
    pub ours: &'a Path,
    /// A copy of `server/` to edit, with the baseline's.
    pub baseline: &'a Path,
    pub verbose: bool,
}

/// Every repeat's figures, in seconds unless named otherwise.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    pub cold_build: Vec<(f64, f64)>,
    pub source_edit: Vec<(f64, f64)>,
    pub dependency_edit: Vec<(f64, f64)>,
    /// Ours, the baseline, and the bytes of the application's files plus the Deno cache.
    pub added_bytes: Vec<(f64, f64, f64)>,
    /// Baked image, bind mount, host, engine floor.
    pub cold_start: Vec<(f64, f64, f64, f64)>,
    /// Wall time, time in commands, time waiting on the server under test.
    pub verify: Vec<(f64, f64, f64)>,
    pub validate: Vec<f64>,
}

pub fn measure(setup: &Setup<'_>, repeats: usize) -> Result<Samples> {
    let Setup { sh, engine, session, .. } = *setup;
    let network = session.name("net");
    session.create(|| engine.create_network(sh, &network, &session.label, false))?;
    let database = stack::start_database(sh, engine, session, &network, POSTGRES_IMAGE)?;
    let database_port = live::free_port()?;
    // The host's server reaches a second database, of the same image and with its own data,
    // through a published port.
    let host_database = stack::start_published_database(
        sh,
        engine,
        session,
        &network,
        POSTGRES_IMAGE,
        database_port,
    )?;
    warm_host_cache(sh, setup.server)?;

    let mut samples = Samples::default();
    for repeat in 1..=repeats {
        eprintln!("==> bench: repeat {repeat} of {repeats}");
        let ours_first = repeat % 2 == 1;
        samples.cold_build.push(pair(ours_first, |ours| build_time(setup, ours, true))?);
        // A build with the cache, not measured, first: it settles which cached layers the
        // engine builds on (docker's legacy builder may pick an older copy of a layer after a
        // build without the cache), so that the edit is measured against a developer's cache.
        pair(ours_first, |ours| build_time(setup, ours, false))?;
        edit(setup, "main.ts", &format!("// bench edit {repeat}\n"))?;
        samples.source_edit.push(pair(ours_first, |ours| build_time(setup, ours, false))?);
        edit_dependencies(setup, repeat)?;
        samples.dependency_edit.push(pair(ours_first, |ours| build_time(setup, ours, false))?);
        samples.added_bytes.push(added_bytes(setup)?);

        samples.cold_start.push(cold_starts(setup, &network, &database, &host_database, repeat)?);
        samples.verify.push(verify_overhead(setup)?);
        samples.validate.push(validate_time()?);
    }
    Ok(samples)
}

/// Runs `measure` for ours and the baseline, in the order given; returns (ours, baseline).
fn pair(ours_first: bool, mut measure: impl FnMut(bool) -> Result<f64>) -> Result<(f64, f64)> {
    if ours_first {
        let ours = measure(true)?;
        Ok((ours, measure(false)?))
    } else {
        let baseline = measure(false)?;
        Ok((measure(true)?, baseline))
    }
}

fn context<'a>(setup: &Setup<'a>, ours: bool) -> &'a Path {
    if ours { setup.ours } else { setup.baseline }
}

fn tag(setup: &Setup<'_>, ours: bool) -> String {
    let which = if ours { "ours" } else { "baseline" };
    format!("chat-server-bench:{}", setup.session.name(which))
}

/// Builds ours or the baseline, with the run's label, and says how long the build took.
fn build_time(setup: &Setup<'_>, ours: bool, no_cache: bool) -> Result<f64> {
    let Setup { sh, engine, session, .. } = *setup;
    let context = context(setup, ours);
    let containerfile = context.join("Containerfile");
    let tag = tag(setup, ours);
    let labels = [(RUN_LABEL.to_string(), session.id.clone())];
    let request = BuildRequest {
        context,
        containerfile: &containerfile,
        tag: &tag,
        no_cache,
        labels: &labels,
    };
    let built = session.create(|| engine.build(sh, &request, setup.verbose))?;
    if !built.succeeded() {
        bail!("building `{tag}` failed:\n{}", process::tail(&built.lines, process::TAIL_LINES));
    }
    Ok(built.elapsed.as_secs_f64())
}

/// Appends `text` to `file` in both copies.
fn edit(setup: &Setup<'_>, file: &str, text: &str) -> Result<()> {
    for dir in [setup.ours, setup.baseline] {
        let path = dir.join(file);
        let mut contents = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        contents.push_str(text);
        std::fs::write(&path, contents)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(())
}

/// Changes `deno.json` in both copies without changing what the lockfile records: the
/// dependency layers rebuild, and the frozen install still agrees with the lockfile.
fn edit_dependencies(setup: &Setup<'_>, repeat: usize) -> Result<()> {
    for dir in [setup.ours, setup.baseline] {
        let path = dir.join("deno.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let mut config: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not JSON", path.display()))?;
        config["tasks"]["bench-edit"] = format!("echo {repeat}").into();
        std::fs::write(&path, format!("{config:#}\n"))
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(())
}

/// Bytes each image adds to its base, and what the application's files and its Deno cache
/// hold in ours: the least an image that contains them can add.
fn added_bytes(setup: &Setup<'_>) -> Result<(f64, f64, f64)> {
    let Setup { sh, engine, .. } = *setup;
    let base = image_size(setup, setup.base_image)?;
    let ours = image_size(setup, &tag(setup, true))? - base;
    let baseline = image_size(setup, &tag(setup, false))? - base;
    let content = content_bytes(sh, engine, setup, &tag(setup, true))?
        - content_bytes(sh, engine, setup, setup.base_image)?;
    Ok((ours, baseline, content))
}

fn image_size(setup: &Setup<'_>, image: &str) -> Result<f64> {
    let info = setup.engine.inspect_image(setup.sh, image)?;
    Ok(info.with_context(|| format!("`{image}` is not in local storage"))?.size_bytes as f64)
}

/// What `/app` and the Deno cache of `image` hold, counted the way the engine counts a layer:
/// podman stores layers as tar streams (a 512-byte header per entry, contents padded to 512
/// bytes), docker sums the sizes of the files.
fn content_bytes(sh: &Shell, engine: &Engine, setup: &Setup<'_>, image: &str) -> Result<f64> {
    let script = match engine.name {
        EngineName::Podman => {
            r#"cache="${DENO_DIR:-/deno-dir}"; set --
for dir in /app "$cache"; do [ -d "$dir" ] && set -- "$@" "$dir"; done
if [ $# -eq 0 ]; then echo 0; else tar -cf - "$@" 2>/dev/null | wc -c; fi"#
        }
        EngineName::Docker => {
            r#"cache="${DENO_DIR:-/deno-dir}"
find /app "$cache" -type f -exec cat {} + 2>/dev/null | wc -c"#
        }
    };
    let spec = RunSpec {
        name: setup.session.name("content"),
        image: image.to_string(),
        network: "none".into(),
        labels: vec![setup.session.label.clone()],
        entrypoint: Some("sh".into()),
        command: vec!["-c".into(), script.into()],
        ..RunSpec::default()
    };
    let output = setup.session.create(|| engine.run_attached(sh, &spec));
    engine.remove_container(sh, &spec.name)?;
    let output = output?;
    output.trim().parse::<f64>().with_context(|| format!("`wc -c` printed `{}`", output.trim()))
}

/// The host's Deno cache holds the server's dependencies, as a developer's does.
fn warm_host_cache(sh: &Shell, server: &Path) -> Result<()> {
    let deno = tools::deno()?;
    let _dir = sh.push_dir(server);
    process::read(xshell::cmd!(sh, "{deno} cache --frozen main.ts")).map(drop)
}

/// `run` to healthy for the baked image and the bind mount, the host's `deno run` to healthy,
/// and the engine's floor: a container of the base image that runs `deno eval` and exits.
fn cold_starts(
    setup: &Setup<'_>,
    network: &str,
    database: &Database,
    host_database: &Database,
    repeat: usize,
) -> Result<(f64, f64, f64, f64)> {
    let Setup { sh, engine, session, .. } = *setup;
    let baked_tag = tag(setup, true);
    let start = |role: &str, mut spec: RunSpec| -> Result<f64> {
        let port = stack::publish(&mut spec)?;
        let launched = Instant::now();
        session.create(|| engine.run_detached(sh, &spec))?;
        let healthy = stack::wait_healthy(sh, engine, &spec.name, Some(port), stack::HEALTH_LIMIT);
        let took = launched.elapsed().as_secs_f64();
        engine.remove_container(sh, &spec.name)?;
        match healthy {
            Ok(_) => Ok(took),
            Err(reason) => bail!("the {role} did not start: {reason}"),
        }
    };
    if repeat == 1 {
        // The first server on a new database migrates it; that start is not measured.
        start(
            "baked image",
            stack::server_spec(session, "migrate", &baked_tag, network, database),
        )?;
    }
    let baked =
        start("baked image", stack::server_spec(session, "baked", &baked_tag, network, database))?;
    let bind =
        stack::bind_mount_spec(session, "bind", setup.base_image, setup.server, network, database);
    let bind = start("bind mount", bind)?;
    let host = host_start(setup.server, host_database)?;

    let floor = RunSpec {
        name: session.name("floor"),
        image: setup.base_image.to_string(),
        network: "none".into(),
        labels: vec![session.label.clone()],
        command: vec!["eval".into(), "0".into()],
        ..RunSpec::default()
    };
    let launched = Instant::now();
    let ran = session.create(|| engine.run_attached(sh, &floor));
    let floor_s = launched.elapsed().as_secs_f64();
    engine.remove_container(sh, &floor.name)?;
    ran?;
    Ok((baked, bind, host, floor_s))
}

/// `deno run` of the server on the host, with a warm cache, to healthy.
fn host_start(server: &Path, database: &Database) -> Result<f64> {
    let deno = tools::deno()?;
    let port = live::free_port()?;
    let launched = Instant::now();
    let child = Command::new(&deno)
        .args(["run", "--allow-net", "--allow-env", "--allow-read", "main.ts"])
        .current_dir(server)
        .envs(database.server_env())
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("failed to start `{}`", deno.display()))?;
    let mut server = HostServer(child);
    let healthy = live::wait_until(stack::HEALTH_LIMIT, || {
        if let Some(status) = server.0.try_wait()? {
            return Ok(live::Probe::Hopeless(format!("the server exited with {status}")));
        }
        live::health(port)
    });
    let took = launched.elapsed().as_secs_f64();
    server.stop();
    match healthy {
        Ok(_) => Ok(took),
        Err(reason) => bail!("the server on the host did not start: {reason}"),
    }
}

/// A server process on the host, stopped with SIGTERM (killed if need be) when dropped.
struct HostServer(Child);

impl HostServer {
    fn stop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for HostServer {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.stop();
        }
    }
}

/// One `verify` run: its wall time, the time in the commands it ran, and the time it waited on
/// the server under test.
fn verify_overhead(setup: &Setup<'_>) -> Result<(f64, f64, f64)> {
    eprintln!("==> bench: verify");
    let before = timing::spent();
    let verified = verify::verify(setup.sh, setup.engine, false, setup.verbose);
    let spent = timing::spent().since(before);
    if !verified.passed() {
        bail!("`verify` failed during the benchmark; run `cargo xtask verify` to see why");
    }
    Ok((verified.elapsed.as_secs_f64(), spent.commands.as_secs_f64(), spent.waiting.as_secs_f64()))
}

/// `cargo xtask validate` of the server's Containerfile, as a new process, as a user runs it.
fn validate_time() -> Result<f64> {
    let program = std::env::current_exe().context("failed to find the xtask binary")?;
    // A binary rebuilt while it runs is a new file; the kernel names the old one `(deleted)`.
    let program = match program.to_str().and_then(|p| p.strip_suffix(" (deleted)")) {
        Some(rebuilt) => std::path::PathBuf::from(rebuilt),
        None => program,
    };
    let launched = Instant::now();
    let status = Command::new(&program)
        .arg("validate")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("failed to run `{}`", program.display()))?;
    let took = launched.elapsed().as_secs_f64();
    if !status.success() {
        bail!("`cargo xtask validate` failed ({status})");
    }
    Ok(took)
}
