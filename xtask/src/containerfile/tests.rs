//! The model against hand-written cases, and against BuildKit's own parser on the corpus.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::stage::{self, Stage};
use super::*;

fn parse(text: &str) -> Containerfile {
    Containerfile::parse(Path::new("/nonexistent/server/Containerfile"), text).unwrap()
}

fn final_stage(text: &str) -> Stage {
    let file = parse(text);
    stage::resolve(&file).pop().unwrap()
}

#[test]
fn continuation_with_comment_lines_is_one_instruction() {
    let file = parse("FROM a\nRUN echo a \\\n  # note\n\n  && echo b\nUSER x\n");
    let run = &file.instructions[1];
    assert_eq!((run.position.line, run.end_line), (2, 5));
    assert!(matches!(&run.kind, Kind::Run(Command::Shell(s)) if s == "echo a   && echo b"));
    assert_eq!(file.instructions[2].position, Position { line: 6, column: 1 });
}

#[test]
fn escape_and_syntax_directives() {
    let file =
        parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN dir C:\\ `\n  && echo\n");
    assert_eq!(file.escape, '`');
    assert_eq!(file.syntax.as_deref(), Some("docker/dockerfile:1"));
    assert!(
        matches!(&file.instructions[1].kind, Kind::Run(Command::Shell(s)) if s == "dir C:\\   && echo")
    );
}

#[test]
fn heredocs_anywhere_in_run_and_copy() {
    let text = "FROM a\nRUN <<EOF\ndeno cache main.ts\nEOF\nRUN python3 <<'PY' && cat <<-X\nprint(1)\nPY\n\tx\n\tX\nCOPY <<EOF /app/a.txt\nhi\nEOF\nUSER deno\n";
    let file = parse(text);
    let names =
        |i: usize| file.instructions[i].heredocs.iter().map(|h| h.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(1), ["EOF"]);
    assert_eq!(names(2), ["PY", "X"]);
    assert_eq!(file.instructions[2].heredocs[0].content, "print(1)\n");
    assert!(!file.instructions[2].heredocs[0].expand);
    assert_eq!((file.instructions[2].position.line, file.instructions[2].end_line), (5, 9));
    assert!(
        matches!(&file.instructions[3].kind, Kind::Copy { sources, dest } if sources == &["<<EOF"] && dest == "/app/a.txt")
    );
    assert_eq!(file.instructions[4].position.line, 13);
}

#[test]
fn exec_and_shell_forms() {
    let file = parse("FROM a\nCMD [\"run\", \"main.ts\"]\nENTRYPOINT deno run x.ts\n");
    assert!(
        matches!(&file.instructions[1].kind, Kind::Cmd(Command::Exec(a)) if a == &["run", "main.ts"])
    );
    assert!(
        matches!(&file.instructions[2].kind, Kind::Entrypoint(Command::Shell(s)) if s == "deno run x.ts")
    );
}

#[test]
fn lowercase_instructions_platform_and_digest() {
    let digest = "sha256:".to_string() + &"a".repeat(64);
    let text = format!(
        "from --platform=$BUILDPLATFORM denoland/deno:alpine@{digest} as Build\nuser deno\n"
    );
    let file = parse(&text);
    assert_eq!(file.instructions[0].keyword, "from");
    assert_eq!(
        file.instructions[0].flag("platform").unwrap().value.as_deref(),
        Some("$BUILDPLATFORM")
    );
    let last = stage::resolve(&file).pop().unwrap();
    assert_eq!(last.image, format!("denoland/deno:alpine@{digest}"));
    assert_eq!(last.name.as_deref(), Some("build"));
}

#[test]
fn stage_chains_resolve_to_the_external_image() {
    let last = final_stage(
        "ARG BASE=denoland/deno:alpine\nFROM ${BASE} AS base\nUSER deno\nFROM base AS deps\nWORKDIR /app\nFROM DEPS\n",
    );
    assert_eq!(last.image, "denoland/deno:alpine");
    assert_eq!(last.base, "DEPS");
    assert_eq!(last.parents, [1, 0]);
    assert_eq!(last.user.unwrap().value, "deno");
    assert_eq!(last.workdir, "/app");
}

#[test]
fn arg_and_env_substitution() {
    let last = final_stage(
        "ARG TAG=alpine\nARG UNUSED\nFROM denoland/deno:${TAG:-debian}\nARG TAG\nARG DIR=/srv\nENV APP=$DIR/app NAME=\"deno\"\nWORKDIR ${APP}\nUSER ${NAME}\nENV OTHER ${MISSING:-fallback}\n",
    );
    assert_eq!(last.image, "denoland/deno:alpine");
    assert_eq!(last.workdir, "/srv/app");
    assert_eq!(last.user.unwrap().value, "deno");
    assert_eq!(last.env["OTHER"], "fallback");
}

#[test]
fn env_wins_over_an_arg_of_the_same_name() {
    let last = final_stage("FROM a\nARG DIR=/from-arg\nENV DIR=/from-env\nWORKDIR $DIR\n");
    assert_eq!(last.workdir, "/from-env");
}

#[test]
fn run_target_through_the_upstream_entrypoint() {
    let last = final_stage(
        "FROM denoland/deno:alpine\nWORKDIR /app\nCMD [\"run\", \"-A\", \"src/main.ts\"]\n",
    );
    let target = last.run_target().unwrap();
    assert_eq!(target.path.as_deref(), Some("/app/src/main.ts"));
    assert_eq!(target.run.options, ["-A"]);
    assert_eq!(target.position.line, 3);
}

#[test]
fn run_target_through_an_explicit_entrypoint() {
    let last = final_stage(
        "FROM denoland/deno:alpine\nWORKDIR /srv\nENTRYPOINT [\"deno\", \"run\", \"--allow-net\", \"server.ts\"]\n",
    );
    assert_eq!(last.run_target().unwrap().path.as_deref(), Some("/srv/server.ts"));
    // A new ENTRYPOINT drops the CMD inherited from the image.
    assert!(last.cmd.is_none());
}

#[test]
fn copies_and_cache_steps_are_ordered() {
    let last = final_stage(
        "FROM denoland/deno:alpine\nWORKDIR /app\nCOPY --chown=deno:deno deno.json main.ts ./\nRUN cd /app && deno cache main.ts\nCOPY . .\n",
    );
    assert_eq!(last.placements.len(), 2);
    assert_eq!(last.placements[0].dest, "/app/");
    assert!(last.placements[0].chown);
    assert_eq!(last.cache_steps[0].entrypoints, ["/app/main.ts"]);
    let context = Path::new("/nonexistent");
    assert!(stage::places(&last.placements[0], "/app/main.ts", context));
    assert!(!stage::places(&last.placements[0], "/app/other.ts", context));
    assert!(stage::places(&last.placements[1], "/app/src/x.ts", context));
}

#[test]
fn cache_carried_from_another_stage() {
    let last = final_stage(
        "FROM denoland/deno:alpine AS build\nWORKDIR /app\nCOPY . .\nRUN deno cache main.ts\nFROM denoland/deno:alpine\nCOPY --from=build /deno-dir /deno-dir\n",
    );
    assert_eq!(last.cache_steps.len(), 1);
    assert_eq!(last.cache_steps[0].carried_from.as_deref(), Some("build"));
    assert_eq!(last.cache_steps[0].position.line, 6);
}

#[test]
fn ignore_comments_name_rules_for_the_next_instruction() {
    let file = parse(
        "FROM a\n# xtask-ignore: json-form, broad-permissions -- dev image\nCMD deno run -A x.ts\n",
    );
    assert_eq!(file.instructions[1].ignored_rules, ["json-form", "broad-permissions"]);
    assert!(file.instructions[0].ignored_rules.is_empty());
}

#[test]
fn parse_errors_carry_a_position() {
    let error = Containerfile::parse(Path::new("x"), "FROM a\nBOGUS x\n").unwrap_err();
    assert_eq!(error.position.line, 2);
    let error = Containerfile::parse(Path::new("x"), "").unwrap_err();
    assert!(!error.message.is_empty());
    let error = Containerfile::parse(Path::new("x"), "FROM a\nENV ONLY_A_NAME\n").unwrap_err();
    assert_eq!(error.position.line, 2);
}

/// The instruction as BuildKit's parser reports it, built from this model.
fn buildkit_view(instruction: &Instruction) -> Value {
    let (sub_cmd, shown) = match &instruction.kind {
        Kind::Onbuild(inner) => (Some(inner.keyword.to_lowercase()), inner.as_ref()),
        _ => (None, instruction),
    };
    let command = |command: &Command| match command {
        Command::Exec(words) => (true, words.clone()),
        Command::Shell(line) => (false, vec![first_line_if_heredoc(line, shown)]),
    };
    let (is_json, value): (bool, Vec<String>) = match &shown.kind {
        Kind::From { image, alias } => {
            let mut words = vec![image.clone()];
            if let Some(alias) = alias {
                words.extend(["as".to_string(), alias.clone()]);
            }
            (false, words)
        }
        Kind::Arg(words) => (false, words.clone()),
        Kind::Env(pairs) | Kind::Label(pairs) => {
            (false, pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect())
        }
        Kind::Run(c) | Kind::Cmd(c) | Kind::Entrypoint(c) => command(c),
        Kind::Copy { sources, dest } | Kind::Add { sources, dest } => {
            (false, sources.iter().chain([dest]).cloned().collect())
        }
        Kind::User(s) | Kind::Workdir(s) | Kind::Stopsignal(s) | Kind::Maintainer(s) => {
            (false, vec![s.clone()])
        }
        Kind::Expose(words) => (false, words.clone()),
        Kind::Volume { paths, json } => (*json, paths.clone()),
        Kind::Healthcheck(None) => (false, vec!["NONE".into()]),
        Kind::Healthcheck(Some(c)) => {
            let (is_json, words) = command(c);
            (is_json, std::iter::once("CMD".to_string()).chain(words).collect())
        }
        Kind::Shell(words) => (true, words.clone()),
        Kind::Onbuild(_) => unreachable!("ONBUILD ONBUILD is rejected by the parser"),
    };
    let flags: Vec<String> = shown
        .flags
        .iter()
        .map(|f| match &f.value {
            Some(value) => format!("--{}={value}", f.name),
            None => format!("--{}", f.name),
        })
        .collect();
    let heredocs: Vec<Value> = instruction
        .heredocs
        .iter()
        .map(|h| json!({ "name": h.name, "content": h.content }))
        .collect();
    json!({
        "cmd": instruction.keyword.to_lowercase(),
        "sub_cmd": sub_cmd,
        "json": is_json,
        "start_line": instruction.position.line,
        "end_line": instruction.end_line,
        "flags": flags,
        "value": value,
        "heredocs": heredocs,
    })
}

/// BuildKit keeps only the first line of a command that opens here-documents.
fn first_line_if_heredoc(line: &str, instruction: &Instruction) -> String {
    if instruction.heredocs.is_empty() {
        line.to_string()
    } else {
        line.lines().next().unwrap_or_default().to_string()
    }
}

/// BuildKit writes `AS` as it was written; compare it case-insensitively.
fn normalise(mut view: Value) -> Value {
    if view["cmd"] == "from" {
        if let Some(Value::String(word)) = view["value"].get_mut(1) {
            *word = word.to_lowercase();
        }
    }
    view
}

#[test]
fn agrees_with_buildkit_on_the_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "Containerfile"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has only {} files", files.len());

    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let output = std::process::Command::new(&python)
        .arg(corpus.join("buildkit_dump.py"))
        .args(&files)
        .output()
        .unwrap_or_else(|error| panic!("failed to run `{python}`: {error}"));
    assert!(
        output.status.success(),
        "buildkit_dump.py failed (install the bindings: `pip install dockerfile`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let buildkit: Value = serde_json::from_slice(&output.stdout).unwrap();

    let mut disagreements = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let expected = &buildkit[path.to_string_lossy().as_ref()];
        let text = std::fs::read_to_string(path).unwrap();
        match (Containerfile::parse(path, &text), expected.get("error")) {
            (Err(_), Some(_)) => {}
            (Err(error), None) => {
                disagreements.push(format!("{name}: only this model rejects it: {}", error.message))
            }
            (Ok(_), Some(error)) => {
                disagreements.push(format!("{name}: only BuildKit rejects it: {error}"))
            }
            (Ok(file), None) => {
                let ours: Vec<Value> =
                    file.instructions.iter().map(|i| normalise(buildkit_view(i))).collect();
                let theirs: Vec<Value> =
                    expected.as_array().unwrap().iter().cloned().map(normalise).collect();
                if ours.len() != theirs.len() {
                    disagreements.push(format!(
                        "{name}: {} instructions, BuildKit has {}",
                        ours.len(),
                        theirs.len()
                    ));
                }
                for (a, b) in ours.iter().zip(&theirs) {
                    if a != b {
                        disagreements.push(format!("{name}:\n  ours:     {a}\n  buildkit: {b}"));
                    }
                }
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn unterminated_heredoc_error_stays_on_the_last_line() {
    // The parser reports the end of input as the line after the final newline.
    let text = "FROM a\nRUN <<EOT\ndeno cache main.ts\nUSER deno\n";
    let error = Containerfile::parse(Path::new("Containerfile"), text).unwrap_err();
    assert_eq!(error.position, Position { line: 4, column: 10 });
    let error = Containerfile::parse(Path::new("Containerfile"), "FROM a\nRUN <<EOT").unwrap_err();
    assert_eq!(error.position.line, 2);
}

#[test]
fn more_than_256_stages_is_a_parse_error() {
    let stages = |count: usize| "FROM scratch\n".repeat(count);
    assert_eq!(parse(&stages(256)).instructions.len(), 256);
    let error = Containerfile::parse(Path::new("Containerfile"), &stages(300)).unwrap_err();
    assert_eq!(error.message, "more than 256 stages: the validator checks at most 256");
    assert_eq!(error.position, Position { line: 257, column: 1 });
}
