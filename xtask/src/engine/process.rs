//! Running the engines' commands: echoed to stderr first, their output kept for parsing and
//! for the tail shown when they fail, and streamed as it comes with `-v`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use xshell::Cmd;

/// How many lines of an engine's output a failure shows.
pub const TAIL_LINES: usize = 25;

/// What a command printed, stdout and stderr interleaved line by line, and how it ended.
#[derive(Debug)]
pub struct Captured {
    pub status: ExitStatus,
    pub lines: Vec<String>,
    pub elapsed: Duration,
}

impl Captured {
    pub fn succeeded(&self) -> bool {
        self.status.success()
    }
}

/// The last `count` lines, each indented, ending with a newline.
pub fn tail(lines: &[String], count: usize) -> String {
    let start = lines.len().saturating_sub(count);
    lines[start..].iter().map(|line| format!("    {line}\n")).collect()
}

/// Echoes `cmd` and runs it to the end, keeping its output; with `verbose` the output is also
/// copied to stderr as it arrives. A non-zero exit is not an error here: the caller decides.
pub fn capture(cmd: Cmd<'_>, verbose: bool) -> Result<Captured> {
    eprintln!("$ {cmd}");
    let shown = cmd.to_string();
    let mut command: Command = cmd.into();
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());

    let started = Instant::now();
    let mut child = command.spawn().with_context(|| format!("failed to start `{shown}`"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let lines = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        scope.spawn(|| collect_lines(stdout, &lines, verbose));
        scope.spawn(|| collect_lines(stderr, &lines, verbose));
    });
    let status = child.wait().with_context(|| format!("failed to wait for `{shown}`"))?;

    let lines = lines.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    let elapsed = started.elapsed();
    crate::timing::add_command(elapsed);
    Ok(Captured { status, lines, elapsed })
}

fn collect_lines(stream: impl Read, lines: &Mutex<Vec<String>>, verbose: bool) {
    let reader = BufReader::new(stream);
    for line in reader.split(b'\n') {
        let Ok(bytes) = line else { break };
        let text = strip_ansi(String::from_utf8_lossy(&bytes).trim_end_matches('\r'));
        if verbose {
            eprintln!("{text}");
        }
        lines.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(text);
    }
}

/// `text` without ANSI escape sequences: engines and the tools they run colour their output
/// even when it goes to a pipe.
pub fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            plain.push(c);
            continue;
        }
        // A CSI sequence is `ESC [`, parameters, and one final byte from `@` to `~`.
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    plain
}

/// Echoes `cmd`, runs it quietly and returns its trimmed stdout, or an error that quotes the
/// last lines it printed.
pub fn read(cmd: Cmd<'_>) -> Result<String> {
    let shown = cmd.to_string();
    let output = output(cmd)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<String> = stderr.lines().map(String::from).collect();
        anyhow::bail!("`{shown}` failed ({}):\n{}", output.status, tail(&lines, TAIL_LINES));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Echoes `cmd` and runs it with its stdout and stderr kept, whatever its exit status.
pub fn output(cmd: Cmd<'_>) -> Result<std::process::Output> {
    eprintln!("$ {cmd}");
    let shown = cmd.to_string();
    let started = Instant::now();
    let output = cmd.quiet().ignore_status().output();
    crate::timing::add_command(started.elapsed());
    output.with_context(|| format!("failed to run `{shown}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines_indented() {
        let lines: Vec<String> = (1..=5).map(|n| format!("line {n}")).collect();
        assert_eq!(tail(&lines, 2), "    line 4\n    line 5\n");
        assert_eq!(tail(&lines[..1], 3), "    line 1\n");
    }

    #[test]
    fn strips_colour_codes() {
        let coloured =
            "\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Module not found \x1b[38;5;245mx\x1b[0m";
        assert_eq!(strip_ansi(coloured), "error: Module not found x");
        assert_eq!(strip_ansi("plain [text]"), "plain [text]");
    }

    #[test]
    fn capture_interleaves_both_streams_and_keeps_the_status() {
        let sh = xshell::Shell::new().unwrap();
        let script = "echo out; echo err >&2; exit 3";
        let captured = capture(xshell::cmd!(sh, "sh -c {script}"), false).unwrap();
        assert_eq!(captured.status.code(), Some(3));
        let mut lines = captured.lines.clone();
        lines.sort();
        assert_eq!(lines, ["err", "out"]);
    }
}
