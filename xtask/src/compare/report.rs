//! The comparison's rows and verdicts, and its formats: a table for people, Markdown for
//! READMEs and job summaries, one JSON object for tools.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::measure::{LockCheck, Measured, ServerUser, Start};
use super::{Comparison, Row, Winner};
use crate::build_image::megabytes;
use crate::report::{Style, round};

/// Turns the measurements into rows; `baked_added_bytes` is what the image adds to its base.
pub fn rows(measured: &Measured, baked_added_bytes: u64) -> Vec<Row> {
    vec![
        cold_start(measured),
        offline_start(measured),
        user(measured),
        pull_bytes(measured, baked_added_bytes),
        source_absent(measured),
        lockfile(measured),
        edit_loop(measured),
    ]
}

fn seconds(start: &Start) -> String {
    match start {
        Ok(took) => format!("{:.2} s", took.as_secs_f64()),
        Err(reason) => format!("did not start: {reason}"),
    }
}

fn seconds_figure(start: &Start) -> Value {
    start.as_ref().map_or(Value::Null, |took| round(took.as_secs_f64()).into())
}

fn figures(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    pairs.iter().map(|(name, value)| ((*name).to_string(), value.clone())).collect()
}

fn cold_start(m: &Measured) -> Row {
    let (winner, verdict) = match (&m.baked_cold, &m.bind_cold) {
        (Ok(baked), Ok(bind)) if baked < bind => (
            Winner::Baked,
            format!(
                "the baked image is serving {:.1}x sooner: the bind mount downloads its dependencies on every fresh start",
                bind.as_secs_f64() / baked.as_secs_f64().max(0.001)
            ),
        ),
        (Ok(_), Ok(_)) => (
            Winner::BindMount,
            "the bind mount was serving first in this run; it still downloads its dependencies on every fresh start".into(),
        ),
        (Ok(_), Err(_)) => (Winner::Baked, "only the baked image started".into()),
        (Err(_), _) => (Winner::Neither, "the baked image did not start".into()),
    };
    Row {
        id: "cold-start",
        question: "`run` to healthy, new container",
        baked: seconds(&m.baked_cold),
        bind_mount: seconds(&m.bind_cold),
        winner,
        verdict,
        passed: m.baked_cold.is_ok(),
        figures: figures(&[
            ("baked_s", seconds_figure(&m.baked_cold)),
            ("bind_mount_s", seconds_figure(&m.bind_cold)),
        ]),
    }
}

fn offline_start(m: &Measured) -> Row {
    let (winner, verdict) = match (&m.baked_offline, &m.bind_offline) {
        (Ok(_), Err(_)) => (
            Winner::Baked,
            "only the baked image starts with no route out: its dependencies are inside it".into(),
        ),
        (Ok(_), Ok(_)) => (Winner::Neither, "both start with no route out".into()),
        (Err(_), _) => (Winner::BindMount, "the baked image cannot start offline".into()),
    };
    Row {
        id: "offline-start",
        question: "`run` to healthy, network cut (`--internal`)",
        baked: seconds(&m.baked_offline),
        bind_mount: seconds(&m.bind_offline),
        winner,
        verdict,
        passed: m.baked_offline.is_ok(),
        figures: figures(&[
            ("baked_started", m.baked_offline.is_ok().into()),
            ("baked_s", seconds_figure(&m.baked_offline)),
            ("bind_mount_started", m.bind_offline.is_ok().into()),
            ("bind_mount_s", seconds_figure(&m.bind_offline)),
        ]),
    }
}

fn user(m: &Measured) -> Row {
    let show = |user: &ServerUser| match user {
        Ok((uid, name)) => format!("{name} (uid {uid})"),
        Err(reason) => format!("unknown: {reason}"),
    };
    let uid = |user: &ServerUser| user.as_ref().map_or(Value::Null, |u| u.0.into());
    let name = |user: &ServerUser| user.as_ref().map_or(Value::Null, |u| u.1.clone().into());
    let baked_is_deno = m.baked_user.as_ref().is_ok_and(|(_, name)| name == "deno");
    let bind_is_root = m.bind_user.as_ref().is_ok_and(|(uid, _)| *uid == 0);
    let (winner, verdict) = match (baked_is_deno, bind_is_root) {
        (true, true) => (
            Winner::Baked,
            "the stock image runs the server as root; the baked image as the unprivileged `deno`"
                .into(),
        ),
        (true, false) => (Winner::Neither, "neither runs the server as root".into()),
        (false, _) => (Winner::BindMount, "the baked image does not run as `deno`".into()),
    };
    Row {
        id: "user",
        question: "user of the server process",
        baked: show(&m.baked_user),
        bind_mount: show(&m.bind_user),
        winner,
        verdict,
        passed: baked_is_deno,
        figures: figures(&[
            ("baked_user", name(&m.baked_user)),
            ("baked_uid", uid(&m.baked_user)),
            ("bind_mount_user", name(&m.bind_user)),
            ("bind_mount_uid", uid(&m.bind_user)),
        ]),
    }
}

fn pull_bytes(m: &Measured, baked_added_bytes: u64) -> Row {
    let downloaded = m.bind_downloaded_bytes.map_or("an unknown amount".into(), megabytes);
    Row {
        id: "pull-bytes",
        question: "bytes added to what a machine pulls",
        baked: format!("{} over the base image", megabytes(baked_added_bytes)),
        bind_mount: format!(
            "0 B; the host needs the source ({}) and each fresh container downloads {downloaded}",
            megabytes(m.bind_source_bytes)
        ),
        winner: Winner::BindMount,
        verdict: "the bind mount pulls nothing beyond the base image, but the source must reach the host some other way and the dependencies are fetched again per container".into(),
        passed: true,
        figures: figures(&[
            ("baked_added_bytes", baked_added_bytes.into()),
            ("bind_mount_added_bytes", 0.into()),
            ("bind_mount_source_bytes", m.bind_source_bytes.into()),
            ("bind_mount_downloaded_bytes", m.bind_downloaded_bytes.map_or(Value::Null, Value::from)),
        ]),
    }
}

fn source_absent(m: &Measured) -> Row {
    let baked = match &m.baked_cold {
        Ok(_) => "starts: nothing was mounted".to_string(),
        Err(reason) => format!("did not start: {reason}"),
    };
    let bind_started = m.bind_without_source.is_ok();
    let verdict = if bind_started {
        "both start without the source tree".to_string()
    } else {
        "the bind mount cannot start where the source tree is absent; the image is self-contained"
            .to_string()
    };
    Row {
        id: "source-absent",
        question: "runs with the source tree absent",
        baked,
        bind_mount: seconds(&m.bind_without_source),
        winner: if bind_started { Winner::Neither } else { Winner::Baked },
        verdict,
        passed: m.baked_cold.is_ok(),
        figures: figures(&[
            ("baked_started", m.baked_cold.is_ok().into()),
            ("bind_mount_started", bind_started.into()),
        ]),
    }
}

fn lockfile(m: &Measured) -> Row {
    let show = |check: &LockCheck| {
        if check.refused {
            format!("enforced, {}", check.detail)
        } else {
            format!("not enforced: {}", check.detail)
        }
    };
    let (winner, verdict) = match (m.baked_lock.refused, m.bind_lock.refused) {
        (true, true) => (
            Winner::Baked,
            "both refuse a tampered `deno.lock`; the image refuses it at build time, before anything ships, the bind mount only when a container starts".into(),
        ),
        (true, false) => (Winner::Baked, "only the baked image enforces the lockfile".into()),
        (false, _) => (Winner::Neither, "the baked image's build accepted a tampered lockfile".into()),
    };
    Row {
        id: "lockfile",
        question: "a tampered `deno.lock`",
        baked: show(&m.baked_lock),
        bind_mount: show(&m.bind_lock),
        winner,
        verdict,
        passed: m.baked_lock.refused,
        figures: figures(&[
            ("baked_enforced", m.baked_lock.refused.into()),
            ("bind_mount_enforced", m.bind_lock.refused.into()),
        ]),
    }
}

fn edit_loop(m: &Measured) -> Row {
    let (winner, verdict) = match (&m.baked_edit, &m.bind_edit) {
        (Ok(baked), Ok(bind)) if bind < baked => (
            Winner::BindMount,
            format!(
                "the bind mount wins the edit loop, {:.1}x faster: a restart, against a rebuild and a new container",
                baked.as_secs_f64() / bind.as_secs_f64().max(0.001)
            ),
        ),
        (Ok(_), Ok(_)) => {
            (Winner::Baked, "the rebuild was faster than a restart in this run".into())
        }
        (Err(_), Ok(_)) => (Winner::BindMount, "the baked edit loop failed".into()),
        (_, Err(_)) => (Winner::Neither, "the bind-mount edit loop failed".into()),
    };
    Row {
        id: "edit-loop",
        question: "one-line source edit until live",
        baked: seconds(&m.baked_edit).replace(" s", " s (rebuild, replace)"),
        bind_mount: seconds(&m.bind_edit).replace(" s", " s (restart)"),
        winner,
        verdict,
        passed: m.baked_edit.is_ok(),
        figures: figures(&[
            ("baked_s", seconds_figure(&m.baked_edit)),
            ("bind_mount_s", seconds_figure(&m.bind_edit)),
        ]),
    }
}

fn winner_name(winner: Winner) -> &'static str {
    match winner {
        Winner::Baked => "baked",
        Winner::BindMount => "bind-mount",
        Winner::Neither => "neither",
    }
}

pub fn text(comparison: &Comparison, style: Style) -> String {
    let mut out = String::new();
    let engine = format!("{} {}", comparison.engine.program(), comparison.engine.version);
    let heading = format!(
        "compared `{}` with `{}` and `server/` bind-mounted, on {engine}, in {:.1} s",
        comparison.image,
        comparison.base_image,
        comparison.elapsed.as_secs_f64()
    );
    let _ = writeln!(out, "{}", style.bold(&heading));
    for row in &comparison.rows {
        let status = if row.passed { style.green("pass") } else { style.red("FAIL") };
        let _ = writeln!(out, "  {status}  {}: {}", row.id, row.question);
        let _ = writeln!(out, "          baked       {}", row.baked);
        let _ = writeln!(out, "          bind mount  {}", row.bind_mount);
        let _ =
            writeln!(out, "          verdict     {} ({})", row.verdict, winner_name(row.winner));
    }
    out
}

pub fn markdown(comparison: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "`{}` against `{}` with `server/` bind-mounted read-only, on {} {}:\n",
        comparison.image,
        comparison.base_image,
        comparison.engine.program(),
        comparison.engine.version
    );
    let _ = writeln!(out, "| | baked image | bind mount | verdict |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for row in &comparison.rows {
        let cell = |text: &str| text.replace('|', "\\|");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(row.question),
            cell(&row.baked),
            cell(&row.bind_mount),
            cell(&row.verdict)
        );
    }
    out
}

/// One object: the run, and `rows`, each with an `id`, a `status` (the baked image kept its
/// promise), the `winner`, the `verdict` and the measured figures.
pub fn json(comparison: &Comparison) -> Value {
    let rows: Vec<Value> = comparison
        .rows
        .iter()
        .map(|row| {
            let mut object = Map::new();
            object.insert("id".into(), row.id.into());
            object.insert("status".into(), if row.passed { "pass" } else { "fail" }.into());
            object.insert("question".into(), row.question.into());
            object.insert("baked".into(), row.baked.clone().into());
            object.insert("bind_mount".into(), row.bind_mount.clone().into());
            object.insert("winner".into(), winner_name(row.winner).into());
            object.insert("verdict".into(), row.verdict.clone().into());
            for (name, value) in &row.figures {
                object.insert(name.clone(), value.clone());
            }
            Value::Object(object)
        })
        .collect();
    json!({
        "id": "compare",
        "status": if comparison.passed() { "pass" } else { "fail" },
        "engine": comparison.engine.program(),
        "engine_version": comparison.engine.version,
        "image": comparison.image,
        "base_image": comparison.base_image,
        "run_id": comparison.run_id,
        "elapsed_s": round(comparison.elapsed.as_secs_f64()),
        "rows": rows,
    })
}
