//! The OCI labels every built image carries: where its source lives, the commit, and when.

use std::time::{SystemTime, UNIX_EPOCH};

use xshell::{Shell, cmd};

use crate::engine::process;
use crate::project;

pub const SOURCE: &str = "org.opencontainers.image.source";
pub const REVISION: &str = "org.opencontainers.image.revision";
pub const CREATED: &str = "org.opencontainers.image.created";

/// `source` (the `origin` remote, else the GitHub Actions repository; left out when neither is
/// known), `revision` (the commit checked out; left out outside a git checkout) and `created`
/// (now, or `SOURCE_DATE_EPOCH` for reproducible builds).
pub fn oci_labels(sh: &Shell) -> Vec<(String, String)> {
    let root = project::root();
    let _dir = sh.push_dir(&root);
    let git = |args: &[&str]| {
        let output = process::output(cmd!(sh, "git {args...}")).ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (output.status.success() && !text.is_empty()).then_some(text)
    };

    let mut labels = Vec::new();
    let source = git(&["remote", "get-url", "origin"]).or_else(github_repository_url);
    if let Some(source) = source {
        labels.push((SOURCE.to_string(), source));
    }
    if let Some(revision) = git(&["rev-parse", "HEAD"]) {
        labels.push((REVISION.to_string(), revision));
    }
    labels.push((CREATED.to_string(), rfc3339_utc(created_seconds())));
    labels
}

fn github_repository_url() -> Option<String> {
    let server = std::env::var("GITHUB_SERVER_URL").ok().filter(|s| !s.is_empty())?;
    let repository = std::env::var("GITHUB_REPOSITORY").ok().filter(|s| !s.is_empty())?;
    Some(format!("{server}/{repository}"))
}

fn created_seconds() -> u64 {
    let from_environment =
        std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|value| value.trim().parse().ok());
    from_environment.unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
    })
}

/// `2026-12-03T18:41:16Z` for seconds since the Unix epoch.
pub fn rfc3339_utc(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let in_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (in_day / 3600, in_day % 3600 / 60, in_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// The proleptic Gregorian date of a day counted from 1970-01-01, after Howard Hinnant's
/// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_as_rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_798_915_276), "2027-01-02T18:41:16Z");
        assert_eq!(rfc3339_utc(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
