//! The validator's contract over many generated Containerfiles: instructions in every form,
//! continuations, here-documents, ARG and ENV substitution, stages, comments, odd whitespace,
//! and files cut short. Each file comes from its own seed, so a failure names the seed that
//! reproduces it.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

use super::contract;

/// Where the generated text is said to live: the server's directory, so that the rules that
/// read the build context (`.dockerignore`, copied files) read real files.
const CONTAINERFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/Containerfile");

const FILES: u64 = 3000;

#[test]
fn generated_containerfiles_keep_the_contract() {
    let (mut met, mut unparsable) = (0, 0);
    for seed in 0..FILES {
        let text = Generator::new(seed).file();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            let validation = super::validate(Path::new(CONTAINERFILE), &text, "Containerfile");
            contract::check(&validation, &text).map(|()| validation)
        }));
        let breach = match outcome {
            Ok(Ok(validation)) => {
                met += usize::from(validation.requirements.iter().all(|r| r.passed));
                unparsable += usize::from(validation.findings.iter().any(|f| f.rule == "syntax"));
                continue;
            }
            Ok(Err(breach)) => breach,
            Err(_) => "the validator panicked".to_string(),
        };
        panic!("seed {seed}: {breach}\n--- the file ---\n{text}--- end ---");
    }
    // Both ends of the input space: files that meet every requirement, and files that do not
    // parse.
    assert!(
        met >= 30 && unparsable >= 30,
        "{met} files met every requirement, {unparsable} did not parse"
    );
}

#[test]
fn the_generator_writes_every_construct() {
    let files: Vec<String> = (0..FILES).map(|seed| Generator::new(seed).file()).collect();
    let share =
        |needle: &str| files.iter().filter(|f| f.contains(needle)).count() * 100 / files.len();
    for needle in ["FROM ", " AS ", "<<EOF", "\\\n", "`\n", "${", "\r\n", "\t", "# ", "ONBUILD"] {
        assert!(share(needle) >= 2, "`{needle:?}` is in {}% of the files", share(needle));
    }
    let unterminated = files.iter().filter(|f| f.ends_with("<<EOF\ndeno cache main.ts\n")).count();
    assert!(unterminated > 0, "no file ends inside a here-document");
}

/// A seeded source of Containerfiles (SplitMix64: small, fast and good enough here).
struct Generator {
    state: u64,
    escape: char,
    newline: &'static str,
    stages: Vec<String>,
}

const WORDS: &[&str] = &[
    "main.ts",
    "deno.json",
    "deno.lock",
    ".",
    "./",
    "/app",
    "/app/",
    "src/",
    "/deno-dir",
    "$APP",
    "${APP}",
    "${APP:-/app}",
    "${ENTRY:+main.ts}",
    "${MISSING-x}",
    "${ñ}",
    "$",
    "${",
    "\"two words\"",
    "'single'",
    "日本",
    "a\\ b",
    "*.ts",
];

const SCRIPTS: &[&str] = &[
    "deno cache main.ts",
    "deno cache --frozen ${ENTRY:-main.ts}",
    "deno install --frozen",
    "deno install -e main.ts",
    "apk add --no-cache curl",
    "cd /app",
    "echo \"$APP\" > /tmp/x",
    "chown -R deno:deno /app",
    "sh -c 'deno cache main.ts'",
    "true # a comment",
];

/// The instructions of a stage that meets every requirement (with a `denoland/deno:alpine`
/// base), in order.
const SKELETON: &[&str] = &[
    "WORKDIR /app",
    "USER deno",
    "COPY --chown=deno:deno . .",
    "RUN deno cache main.ts",
    "HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1",
    "CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]",
];
const USERS: &[&str] = &["deno", "root", "1000:1000", "deno:deno", "$USER_NAME", "1993"];
const WORKDIRS: &[&str] = &["/app", "app", "$APP", "${APP:-/srv}"];
const ENV_PAIRS: &[&str] = &[
    "APP=/app",
    "DENO_DIR=/deno-dir",
    "ENTRY=main.ts USER_NAME=deno",
    "PGPASSWORD=x",
    "A=\"two words\"",
    "APP /srv",
    "LONELY",
];
const ARGS: &[&str] = &["ENTRY=main.ts", "API_TOKEN", "APP=/app", "=", "TAG"];
const LABELS: &[&str] = &["a=b", "org.opencontainers.image.title=\"chat\"", "x"];
const SHELLS: &[&str] = &["[\"/bin/sh\", \"-c\"]", "[\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]"];
const ADD_SOURCES: &[&str] = &["https://example.org/a.tar.gz", ".", "main.ts"];
const ONBUILD_KEYWORDS: &[&str] = &["RUN", "COPY . .", "USER"];
const LONE_LINES: &[&str] = &[
    "# a note",
    "# xtask-ignore: json-form, broad-permissions -- debugging",
    "#",
    "",
    "MAINTAINER someone",
    "RUNN x",
];

const IMAGES: &[&str] = &[
    "denoland/deno:alpine",
    "denoland/deno:alpine-2.1.4",
    "docker.io/denoland/deno:alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "denoland/deno:latest",
    "denoland/deno",
    "${BASE}",
    "$IMAGE",
    "denoland/deno:${TAG}",
    "alpine:3.20",
    "scratch",
];

const EXEC_COMMANDS: &[&str] = &[
    "[\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]",
    "[\"deno\", \"run\", \"-A\", \"$ENTRY\"]",
    "[\"/tini\", \"--\", \"docker-entrypoint.sh\", \"run\", \"main.ts\"]",
    "[\"task\", \"start\"]",
    "[]",
    "[\"run\", \"--allow-all\"",
    "[\"a\" \"b\"]",
];

impl Generator {
    fn new(seed: u64) -> Generator {
        let mut generator =
            Generator { state: seed, escape: '\\', newline: "\n", stages: Vec::new() };
        generator.next();
        generator
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn file(&mut self) -> String {
        let mut out = String::new();
        if self.chance(10) {
            out.push_str("# syntax=docker/dockerfile:1\n");
        }
        if self.chance(15) {
            self.escape = '`';
            out.push_str("# escape=`\n");
        } else if self.chance(5) {
            out.push_str("# escape=\\\n");
        }
        if self.chance(10) {
            self.newline = "\r\n";
        }

        for _ in 0..self.below(3) {
            let name = self.pick(&["BASE", "TAG", "IMAGE", "APP"]);
            let line = match self.below(3) {
                0 => format!("ARG {name}"),
                1 => format!("ARG {name}={}", self.pick(IMAGES)),
                _ => format!("ARG {name}=alpine"),
            };
            self.line(&mut out, &line);
        }
        // Files with no stage at all are part of the input space too.
        let stages = if self.chance(5) { 0 } else { 1 + self.below(3) };
        for _ in 0..stages {
            self.stage(&mut out);
        }

        match self.below(20) {
            0 => out.push_str("RUN <<EOF\ndeno cache main.ts\n"),
            1 => {
                let mut end = self.below(out.len() + 1);
                while !out.is_char_boundary(end) {
                    end -= 1;
                }
                out.truncate(end);
            }
            2 => {
                out.pop();
            }
            _ => {}
        }
        out
    }

    fn stage(&mut self, out: &mut String) {
        let mut image = self.pick(IMAGES).to_string();
        if !self.stages.is_empty() && self.chance(30) {
            let stage = self.below(self.stages.len());
            image = self.stages[stage].clone();
        }
        let platform = if self.chance(10) { "--platform=$BUILDPLATFORM " } else { "" };
        let mut line = format!("{} {platform}{image}", self.keyword("FROM"));
        if self.chance(50) {
            let name = format!("stage{}", self.stages.len());
            line.push_str(&format!(" {} {name}", self.keyword("AS")));
            self.stages.push(name);
        }
        self.line(out, &line);
        // Some stages are built around the instructions a good final stage needs, so that
        // the rules' passing paths are reached too.
        let mut skeleton = if self.chance(40) { SKELETON } else { &[] };
        for _ in 0..self.below(12) {
            if let Some((first, rest)) = skeleton.split_first().filter(|_| self.chance(60)) {
                self.line(out, first);
                skeleton = rest;
            } else {
                self.instruction(out);
            }
        }
        for line in skeleton {
            self.line(out, line);
        }
    }

    /// The keyword in upper, lower or mixed case, as the parser accepts any.
    fn keyword(&mut self, keyword: &str) -> String {
        match self.below(10) {
            0 => keyword.to_lowercase(),
            1 => {
                let lower = keyword.to_lowercase();
                lower
                    .chars()
                    .zip(keyword.chars())
                    .enumerate()
                    .map(|(i, (l, u))| if i % 2 == 0 { u } else { l })
                    .collect()
            }
            _ => keyword.to_string(),
        }
    }

    /// One line with random indentation, separators and trailing space.
    fn line(&mut self, out: &mut String, line: &str) {
        out.push_str(self.pick(&["", "", "", "  ", "\t", " \t "]));
        let line = if self.chance(10) { line.replacen(' ', "\t  ", 1) } else { line.to_string() };
        out.push_str(&line);
        // Trailing space after a here-document's end marker leaves it open; keep that rare.
        if !line.contains('\n') || self.chance(5) {
            out.push_str(self.pick(&["", "", "", " ", "\t"]));
        }
        out.push_str(self.newline);
    }

    fn words(&mut self, count: usize) -> String {
        (0..count).map(|_| self.pick(WORDS)).collect::<Vec<_>>().join(" ")
    }

    /// A shell script over one or more lines, joined by continuations that may hold comment
    /// and blank lines (and sometimes the wrong escape character).
    fn script(&mut self) -> String {
        let mut script = self.pick(SCRIPTS).to_string();
        for _ in 0..self.below(4) {
            let escape = if self.chance(5) { '\\' } else { self.escape };
            script.push_str(&format!(" {escape}{}", self.newline));
            match self.below(6) {
                0 => script.push_str(&format!("  # between{}", self.newline)),
                1 => script.push_str(self.newline),
                _ => {}
            }
            script.push_str(&format!("    && {}", self.pick(SCRIPTS)));
        }
        script
    }

    fn command(&mut self) -> String {
        if self.chance(50) { self.pick(EXEC_COMMANDS).to_string() } else { self.script() }
    }

    fn heredoc(&mut self, keyword: &str, after: &str) -> String {
        let (marker, end) = match self.below(4) {
            0 => ("<<-EOF", "\tEOF"),
            1 => ("<<'EOF'", "EOF"),
            2 => ("<<\"EOF\"", "EOF"),
            _ => ("<<EOF", "EOF"),
        };
        let newline = self.newline;
        let mut text = format!("{keyword} {marker}{after}{newline}");
        for _ in 0..1 + self.below(3) {
            text.push_str(&format!("{}{newline}", self.pick(SCRIPTS)));
        }
        text.push_str(end);
        text
    }

    fn instruction(&mut self, out: &mut String) {
        let line = match self.below(24) {
            0 | 1 => format!("{} {}", self.keyword("RUN"), self.script()),
            2 => format!("{} {}", self.keyword("RUN"), self.pick(EXEC_COMMANDS)),
            3 => {
                let keyword = self.keyword("RUN");
                self.heredoc(&keyword, "")
            }
            4 => format!("RUN --mount=type=cache,target=/deno-dir {}", self.script()),
            5 | 6 => {
                let mut flags = String::new();
                if !self.stages.is_empty() && self.chance(20) {
                    flags.push_str(&format!("--from={} ", self.stages[0]));
                }
                if self.chance(50) {
                    flags.push_str("--chown=deno:deno ");
                }
                let count = 1 + self.below(3);
                let sources = self.words(count);
                format!("{} {flags}{sources} {}", self.keyword("COPY"), self.pick(WORDS))
            }
            7 => self.heredoc("COPY", " /app/main.ts"),
            8 => format!("ADD {} {}", self.pick(ADD_SOURCES), self.pick(WORDS)),
            9 | 10 => format!("{} {}", self.keyword("USER"), self.pick(USERS)),
            11 => format!("{} {}", self.keyword("WORKDIR"), self.pick(WORKDIRS)),
            12 => format!("{} {}", self.keyword("ENV"), self.pick(ENV_PAIRS)),
            13 => format!("ARG {}", self.pick(ARGS)),
            14 => format!("LABEL {}", self.pick(LABELS)),
            15 => format!("EXPOSE {}", self.pick(&["8000", "8000/tcp 9229", "$PORT"])),
            16 => format!("VOLUME {}", self.pick(&["[\"/data\"]", "/data /cache", "["])),
            17 => format!("STOPSIGNAL {}", self.pick(&["SIGTERM", "9"])),
            18 => match self.below(3) {
                0 => "HEALTHCHECK NONE".to_string(),
                1 => format!("HEALTHCHECK --interval=5s CMD {}", self.command()),
                _ => format!("HEALTHCHECK CMD {}", self.command()),
            },
            19 => format!("SHELL {}", self.pick(SHELLS)),
            20 => format!("ONBUILD {} {}", self.pick(ONBUILD_KEYWORDS), self.pick(SCRIPTS)),
            21 => {
                let keyword = self.pick(&["CMD", "ENTRYPOINT"]);
                format!("{} {}", self.keyword(keyword), self.command())
            }
            22 => self.pick(LONE_LINES).to_string(),
            _ => format!("{} {}", self.keyword("CMD"), self.command()),
        };
        self.line(out, &line);
    }
}
