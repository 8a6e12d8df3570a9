//! `build-image`'s results: a summary for people, one JSON object for tools.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{BuiltImage, Step};
use crate::offline_images::{CONTAINS_LABEL, is_stand_in};
use crate::report::Style;

pub fn text(built: &BuiltImage, style: Style) -> String {
    let mut out = String::new();
    let engine = format!("{} {}", built.engine.program(), built.engine.version);
    let seconds = built.elapsed.as_secs_f64();
    match &built.image {
        Some(image) => {
            let heading = format!("built `{}` with {engine} in {seconds:.1} s", built.tag);
            let _ = writeln!(out, "{}", style.green(&heading));
            let _ =
                writeln!(out, "  image  {}  {}", short_id(&image.id), megabytes(image.size_bytes));
        }
        None => {
            let heading =
                format!("failed to build `{}` with {engine} after {seconds:.1} s", built.tag);
            let _ = writeln!(out, "{}", style.red(&heading));
        }
    }
    if let Some((reference, base)) = &built.base {
        let stand_in = if is_stand_in(&base.labels) {
            let contains = base.labels.get(CONTAINS_LABEL).map_or("", String::as_str);
            format!(", a local stand-in carrying {contains}")
        } else {
            String::new()
        };
        let _ = writeln!(out, "  base   {reference}  {}{stand_in}", megabytes(base.size_bytes));
    }
    if let Some(added) = built.added_bytes() {
        let _ = writeln!(out, "  added  {} over the base", megabytes(added));
    }
    let cached = built.steps.iter().filter(|s| s.cached).count();
    let _ = writeln!(out, "  cache  {cached} of {} steps reused", built.steps.len());
    for (number, step) in built.steps.iter().enumerate() {
        let status = step_status(step);
        let status = match status {
            "cached" => style.cyan(status),
            "failed" => style.red(status),
            _ => status.to_string(),
        };
        let line = step.line.map_or("-".to_string(), |line| line.to_string());
        let _ =
            writeln!(out, "  {:>3}  line {line:>3}  {status:<6}  {}", number + 1, step.instruction);
    }
    out
}

/// One object: `status`, the figures with their units in their names, and `steps`, each with
/// an `id`, a `status` and whether it came from the cache.
pub fn json(built: &BuiltImage) -> Value {
    let steps: Vec<Value> = built
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            json!({
                "id": format!("step-{}", index + 1),
                "status": if step.failed { "fail" } else { "pass" },
                "line": step.line,
                "instruction": step.instruction,
                "cached": step.cached,
            })
        })
        .collect();
    let (base_image, base_image_bytes, base_stand_in) = match &built.base {
        Some((reference, base)) => {
            (Some(reference.as_str()), Some(base.size_bytes), is_stand_in(&base.labels))
        }
        None => (None, None, false),
    };
    json!({
        "id": "build-image",
        "status": if built.succeeded() { "pass" } else { "fail" },
        "engine": built.engine.program(),
        "engine_version": built.engine.version,
        "tag": built.tag,
        "context": crate::project::display(&built.context),
        "image_id": built.image.as_ref().map(|i| &i.id),
        "image_bytes": built.image.as_ref().map(|i| i.size_bytes),
        "base_image": base_image,
        "base_image_bytes": base_image_bytes,
        "base_image_stand_in": base_stand_in,
        "added_bytes": built.added_bytes(),
        "build_s": (built.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "cached_steps": built.steps.iter().filter(|s| s.cached).count(),
        "steps": steps,
    })
}

/// `FROM` makes no layer of its own, so it is neither built nor cached: it is the base.
fn step_status(step: &Step) -> &'static str {
    let is_from = step
        .instruction
        .split_whitespace()
        .next()
        .is_some_and(|keyword| keyword.eq_ignore_ascii_case("FROM"));
    match (step.failed, step.cached, is_from) {
        (true, _, _) => "failed",
        (false, _, true) => "base",
        (false, true, false) => "cached",
        (false, false, false) => "built",
    }
}

/// `sha256:3f1c2a9b8d7e` for a full id: the 12 digits engines show.
fn short_id(id: &str) -> &str {
    let end = id.find(':').map_or(0, |colon| colon + 1) + 12;
    id.get(..end).unwrap_or(id)
}

/// `147.3 MB`: decimal megabytes, as both engines print sizes.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::cli::EngineName;
    use crate::engine::process::strip_ansi;
    use crate::engine::{Engine, ImageInfo};
    use crate::offline_images::STAND_IN_LABEL;

    fn built() -> BuiltImage {
        let image = |id: &str, size_bytes, labels: &[(&str, &str)]| ImageInfo {
            id: id.into(),
            size_bytes,
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        let step = |instruction: &str, line, cached| super::Step {
            instruction: instruction.into(),
            line,
            cached,
            failed: false,
        };
        BuiltImage {
            engine: Engine { name: EngineName::Podman, version: "4.3.1".into() },
            tag: "chat-server:dev".into(),
            context: PathBuf::from("server"),
            elapsed: Duration::from_millis(12_345),
            steps: vec![
                step("FROM denoland/deno:alpine", Some(2), false),
                step("RUN deno install --frozen", Some(9), true),
                step("LABEL \"a\"=\"b\"", None, false),
            ],
            image: Some(image(&format!("sha256:{}", "ab".repeat(32)), 150_000_000, &[])),
            base: Some((
                "denoland/deno:alpine".into(),
                image(
                    "sha256:00",
                    100_000_000,
                    &[(STAND_IN_LABEL, "true"), (CONTAINS_LABEL, "deno 2.9.8")],
                ),
            )),
        }
    }

    #[test]
    fn text_summarises_sizes_and_cache() {
        let expected = "\
built `chat-server:dev` with podman 4.3.1 in 12.3 s
  image  sha256:abababababab  150.0 MB
  base   denoland/deno:alpine  100.0 MB, a local stand-in carrying deno 2.9.8
  added  50.0 MB over the base
  cache  1 of 3 steps reused
    1  line   2  base    FROM denoland/deno:alpine
    2  line   9  cached  RUN deno install --frozen
    3  line   -  built   LABEL \"a\"=\"b\"
";
        assert_eq!(strip_ansi(&text(&built(), Style::detect())), expected);
    }

    #[test]
    fn json_names_units_and_marks_the_failed_step() {
        let mut built = built();
        built.image = None;
        built.steps[2].failed = true;
        let value = json(&built);
        assert_eq!(value["status"], "fail");
        assert_eq!(value["image_bytes"], Value::Null);
        assert_eq!(value["added_bytes"], Value::Null);
        assert_eq!(value["base_image_bytes"], 100_000_000);
        assert_eq!(value["base_image_stand_in"], true);
        assert_eq!(value["build_s"], 12.345);
        assert_eq!(value["steps"][1]["cached"], true);
        assert_eq!(value["steps"][2]["status"], "fail");
        assert_eq!(value["steps"][2]["line"], Value::Null);
    }
}
