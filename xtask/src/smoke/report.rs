//! `smoke`'s results: a table for people, one JSON object for tools.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::{SmokeCheck, SmokeRun};
use crate::report::{Style, round};

pub fn text(run: &SmokeRun, style: Style) -> String {
    let mut out = String::new();
    let engine = format!("{} {}", run.engine.program(), run.engine.version);
    let failed = run.checks.iter().filter(|c| !c.passed).count();
    let heading = format!(
        "smoke-tested `{}` with {engine} and `{}` in {:.1} s: {} passed, {failed} failed",
        run.image,
        run.database_image,
        run.elapsed.as_secs_f64(),
        run.checks.len() - failed,
    );
    let heading = if failed == 0 { style.green(&heading) } else { style.red(&heading) };
    let _ = writeln!(out, "{heading}");
    let width = run.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for check in &run.checks {
        let status = if check.passed { style.green("pass") } else { style.red("FAIL") };
        let seconds = format!("{:5.2} s", check.duration.as_secs_f64());
        let _ = writeln!(out, "  {status}  {:<width$}  {seconds}  {}", check.id, check.detail);
        if !check.log.is_empty() {
            let _ = writeln!(out, "        its container's last {} log lines:", check.log.len());
            for line in &check.log {
                let _ = writeln!(out, "        | {line}");
            }
        }
    }
    out
}

/// One object: the run, and `checks`, each with an `id`, a `status`, a `detail`, `duration_s`,
/// its figures and, when it could not run, `blocked_by`.
pub fn json(run: &SmokeRun) -> Value {
    let checks: Vec<Value> = run.checks.iter().map(check_json).collect();
    let failed = run.checks.iter().filter(|c| !c.passed).count();
    json!({
        "id": "smoke",
        "status": if failed == 0 { "pass" } else { "fail" },
        "engine": run.engine.program(),
        "engine_version": run.engine.version,
        "image": run.image,
        "db_image": run.database_image,
        "run_id": run.run_id,
        "elapsed_s": round(run.elapsed.as_secs_f64()),
        "passed": run.checks.len() - failed,
        "failed": failed,
        "checks": checks,
    })
}

fn check_json(check: &SmokeCheck) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), check.id.into());
    object.insert("status".into(), if check.passed { "pass" } else { "fail" }.into());
    object.insert("detail".into(), check.detail.clone().into());
    object.insert("duration_s".into(), round(check.duration.as_secs_f64()).into());
    for (name, value) in &check.figures {
        object.insert((*name).into(), round(*value).into());
    }
    if let Some(blocker) = check.blocked_by {
        object.insert("blocked_by".into(), blocker.into());
    }
    if !check.log.is_empty() {
        object.insert("log".into(), check.log.clone().into());
    }
    Value::Object(object)
}

/// A Markdown table of the checks, for a job summary.
pub fn markdown(run: &SmokeRun) -> String {
    let mut out = format!(
        "`{}` with `{}` on {} {}:\n\n| check | status | seconds | detail |\n| --- | --- | --- | --- |\n",
        run.image,
        run.database_image,
        run.engine.program(),
        run.engine.version
    );
    for check in &run.checks {
        let status = if check.passed { "pass" } else { "fail" };
        let _ = writeln!(
            out,
            "| `{}` | {status} | {:.2} | {} |",
            check.id,
            check.duration.as_secs_f64(),
            check.detail.replace('|', "\\|")
        );
    }
    out
}
