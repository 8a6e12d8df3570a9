//! The project's model of a Containerfile, built on the `parse-dockerfile` crate.
//!
//! Every instruction keeps its position (line and column, 1-based) so that rules can point at
//! it. Arguments are kept raw (as written, continuations joined); `stage` resolves variables.

pub mod deno;
mod heredoc;
pub mod stage;
pub mod words;

use std::ops::Range;
use std::path::{Path, PathBuf};

pub use heredoc::Heredoc;
use parse_dockerfile as pd;

/// The most stages a file may have. Real Containerfiles have a few; resolving each stage
/// costs time in the number of stages before it.
const MAX_STAGES: usize = 256;

/// A position in the file, 1-based; the column counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A parsed Containerfile. The model is complete; not every part has a rule reading it.
#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct Containerfile {
    pub path: PathBuf,
    pub text: String,
    pub escape: char,
    pub syntax: Option<String>,
    pub instructions: Vec<Instruction>,
}

/// A file the parser could not read, with where it stopped.
#[derive(Debug)]
pub struct ParseError {
    pub message: String,
    pub position: Position,
}

#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct Instruction {
    /// The keyword as written (`copy`, `COPY`).
    pub keyword: String,
    pub kind: Kind,
    pub flags: Vec<Flag>,
    pub heredocs: Vec<Heredoc>,
    pub span: Range<usize>,
    pub position: Position,
    pub end_line: usize,
    /// Rule ids named by an `# xtask-ignore:` comment just above the instruction.
    pub ignored_rules: Vec<String>,
}

#[derive(Debug, Clone)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct Flag {
    pub name: String,
    pub value: Option<String>,
}

/// A `RUN`, `CMD`, `ENTRYPOINT` or `HEALTHCHECK` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The JSON array form.
    Exec(Vec<String>),
    /// The shell form, continuations joined.
    Shell(String),
}

#[derive(Debug)]
#[cfg_attr(not(test), allow(dead_code))]
pub enum Kind {
    From {
        image: String,
        alias: Option<String>,
    },
    /// Raw words, `NAME` or `NAME=default`.
    Arg(Vec<String>),
    /// Raw `KEY`/value pairs.
    Env(Vec<(String, String)>),
    Label(Vec<(String, String)>),
    Run(Command),
    Cmd(Command),
    Entrypoint(Command),
    /// Raw sources (a here-document source is its marker, `<<EOF`) and destination.
    Copy {
        sources: Vec<String>,
        dest: String,
    },
    Add {
        sources: Vec<String>,
        dest: String,
    },
    User(String),
    Workdir(String),
    Expose(Vec<String>),
    Volume {
        paths: Vec<String>,
        json: bool,
    },
    Stopsignal(String),
    /// `None` for `HEALTHCHECK NONE`.
    Healthcheck(Option<Command>),
    Shell(Vec<String>),
    Maintainer(String),
    Onbuild(Box<Instruction>),
}

impl Kind {
    /// The instruction's name in upper case.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::From { .. } => "FROM",
            Kind::Arg(_) => "ARG",
            Kind::Env(_) => "ENV",
            Kind::Label(_) => "LABEL",
            Kind::Run(_) => "RUN",
            Kind::Cmd(_) => "CMD",
            Kind::Entrypoint(_) => "ENTRYPOINT",
            Kind::Copy { .. } => "COPY",
            Kind::Add { .. } => "ADD",
            Kind::User(_) => "USER",
            Kind::Workdir(_) => "WORKDIR",
            Kind::Expose(_) => "EXPOSE",
            Kind::Volume { .. } => "VOLUME",
            Kind::Stopsignal(_) => "STOPSIGNAL",
            Kind::Healthcheck(_) => "HEALTHCHECK",
            Kind::Shell(_) => "SHELL",
            Kind::Maintainer(_) => "MAINTAINER",
            Kind::Onbuild(_) => "ONBUILD",
        }
    }
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|flag| flag.name == name)
    }
}

impl Containerfile {
    /// Parses `text`, read from `path` (used for reporting and to find the build context).
    pub fn parse(path: &Path, text: &str) -> Result<Containerfile, ParseError> {
        let line_starts = line_starts(text);
        let position_at = |offset: usize| position(text, &line_starts, offset);

        let escape = detect_escape(text);
        let masked = heredoc::mask(text, escape);
        let parsed = pd::parse(&masked.text).map_err(|error| ParseError {
            message: error.to_string(),
            position: within_text(text, error.line(), error.column()),
        })?;

        let syntax = parsed.parser_directives.syntax.as_ref().map(|d| d.value.value.to_string());
        let mut builder =
            Builder { text, escape, heredocs: &masked.heredocs, position_at, error: None };
        let instructions: Vec<Instruction> =
            parsed.instructions.iter().map(|i| builder.instruction(i)).collect();
        if let Some(error) = builder.error {
            return Err(error);
        }
        let mut stages = instructions.iter().filter(|i| matches!(i.kind, Kind::From { .. }));
        if let Some(from) = stages.nth(MAX_STAGES) {
            return Err(ParseError {
                message: format!(
                    "more than {MAX_STAGES} stages: the validator checks at most {MAX_STAGES}"
                ),
                position: from.position,
            });
        }
        Ok(Containerfile {
            path: path.to_path_buf(),
            text: text.to_string(),
            escape,
            syntax,
            instructions,
        })
    }

    /// The directory the file sits in: the build context when nothing else is said.
    pub fn context_dir(&self) -> &Path {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        }
    }
}

/// The escape directive, read the way the frontend reads it: only among the leading comment
/// lines. The parser crate validates it; this only needs the character early, for masking.
fn detect_escape(text: &str) -> char {
    for line in text.lines() {
        let trimmed = line.trim();
        let Some(comment) = trimmed.strip_prefix('#') else { break };
        let Some((key, value)) = comment.split_once('=') else { break };
        if key.trim().eq_ignore_ascii_case("escape") && value.trim() == "`" {
            return '`';
        }
    }
    '\\'
}

struct Builder<'t, F> {
    text: &'t str,
    escape: char,
    heredocs: &'t [Heredoc],
    position_at: F,
    /// The first instruction whose arguments do not make sense, such as `ENV NAME`.
    error: Option<ParseError>,
}

impl<F: Fn(usize) -> Position> Builder<'_, F> {
    fn instruction(&mut self, instruction: &pd::Instruction<'_>) -> Instruction {
        use pd::Instruction as I;

        let (keyword_span, flags, kind, end) = match instruction {
            I::From(from) => {
                let kind = Kind::From {
                    image: from.image.value.to_string(),
                    alias: from.as_.as_ref().map(|(_, name)| name.value.to_string()),
                };
                let end = from.as_.as_ref().map_or(from.image.span.end, |(_, n)| n.span.end);
                (from.from.span.clone(), self.flags(&from.options), kind, end)
            }
            I::Arg(arg) => {
                let raw = self.raw(arg.arguments.span.clone());
                let kind = Kind::Arg(words::split_raw_words(&raw, self.escape));
                (arg.arg.span.clone(), vec![], kind, arg.arguments.span.end)
            }
            I::Env(env) => {
                let raw = self.raw(env.arguments.span.clone());
                let pairs = self.pairs("ENV", &raw, env.env.span.start);
                (env.env.span.clone(), vec![], Kind::Env(pairs), env.arguments.span.end)
            }
            I::Label(label) => {
                let raw = self.raw(label.arguments.span.clone());
                let pairs = self.pairs("LABEL", &raw, label.label.span.start);
                (label.label.span.clone(), vec![], Kind::Label(pairs), label.arguments.span.end)
            }
            I::Run(run) => {
                let (command, end) = self.command(&run.arguments);
                (run.run.span.clone(), self.flags(&run.options), Kind::Run(command), end)
            }
            I::Cmd(cmd) => {
                let (command, end) = self.command(&cmd.arguments);
                (cmd.cmd.span.clone(), vec![], Kind::Cmd(command), end)
            }
            I::Entrypoint(entrypoint) => {
                let (command, end) = self.command(&entrypoint.arguments);
                (entrypoint.entrypoint.span.clone(), vec![], Kind::Entrypoint(command), end)
            }
            I::Copy(copy) => {
                let (sources, dest) = self.sources(&copy.src, &copy.dest);
                let kind = Kind::Copy { sources, dest };
                (copy.copy.span.clone(), self.flags(&copy.options), kind, copy.dest.span.end)
            }
            I::Add(add) => {
                let (sources, dest) = self.sources(&add.src, &add.dest);
                let kind = Kind::Add { sources, dest };
                (add.add.span.clone(), self.flags(&add.options), kind, add.dest.span.end)
            }
            I::User(user) => {
                let kind = Kind::User(self.raw(user.arguments.span.clone()));
                (user.user.span.clone(), vec![], kind, user.arguments.span.end)
            }
            I::Workdir(workdir) => {
                let kind = Kind::Workdir(self.raw(workdir.arguments.span.clone()));
                (workdir.workdir.span.clone(), vec![], kind, workdir.arguments.span.end)
            }
            I::Expose(expose) => {
                let ports = expose.arguments.iter().map(|p| p.value.to_string()).collect();
                let end = expose.arguments.last().map_or(expose.expose.span.end, |p| p.span.end);
                (expose.expose.span.clone(), vec![], Kind::Expose(ports), end)
            }
            I::Volume(volume) => {
                let (paths, json, end) = match &volume.arguments {
                    pd::JsonOrStringArray::Json(array) => (
                        array.value.iter().map(|p| p.value.to_string()).collect(),
                        true,
                        array.span.end,
                    ),
                    pd::JsonOrStringArray::String(paths) => {
                        let end = paths.last().map_or(volume.volume.span.end, |p| p.span.end);
                        (paths.iter().map(|p| p.value.to_string()).collect(), false, end)
                    }
                };
                (volume.volume.span.clone(), vec![], Kind::Volume { paths, json }, end)
            }
            I::Stopsignal(signal) => {
                let kind = Kind::Stopsignal(signal.arguments.value.to_string());
                (signal.stopsignal.span.clone(), vec![], kind, signal.arguments.span.end)
            }
            I::Healthcheck(check) => {
                let (command, end) = match &check.arguments {
                    pd::HealthcheckArguments::Cmd { arguments, .. } => {
                        let (command, end) = self.command(arguments);
                        (Some(command), end)
                    }
                    pd::HealthcheckArguments::None { none, .. } => (None, none.span.end),
                    _ => (None, check.healthcheck.span.end),
                };
                let flags = self.flags(&check.options);
                (check.healthcheck.span.clone(), flags, Kind::Healthcheck(command), end)
            }
            I::Shell(shell) => {
                let words = shell.arguments.iter().map(|w| w.value.to_string()).collect();
                let end = shell.arguments.last().map_or(shell.shell.span.end, |w| w.span.end);
                (shell.shell.span.clone(), vec![], Kind::Shell(words), end)
            }
            I::Maintainer(maintainer) => {
                let kind = Kind::Maintainer(maintainer.name.value.to_string());
                (maintainer.maintainer.span.clone(), vec![], kind, maintainer.name.span.end)
            }
            I::Onbuild(onbuild) => {
                let inner = self.instruction(&onbuild.instruction);
                let end = inner.span.end;
                (onbuild.onbuild.span.clone(), vec![], Kind::Onbuild(Box::new(inner)), end)
            }
            _ => unreachable!("parse-dockerfile added an instruction this model does not know"),
        };

        let start = keyword_span.start;
        // The here-documents are in file order.
        let first = self.heredocs.partition_point(|h| h.marker.start < start);
        let heredocs: Vec<Heredoc> = self.heredocs[first..]
            .iter()
            .take_while(|h| h.marker.start < end)
            .filter(|h| h.marker.end <= end)
            .cloned()
            .collect();
        let end = heredocs.last().map_or(end, |h| h.end.max(end));
        let position = (self.position_at)(start);
        let end_line = (self.position_at)(end.saturating_sub(1).max(start)).line;
        Instruction {
            keyword: self.text[keyword_span].to_string(),
            kind,
            flags,
            heredocs,
            span: start..end,
            position,
            end_line,
            ignored_rules: self.ignored_rules_before(start),
        }
    }

    fn pairs(&mut self, name: &str, raw: &str, start: usize) -> Vec<(String, String)> {
        words::parse_pairs(raw, self.escape).unwrap_or_else(|problem| {
            let position = (self.position_at)(start);
            self.error
                .get_or_insert(ParseError { message: format!("{name}: {problem}"), position });
            vec![]
        })
    }

    fn raw(&self, span: Range<usize>) -> String {
        words::join_continuations(&self.text[span], self.escape)
    }

    fn flags(&self, flags: &[pd::Flag<'_>]) -> Vec<Flag> {
        flags
            .iter()
            .map(|flag| Flag {
                name: flag.name.value.to_string(),
                value: flag.value.as_ref().map(|v| v.value.to_string()),
            })
            .collect()
    }

    fn command(&self, command: &pd::Command<'_>) -> (Command, usize) {
        match command {
            pd::Command::Exec(array) => (
                Command::Exec(array.value.iter().map(|w| w.value.to_string()).collect()),
                array.span.end,
            ),
            pd::Command::Shell(shell) => {
                (Command::Shell(self.raw(shell.span.clone())), shell.span.end)
            }
            _ => unreachable!("parse-dockerfile added a command form this model does not know"),
        }
    }

    fn sources(
        &self,
        sources: &[pd::Source<'_>],
        dest: &pd::UnescapedString<'_>,
    ) -> (Vec<String>, String) {
        let sources = sources
            .iter()
            .map(|source| match source {
                pd::Source::Path(path) => {
                    match self.heredocs.iter().find(|h| h.marker == path.span) {
                        Some(heredoc) => self.text[heredoc.marker.clone()].to_string(),
                        None => path.value.to_string(),
                    }
                }
                pd::Source::HereDoc(heredoc) => format!("<<{}", heredoc_name(self.text, heredoc)),
                _ => String::new(),
            })
            .collect();
        (sources, dest.value.to_string())
    }

    /// Reads `# xtask-ignore: a, b -- reason` on the comment lines right above `offset`.
    fn ignored_rules_before(&self, offset: usize) -> Vec<String> {
        let before = &self.text[..offset];
        let mut lines = before.lines().rev();
        // The first item is the instruction line's own indentation, if any.
        if !before.ends_with('\n') {
            lines.next();
        }
        let mut rules = Vec::new();
        for line in lines {
            let Some(comment) = line.trim().strip_prefix('#') else { break };
            let Some(rest) = comment.trim().strip_prefix("xtask-ignore:") else { continue };
            let ids = rest.split_once("--").map_or(rest, |(ids, _reason)| ids);
            rules
                .extend(ids.split(',').map(|id| id.trim().to_string()).filter(|id| !id.is_empty()));
        }
        rules
    }
}

/// The delimiter of a here-document the parser read itself (a `COPY` source).
fn heredoc_name(text: &str, heredoc: &pd::HereDoc<'_>) -> String {
    let before = &text[..heredoc.span.start];
    let marker_line = before.trim_end_matches('\n').lines().last().unwrap_or("");
    marker_line
        .split_whitespace()
        .find_map(|word| word.strip_prefix("<<"))
        .map(|name| {
            name.trim_start_matches('-').trim_matches(|c| c == '"' || c == '\'').to_string()
        })
        .unwrap_or_default()
}

/// A parser position, moved onto the last line when it points past it: the parser reports the
/// end of input (an unterminated here-document) as the line after a final newline.
fn within_text(text: &str, line: usize, column: usize) -> Position {
    let last = text.lines().count().max(1);
    if line <= last {
        return Position { line: line.max(1), column: column.max(1) };
    }
    let last_line_length = text.lines().last().map_or(0, |l| l.chars().count());
    Position { line: last, column: last_line_length + 1 }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).collect()
}

fn position(text: &str, line_starts: &[usize], offset: usize) -> Position {
    let line = line_starts.partition_point(|&start| start <= offset).max(1);
    let start = line_starts[line - 1];
    let column = text.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
    Position { line, column }
}

#[cfg(test)]
mod tests;
