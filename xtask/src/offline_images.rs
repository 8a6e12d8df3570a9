//! `cargo xtask offline-images`: local stand-ins for the upstream images the project pulls, for
//! machines that cannot reach a registry. Each is built `FROM scratch` in a temporary directory
//! from files the machine has, tagged with the upstream name, and labelled as a stand-in with
//! what it really contains.

mod deno;
mod postgres;
mod rootfs;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use xshell::Shell;

use crate::cli::{OfflineImagesArgs, ReportFormat};
use crate::engine::{BuildRequest, Engine, process};
use crate::{Outcome, project};

/// The base image of the server's Containerfile.
pub const DENO_IMAGE: &str = deno::UPSTREAM;
/// The database image the smoke test runs. The stand-in carries the host's PostgreSQL (15 on
/// these machines), which serves the same protocol and SQL the server uses.
pub const POSTGRES_IMAGE: &str = postgres::UPSTREAM;

/// `true` on every image this command builds, and on none other.
pub const STAND_IN_LABEL: &str = "dev.chat-server.stand-in";
/// The upstream image a stand-in replaces.
pub const STANDS_IN_FOR_LABEL: &str = "dev.chat-server.stand-in.for";
/// What a stand-in really carries: `deno 2.9.8`, `postgresql 15.18`.
pub const CONTAINS_LABEL: &str = "dev.chat-server.stand-in.contains";

/// A stand-in laid out in its directory, ready to build.
pub struct Prepared {
    pub contains: String,
    pub containerfile: String,
}

/// A stand-in built and inspected.
struct Built {
    upstream: &'static str,
    contains: String,
    image_id: String,
    size_bytes: u64,
    elapsed: Duration,
    /// The id of the image of that name before (a stand-in, or any image with `--force`).
    previous_id: Option<String>,
}

pub fn run(args: &OfflineImagesArgs, verbose: bool) -> Result<Outcome> {
    if let Some(bundle) = &args.ca_bundle {
        if !bundle.is_file() {
            bail!("the CA bundle `{}` is not a file", project::display(bundle));
        }
    }
    let sh = Shell::new()?;
    let engine = Engine::choose(&sh, args.engine.engine)?;

    let mut previous = Vec::new();
    for upstream in [DENO_IMAGE, POSTGRES_IMAGE] {
        let existing = engine.inspect_image(&sh, upstream)?;
        if let Some(image) = &existing {
            check_replaceable(upstream, &image.labels, args.force)?;
        }
        previous.push(existing);
    }

    let ca_bundle = args.ca_bundle.as_deref();
    let mut built = Vec::new();
    for (upstream, previous) in [DENO_IMAGE, POSTGRES_IMAGE].into_iter().zip(previous) {
        // A progress line, as in `build-image`: no GitHub log group on stdout.
        eprintln!("==> building a stand-in for `{upstream}` with {}", engine.program());
        let image = build_stand_in(&sh, &engine, upstream, ca_bundle, verbose)?;
        // An older stand-in is now untagged: remove it unless images built on it still use it.
        // Anything else it replaced (with `--force`) is somebody's, and stays.
        if let Some(old) = previous.as_ref().filter(|old| is_stand_in(&old.labels)) {
            if old.id != image.image_id && !engine.remove_image(&sh, &old.id)? {
                eprintln!("the previous stand-in `{}` is still in use; it stays", old.id);
            }
        }
        built.push(Built { previous_id: previous.map(|old| old.id), ..image });
    }

    match args.format {
        ReportFormat::Text => print!("{}", text(&engine, &built)),
        ReportFormat::Json => println!("{:#}", json(&engine, &built)),
    }
    Ok(Outcome::Passed)
}

/// Whether an image with `labels` was built by this command.
pub fn is_stand_in(labels: &BTreeMap<String, String>) -> bool {
    labels.get(STAND_IN_LABEL).is_some_and(|value| value == "true")
}

/// `run`, except on a machine that has the upstream images (it could pull them): there the
/// real images serve, and nothing is built.
pub fn run_unless_upstream_present(args: &OfflineImagesArgs, verbose: bool) -> Result<Outcome> {
    let sh = Shell::new()?;
    let engine = Engine::choose(&sh, args.engine.engine)?;
    let mut all_upstream = true;
    for upstream in [DENO_IMAGE, POSTGRES_IMAGE] {
        let image = engine.inspect_image(&sh, upstream)?;
        all_upstream &= image.is_some_and(|image| !is_stand_in(&image.labels));
    }
    if all_upstream {
        eprintln!("{} has the upstream images; no stand-ins needed", engine.program());
        return Ok(Outcome::Passed);
    }
    run(args, verbose)
}

/// An image that did not come from this command is somebody's real image: replace it only
/// when asked to.
fn check_replaceable(upstream: &str, labels: &BTreeMap<String, String>, force: bool) -> Result<()> {
    if force || is_stand_in(labels) {
        return Ok(());
    }
    bail!(
        "refusing to replace `{upstream}`: that image exists and is not a stand-in built by this command (it has no `{STAND_IN_LABEL}` label)\nhint: `--force` replaces it"
    )
}

fn build_stand_in(
    sh: &Shell,
    engine: &Engine,
    upstream: &'static str,
    ca_bundle: Option<&Path>,
    verbose: bool,
) -> Result<Built> {
    let dir = sh.create_temp_dir().context("failed to create a temporary directory")?;
    let prepared = match upstream {
        DENO_IMAGE => deno::prepare(sh, dir.path(), ca_bundle)?,
        _ => postgres::prepare(sh, dir.path())?,
    };
    let containerfile = dir.path().join("Containerfile");
    std::fs::write(&containerfile, &prepared.containerfile)
        .with_context(|| format!("failed to write `{}`", containerfile.display()))?;

    // The fully qualified name, so that podman stores it where a pull would have.
    let tag = qualified_name(upstream);
    let request = BuildRequest {
        context: dir.path(),
        containerfile: &containerfile,
        tag: &tag,
        no_cache: false,
        labels: &[],
    };
    let run = engine.build(sh, &request, verbose)?;
    let Some(image_id) = run.image_id else {
        bail!(
            "{} failed to build the stand-in for `{upstream}`:\n{}",
            engine.program(),
            process::tail(&run.lines, process::TAIL_LINES)
        );
    };
    let image = engine.inspect_image(sh, &image_id)?.with_context(|| {
        format!("{} built `{image_id}` but cannot inspect it", engine.program())
    })?;
    Ok(Built {
        upstream,
        contains: prepared.contains,
        image_id,
        size_bytes: image.size_bytes,
        elapsed: run.elapsed,
        previous_id: None,
    })
}

/// Whether this command builds a stand-in named `reference`.
pub fn stands_in_for(reference: &str) -> bool {
    let qualified = qualified_name(reference);
    [DENO_IMAGE, POSTGRES_IMAGE].iter().any(|upstream| qualified_name(upstream) == qualified)
}

/// `docker.io/library/postgres:16-alpine` for `postgres:16-alpine`.
fn qualified_name(reference: &str) -> String {
    let first = reference.split('/').next().unwrap_or_default();
    let has_registry = reference.contains('/')
        && (first.contains('.') || first.contains(':') || first == "localhost");
    match (has_registry, reference.contains('/')) {
        (true, _) => reference.to_string(),
        (false, true) => format!("docker.io/{reference}"),
        (false, false) => format!("docker.io/library/{reference}"),
    }
}

/// The labels every stand-in carries: it is one, what it stands in for, what it contains.
fn stand_in_labels(
    upstream: &str,
    contains: &str,
    description: &str,
    version: &str,
) -> Vec<(String, String)> {
    [
        (STAND_IN_LABEL, "true"),
        (STANDS_IN_FOR_LABEL, upstream),
        (CONTAINS_LABEL, contains),
        ("org.opencontainers.image.title", &format!("stand-in for {upstream}")),
        ("org.opencontainers.image.description", description),
        ("org.opencontainers.image.version", version),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .collect()
}

/// One `LABEL` instruction, each pair on its own line, values quoted.
fn label_instruction(labels: &[(String, String)]) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            format!("{key}=\"{escaped}\"")
        })
        .collect();
    format!("LABEL {}", pairs.join(" \\\n      "))
}

/// The first of `candidates` that is a file; the package that provides it otherwise.
fn find_host_file(candidates: &[&str], package: &str) -> Result<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|path| path.is_file()).with_context(|| {
        format!(
            "none of {} exists\nhint: install it from the machine's packages: `apt-get install {package}`",
            candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        )
    })
}

fn text(engine: &Engine, built: &[Built]) -> String {
    let mut out = format!(
        "built {} stand-in images with {} {}\n",
        built.len(),
        engine.program(),
        engine.version
    );
    for image in built {
        let _ = writeln!(
            out,
            "  {:<22}  {:<18}  {:>9}  {:>5.1} s  {}{}",
            image.upstream,
            image.contains,
            crate::build_image::megabytes(image.size_bytes),
            image.elapsed.as_secs_f64(),
            &image.image_id[..image.image_id.len().min(19)],
            match &image.previous_id {
                Some(id) if *id == image.image_id => "  (unchanged)",
                Some(_) => "  (replaced the previous one)",
                None => "",
            },
        );
    }
    out
}

fn json(engine: &Engine, built: &[Built]) -> Value {
    let images: Vec<Value> = built
        .iter()
        .map(|image| {
            json!({
                "id": image.upstream,
                "status": "pass",
                "tag": qualified_name(image.upstream),
                "image_id": image.image_id,
                "contains": image.contains,
                "image_bytes": image.size_bytes,
                "build_s": (image.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
                "previous_image_id": image.previous_id,
            })
        })
        .collect();
    json!({
        "id": "offline-images",
        "status": "pass",
        "engine": engine.program(),
        "engine_version": engine.version,
        "images": images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifies_names_as_a_pull_would() {
        assert_eq!(qualified_name("postgres:16-alpine"), "docker.io/library/postgres:16-alpine");
        assert_eq!(qualified_name("denoland/deno:alpine"), "docker.io/denoland/deno:alpine");
        assert_eq!(qualified_name("quay.io/a/b:1"), "quay.io/a/b:1");
        assert_eq!(qualified_name("localhost/a:1"), "localhost/a:1");
    }

    #[test]
    fn knows_which_images_it_stands_in_for() {
        assert!(stands_in_for("denoland/deno:alpine"));
        assert!(stands_in_for("docker.io/library/postgres:16-alpine"));
        assert!(!stands_in_for("denoland/deno:alpine-2.1.4"));
        assert!(!stands_in_for("postgres:16"));
    }

    #[test]
    fn replaces_only_stand_ins_unless_forced() {
        let stand_in = BTreeMap::from([(STAND_IN_LABEL.to_string(), "true".to_string())]);
        let other = BTreeMap::from([("maintainer".to_string(), "someone".to_string())]);
        assert!(check_replaceable(DENO_IMAGE, &stand_in, false).is_ok());
        assert!(check_replaceable(DENO_IMAGE, &other, true).is_ok());
        let error = check_replaceable(DENO_IMAGE, &other, false).unwrap_err();
        assert_eq!(
            error.to_string(),
            "refusing to replace `denoland/deno:alpine`: that image exists and is not a stand-in built by this command (it has no `dev.chat-server.stand-in` label)\nhint: `--force` replaces it"
        );
    }

    #[test]
    fn quotes_label_values() {
        let labels =
            [("a".to_string(), "say \"hi\"".to_string()), ("b".to_string(), "c:\\d".to_string())];
        assert_eq!(
            label_instruction(&labels),
            "LABEL a=\"say \\\"hi\\\"\" \\\n      b=\"c:\\\\d\""
        );
    }
}
