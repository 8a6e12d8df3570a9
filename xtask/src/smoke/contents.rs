//! What the image holds: no secret in its history or environment, nothing of `.git` or `.env`,
//! and nothing the server's user can write outside `/tmp` and the Deno cache.

use anyhow::{Context, Result};
use xshell::Shell;

use crate::engine::Engine;
use crate::rules;

/// Prefixes of values that are secrets whatever they are called.
const SECRET_VALUES: &[&str] =
    &["-----BEGIN", "AKIA", "ghp_", "github_pat_", "xoxb-", "xoxp-", "sk_live_", "glpat-"];

/// The `NAME=value` words in `text` that look like secrets, the value masked.
pub fn secret_like(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
        let Some((name, value)) = word.split_once('=') else {
            if SECRET_VALUES.iter().any(|p| word.starts_with(p) && word.len() > p.len() + 8) {
                found.push(format!("{}…", &word[..word.len().min(6)]));
            }
            continue;
        };
        let secret_name =
            rules::is_secret_name(name) && !value.is_empty() && !value.starts_with('$');
        let secret_value = SECRET_VALUES.iter().any(|p| value.starts_with(p));
        if secret_name || secret_value {
            found.push(format!("{name}=…"));
        }
    }
    found
}

/// Secret-looking values in `image`'s history (every instruction, build arguments included)
/// and in its environment.
pub fn image_secrets(sh: &Shell, engine: &Engine, image: &str) -> Result<Vec<String>> {
    let history = engine.image_history(sh, image)?;
    let env = engine.image_env(sh, image)?;
    let mut found = secret_like(&history);
    for variable in &env {
        found.extend(secret_like(variable));
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Runs `script` in `container` and returns the lines it printed.
fn listing(sh: &Shell, engine: &Engine, container: &str, script: &str) -> Result<Vec<String>> {
    let output = engine
        .exec(sh, container, &["sh", "-c", script])?
        .with_context(|| format!("failed to search the files of `{container}`"))?;
    Ok(output.lines().filter(|l| !l.trim().is_empty()).map(String::from).collect())
}

/// Paths of `.git` and `.env` files or directories anywhere in the container's own filesystem.
pub fn development_files(sh: &Shell, engine: &Engine, container: &str) -> Result<Vec<String>> {
    let script = r#"find / -xdev \( -path /proc -o -path /sys \) -prune -o \
  \( -name .git -o -name .env -o -name '.env.*' \) -print 2>/dev/null; true"#;
    listing(sh, engine, container, script)
}

/// What the container's user can write in its own filesystem, leaving out `/tmp`, the Deno
/// cache and the user's (empty) home directory, which every account has. Links are left out:
/// their own permissions mean nothing.
pub fn writable_paths(sh: &Shell, engine: &Engine, container: &str) -> Result<Vec<String>> {
    let script = r#"cache="${DENO_DIR:-/deno-dir}"; cache="${cache%/}"
home=$(awk -F: -v uid="$(id -u)" '$3 == uid { print $6 }' /etc/passwd)
[ "$home" = / ] && home=/nonexistent
find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path "$cache" \
  -o -path "${home:-/nonexistent}" \) -prune -o ! -type l -print 2>/dev/null |
while read -r path; do if [ -w "$path" ]; then echo "$path"; fi; done"#;
    listing(sh, engine, container, script)
}

/// At most `count` of `paths`, and how many more there are.
pub fn some_of(paths: &[String], count: usize) -> String {
    let shown: Vec<String> = paths.iter().take(count).map(|p| format!("`{p}`")).collect();
    let more = paths.len().saturating_sub(count);
    if more > 0 { format!("{} and {more} more", shown.join(", ")) } else { shown.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secret_variables_and_values() {
        let history = "/bin/sh -c #(nop) ENV PGPASSWORD=hunter2 PORT=8000\n\
            |1 API_TOKEN=abc /bin/sh -c deno cache main.ts\n\
            /bin/sh -c echo ghp_0123456789abcdef0123";
        assert_eq!(secret_like(history), ["PGPASSWORD=…", "API_TOKEN=…", "ghp_01…"]);
    }

    #[test]
    fn ignores_names_without_values_and_references() {
        let text = "ENV PGPASSWORD_FILE=/run/secrets/pg TOKEN= PASSWORD=$FROM_RUNTIME PORT=8000 \
            DENO_DIR=/deno-dir/";
        assert_eq!(secret_like(text), Vec::<String>::new());
    }

    #[test]
    fn shows_a_few_paths() {
        let paths: Vec<String> = ["/a", "/b", "/c", "/d"].map(String::from).into();
        assert_eq!(some_of(&paths, 2), "`/a`, `/b` and 2 more");
        assert_eq!(some_of(&paths[..1], 2), "`/a`");
    }
}
