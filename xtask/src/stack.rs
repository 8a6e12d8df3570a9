//! The pieces a live run puts together: a throwaway database, the server beside it, and the
//! questions asked of a running server container (its user, its health from inside).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use xshell::Shell;

use crate::engine::{Engine, RunSpec, process};
use crate::live::{self, Probe};
use crate::session::Session;

/// The port the server listens on inside its container.
pub const SERVER_PORT: u16 = 8000;
/// How long a server may take to turn healthy, from `run`.
pub const HEALTH_LIMIT: Duration = Duration::from_secs(60);
/// How many of a container's log lines a failure shows.
pub const LOG_LINES: usize = 20;

const DATABASE_USER: &str = "chat";
const DATABASE_NAME: &str = "chat";

/// A database container of the run, and how the server reaches it.
#[derive(Clone)]
pub struct Database {
    pub container: String,
    pub address: String,
    pub port: u16,
    password: String,
}

impl Database {
    /// The same database, reached at another address (on another network).
    pub fn reached_at(&self, address: String) -> Database {
        Database { address, ..self.clone() }
    }

    /// The standard PostgreSQL variables the server reads.
    pub fn server_env(&self) -> Vec<(String, String)> {
        [
            ("PGHOST", self.address.as_str()),
            ("PGPORT", &self.port.to_string()),
            ("PGUSER", DATABASE_USER),
            ("PGPASSWORD", self.password.as_str()),
            ("PGDATABASE", DATABASE_NAME),
        ]
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .into()
    }
}

/// What brings `image` to a machine that lacks it.
pub fn missing_image_hint(engine: &Engine, image: &str) -> String {
    let program = engine.program();
    if crate::offline_images::stands_in_for(image) {
        format!(
            "hint: on a machine that cannot pull, `cargo xtask offline-images --engine {program}` builds a local stand-in for it"
        )
    } else {
        format!("hint: pull it first (`{program} pull {image}`)")
    }
}

/// Makes sure `image` is in local storage, pulling it when the engine can. A machine that cannot
/// pull gets a hint that names what provides the image.
pub fn require_image(sh: &Shell, engine: &Engine, image: &str, hint: &str) -> Result<()> {
    if engine.inspect_image(sh, image)?.is_some() {
        return Ok(());
    }
    let program = engine.program();
    eprintln!("==> `{image}` is not in {program}'s local storage; pulling it");
    let pulled = engine.pull(sh, image)?;
    if !pulled.succeeded() {
        bail!(
            "the image `{image}` is not in {program}'s local storage and could not be pulled:\n{}{hint}",
            process::tail(&pulled.lines, 5)
        );
    }
    Ok(())
}

/// Starts a database container on `network`. Its data lives in a tmpfs, so it leaves no volume
/// behind.
pub fn start_database(
    sh: &Shell,
    engine: &Engine,
    session: &Session,
    network: &str,
    image: &str,
) -> Result<Database> {
    run_database(sh, engine, session, network, image, None)
}

/// A second database, on `port` of 127.0.0.1, for a server that runs on the host.
pub fn start_published_database(
    sh: &Shell,
    engine: &Engine,
    session: &Session,
    network: &str,
    image: &str,
    port: u16,
) -> Result<Database> {
    let database = run_database(sh, engine, session, network, image, Some(port))?;
    Ok(Database { address: "127.0.0.1".into(), port, ..database })
}

fn run_database(
    sh: &Shell,
    engine: &Engine,
    session: &Session,
    network: &str,
    image: &str,
    published: Option<u16>,
) -> Result<Database> {
    let role = if published.is_some() { "db-published" } else { "db" };
    let container = session.name(role);
    let password = format!("pw-{}", session.id);
    let spec = RunSpec {
        name: container.clone(),
        image: image.to_string(),
        network: network.to_string(),
        labels: vec![session.label.clone()],
        env: vec![
            ("POSTGRES_USER".into(), DATABASE_USER.into()),
            ("POSTGRES_PASSWORD".into(), password.clone()),
            ("POSTGRES_DB".into(), DATABASE_NAME.into()),
        ],
        tmpfs: vec!["/var/lib/postgresql/data".into()],
        publish: published.map(|port| (5432, port)),
        ..RunSpec::default()
    };
    session.create(|| engine.run_detached(sh, &spec))?;
    let address = engine.address_on(sh, &container, network)?;
    wait_database_ready(sh, engine, &container)?;
    Ok(Database { container, address, port: 5432, password })
}

/// Waits until the database accepts connections over TCP, so that the servers' start times
/// measure the servers. (While the upstream image initialises a new database, its server
/// listens on a Unix socket only.)
fn wait_database_ready(sh: &Shell, engine: &Engine, container: &str) -> Result<()> {
    let probe = [
        "pg_isready",
        "--host",
        "127.0.0.1",
        "--username",
        DATABASE_USER,
        "--dbname",
        DATABASE_NAME,
    ];
    let ready = live::wait_until(HEALTH_LIMIT, || {
        if engine.exec(sh, container, &probe)?.is_some() {
            return Ok(Probe::Ready);
        }
        let state = engine.inspect_container(sh, container)?;
        Ok(if state.running {
            Probe::Waiting("`pg_isready` says no".into())
        } else {
            Probe::Hopeless(format!(
                "the database container exited with status {}",
                state.exit_code
            ))
        })
    });
    match ready {
        Ok(_) => Ok(()),
        Err(reason) => {
            let log = log_tail(sh, engine, container);
            bail!(
                "the database did not start: {reason}\nits last log lines:\n{}",
                process::tail(&log, LOG_LINES)
            )
        }
    }
}

/// A server container of `image` on `network`, talking to `database`; published on a free
/// port of 127.0.0.1 unless the network is internal.
pub fn server_spec(
    session: &Session,
    role: &str,
    image: &str,
    network: &str,
    database: &Database,
) -> RunSpec {
    RunSpec {
        name: session.name(role),
        image: image.to_string(),
        network: network.to_string(),
        labels: vec![session.label.clone()],
        env: database.server_env(),
        ..RunSpec::default()
    }
}

/// Where the bind-mount variant mounts the server's source.
pub const MOUNT_POINT: &str = "/app";

/// The server's command line in the stock image, whose entrypoint runs `deno` with it.
pub const DENO_RUN: [&str; 5] = ["run", "--allow-net", "--allow-env", "--allow-read", "main.ts"];

/// The stock `base_image` with `source` mounted read-only and the server's own command line:
/// the server run without an image of its own.
pub fn bind_mount_spec(
    session: &Session,
    role: &str,
    base_image: &str,
    source: &Path,
    network: &str,
    database: &Database,
) -> RunSpec {
    let mut spec = server_spec(session, role, base_image, network, database);
    spec.binds = vec![format!("{}:{MOUNT_POINT}:ro", source.display())];
    spec.workdir = Some(MOUNT_POINT.into());
    spec.command = DENO_RUN.map(String::from).into();
    spec
}

/// Gives `spec` a free host port for the server and returns it.
pub fn publish(spec: &mut RunSpec) -> Result<u16> {
    let port = live::free_port()?;
    spec.publish = Some((SERVER_PORT, port));
    Ok(port)
}

/// The user the server process runs as inside `container`: the process whose command line runs
/// `main.ts`, its uid and the name `/etc/passwd` gives it.
pub fn server_user(sh: &Shell, engine: &Engine, container: &str) -> Result<(u32, String)> {
    // One line per process, `uid<TAB>command line`; runs inside the container, whose shell
    // and coreutils are busybox on alpine.
    let script = r#"for d in /proc/[0-9]*; do
  u=$(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "$d/status" 2>/dev/null)
  c=$(tr '\000' ' ' <"$d/cmdline" 2>/dev/null)
  [ -n "$u" ] && printf '%s\t%s\n' "$u" "$c"
done"#;
    let listing = engine
        .exec(sh, container, &["sh", "-c", script])?
        .with_context(|| format!("failed to list the processes of `{container}`"))?;
    let Some(uid) = server_uid(&listing) else {
        bail!("no process in `{container}` runs `main.ts`");
    };
    let passwd = engine.exec(sh, container, &["cat", "/etc/passwd"])?.unwrap_or_default();
    Ok((uid, user_name(&passwd, uid).unwrap_or_else(|| uid.to_string())))
}

fn server_uid(listing: &str) -> Option<u32> {
    listing
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .find(|(_, command)| {
            let words: Vec<&str> = command.split_whitespace().collect();
            words.first().is_some_and(|w| w.ends_with("deno"))
                && words.contains(&"run")
                && words.iter().any(|w| w.ends_with("main.ts"))
        })
        .and_then(|(uid, _)| uid.trim().parse().ok())
}

fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 2 && fields[2].parse() == Ok(uid)).then(|| fields[0].to_string())
    })
}

/// Waits for `container` to answer `GET /health` with 200 on `port` of 127.0.0.1, or, with no
/// port, from inside the container (for one on an internal network, whose port cannot be
/// published). Gives up at once when the container exits, and after `limit` otherwise.
pub fn wait_healthy(
    sh: &Shell,
    engine: &Engine,
    container: &str,
    port: Option<u16>,
    limit: Duration,
) -> Result<Duration, String> {
    live::wait_until(limit, || {
        let probe = match port {
            Some(port) => live::health(port),
            None => health_inside(sh, engine, container),
        };
        if let Ok(Probe::Ready) = probe {
            return probe;
        }
        let state = engine.inspect_container(sh, container)?;
        if !state.running {
            return Ok(Probe::Hopeless(format!(
                "the container exited with status {}",
                state.exit_code
            )));
        }
        probe
    })
}

/// Asks for `/health` from inside the container, with the Deno that every image of the server
/// has.
fn health_inside(sh: &Shell, engine: &Engine, container: &str) -> Result<Probe> {
    let script = format!(
        "const r = await fetch('http://127.0.0.1:{SERVER_PORT}/health'); Deno.exit(r.status === 200 ? 0 : 1)"
    );
    Ok(match engine.exec(sh, container, &["deno", "eval", &script])? {
        Some(_) => Probe::Ready,
        None => Probe::Waiting("`/health` did not answer 200 inside the container".into()),
    })
}

/// The container's last log lines, for a failure; a note instead when they cannot be read.
pub fn log_tail(sh: &Shell, engine: &Engine, container: &str) -> Vec<String> {
    engine
        .logs_tail(sh, container, LOG_LINES)
        .unwrap_or_else(|error| vec![format!("(its log could not be read: {error:#})")])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_server_among_the_processes() {
        let listing = "0\t/tini -- docker-entrypoint.sh run main.ts \n\
            1000\tsh -c for d in /proc/[0-9]*; do \n\
            1000\tdeno run --allow-net --allow-env --allow-read main.ts \n";
        assert_eq!(server_uid(listing), Some(1000));
        assert_eq!(server_uid("0\t/tini -- docker-entrypoint.sh run main.ts\n"), None);
    }

    #[test]
    fn names_a_uid_from_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/sh\ndeno:x:1000:1000::/home/deno:/bin/sh\n";
        assert_eq!(user_name(passwd, 1000).as_deref(), Some("deno"));
        assert_eq!(user_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(user_name(passwd, 7), None);
    }
}
