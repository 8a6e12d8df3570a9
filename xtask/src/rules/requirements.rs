//! The five requirements the image must meet.

use std::path::Path;

use super::{Requirement, Subject};
use crate::containerfile::stage::{self, Stage};

pub const IDS: [&str; 5] =
    ["deno-alpine-base", "app-baked-in", "runs-as-deno", "deps-cached", "containerfile-location"];

pub fn check(subject: &Subject<'_>) -> Vec<Requirement> {
    let Some(last) = subject.final_stage() else {
        let mut all: Vec<Requirement> = IDS[..4]
            .iter()
            .map(|&id| fail(id, None, "the Containerfile has no stage".into(), None))
            .collect();
        all.push(check_location(&subject.file.path));
        return all;
    };
    vec![
        check_base(last),
        check_baked_in(subject, last),
        check_user(last),
        check_cached(subject, last),
        check_location(&subject.file.path),
    ]
}

fn pass(id: &'static str, line: Option<usize>, message: String) -> Requirement {
    Requirement { id, passed: true, line, message, help: None }
}

fn fail(id: &'static str, line: Option<usize>, message: String, help: Option<&str>) -> Requirement {
    Requirement { id, passed: false, line, message, help: help.map(String::from) }
}

/// `alpine`, or `alpine-X.Y.Z` with numeric parts.
fn is_alpine_tag(tag: &str) -> bool {
    if tag == "alpine" {
        return true;
    }
    let Some(version) = tag.strip_prefix("alpine-") else { return false };
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn check_base(last: &Stage) -> Requirement {
    const ID: &str = "deno-alpine-base";
    let line = Some(last.from_position.line);
    let image = last.image.as_str();
    if image.trim().is_empty() {
        let message = "the base image is empty: an ARG it uses has no default".into();
        return fail(
            ID,
            line,
            message,
            Some("give the ARG a default, such as `denoland/deno:alpine`"),
        );
    }
    let repository = stage::image_repository(image);
    let without_digest = image.split('@').next().unwrap_or(image);
    let tag =
        without_digest.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')).map(|(_, tag)| tag);
    let via = if last.parents.is_empty() {
        String::new()
    } else {
        format!(" (through stage `{}`)", last.base)
    };
    let help = Some("use `FROM denoland/deno:alpine`, or a pinned `denoland/deno:alpine-X.Y.Z`");
    if repository != "denoland/deno" {
        return fail(
            ID,
            line,
            format!("the final stage is based on `{image}`{via}, not `denoland/deno`"),
            help,
        );
    }
    match tag {
        Some(tag) if is_alpine_tag(tag) => {
            pass(ID, line, format!("the final stage is based on `{image}`{via}"))
        }
        Some(tag) => {
            fail(ID, line, format!("`{image}`{via} uses the `{tag}` tag, not `alpine`"), help)
        }
        None if image.contains('@') => fail(
            ID,
            line,
            format!(
                "`{image}`{via} is pinned by digest alone, which does not say it is the alpine variant"
            ),
            Some("write the tag with the digest: `denoland/deno:alpine@sha256:...`"),
        ),
        None => fail(
            ID,
            line,
            format!("`{image}`{via} has no tag, so it means `latest`, not `alpine`"),
            help,
        ),
    }
}

fn check_baked_in(subject: &Subject<'_>, last: &Stage) -> Requirement {
    const ID: &str = "app-baked-in";
    let help = Some(
        "copy the application in, e.g. `COPY . .` (owned by root, so the server cannot change it)",
    );
    let Some(target) = last.run_target() else {
        return match last.placements.iter().find(|p| p.from.is_none()) {
            Some(copy) => pass(
                ID,
                Some(copy.position.line),
                "the build context is copied in (the command does not name a deno script to check)"
                    .into(),
            ),
            None => fail(
                ID,
                None,
                "nothing is copied from the build context into the image".into(),
                help,
            ),
        };
    };
    let Some(path) = target.path else {
        return fail(
            ID,
            Some(target.position.line),
            "cannot tell which file the container runs".into(),
            Some("run the server with `deno run ... main.ts`"),
        );
    };
    match last.placements.iter().rev().find(|p| stage::places(p, &path, subject.context)) {
        Some(copy) => pass(
            ID,
            Some(copy.position.line),
            format!(
                "`{path}`, which the container runs, is copied into the image at line {}",
                copy.position.line
            ),
        ),
        None => fail(
            ID,
            Some(target.position.line),
            format!(
                "the container runs `{path}`, but no COPY or ADD puts it in the image: it would need a bind mount"
            ),
            help,
        ),
    }
}

fn check_user(last: &Stage) -> Requirement {
    const ID: &str = "runs-as-deno";
    let help = Some("add `USER deno` to the final stage");
    let Some(user) = &last.user else {
        return fail(ID, None, "no USER is set, so the container runs as root".into(), help);
    };
    let line = Some(user.position.line);
    let name = user.value.split(':').next().unwrap_or_default();
    let alpine_uid = name == "1000" && stage::image_repository(&last.image) == "denoland/deno";
    if name == "deno" || alpine_uid {
        pass(ID, line, format!("the final stage runs as `{}`", user.value))
    } else {
        fail(ID, line, format!("the final stage runs as `{}`, not `deno`", user.value), help)
    }
}

fn check_cached(subject: &Subject<'_>, last: &Stage) -> Requirement {
    const ID: &str = "deps-cached";
    let Some(target) = last.run_target() else {
        return fail(
            ID,
            None,
            "the container does not run a deno script, so its dependencies cannot be checked"
                .into(),
            Some(
                "end with `CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]`",
            ),
        );
    };
    let Some(path) = target.path else {
        return fail(
            ID,
            Some(target.position.line),
            "cannot tell which file the container runs, so its cache cannot be checked".into(),
            None,
        );
    };
    let help =
        format!("after copying it, add `RUN deno cache {}`", relative_to(&last.workdir, &path));
    // Judged once: `places` may look at the build context for every source.
    let first_placed = last
        .placements
        .iter()
        .filter(|p| stage::places(p, &path, subject.context))
        .map(|p| p.index)
        .min();
    let placed_before = |index: usize| first_placed.is_some_and(|first| first < index);
    let caching: Vec<_> =
        last.cache_steps.iter().filter(|s| s.entrypoints.contains(&path)).collect();
    if let Some(step) = caching.iter().find(|s| s.carried_from.is_none() && placed_before(s.index))
    {
        let line = step.position.line;
        return pass(
            ID,
            Some(line),
            format!("`{path}` is cached at line {line}, after it is copied in"),
        );
    }
    let any_placed = first_placed.is_some();
    if let Some(step) = caching.iter().find(|s| s.carried_from.is_some()) {
        if any_placed {
            let line = step.position.line;
            let from = step.carried_from.as_deref().unwrap_or_default();
            return pass(
                ID,
                Some(line),
                format!("the cache of `{path}` is copied from stage `{from}` at line {line}"),
            );
        }
    }
    if let Some(step) = caching.first() {
        let line = step.position.line;
        return fail(
            ID,
            Some(line),
            format!("`{path}` is cached at line {line}, before it is copied into the image"),
            Some(&help),
        );
    }
    if let Some(step) =
        last.cache_steps.iter().find(|s| s.configured_dependencies && s.carried_from.is_none())
    {
        let line = step.position.line;
        return fail(
            ID,
            Some(line),
            format!(
                "`deno install` at line {line} caches the configured packages, but not the module graph of `{path}`"
            ),
            Some(&help),
        );
    }
    if let Some((stage, step)) = cached_elsewhere(subject, &path) {
        return fail(
            ID,
            Some(step),
            format!(
                "`{path}` is cached in stage `{stage}`, which the final image does not carry over"
            ),
            Some(&help),
        );
    }
    fail(
        ID,
        Some(target.position.line),
        format!("nothing caches `{path}`, which the container runs"),
        Some(&help),
    )
}

fn cached_elsewhere(subject: &Subject<'_>, path: &str) -> Option<(String, usize)> {
    subject.stages.iter().rev().skip(1).find_map(|stage| {
        let step = stage.cache_steps.iter().find(|s| s.entrypoints.iter().any(|e| e == path))?;
        let name = stage.name.clone().unwrap_or_else(|| stage.index.to_string());
        Some((name, step.position.line))
    })
}

fn relative_to(dir: &str, path: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        return path.to_string();
    }
    path.strip_prefix(dir).and_then(|p| p.strip_prefix('/')).unwrap_or(path).to_string()
}

pub fn check_location(path: &Path) -> Requirement {
    const ID: &str = "containerfile-location";
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let parent =
        absolute.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
    match parent.as_deref() {
        Some("server") => pass(ID, None, "the Containerfile lives in `server/`".into()),
        Some(dir) => fail(
            ID,
            None,
            format!("the Containerfile lives in `{dir}/`, not in `server/`"),
            Some("move it to `server/Containerfile`, beside the application"),
        ),
        None => fail(ID, None, "the Containerfile is not in a `server/` directory".into(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::is_alpine_tag;

    #[test]
    fn alpine_tags() {
        assert!(is_alpine_tag("alpine"));
        assert!(is_alpine_tag("alpine-2.1.4"));
        assert!(!is_alpine_tag("alpine-2.1"));
        assert!(!is_alpine_tag("alpine-latest"));
        assert!(!is_alpine_tag("debian"));
    }
}
