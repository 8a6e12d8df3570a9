//! The benchmark's entries: the median, least and greatest of each figure over the repeats,
//! the ratio its bound is stated in, and whether the bound held.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::measure::Samples;
use crate::engine::Engine;
use crate::report::{Style, round};

/// Greatest ratio of our rebuild after a source edit to the baseline's.
pub const SOURCE_EDIT_BOUND: f64 = 0.3;
/// How far our added bytes may be from the application's files plus its Deno cache.
pub const ADDED_BYTES_TOLERANCE: f64 = 0.05;
/// Greatest ratio of the baked image's start, less the engine's floor, to the host's start.
pub const COLD_START_BOUND: f64 = 1.3;
/// Greatest ratio of `verify`'s wall time to the time it spent in commands and waiting.
pub const VERIFY_OVERHEAD_BOUND: f64 = 1.10;

/// One figure over the repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        let median = if sorted.is_empty() {
            f64::NAN
        } else if sorted.len() % 2 == 1 {
            sorted[middle]
        } else {
            (sorted[middle - 1] + sorted[middle]) / 2.0
        };
        Spread {
            median,
            min: sorted.first().copied().unwrap_or(f64::NAN),
            max: sorted.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// One line of the benchmark.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: &'static str,
    /// Each figure: its name with its unit (`ours_s`), and its spread.
    pub figures: Vec<(&'static str, Spread)>,
    /// The ratio the bound is stated in, and what it compares.
    pub ratio: Option<(f64, &'static str)>,
    /// The bound, in words; `None` when the entry is only reported.
    pub bound: Option<String>,
    pub passed: bool,
}

fn spreads<const N: usize>(rows: &[[f64; N]]) -> [Spread; N] {
    std::array::from_fn(|i| Spread::of(&rows.iter().map(|row| row[i]).collect::<Vec<_>>()))
}

fn reported(id: &'static str, names: [&'static str; 2], pairs: &[(f64, f64)]) -> Entry {
    let rows: Vec<[f64; 2]> = pairs.iter().map(|&(a, b)| [a, b]).collect();
    let [ours, baseline] = spreads(&rows);
    let ratio = ours.median / baseline.median;
    Entry {
        id,
        figures: vec![(names[0], ours), (names[1], baseline)],
        ratio: Some((ratio, "ours / baseline")),
        bound: None,
        passed: true,
    }
}

pub fn entries(samples: &Samples) -> Vec<Entry> {
    let cold_build = reported("cold-build", ["ours_s", "baseline_s"], &samples.cold_build);

    let mut source_edit =
        reported("source-edit-rebuild", ["ours_s", "baseline_s"], &samples.source_edit);
    let ratio = source_edit.ratio.map_or(f64::NAN, |r| r.0);
    source_edit.bound = Some(format!("ours at most {SOURCE_EDIT_BOUND}x the baseline"));
    source_edit.passed = ratio <= SOURCE_EDIT_BOUND;

    let dependency_edit =
        reported("dependency-edit-rebuild", ["ours_s", "baseline_s"], &samples.dependency_edit);

    let rows: Vec<[f64; 3]> = samples.added_bytes.iter().map(|&(a, b, c)| [a, b, c]).collect();
    let [ours, baseline, content] = spreads(&rows);
    let ratio = ours.median / content.median;
    let added_bytes = Entry {
        id: "image-added-bytes",
        figures: vec![
            ("ours_bytes", ours),
            ("baseline_bytes", baseline),
            ("content_bytes", content),
        ],
        ratio: Some((ratio, "ours / (app files + Deno cache)")),
        bound: Some(format!("ours within {:.0}% of the content", ADDED_BYTES_TOLERANCE * 100.0)),
        passed: (ratio - 1.0).abs() <= ADDED_BYTES_TOLERANCE,
    };

    let rows: Vec<[f64; 4]> = samples.cold_start.iter().map(|&(a, b, c, d)| [a, b, c, d]).collect();
    let [baked, bind, host, floor] = spreads(&rows);
    let ratio = (baked.median - floor.median) / host.median;
    let cold_start = Entry {
        id: "cold-start",
        figures: vec![
            ("baked_s", baked),
            ("bind_mount_s", bind),
            ("host_s", host),
            ("engine_floor_s", floor),
        ],
        ratio: Some((ratio, "(baked - floor) / host")),
        bound: Some(format!("baked less the floor at most {COLD_START_BOUND}x the host")),
        passed: ratio <= COLD_START_BOUND,
    };

    let rows: Vec<[f64; 3]> = samples.verify.iter().map(|&(a, b, c)| [a, b, c]).collect();
    let [wall, commands, waiting] = spreads(&rows);
    let ratios: Vec<f64> = samples.verify.iter().map(|&(w, c, s)| w / (c + s)).collect();
    let ratio = Spread::of(&ratios).median;
    let verify = Entry {
        id: "verify-overhead",
        figures: vec![("wall_s", wall), ("commands_s", commands), ("waiting_s", waiting)],
        ratio: Some((ratio, "wall / (commands + waiting on the server)")),
        bound: Some(format!("at most {VERIFY_OVERHEAD_BOUND}x")),
        passed: ratio <= VERIFY_OVERHEAD_BOUND,
    };

    let validate = Entry {
        id: "validate",
        figures: vec![("validate_s", Spread::of(&samples.validate))],
        ratio: None,
        bound: None,
        passed: true,
    };
    vec![cold_build, source_edit, dependency_edit, added_bytes, cold_start, verify, validate]
}

fn show(name: &str, value: f64) -> String {
    if name.ends_with("_bytes") {
        crate::build_image::megabytes(value.max(0.0) as u64)
    } else {
        format!("{value:.2} s")
    }
}

pub fn text(
    engine: &Engine,
    repeats: usize,
    entries: &[Entry],
    elapsed: Duration,
    style: Style,
) -> String {
    let mut out = String::new();
    let failed = entries.iter().filter(|e| !e.passed).count();
    let heading = format!(
        "benchmarked with {} {} in {:.0} s, {repeats} repeat{}: {} bounds held, {failed} missed",
        engine.program(),
        engine.version,
        elapsed.as_secs_f64(),
        if repeats == 1 { "" } else { "s" },
        entries.iter().filter(|e| e.bound.is_some()).count() - failed,
    );
    let _ =
        writeln!(out, "{}", if failed == 0 { style.green(&heading) } else { style.red(&heading) });
    for entry in entries {
        let status = match (&entry.bound, entry.passed) {
            (None, _) => "     ".to_string(),
            (Some(_), true) => style.green("pass "),
            (Some(_), false) => style.red("FAIL "),
        };
        let _ = writeln!(out, "  {status} {}", entry.id);
        for (name, spread) in &entry.figures {
            let _ = writeln!(
                out,
                "          {name:<16} {:>10}  (min {}, max {})",
                show(name, spread.median),
                show(name, spread.min),
                show(name, spread.max)
            );
        }
        if let Some((ratio, what)) = entry.ratio {
            let bound = entry.bound.as_ref().map_or(String::new(), |b| format!("; bound: {b}"));
            let _ = writeln!(out, "          ratio            {ratio:>9.2}x  ({what}{bound})");
        }
    }
    out
}

/// One object: `entries`, each with an `id`, a `status`, and per figure its median, min and max
/// (`ours_s`, `ours_min_s`, `ours_max_s`), its `ratio` and its `bound`.
pub fn json(engine: &Engine, repeats: usize, entries: &[Entry], elapsed: Duration) -> Value {
    let items: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let mut object = Map::new();
            object.insert("id".into(), entry.id.into());
            object.insert("status".into(), if entry.passed { "pass" } else { "fail" }.into());
            for (name, spread) in &entry.figures {
                let (stem, unit) = name.rsplit_once('_').unwrap_or((name, ""));
                let value = |v: f64| {
                    if unit == "bytes" { json!(v.round() as i64) } else { json!(round(v)) }
                };
                object.insert((*name).into(), value(spread.median));
                object.insert(format!("{stem}_min_{unit}"), value(spread.min));
                object.insert(format!("{stem}_max_{unit}"), value(spread.max));
            }
            if let Some((ratio, what)) = entry.ratio {
                object.insert("ratio".into(), json!((ratio * 1000.0).round() / 1000.0));
                object.insert("ratio_of".into(), what.into());
            }
            if let Some(bound) = &entry.bound {
                object.insert("bound".into(), bound.clone().into());
            }
            Value::Object(object)
        })
        .collect();
    json!({
        "id": "bench",
        "status": if entries.iter().all(|e| e.passed) { "pass" } else { "fail" },
        "engine": engine.program(),
        "engine_version": engine.version,
        "repeats": repeats,
        "elapsed_s": round(elapsed.as_secs_f64()),
        "entries": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_take_the_median_of_odd_and_even_counts() {
        assert_eq!(Spread::of(&[3.0, 1.0, 2.0]), Spread { median: 2.0, min: 1.0, max: 3.0 });
        assert_eq!(Spread::of(&[4.0, 1.0]), Spread { median: 2.5, min: 1.0, max: 4.0 });
    }

    #[test]
    fn a_slow_source_edit_rebuild_misses_its_bound() {
        let mut samples = Samples {
            cold_build: vec![(10.0, 12.0)],
            source_edit: vec![(2.0, 10.0)],
            dependency_edit: vec![(8.0, 10.0)],
            added_bytes: vec![(103.0, 200.0, 100.0)],
            cold_start: vec![(1.5, 2.0, 0.5, 0.9)],
            verify: vec![(100.0, 95.0, 1.0)],
            validate: vec![0.01],
        };
        let passed = |samples: &Samples| -> Vec<(&str, bool)> {
            entries(samples).iter().map(|e| (e.id, e.passed)).collect()
        };
        assert!(passed(&samples).iter().all(|(_, p)| *p), "{:?}", passed(&samples));

        samples.source_edit = vec![(4.0, 10.0)];
        samples.added_bytes = vec![(110.0, 200.0, 100.0)];
        samples.cold_start = vec![(2.0, 2.0, 0.5, 0.9)];
        samples.verify = vec![(120.0, 95.0, 1.0)];
        let missed: Vec<&str> =
            passed(&samples).into_iter().filter(|(_, p)| !p).map(|(id, _)| id).collect();
        assert_eq!(
            missed,
            ["source-edit-rebuild", "image-added-bytes", "cold-start", "verify-overhead"]
        );
    }
}
