//! `cargo xtask smoke`: runs the built image beside a throwaway database, on a network of its
//! own, and checks live that it works as required. Everything it creates carries the run's
//! label and is removed at the end.

mod contents;
pub mod report;

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};
use xshell::Shell;

use crate::Outcome;
use crate::cli::{ReportFormat, SmokeArgs};
use crate::engine::Engine;
use crate::live::{self, ChatClient};
use crate::session::Session;
use crate::stack::{self, Database};

/// The uid of `deno` in the alpine variant of the Deno image.
const DENO_UID: u32 = 1000;
/// How long `stop` may take for a stop to count as graceful.
const GRACEFUL_STOP_LIMIT: Duration = Duration::from_secs(5);
/// What `stop` allows before the engine kills the container.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// One check's result.
#[derive(Debug, Clone)]
pub struct SmokeCheck {
    pub id: &'static str,
    pub passed: bool,
    pub detail: String,
    pub duration: Duration,
    /// The earlier check whose failure left this one nothing to test.
    pub blocked_by: Option<&'static str>,
    /// Measured figures, their units in their names (`healthy_s`).
    pub figures: Vec<(&'static str, f64)>,
    /// The container's last log lines, when the check failed.
    pub log: Vec<String>,
}

pub struct SmokeRun {
    pub engine: Engine,
    pub image: String,
    pub database_image: String,
    pub run_id: String,
    pub checks: Vec<SmokeCheck>,
    pub elapsed: Duration,
}

impl SmokeRun {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

pub fn run(args: &SmokeArgs) -> Result<Outcome> {
    let sh = Shell::new()?;
    let engine = Engine::choose(&sh, args.engine.engine)?;
    let smoke = smoke(&sh, &engine, &args.image, &args.db_image)?;
    match args.format {
        ReportFormat::Text => print!("{}", report::text(&smoke, crate::report::Style::detect())),
        ReportFormat::Json => println!("{:#}", report::json(&smoke)),
    }
    Ok(if smoke.passed() { Outcome::Passed } else { Outcome::Failed })
}

/// Runs every check against `image`. Errors are for a run that could not happen (no engine, a
/// missing image, a network the engine refused); a check that fails is a result.
pub fn smoke(sh: &Shell, engine: &Engine, image: &str, database_image: &str) -> Result<SmokeRun> {
    let started = Instant::now();
    if engine.inspect_image(sh, image)?.is_none() {
        bail!(
            "the image `{image}` is not in {}'s local storage\nhint: build it with `cargo xtask build-image --engine {}`",
            engine.program(),
            engine.program()
        );
    }
    let hint = stack::missing_image_hint(engine, database_image);
    stack::require_image(sh, engine, database_image, &format!("{hint}, or pass `--db-image`"))?;

    let session = Session::open(engine, "smoke");
    let target = Target { sh, engine, session: &session, image };
    let mut run = Checks { target, checks: Vec::new() };
    run.all(database_image)?;
    Ok(SmokeRun {
        engine: engine.clone(),
        image: image.to_string(),
        database_image: database_image.to_string(),
        run_id: session.id.clone(),
        checks: run.checks,
        elapsed: started.elapsed(),
    })
}

/// What the checks run against.
#[derive(Clone, Copy)]
struct Target<'a> {
    sh: &'a Shell,
    engine: &'a Engine,
    session: &'a Session,
    image: &'a str,
}

struct Checks<'a> {
    target: Target<'a>,
    checks: Vec<SmokeCheck>,
}

/// What one check found: a pass or a failure, a detail, and figures.
struct Found {
    passed: bool,
    detail: String,
    figures: Vec<(&'static str, f64)>,
}

fn pass(detail: impl Into<String>) -> Found {
    Found { passed: true, detail: detail.into(), figures: Vec::new() }
}

fn fail(detail: impl Into<String>) -> Found {
    Found { passed: false, detail: detail.into(), figures: Vec::new() }
}

impl Found {
    fn with(mut self, name: &'static str, value: Duration) -> Found {
        self.figures.push((name, value.as_secs_f64()));
        self
    }
}

impl Checks<'_> {
    fn all(&mut self, database_image: &str) -> Result<()> {
        let target = self.target;
        let Target { sh, engine, session, image } = target;
        let network = session.name("net");
        session.create(|| engine.create_network(sh, &network, &session.label, false))?;
        let database = stack::start_database(sh, engine, session, &network, database_image)?;

        let mut spec = stack::server_spec(session, "app", image, &network, &database);
        let port = stack::publish(&mut spec)?;
        let app = spec.name.clone();
        let launched = Instant::now();
        session.create(|| engine.run_detached(sh, &spec))?;

        // Health is waited for first, as it is the wait for everything else, but reported in
        // the table's order: a container that never stays up fails the mounts check first.
        let health = stack::wait_healthy(sh, engine, &app, Some(port), stack::HEALTH_LIMIT)
            .map(|_| launched.elapsed());
        let state = engine.inspect_container(sh, &app)?;
        self.record("starts-without-mounts", &app, None, launched, || {
            Ok(if !state.mounts.is_empty() {
                fail(format!("the container has mounts: {}", state.mounts.join(", ")))
            } else if !state.running {
                fail(format!(
                    "with nothing mounted the container exited with status {}",
                    state.exit_code
                ))
            } else {
                pass("running, with no mount")
            })
        });
        let up = self.passed("starts-without-mounts").then_some("starts-without-mounts");
        let blocked = up.is_none().then_some("starts-without-mounts");
        self.record("runs-as-deno", &app, blocked, Instant::now(), || {
            let (uid, name) = stack::server_user(sh, engine, &app)?;
            let detail = format!("the server process runs as `{name}` (uid {uid})");
            Ok(if uid == DENO_UID && name == "deno" { pass(detail) } else { fail(detail) })
        });
        self.record("health", &app, blocked, launched, || {
            Ok(match &health {
                Ok(took) => {
                    pass(format!("200 after {:.2} s", took.as_secs_f64())).with("healthy_s", *took)
                }
                Err(reason) => fail(format!("`GET /health`: {reason}")),
            })
        });

        let blocked = blocked.or((!self.passed("health")).then_some("health"));
        self.record("chat-api", &app, blocked, Instant::now(), || chat_api(port));
        let marker = format!("smoke {}", session.id);
        self.record("websocket-broadcast", &app, blocked, Instant::now(), || {
            websocket_broadcast(port, &marker)
        });
        let blocked =
            blocked.or((!self.passed("websocket-broadcast")).then_some("websocket-broadcast"));
        self.record("persisted", &app, blocked, Instant::now(), || {
            persisted(sh, engine, &app, port, &marker)
        });

        let blocked = (!self.passed("health")).then_some("health");
        self.record("offline-start", &session.name("offline"), blocked, Instant::now(), || {
            offline_start(target, &database)
        });
        self.record("hardened-run", &session.name("hardened"), blocked, Instant::now(), || {
            hardened_run(target, &network, &database)
        });
        self.record("no-secrets", &app, None, Instant::now(), || {
            let found = contents::image_secrets(sh, engine, image)?;
            Ok(if found.is_empty() {
                pass("no secret-looking value in the image's history or environment")
            } else {
                fail(format!("secret-looking values in the image: {}", found.join(", ")))
            })
        });
        let blocked = up.is_none().then_some("starts-without-mounts");
        self.record("no-dev-files", &app, blocked, Instant::now(), || {
            let found = contents::development_files(sh, engine, &app)?;
            Ok(if found.is_empty() {
                pass("nothing of `.git` or `.env` in the image")
            } else {
                fail(format!("in the image: {}", contents::some_of(&found, 5)))
            })
        });
        self.record("writable-paths", &app, blocked, Instant::now(), || {
            let found = contents::writable_paths(sh, engine, &app)?;
            Ok(if found.is_empty() {
                pass("the server's user can write only `/tmp`, the Deno cache and its home directory")
            } else {
                fail(format!("the server's user can write {}", contents::some_of(&found, 5)))
            })
        });
        self.record("graceful-stop", &app, blocked, Instant::now(), || {
            graceful_stop(sh, engine, &app)
        });
        Ok(())
    }

    fn passed(&self, id: &str) -> bool {
        self.checks.iter().any(|c| c.id == id && c.passed)
    }

    /// Runs one check unless `blocked_by` names a failed one, times it and keeps the logs of
    /// `container` when it fails. An error inside a check is its failure.
    fn record(
        &mut self,
        id: &'static str,
        container: &str,
        blocked_by: Option<&'static str>,
        started: Instant,
        check: impl FnOnce() -> Result<Found>,
    ) {
        eprintln!("==> smoke: {id}");
        if let Some(blocker) = blocked_by {
            self.checks.push(SmokeCheck {
                id,
                passed: false,
                detail: format!("not run: `{blocker}` failed"),
                duration: Duration::ZERO,
                blocked_by,
                figures: Vec::new(),
                log: Vec::new(),
            });
            return;
        }
        let found = check().unwrap_or_else(|error| fail(format!("{error:#}")));
        let log = if found.passed {
            Vec::new()
        } else {
            stack::log_tail(self.target.sh, self.target.engine, container)
        };
        self.checks.push(SmokeCheck {
            id,
            passed: found.passed,
            detail: found.detail,
            duration: started.elapsed(),
            blocked_by: None,
            figures: found.figures,
            log,
        });
    }
}

/// A second container on an internal network, with the database joined to it: no route
/// leaves that network, so the server must start from what the image holds.
fn offline_start(target: Target<'_>, database: &Database) -> Result<Found> {
    let Target { sh, engine, session, image } = target;
    let network = session.name("internal");
    session.create(|| engine.create_network(sh, &network, &session.label, true))?;
    engine.connect_network(sh, &network, &database.container)?;
    let address = engine.address_on(sh, &database.container, &network)?;
    let inside = database.reached_at(address);

    let spec = stack::server_spec(session, "offline", image, &network, &inside);
    let launched = Instant::now();
    session.create(|| engine.run_detached(sh, &spec))?;
    let healthy = stack::wait_healthy(sh, engine, &spec.name, None, stack::HEALTH_LIMIT);
    let took = launched.elapsed();
    if let Err(reason) = healthy {
        return Ok(fail(format!("on an internal network: {reason}")));
    }
    // Deno prints each download it starts. The server's code and packages are all in the image
    // when it turns healthy with no route out; what Deno may still ask for is a package's
    // registry metadata, which `deno install` does not always leave in the cache, and which it
    // does without. Say so rather than hide it.
    let log = engine.logs_tail(sh, &spec.name, 200)?;
    let asked: Vec<&str> = log
        .iter()
        .filter_map(|line| line.split_once("Download ").map(|(_, url)| url.trim()))
        .collect();
    let detail = format!("healthy {:.2} s after `run`, with no route out", took.as_secs_f64());
    Ok(if asked.is_empty() {
        pass(detail)
    } else {
        pass(format!(
            "{detail}; it asked the registry for `{}` and went on without",
            asked.join("`, `")
        ))
    }
    .with("healthy_s", took))
}

fn hardened_run(target: Target<'_>, network: &str, database: &Database) -> Result<Found> {
    let Target { sh, engine, session, image } = target;
    let mut spec = stack::server_spec(session, "hardened", image, network, database);
    spec.read_only = true;
    spec.tmpfs = vec!["/tmp".into()];
    spec.unprivileged = true;
    let port = stack::publish(&mut spec)?;
    let launched = Instant::now();
    session.create(|| engine.run_detached(sh, &spec))?;
    Ok(match stack::wait_healthy(sh, engine, &spec.name, Some(port), stack::HEALTH_LIMIT) {
        Ok(_) => {
            let took = launched.elapsed();
            pass(format!(
                "healthy {:.2} s after `run` with a read-only root, no capabilities and no new privileges",
                took.as_secs_f64()
            ))
            .with("healthy_s", took)
        }
        Err(reason) => fail(format!("hardened: {reason}")),
    })
}

fn chat_api(port: u16) -> Result<Found> {
    let reply = live::get(port, "/chat")?;
    if reply.status != 200 {
        return Ok(fail(format!("`GET /chat` answered {}", reply.status)));
    }
    if !reply.json()?.is_array() {
        return Ok(fail(format!("`GET /chat` answered `{}`, not an array", reply.body)));
    }
    for bad in ["0", "abc", "501"] {
        let reply = live::get(port, &format!("/chat?limit={bad}"))?;
        if reply.status != 400 {
            return Ok(fail(format!("`GET /chat?limit={bad}` answered {}, not 400", reply.status)));
        }
    }
    Ok(pass("`GET /chat` answers an array; a bad `limit` answers 400"))
}

fn websocket_broadcast(port: u16, marker: &str) -> Result<Found> {
    let mut sender = ChatClient::connect(port)?;
    let mut listener = ChatClient::connect(port)?;
    let frame = json!({ "username": "smoke", "color": "#1a2b3c", "msg": marker });
    sender.send(&frame)?;
    let is_marker = |frame: &Value| frame.get("msg").and_then(Value::as_str) == Some(marker);
    let limit = Duration::from_secs(5);
    let received_by_sender = sender.receive_until(limit, is_marker)?;
    listener.receive_until(limit, is_marker)?;
    sender.close();
    listener.close();
    let id = received_by_sender.get("id").cloned().unwrap_or(Value::Null);
    Ok(pass(format!("message {id} reached both clients")))
}

fn persisted(sh: &Shell, engine: &Engine, app: &str, port: u16, marker: &str) -> Result<Found> {
    if !chat_contains(port, marker)? {
        return Ok(fail("the message is not in `GET /chat`"));
    }
    engine.stop(sh, app, STOP_GRACE)?;
    engine.start(sh, app)?;
    if let Err(reason) = stack::wait_healthy(sh, engine, app, Some(port), stack::HEALTH_LIMIT) {
        return Ok(fail(format!("after a restart: {reason}")));
    }
    Ok(if chat_contains(port, marker)? {
        pass("the message is in `GET /chat`, before and after a restart")
    } else {
        fail("the message is gone from `GET /chat` after a restart")
    })
}

fn chat_contains(port: u16, marker: &str) -> Result<bool> {
    let messages = live::get(port, "/chat?limit=500")?.json()?;
    let messages = messages.as_array().map(Vec::as_slice).unwrap_or_default();
    Ok(messages.iter().any(|m| m.get("msg").and_then(Value::as_str) == Some(marker)))
}

fn graceful_stop(sh: &Shell, engine: &Engine, app: &str) -> Result<Found> {
    let took = engine.stop(sh, app, STOP_GRACE)?;
    let state = engine.inspect_container(sh, app)?;
    let seconds = took.as_secs_f64();
    let detail = format!("stopped in {seconds:.2} s with status {}", state.exit_code);
    Ok(if took <= GRACEFUL_STOP_LIMIT && state.exit_code == 0 {
        pass(detail).with("stop_s", took)
    } else {
        fail(format!("{detail}; a clean stop takes under {} s", GRACEFUL_STOP_LIMIT.as_secs()))
            .with("stop_s", took)
    })
}
