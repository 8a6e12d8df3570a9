//! Runs `verify` end to end on podman, and reads from its report what `compare` measured: the
//! bind-mount variant cannot start offline and runs as root, the baked image does neither.
//! Afterwards no labelled container, image, network or volume of the run is left.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;

use support::*;

const ENGINE: &str = "podman";

#[test]
fn verify_passes_and_compare_measures_both_variants() {
    require_engine(ENGINE);
    ensure_base_images(ENGINE);
    let volumes_before = volumes();

    let (output, report) = xtask_json(&["verify", "--engine", ENGINE]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let steps: Vec<(&str, &str)> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("validate", "pass"), ("build-image", "pass"), ("smoke", "pass"), ("compare", "pass")]
    );

    let offline = row(&report, "offline-start");
    assert_eq!(offline["baked_started"], true, "{offline:#}");
    assert!(offline["baked_s"].as_f64().unwrap() > 0.0);
    assert_eq!(offline["bind_mount_started"], false, "{offline:#}");
    assert_eq!(offline["bind_mount_s"], Value::Null);
    assert_eq!(offline["winner"], "baked");

    let user = row(&report, "user");
    assert_eq!((&user["baked_user"], &user["baked_uid"]), (&"deno".into(), &1000.into()));
    assert_eq!((&user["bind_mount_user"], &user["bind_mount_uid"]), (&"root".into(), &0.into()));

    let absent = row(&report, "source-absent");
    assert_eq!(
        (&absent["baked_started"], &absent["bind_mount_started"]),
        (&true.into(), &false.into())
    );
    let lockfile = row(&report, "lockfile");
    assert_eq!(lockfile["baked_enforced"], true, "{lockfile:#}");

    let pull = row(&report, "pull-bytes");
    assert!(pull["baked_added_bytes"].as_u64().unwrap() > 0);
    assert!(pull["bind_mount_downloaded_bytes"].as_u64().unwrap() > 0);
    let edit = row(&report, "edit-loop");
    assert!(
        edit["baked_s"].as_f64().unwrap() > 0.0 && edit["bind_mount_s"].as_f64().unwrap() > 0.0
    );

    for run_id in [&report["smoke"]["run_id"], &report["compare"]["run_id"]] {
        let filter = format!("label=dev.chat-server.run={}", run_id.as_str().unwrap());
        for listing in [
            ["ps", "--all", "--quiet", "--filter", &filter],
            ["image", "ls", "--quiet", "--filter", &filter],
            ["network", "ls", "--quiet", "--filter", &filter],
        ] {
            assert_eq!(run_output(ENGINE, &listing).trim(), "", "`{}` left something", listing[0]);
        }
    }
    assert_eq!(volumes(), volumes_before, "the run left volumes");
}

fn row<'a>(report: &'a Value, id: &str) -> &'a Value {
    let rows = report["compare"]["rows"].as_array().expect("verify reports the comparison");
    rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no `{id}` row"))
}

fn volumes() -> BTreeSet<String> {
    run_output(ENGINE, &["volume", "ls", "--quiet"]).lines().map(String::from).collect()
}

#[test]
fn bench_needs_at_least_one_repeat() {
    let output = xtask(&["bench", "--repeat", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "error: `--repeat` must be at least 1\n");
}
