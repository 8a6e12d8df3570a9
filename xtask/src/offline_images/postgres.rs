//! The stand-in for the database image: the host's PostgreSQL server (Debian's packages) with
//! its libraries, behind an entrypoint that initialises the database from the same variables
//! as the upstream image. It carries the host's major version, and says so in its labels.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use super::rootfs::{Rootfs, User};
use super::{Prepared, find_host_file, label_instruction, stand_in_labels};
use crate::engine::process;

pub const UPSTREAM: &str = "postgres:16-alpine";

/// The upstream alpine image's `postgres` user and group.
const POSTGRES_ID: u32 = 70;

/// Where Debian installs each major version's server.
const HOST_INSTALLATIONS: &str = "/usr/lib/postgresql";

/// The programs the image carries: the server, what initialises it, and the clients that
/// health checks and tests use.
const PROGRAMS: &[&str] = &["postgres", "initdb", "pg_ctl", "psql", "pg_isready"];

const ENTRYPOINT: &str = r#"#!/bin/sh
# The entrypoint of the PostgreSQL stand-in image built by `cargo xtask offline-images`. Like
# the upstream image's: the first start initialises $PGDATA with the superuser POSTGRES_USER
# (default postgres), its password POSTGRES_PASSWORD and the database POSTGRES_DB (default: the
# user's name), runs /docker-entrypoint-initdb.d/*.sql and *.sh, and accepts logins with a
# password from any address; the server runs as the `postgres` user.
set -eu

if [ "${1#-}" != "$1" ]; then
	set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
	exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	exec su -p -s /bin/sh postgres -c 'exec "$0" "$@"' "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
	if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
		echo "error: the database is not initialised and POSTGRES_PASSWORD is not set" >&2
		echo "hint: set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust for logins without one" >&2
		exit 1
	fi
	user="${POSTGRES_USER:-postgres}"
	database="${POSTGRES_DB:-$user}"

	password_file="$(mktemp)"
	printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$password_file"
	password_option="--pwfile=$password_file"
	[ -n "${POSTGRES_PASSWORD:-}" ] || password_option=""
	# initdb's output is shown only when it fails: it warns that the image has no locales
	# besides C, which is all the server needs. POSTGRES_INITDB_ARGS is split into words on
	# purpose, as upstream does.
	initdb_log="$(mktemp)"
	# shellcheck disable=SC2086
	if ! initdb --username="$user" $password_option --encoding=UTF8 --locale=C \
		--auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-} >"$initdb_log" 2>&1; then
		cat "$initdb_log" >&2
		exit 1
	fi
	rm -f "$password_file" "$initdb_log"
	printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
	printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait start >/dev/null
	if [ "$database" != postgres ]; then
		echo 'CREATE DATABASE :"database";' | psql --quiet -v ON_ERROR_STOP=1 \
			--username="$user" --dbname=postgres --set=database="$database"
	fi
	for script in /docker-entrypoint-initdb.d/*; do
		case "$script" in
		*.sql) psql --quiet -v ON_ERROR_STOP=1 --username="$user" --dbname="$database" --file="$script" ;;
		*.sh) . "$script" ;;
		esac
	done
	pg_ctl --pgdata="$PGDATA" --mode=fast --wait stop >/dev/null
	echo "the database is initialised; starting the server"
fi

exec "$@"
"#;

/// Where the host's server lives, and its version.
struct HostPostgres {
    /// `/usr/lib/postgresql/15`.
    installation: PathBuf,
    /// `/usr/share/postgresql/15`.
    share: PathBuf,
    major: String,
    /// `15.18`.
    version: String,
}

/// Lays out the image in `dir` and writes its Containerfile.
pub fn prepare(sh: &Shell, dir: &Path) -> Result<Prepared> {
    let host = find_host_postgres(sh)?;
    let busybox = find_host_file(&["/bin/busybox", "/usr/bin/busybox"], "busybox-static")?;
    let installation = host.installation.display().to_string();
    let share = host.share.display().to_string();

    let rootfs = Rootfs::create(dir.join("rootfs"))?;
    rootfs.install_busybox(sh, &busybox)?;
    let mut binaries: Vec<PathBuf> = Vec::new();
    for program in PROGRAMS {
        let path = host.installation.join("bin").join(program);
        if !path.is_file() {
            bail!(
                "`{}` is missing\nhint: install the server and its clients: `apt-get install postgresql-{}`",
                path.display(),
                host.major
            );
        }
        rootfs.copy_file(&path, &format!("{installation}/bin/{program}"))?;
        binaries.push(path);
    }
    // The server loads these modules at run time (PL/pgSQL, encodings, text search); the JIT
    // provider is left out: it pulls in LLVM, and the server runs without it.
    for module in server_modules(&host.installation.join("lib"))? {
        let name = module.file_name().expect("a module has a name").to_string_lossy().into_owned();
        rootfs.copy_file(&module, &format!("{installation}/lib/{name}"))?;
        binaries.push(module);
    }
    rootfs.copy_libraries(sh, &binaries)?;
    rootfs.copy_tree(&host.share, &share)?;
    rootfs.copy_tree(Path::new("/usr/share/zoneinfo"), "/usr/share/zoneinfo")?;
    rootfs.write_file("/usr/local/bin/docker-entrypoint.sh", ENTRYPOINT, 0o755)?;
    rootfs.write_users(&[User {
        name: "postgres",
        id: POSTGRES_ID,
        home: "/var/lib/postgresql",
    }])?;
    rootfs.create_dir("/tmp", 0o1777)?;
    std::fs::create_dir_all(dir.join("postgres-owned"))
        .with_context(|| format!("failed to create `{}`", dir.display()))?;

    let version = &host.version;
    let contains = format!("postgresql {version}");
    let description = format!(
        "A local stand-in for {UPSTREAM}, built by `cargo xtask offline-images` from the host's Debian packages: it carries PostgreSQL {version}, not 16. Not the upstream image."
    );
    let labels = stand_in_labels(UPSTREAM, &contains, &description, version);
    let containerfile = format!(
        r#"# Generated by `cargo xtask offline-images`: a stand-in for {UPSTREAM}.
FROM scratch
COPY rootfs/ /
COPY --chown={POSTGRES_ID}:{POSTGRES_ID} postgres-owned/ /var/lib/postgresql/data/
COPY --chown={POSTGRES_ID}:{POSTGRES_ID} postgres-owned/ /var/run/postgresql/
ENV PATH={installation}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PG_MAJOR={major} \
    PG_VERSION={version} \
    PGDATA=/var/lib/postgresql/data
{labels}
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
"#,
        major = host.major,
        labels = label_instruction(&labels),
    );
    Ok(Prepared { contains, containerfile })
}

/// The newest major version under `/usr/lib/postgresql` that has a server.
fn find_host_postgres(sh: &Shell) -> Result<HostPostgres> {
    let hint = "hint: install it from the machine's packages: `apt-get install postgresql`";
    let entries = std::fs::read_dir(HOST_INSTALLATIONS)
        .with_context(|| format!("no PostgreSQL server in `{HOST_INSTALLATIONS}`\n{hint}"))?;
    let mut majors: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|major: &u32| {
            Path::new(HOST_INSTALLATIONS).join(major.to_string()).join("bin/postgres").is_file()
        })
        .collect();
    majors.sort_unstable();
    let Some(major) = majors.last().map(u32::to_string) else {
        bail!("no PostgreSQL server in `{HOST_INSTALLATIONS}`\n{hint}");
    };

    let installation = Path::new(HOST_INSTALLATIONS).join(&major);
    let share = Path::new("/usr/share/postgresql").join(&major);
    if !share.join("postgres.bki").is_file() {
        bail!(
            "`{}` has no `postgres.bki`: the server's files are incomplete\n{hint}",
            share.display()
        );
    }
    let postgres = installation.join("bin/postgres");
    let output = process::read(cmd!(sh, "{postgres} --version"))?;
    let version = parse_version(&output).with_context(|| {
        format!("`{} --version` printed no version: {output}", postgres.display())
    })?;
    Ok(HostPostgres { installation, share, major, version })
}

/// `15.18` from `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`.
fn parse_version(output: &str) -> Option<String> {
    let after = output.split_once("(PostgreSQL) ")?.1;
    Some(after.split_whitespace().next()?.to_string())
}

/// The loadable modules in `lib`, without the JIT provider.
fn server_modules(lib: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(lib).with_context(|| format!("failed to read `{}`", lib.display()))?;
    let mut modules: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "so"))
        .filter(|path| {
            !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("llvmjit"))
        })
        .collect();
    modules.sort();
    Ok(modules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_server_version() {
        let output = "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)";
        assert_eq!(parse_version(output).as_deref(), Some("15.18"));
        assert_eq!(parse_version("postgres 15"), None);
    }
}
