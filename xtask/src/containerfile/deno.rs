//! What `deno` command lines mean: the script a container runs, the files a build step caches,
//! and the permissions granted.

use super::Command;
use super::words::shell_commands;

/// The deno subcommands the upstream image's entrypoint script recognises.
const SUBCOMMANDS: &[&str] = &[
    "add",
    "bench",
    "bundle",
    "cache",
    "check",
    "clean",
    "compile",
    "completions",
    "coverage",
    "deploy",
    "doc",
    "eval",
    "fmt",
    "help",
    "info",
    "init",
    "install",
    "jupyter",
    "lint",
    "lsp",
    "outdated",
    "publish",
    "remove",
    "repl",
    "run",
    "serve",
    "task",
    "test",
    "types",
    "uninstall",
    "update",
    "upgrade",
    "vendor",
];

/// Options of `deno run`, `deno cache` and `deno install` whose value may be the next word.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "-c",
    "--config",
    "--import-map",
    "--cert",
    "--location",
    "--seed",
    "--ext",
    "--preload",
    "--require",
    "--lock",
    "--node-modules-dir",
    "--env-file",
    "--frozen",
    "--reload",
    "-r",
];

/// Permission flags broader than an HTTP server with a database needs.
pub const BROAD_PERMISSIONS: &[&str] = &[
    "-A",
    "--allow-all",
    "--allow-run",
    "--allow-write",
    "-W",
    "--allow-ffi",
    "--allow-sys",
    "-S",
];

/// The program the container runs, when it is deno.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenoRun {
    /// `run`, `serve`, or `task`.
    pub subcommand: String,
    /// The script as written (relative to the working directory), or the task name.
    pub script: Option<String>,
    /// Every option before the script.
    pub options: Vec<String>,
}

/// The argv a container starts with, given its `ENTRYPOINT` and `CMD`.
pub fn container_argv(entrypoint: Option<&Command>, cmd: Option<&Command>) -> Vec<String> {
    let shell = |script: &str| vec!["/bin/sh".to_string(), "-c".to_string(), script.to_string()];
    match (entrypoint, cmd) {
        (Some(Command::Shell(script)), _) => shell(script),
        (Some(Command::Exec(entry)), Some(Command::Exec(args))) => {
            entry.iter().chain(args).cloned().collect()
        }
        (Some(Command::Exec(entry)), Some(Command::Shell(script))) => {
            entry.iter().cloned().chain(shell(script)).collect()
        }
        (Some(Command::Exec(entry)), None) => entry.clone(),
        (None, Some(Command::Exec(args))) => args.clone(),
        (None, Some(Command::Shell(script))) => shell(script),
        (None, None) => vec![],
    }
}

/// Follows wrappers (tini, the image's entrypoint script, `sh -c`, `exec`, `env`) to the
/// `deno` invocation, and returns its arguments after `deno`.
pub fn deno_arguments(argv: &[String]) -> Option<Vec<String>> {
    let mut args: Vec<String> = argv.to_vec();
    loop {
        let first = args.first()?.clone();
        let program = first.rsplit('/').next().unwrap_or(&first);
        match program {
            "tini" | "tini-static" => {
                let skip = args.iter().skip(1).take_while(|a| a.starts_with('-')).count();
                args.drain(..1 + skip);
            }
            "docker-entrypoint.sh" => {
                args.remove(0);
                let next = args.first()?;
                if next.starts_with('-') || SUBCOMMANDS.contains(&next.as_str()) {
                    return Some(args);
                }
            }
            "sh" | "bash" | "ash" | "dash" if args.get(1).map(String::as_str) == Some("-c") => {
                let script = args.get(2)?;
                args = shell_commands(script).into_iter().rev().find(|c| invokes_deno(c))?;
            }
            "exec" | "env" | "nice" => {
                args.remove(0);
            }
            "deno" => return Some(args[1..].to_vec()),
            _ if first.contains('=') && !first.starts_with('-') => {
                args.remove(0);
            }
            _ => return None,
        }
    }
}

fn invokes_deno(command: &[String]) -> bool {
    command.iter().any(|word| word == "deno" || word.ends_with("/deno"))
}

/// Reads `deno run|serve [options] script`, or an implicit `deno script.ts`.
pub fn parse_run(args: &[String]) -> Option<DenoRun> {
    let (subcommand, rest) = match args.first().map(String::as_str) {
        Some(sub @ ("run" | "serve" | "task")) => (sub.to_string(), &args[1..]),
        Some(word) if !word.starts_with('-') && !SUBCOMMANDS.contains(&word) => {
            ("run".to_string(), args)
        }
        Some(word) if word.starts_with('-') => ("run".to_string(), args),
        _ => return None,
    };
    let (options, positionals) = split_options(rest);
    Some(DenoRun { subcommand, script: positionals.into_iter().next(), options })
}

/// Splits options from positional words until the first positional (the script: everything
/// after it belongs to the program).
fn split_options(args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut options = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word == "--" {
            return (options, words.cloned().collect());
        }
        if !word.starts_with('-') {
            let positionals = std::iter::once(word).chain(words).cloned().collect();
            return (options, positionals);
        }
        options.push(word.clone());
        if OPTIONS_WITH_VALUE.contains(&word.as_str()) && takes_separate_value(word) {
            if let Some(value) = words.next() {
                options.push(value.clone());
            }
        }
    }
    (options, vec![])
}

/// Options whose value may only be attached with `=` never take the next word.
fn takes_separate_value(option: &str) -> bool {
    matches!(
        option,
        "-c" | "--config"
            | "--import-map"
            | "--cert"
            | "--location"
            | "--seed"
            | "--ext"
            | "--preload"
            | "--require"
    )
}

/// What one build step caches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CacheCommand {
    /// The directory the command ran in, when a `cd` changed it (relative or absolute).
    pub directory: Option<String>,
    /// Entry files whose dependency graph is cached (`deno cache X`, `deno install -e X`).
    pub entrypoints: Vec<String>,
    /// `deno install` with no entry file: the dependencies declared in the configuration.
    pub configured_dependencies: bool,
    /// `--frozen`: the lockfile is checked, never written.
    pub frozen: bool,
}

/// Finds the caching commands in a `RUN` step. `heredocs` are the bodies of its
/// here-documents, in order.
pub fn cache_commands(run: &Command, heredocs: &[String]) -> Vec<CacheCommand> {
    let script = match run {
        Command::Exec(argv) => match argv.as_slice() {
            [shell, flag, script, ..] if is_shell(shell) && flag == "-c" => script.clone(),
            _ => return cache_command(argv).into_iter().collect(),
        },
        Command::Shell(line) => {
            // `RUN <<EOF` and `RUN <<EOF sh` make the here-document the script itself.
            let words: Vec<&str> = line.split_whitespace().collect();
            let program: Vec<&str> =
                words.iter().copied().filter(|w| !w.starts_with("<<")).collect();
            let runs_heredoc = match program.as_slice() {
                [] => true,
                [shell, options @ ..] => {
                    is_shell(shell) && options.iter().all(|o| o.starts_with('-'))
                }
            };
            if runs_heredoc && !heredocs.is_empty() { heredocs.join("\n") } else { line.clone() }
        }
    };

    let mut found = Vec::new();
    let mut directory: Option<String> = None;
    for command in shell_commands(&script) {
        let command = strip_prefixes(&command);
        match command.first().map(String::as_str) {
            Some("cd") => {
                directory = match (directory.take(), command.get(1)) {
                    (_, Some(dir)) if dir.starts_with('/') => Some(dir.clone()),
                    (Some(current), Some(dir)) => Some(format!("{current}/{dir}")),
                    (None, Some(dir)) => Some(dir.clone()),
                    (_, None) => None,
                };
            }
            Some(_) => {
                if let Some(mut cache) = cache_command(command) {
                    cache.directory = directory.clone();
                    found.push(cache);
                }
            }
            None => {}
        }
    }
    found
}

fn is_shell(program: &str) -> bool {
    matches!(program.rsplit('/').next(), Some("sh" | "bash" | "ash" | "dash"))
}

/// Drops `exec`, `env`, and `NAME=value` assignments in front of a command.
fn strip_prefixes(command: &[String]) -> &[String] {
    let mut rest = command;
    while let Some(first) = rest.first() {
        let assignment = first.contains('=') && !first.starts_with('-') && !first.starts_with('/');
        if first == "exec" || first == "env" || assignment {
            rest = &rest[1..];
        } else {
            break;
        }
    }
    rest
}

fn cache_command(argv: &[String]) -> Option<CacheCommand> {
    let program = argv.first()?;
    if program != "deno" && !program.ends_with("/deno") {
        return None;
    }
    let frozen = argv.iter().skip(2).any(|w| w == "--frozen" || w == "--frozen=true");
    match argv.get(1).map(String::as_str) {
        Some("cache") => {
            let (_, files) = split_options(&argv[2..]);
            (!files.is_empty()).then(|| CacheCommand {
                entrypoints: files,
                frozen,
                ..Default::default()
            })
        }
        Some("install") => {
            let rest = &argv[2..];
            let mut entrypoints = Vec::new();
            let mut has_packages = false;
            let mut in_entrypoints = false;
            let mut global = false;
            for word in rest {
                if let Some(file) =
                    word.strip_prefix("--entrypoint=").or_else(|| word.strip_prefix("-e="))
                {
                    entrypoints.push(file.to_string());
                    in_entrypoints = true;
                } else if word == "--entrypoint" || word == "-e" {
                    in_entrypoints = true;
                } else if word == "-g" || word == "--global" {
                    global = true;
                } else if word.starts_with('-') {
                    continue;
                } else if in_entrypoints {
                    entrypoints.push(word.clone());
                } else {
                    has_packages = true;
                }
            }
            if global {
                return None;
            }
            let configured_dependencies = entrypoints.is_empty() && !has_packages;
            (configured_dependencies || !entrypoints.is_empty()).then_some(CacheCommand {
                directory: None,
                entrypoints,
                configured_dependencies,
                frozen,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn follows_the_upstream_entrypoint_to_deno() {
        let entry = Command::Exec(strings(&["/tini", "--", "docker-entrypoint.sh"]));
        let cmd = Command::Exec(strings(&["run", "--allow-net", "main.ts"]));
        let argv = container_argv(Some(&entry), Some(&cmd));
        let args = deno_arguments(&argv).unwrap();
        let run = parse_run(&args).unwrap();
        assert_eq!(run.script.as_deref(), Some("main.ts"));
        assert_eq!(run.options, ["--allow-net"]);
    }

    #[test]
    fn the_entrypoint_script_runs_other_programs_as_given() {
        let argv = strings(&["/tini", "--", "docker-entrypoint.sh", "node", "x.js"]);
        assert_eq!(deno_arguments(&argv), None);
        let argv = strings(&["docker-entrypoint.sh", "deno", "run", "a.ts"]);
        assert_eq!(deno_arguments(&argv).unwrap(), ["run", "a.ts"]);
    }

    #[test]
    fn reads_shell_forms_and_options_with_values() {
        let cmd =
            Command::Shell("exec deno run -c deno.json --allow-net src/main.ts --port 1".into());
        let args = deno_arguments(&container_argv(None, Some(&cmd))).unwrap();
        let run = parse_run(&args).unwrap();
        assert_eq!(run.script.as_deref(), Some("src/main.ts"));
        assert_eq!(run.options, ["-c", "deno.json", "--allow-net"]);
        assert_eq!(parse_run(&strings(&["main.ts"])).unwrap().script.as_deref(), Some("main.ts"));
    }

    #[test]
    fn finds_cache_steps_in_every_form() {
        let shell = Command::Shell("cd src && deno cache --reload main.ts other.ts".into());
        let found = cache_commands(&shell, &[]);
        assert_eq!(found[0].entrypoints, ["main.ts", "other.ts"]);
        assert_eq!(found[0].directory.as_deref(), Some("src"));

        let exec = Command::Exec(strings(&["deno", "install", "--entrypoint", "main.ts"]));
        assert_eq!(cache_commands(&exec, &[])[0].entrypoints, ["main.ts"]);
        let exec = Command::Exec(strings(&["sh", "-c", "deno install -e=main.ts"]));
        assert_eq!(cache_commands(&exec, &[])[0].entrypoints, ["main.ts"]);

        let heredoc = Command::Shell("<<EOF".into());
        let found = cache_commands(&heredoc, &["set -e\ndeno cache main.ts\n".into()]);
        assert_eq!(found[0].entrypoints, ["main.ts"]);

        let stdin = Command::Shell("<<A cat > main.ts && deno cache main.ts".into());
        assert_eq!(
            cache_commands(&stdin, &["deno cache other.ts\n".into()])[0].entrypoints,
            ["main.ts"]
        );
        let sh = Command::Shell("<<EOF sh -e".into());
        assert_eq!(cache_commands(&sh, &["deno cache x.ts\n".into()])[0].entrypoints, ["x.ts"]);

        let install = Command::Shell("deno install".into());
        assert!(cache_commands(&install, &[])[0].configured_dependencies);
        assert!(cache_commands(&Command::Shell("deno install npm:hono".into()), &[]).is_empty());
        assert!(cache_commands(&Command::Shell("deno install -g -e x.ts".into()), &[]).is_empty());
        assert!(cache_commands(&Command::Shell("echo deno cache main.ts".into()), &[]).is_empty());
    }
}
