//! The runs behind each row of the comparison, one after another against one database.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use xshell::Shell;

use crate::engine::{BuildRequest, Engine, RunSpec};
use crate::project;
use crate::session::{RUN_LABEL, Session};
use crate::stack::{self, Database};

/// How long a start with no route out, or with no source, may take before it counts as failed.
const OFFLINE_LIMIT: Duration = Duration::from_secs(20);

pub struct Setup<'a> {
    pub sh: &'a Shell,
    pub engine: &'a Engine,
    pub session: &'a Session,
    pub image: &'a str,
    pub base_image: &'a str,
    pub server: &'a Path,
    pub scratch: &'a Path,
}

/// A start: how long until healthy, or why it never was.
pub type Start = Result<Duration, String>;

/// The server process's uid and user name, or why they could not be read.
pub type ServerUser = Result<(u32, String), String>;

/// Whether a tampered `deno.lock` was refused, and where that showed.
#[derive(Debug, Clone)]
pub struct LockCheck {
    pub refused: bool,
    pub detail: String,
}

/// Every figure of one comparison run, for both variants.
#[derive(Debug, Clone)]
pub struct Measured {
    pub baked_cold: Start,
    pub bind_cold: Start,
    pub baked_offline: Start,
    pub bind_offline: Start,
    pub baked_user: ServerUser,
    pub bind_user: ServerUser,
    pub bind_source_bytes: u64,
    /// What the bind-mount variant downloaded into its empty Deno cache on its first start.
    pub bind_downloaded_bytes: Option<u64>,
    pub bind_without_source: Start,
    pub baked_lock: LockCheck,
    pub bind_lock: LockCheck,
    pub baked_edit: Start,
    pub bind_edit: Start,
}

pub fn measure(setup: &Setup<'_>, database_image: &str) -> Result<Measured> {
    let Setup { sh, engine, session, .. } = *setup;
    let network = session.name("net");
    session.create(|| engine.create_network(sh, &network, &session.label, false))?;
    let database = stack::start_database(sh, engine, session, &network, database_image)?;

    // The first server to reach a new database applies its migrations; a start that is not
    // measured does that, so that neither measured start pays for it.
    eprintln!("==> compare: migrating the database");
    let mut warm_up = baked_spec(setup, "migrate", setup.image, &network, &database);
    let port = stack::publish(&mut warm_up)?;
    if let Err(reason) = start(setup, &warm_up, Some(port), stack::HEALTH_LIMIT)? {
        anyhow::bail!("`{}` did not start to migrate the database: {reason}", setup.image);
    }
    engine.remove_container(sh, &warm_up.name)?;

    eprintln!("==> compare: cold starts");
    let baked = baked_spec(setup, "baked", setup.image, &network, &database);
    let (baked_cold, baked_user, _) = start_and_ask(setup, baked, false)?;
    let bind = bind_spec(setup, "bind", setup.server, &network, &database);
    let (bind_cold, bind_user, bind_downloaded_bytes) = start_and_ask(setup, bind, true)?;

    eprintln!("==> compare: starts with no route out");
    let internal = session.name("internal");
    session.create(|| engine.create_network(sh, &internal, &session.label, true))?;
    engine.connect_network(sh, &internal, &database.container)?;
    let inside = database.reached_at(engine.address_on(sh, &database.container, &internal)?);
    let spec = baked_spec(setup, "baked-offline", setup.image, &internal, &inside);
    let baked_offline = start(setup, &spec, None, OFFLINE_LIMIT)?;
    let spec = bind_spec(setup, "bind-offline", setup.server, &internal, &inside);
    let bind_offline = start(setup, &spec, None, OFFLINE_LIMIT)?;

    eprintln!("==> compare: the source tree absent");
    let empty = setup.scratch.join("empty");
    std::fs::create_dir_all(&empty).context("failed to create an empty directory")?;
    let spec = bind_spec(setup, "bind-no-source", &empty, &network, &database);
    let bind_without_source = start(setup, &spec, None, OFFLINE_LIMIT)?;

    eprintln!("==> compare: a tampered lockfile");
    let tampered = setup.scratch.join("tampered");
    project::copy_tree(setup.server, &tampered)?;
    tamper_lockfile(&tampered)?;
    let baked_lock = build_refuses(setup, &tampered)?;
    let spec = bind_spec(setup, "bind-tampered", &tampered, &network, &database);
    let bind_lock = match start(setup, &spec, None, stack::HEALTH_LIMIT)? {
        Ok(_) => LockCheck { refused: false, detail: "started".into() },
        Err(reason) => LockCheck { refused: true, detail: format!("refused at start: {reason}") },
    };

    eprintln!("==> compare: a one-line edit");
    let baked_edit = baked_edit_loop(setup, &network, &database)?;
    let bind_edit = bind_edit_loop(setup, &network, &database)?;

    Ok(Measured {
        baked_cold,
        bind_cold,
        baked_offline,
        bind_offline,
        baked_user,
        bind_user,
        bind_source_bytes: project::tree_bytes(setup.server)?,
        bind_downloaded_bytes,
        bind_without_source,
        baked_lock,
        bind_lock,
        baked_edit,
        bind_edit,
    })
}

fn baked_spec(
    setup: &Setup<'_>,
    role: &str,
    image: &str,
    network: &str,
    database: &Database,
) -> RunSpec {
    stack::server_spec(setup.session, role, image, network, database)
}

fn bind_spec(
    setup: &Setup<'_>,
    role: &str,
    source: &Path,
    network: &str,
    database: &Database,
) -> RunSpec {
    stack::bind_mount_spec(setup.session, role, setup.base_image, source, network, database)
}

/// Runs `spec` and waits for it to turn healthy: on `port` when given, else from inside. The
/// container is left running.
fn start(setup: &Setup<'_>, spec: &RunSpec, port: Option<u16>, limit: Duration) -> Result<Start> {
    let Setup { sh, engine, session, .. } = *setup;
    let launched = Instant::now();
    session.create(|| engine.run_detached(sh, spec))?;
    let result = stack::wait_healthy(sh, engine, &spec.name, port, limit);
    let took = launched.elapsed();
    Ok(match result {
        Ok(_) => Ok(took),
        Err(reason) => Err(with_last_error(sh, engine, &spec.name, &reason)),
    })
}

/// `reason`, with the last line of the container's log that looks like an error.
fn with_last_error(sh: &Shell, engine: &Engine, container: &str, reason: &str) -> String {
    let log = stack::log_tail(sh, engine, container);
    let error = log.iter().rev().find(|line| line.to_lowercase().contains("error"));
    match error {
        Some(line) => format!("{reason} (`{}`)", line.trim().chars().take(160).collect::<String>()),
        None => reason.to_string(),
    }
}

/// A cold start on a published port; then the server's user and, for the stock image, the
/// bytes it downloaded into its Deno cache. The container is removed afterwards.
fn start_and_ask(
    setup: &Setup<'_>,
    mut spec: RunSpec,
    downloads: bool,
) -> Result<(Start, ServerUser, Option<u64>)> {
    let Setup { sh, engine, .. } = *setup;
    let port = stack::publish(&mut spec)?;
    let started = start(setup, &spec, Some(port), stack::HEALTH_LIMIT)?;
    let user = stack::server_user(sh, engine, &spec.name).map_err(|error| format!("{error:#}"));
    let downloaded = if downloads { deno_dir_bytes(sh, engine, &spec.name) } else { None };
    engine.remove_container(sh, &spec.name)?;
    Ok((started, user, downloaded))
}

/// The size of `$DENO_DIR` inside `container`, from busybox's `du -sk`.
fn deno_dir_bytes(sh: &Shell, engine: &Engine, container: &str) -> Option<u64> {
    let script = r#"du -sk "${DENO_DIR:-/deno-dir}" | cut -f1"#;
    let kilobytes = engine.exec(sh, container, &["sh", "-c", script]).ok()??;
    kilobytes.trim().parse::<u64>().ok().map(|k| k * 1024)
}

/// Changes the recorded checksum of the first npm package in `deno.lock`.
fn tamper_lockfile(server: &Path) -> Result<()> {
    let path = server.join("deno.lock");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let marker = "\"integrity\": \"sha512-";
    let Some(at) = text.find(marker).map(|at| at + marker.len()) else {
        anyhow::bail!("`deno.lock` records no npm checksum to tamper with");
    };
    let original = text.as_bytes()[at];
    let replacement = if original == b'A' { "B" } else { "A" };
    let tampered = format!("{}{replacement}{}", &text[..at], &text[at + 1..]);
    std::fs::write(&path, tampered).with_context(|| format!("failed to write `{}`", path.display()))
}

/// Builds `context` as the baked image is built; a tampered lockfile should stop the build.
fn build_refuses(setup: &Setup<'_>, context: &Path) -> Result<LockCheck> {
    let (built, tag) = build(setup, context, "tampered")?;
    Ok(if built {
        LockCheck { refused: false, detail: format!("built `{tag}`") }
    } else {
        LockCheck { refused: true, detail: "refused at build: the build failed".into() }
    })
}

/// Builds `context` with the session's label (so that cleanup removes the image) and says
/// whether it succeeded, and its tag.
fn build(setup: &Setup<'_>, context: &Path, role: &str) -> Result<(bool, String)> {
    let Setup { sh, engine, session, .. } = *setup;
    let tag = format!("chat-server-compare:{}", session.name(role));
    let labels = [(RUN_LABEL.to_string(), session.id.clone())];
    let containerfile = crate::validate::find_containerfile(context)?;
    let request = BuildRequest {
        context,
        containerfile: &containerfile,
        tag: &tag,
        no_cache: false,
        labels: &labels,
    };
    let built = session.create(|| engine.build(sh, &request, false))?;
    Ok((built.succeeded(), tag))
}

/// Appends a comment line to `main.ts`: a one-line source edit.
fn edit_source(server: &Path, round: &str) -> Result<()> {
    let path = server.join("main.ts");
    let mut text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    text.push_str(&format!("// edited: {round}\n"));
    std::fs::write(&path, text).with_context(|| format!("failed to write `{}`", path.display()))
}

/// The baked image's edit loop: from the edit to the new code serving, through a rebuild that
/// reuses the dependency layers, a stop of the old container and a start of the new one.
fn baked_edit_loop(setup: &Setup<'_>, network: &str, database: &Database) -> Result<Start> {
    let Setup { sh, engine, .. } = *setup;
    let copy = setup.scratch.join("edit-baked");
    project::copy_tree(setup.server, &copy)?;
    let (built, tag) = build(setup, &copy, "edit-1")?;
    if !built {
        return Ok(Err("the unedited copy did not build".into()));
    }
    let mut old = baked_spec(setup, "edit-1", &tag, network, database);
    let port = stack::publish(&mut old)?;
    if let Err(reason) = start(setup, &old, Some(port), stack::HEALTH_LIMIT)? {
        return Ok(Err(format!("the unedited image did not start: {reason}")));
    }

    edit_source(&copy, "baked")?;
    let edited = Instant::now();
    let (built, tag) = build(setup, &copy, "edit-2")?;
    if !built {
        return Ok(Err("the edited copy did not build".into()));
    }
    engine.stop(sh, &old.name, Duration::from_secs(10))?;
    let mut new = baked_spec(setup, "edit-2", &tag, network, database);
    let port = stack::publish(&mut new)?;
    Ok(start(setup, &new, Some(port), stack::HEALTH_LIMIT)?.map(|_| edited.elapsed()))
}

/// The bind mount's edit loop: from the edit to the server serving again after a restart.
fn bind_edit_loop(setup: &Setup<'_>, network: &str, database: &Database) -> Result<Start> {
    let Setup { sh, engine, .. } = *setup;
    let copy = setup.scratch.join("edit-bind");
    project::copy_tree(setup.server, &copy)?;
    let mut spec = bind_spec(setup, "bind-edit", &copy, network, database);
    let port = stack::publish(&mut spec)?;
    if let Err(reason) = start(setup, &spec, Some(port), stack::HEALTH_LIMIT)? {
        return Ok(Err(format!("the unedited source did not start: {reason}")));
    }

    edit_source(&copy, "bind mount")?;
    let edited = Instant::now();
    engine.stop(sh, &spec.name, Duration::from_secs(10))?;
    engine.start(sh, &spec.name)?;
    let result = stack::wait_healthy(sh, engine, &spec.name, Some(port), stack::HEALTH_LIMIT);
    Ok(result.map(|_| edited.elapsed()))
}
