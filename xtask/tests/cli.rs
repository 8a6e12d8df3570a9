//! Runs the real `xtask` binary on Containerfiles written for each case and checks its exact
//! output and exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

const GOOD: &str = "\
FROM denoland/deno:alpine
WORKDIR /app
USER deno
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno install --frozen
COPY --chown=deno:deno . .
RUN deno cache --frozen main.ts
HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1
CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]
";

const IGNORE: &str = ".git\n.env\nnode_modules\n";

/// A build context in a fresh temporary directory named `dir` (normally `server`).
struct Context {
    root: PathBuf,
    dir: PathBuf,
}

impl Context {
    fn new(dir: &str) -> Context {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("xtask-cli-{}-{n}", std::process::id()));
        let dir_path = root.join(dir);
        std::fs::create_dir_all(&dir_path).unwrap();
        for file in ["main.ts", "deno.json", "deno.lock"] {
            std::fs::write(dir_path.join(file), "{}\n").unwrap();
        }
        std::fs::create_dir_all(dir_path.join("src")).unwrap();
        std::fs::write(dir_path.join("src/app.ts"), "export {};\n").unwrap();
        Context { root, dir: dir_path }
    }

    fn with(self, name: &str, text: &str) -> Context {
        std::fs::write(self.dir.join(name), text).unwrap();
        self
    }

    fn server(containerfile: &str) -> Context {
        Context::new("server").with("Containerfile", containerfile).with(".dockerignore", IGNORE)
    }

    fn validate(&self, format: &str) -> Output {
        xtask(&self.root, &["validate", "server/Containerfile", "--format", format])
    }

    fn json(&self) -> (i32, Value) {
        let output = self.validate("json");
        let value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
        (output.status.code().unwrap(), value)
    }

    /// `severity rule line` for each finding, and the failed requirement ids.
    fn summary(&self) -> (i32, Vec<String>, Vec<String>) {
        let (code, value) = self.json();
        let findings = value["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {} {}",
                    f["severity"].as_str().unwrap(),
                    f["rule"].as_str().unwrap(),
                    f["line"]
                )
            })
            .collect();
        let failed = value["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "fail")
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect();
        (code, findings, failed)
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn xtask(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The good file with `from` replaced by `to`.
fn good_with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "`{from}` is not in the good file");
    GOOD.replacen(from, to, 1)
}

#[test]
fn good_file_passes_with_exact_json() {
    let (code, value) = Context::server(GOOD).json();
    assert_eq!(code, 0);
    assert_eq!(
        value,
        json!({
            "file": "server/Containerfile",
            "requirements": [
                { "id": "deno-alpine-base", "status": "pass", "line": 1,
                  "message": "the final stage is based on `denoland/deno:alpine`" },
                { "id": "app-baked-in", "status": "pass", "line": 6,
                  "message": "`/app/main.ts`, which the container runs, is copied into the image at line 6" },
                { "id": "runs-as-deno", "status": "pass", "line": 3,
                  "message": "the final stage runs as `deno`" },
                { "id": "deps-cached", "status": "pass", "line": 7,
                  "message": "`/app/main.ts` is cached at line 7, after it is copied in" },
                { "id": "containerfile-location", "status": "pass", "line": null,
                  "message": "the Containerfile lives in `server/`" },
            ],
            "findings": [],
        })
    );
}

#[test]
fn naive_file_fails_with_exact_json() {
    let naive = "FROM denoland/deno:latest\nCOPY . /app\nCMD deno run -A /app/main.ts\n";
    let (code, value) = Context::server(naive).json();
    assert_eq!(code, 1);
    assert_eq!(
        value,
        json!({
            "file": "server/Containerfile",
            "requirements": [
                { "id": "deno-alpine-base", "status": "fail", "line": 1,
                  "message": "`denoland/deno:latest` uses the `latest` tag, not `alpine`" },
                { "id": "app-baked-in", "status": "pass", "line": 2,
                  "message": "`/app/main.ts`, which the container runs, is copied into the image at line 2" },
                { "id": "runs-as-deno", "status": "fail", "line": null,
                  "message": "no USER is set, so the container runs as root" },
                { "id": "deps-cached", "status": "fail", "line": 3,
                  "message": "nothing caches `/app/main.ts`, which the container runs" },
                { "id": "containerfile-location", "status": "pass", "line": null,
                  "message": "the Containerfile lives in `server/`" },
            ],
            "findings": [
                { "rule": "runs-as-deno", "severity": "error", "line": null, "column": null,
                  "message": "no USER is set, so the container runs as root",
                  "help": "add `USER deno` to the final stage" },
                { "rule": "deno-alpine-base", "severity": "error", "line": 1, "column": 1,
                  "message": "`denoland/deno:latest` uses the `latest` tag, not `alpine`",
                  "help": "use `FROM denoland/deno:alpine`, or a pinned `denoland/deno:alpine-X.Y.Z`" },
                { "rule": "missing-healthcheck", "severity": "info", "line": 1, "column": 1,
                  "message": "the final stage has no HEALTHCHECK, so the engine cannot tell a hung server from a healthy one",
                  "help": "add e.g. `HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1`" },
                { "rule": "deps-cached", "severity": "error", "line": 3, "column": 1,
                  "message": "nothing caches `/app/main.ts`, which the container runs",
                  "help": "after copying it, add `RUN deno cache /app/main.ts`" },
                { "rule": "json-form", "severity": "warning", "line": 3, "column": 1,
                  "message": "CMD in shell form runs under `/bin/sh -c`, which does not pass SIGTERM on",
                  "help": "write it as a JSON array: CMD [\"run\", \"--allow-net\", \"main.ts\"]" },
                { "rule": "broad-permissions", "severity": "warning", "line": 3, "column": 1,
                  "message": "`-A` grants more than the server needs",
                  "help": "grant only `--allow-net --allow-env --allow-read`" },
            ],
        })
    );
}

#[test]
fn text_output_is_exact() {
    let file = good_with("USER deno\n", "USER root\n");
    let output = Context::server(&file).validate("text");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "\
error[runs-as-deno]: the final stage runs as `root`, not `deno`
 --> server/Containerfile:3:1
  |
3 | USER root
  | ^^^^
  = help: add `USER deno` to the final stage

requirements:
  pass  deno-alpine-base        the final stage is based on `denoland/deno:alpine`
  pass  app-baked-in            `/app/main.ts`, which the container runs, is copied into the image at line 6
  FAIL  runs-as-deno            the final stage runs as `root`, not `deno`
  pass  deps-cached             `/app/main.ts` is cached at line 7, after it is copied in
  pass  containerfile-location  the Containerfile lives in `server/`
server/Containerfile: 4 of 5 requirements met; 1 error, 0 warnings, 0 notes
"
    );
}

#[test]
fn github_output_escapes_and_annotates() {
    let file = good_with(
        "CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]",
        "CMD deno run -A main.ts",
    );
    let output = Context::server(&file).validate("github");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        "\
::warning file=server/Containerfile,line=9,col=1,title=json-form::CMD in shell form runs under `/bin/sh -c`, which does not pass SIGTERM on%0Ahelp: write it as a JSON array: CMD [\"run\", \"--allow-net\", \"main.ts\"]
::warning file=server/Containerfile,line=9,col=1,title=broad-permissions::`-A` grants more than the server needs%0Ahelp: grant only `--allow-net --allow-env --allow-read`
server/Containerfile: 5 of 5 requirements met
"
    );
}

#[test]
fn github_format_is_the_default_in_actions() {
    let context = Context::server(&good_with("USER deno\n", ""));
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["validate", "server/Containerfile"])
        .current_dir(&context.root)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert!(stdout(&output).starts_with("::error file=server/Containerfile,title=runs-as-deno::"));
}

#[test]
fn sarif_output_carries_rules_and_results() {
    let output = Context::server(&good_with("USER deno\n", "USER nobody\n")).validate("sarif");
    assert_eq!(output.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(
        |r| r["id"] == "deps-cached" && r["helpUri"].as_str().unwrap().starts_with("https://")
    ));
    assert_eq!(
        run["results"],
        json!([{
            "ruleId": "runs-as-deno",
            "ruleIndex": 2,
            "level": "error",
            "message": { "text": "the final stage runs as `nobody`, not `deno` (help: add `USER deno` to the final stage)" },
            "locations": [{ "physicalLocation": {
                "artifactLocation": { "uri": "server/Containerfile", "uriBaseId": "%SRCROOT%" },
                "region": { "startLine": 3, "startColumn": 1 },
            }}],
        }])
    );
}

fn assert_case(containerfile: &str, code: i32, findings: &[&str], failed: &[&str]) {
    let (actual_code, actual_findings, actual_failed) = Context::server(containerfile).summary();
    assert_eq!(
        (actual_code, actual_findings.as_slice(), actual_failed.as_slice()),
        (
            code,
            findings.iter().map(|s| s.to_string()).collect::<Vec<_>>().as_slice(),
            failed.iter().map(|s| s.to_string()).collect::<Vec<_>>().as_slice()
        ),
        "for:\n{containerfile}"
    );
}

#[test]
fn base_image_requirement() {
    let base = |from: &str| good_with("FROM denoland/deno:alpine\n", from);
    let digest = "sha256:".to_string() + &"0".repeat(64);
    assert_case(&base("FROM denoland/deno:alpine-2.1.4\n"), 0, &[], &[]);
    assert_case(&base(&format!("FROM docker.io/denoland/deno:alpine@{digest}\n")), 0, &[], &[]);
    assert_case(
        &base("ARG TAG=alpine\nFROM --platform=$BUILDPLATFORM denoland/deno:${TAG}\n"),
        0,
        &[],
        &[],
    );
    let chain = "FROM denoland/deno:alpine AS base\nFROM base AS app\n";
    assert_case(&base(chain), 0, &[], &[]);
    let failed = ["deno-alpine-base"];
    assert_case(&base("FROM denoland/deno:debian\n"), 1, &["error deno-alpine-base 1"], &failed);
    assert_case(&base("FROM denoland/deno\n"), 1, &["error deno-alpine-base 1"], &failed);
    assert_case(
        &base(&format!("FROM denoland/deno@{digest}\n")),
        1,
        &["error deno-alpine-base 1"],
        &failed,
    );
    assert_case(
        &base("FROM denoland/deno:alpine-latest\n"),
        1,
        &["error deno-alpine-base 1"],
        &failed,
    );
    // With the base unknown, `CMD ["run", ...]` cannot be read as a deno command either.
    let unknown = base("ARG IMAGE\nFROM $IMAGE\n");
    assert_case(
        &unknown,
        1,
        &["error deps-cached null", "error deno-alpine-base 2"],
        &[failed[0], "deps-cached"],
    );
    let other_final = format!("{GOOD}FROM node:alpine\nUSER deno\nCOPY . .\n");
    let (code, _, failed_ids) = Context::server(&other_final).summary();
    assert_eq!((code, failed_ids.contains(&"deno-alpine-base".to_string())), (1, true));
}

#[test]
fn baked_in_requirement() {
    let file = good_with("COPY --chown=deno:deno . .\n", "");
    let file = file.replace("RUN deno cache --frozen main.ts\n", "");
    assert_case(
        &file,
        1,
        &["error deps-cached 5", "error app-baked-in 7"],
        &["app-baked-in", "deps-cached"],
    );
}

#[test]
fn user_requirement() {
    assert_case(&good_with("USER deno\n", ""), 1, &["error runs-as-deno null"], &["runs-as-deno"]);
    assert_case(&good_with("USER deno\n", "USER deno:deno\n"), 0, &[], &[]);
    assert_case(&good_with("USER deno\n", "USER 1000:1000\n"), 0, &[], &[]);
    assert_case(
        &good_with("USER deno\n", "USER 1993\n"),
        1,
        &["error runs-as-deno 3"],
        &["runs-as-deno"],
    );
    let switched_back = good_with("CMD [", "USER root\nCMD [");
    assert_case(&switched_back, 1, &["error runs-as-deno 9"], &["runs-as-deno"]);
}

#[test]
fn deps_cached_requirement() {
    let no_cache = good_with("RUN deno cache --frozen main.ts\n", "");
    assert_case(&no_cache, 1, &["error deps-cached 5"], &["deps-cached"]);

    let before_copy = "FROM denoland/deno:alpine\nWORKDIR /app\nUSER deno\nRUN deno cache main.ts\nCOPY --chown=deno:deno . .\nHEALTHCHECK NONE\nCMD [\"run\", \"main.ts\"]\n";
    assert_case(before_copy, 1, &["error deps-cached 4"], &["deps-cached"]);

    let other_stage = "FROM denoland/deno:alpine AS build\nWORKDIR /app\nCOPY . .\nRUN deno cache main.ts\nFROM denoland/deno:alpine\nWORKDIR /app\nUSER deno\nCOPY --chown=deno:deno . .\nHEALTHCHECK NONE\nCMD [\"run\", \"main.ts\"]\n";
    assert_case(other_stage, 1, &["error deps-cached 4"], &["deps-cached"]);

    let carried = other_stage.replace(
        "USER deno\n",
        "USER deno\nCOPY --from=build --chown=deno:deno /deno-dir /deno-dir\n",
    );
    assert_case(&carried, 0, &[], &[]);

    let heredoc = good_with(
        "RUN deno cache --frozen main.ts\n",
        "RUN <<EOF\nset -e\ndeno cache main.ts\nEOF\n",
    );
    assert_case(&heredoc, 0, &[], &[]);
    let install = good_with(
        "RUN deno cache --frozen main.ts\n",
        "RUN [\"deno\", \"install\", \"-e\", \"main.ts\"]\n",
    );
    assert_case(&install, 0, &[], &[]);
    let elsewhere = good_with("RUN deno cache --frozen main.ts\n", "RUN deno cache src/app.ts\n");
    assert_case(&elsewhere, 1, &["error deps-cached 5"], &["deps-cached"]);
    let entrypoint = good_with(
        "CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]",
        "ENTRYPOINT [\"deno\", \"run\", \"--allow-net\", \"src/app.ts\"]",
    );
    assert_case(&entrypoint, 1, &["error deps-cached 5"], &["deps-cached"]);
}

#[test]
fn location_requirement() {
    let context = Context::new("app").with("Containerfile", GOOD).with(".dockerignore", IGNORE);
    let output = xtask(&context.root, &["validate", "app/Containerfile", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        value["findings"][0],
        json!({ "rule": "containerfile-location", "severity": "error", "line": null, "column": null,
                "message": "the Containerfile lives in `app/`, not in `server/`",
                "help": "move it to `server/Containerfile`, beside the application" })
    );
}

#[test]
fn practice_rules_fire_and_stay_quiet() {
    let cmd = "CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]";
    assert_case(
        &good_with(cmd, "CMD deno run --allow-net main.ts"),
        0,
        &["warning json-form 9"],
        &[],
    );
    assert_case(
        &good_with(cmd, &format!("CMD [\"run\", \"x.ts\"]\n{cmd}")),
        0,
        &["warning duplicate-cmd 9"],
        &[],
    );
    let broad =
        good_with("\"--allow-read\"", "\"--allow-read\", \"--allow-write\", \"--allow-run=sh\"");
    assert_case(&broad, 0, &["warning broad-permissions 9", "warning broad-permissions 9"], &[]);
    assert_case(
        &good_with("WORKDIR /app\n", "WORKDIR /srv\nWORKDIR app\n"),
        0,
        &["warning relative-workdir 3"],
        &[],
    );
    let no_check = good_with(
        "HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1\n",
        "",
    );
    assert_case(&no_check, 0, &["info missing-healthcheck 1"], &[]);
    let secrets = good_with(
        "USER deno\n",
        "USER deno\nARG API_TOKEN\nENV PGPASSWORD=x PGPASSWORD_FILE=/run/pg\n",
    );
    assert_case(&secrets, 0, &["warning secret-env 4", "warning secret-env 5"], &[]);
    let naive =
        good_with("COPY --chown=deno:deno deno.json deno.lock ./\nRUN deno install --frozen\n", "");
    assert_case(&naive, 0, &["info source-before-cache 4"], &[]);
    let unowned = good_with(
        "COPY --chown=deno:deno deno.json deno.lock ./\nRUN deno install --frozen\n",
        "COPY deno.json deno.lock ./\nRUN deno install\n",
    );
    assert_case(&unowned, 0, &["warning user-before-write 5"], &[]);
    // A frozen install only reads the lockfile: root-owned files are no obstacle.
    let frozen = good_with("COPY --chown=deno:deno deno.json", "COPY deno.json");
    assert_case(&frozen, 0, &[], &[]);
    assert_case(
        &good_with("COPY --chown=deno:deno . .", "ADD --chown=deno:deno . ."),
        0,
        &["info prefer-copy 6"],
        &[],
    );
    let url = good_with("USER deno\n", "USER deno\nADD https://example.org/a.tar.gz /tmp/\n");
    assert_case(&url, 0, &[], &[]);
}

#[test]
fn dockerignore_rule() {
    let missing = Context::new("server").with("Containerfile", GOOD);
    let (code, findings, _) = missing.summary();
    assert_eq!((code, findings), (0, vec!["warning dockerignore null".to_string()]));

    let leaky =
        Context::new("server").with("Containerfile", GOOD).with(".dockerignore", ".git\n*.log\n");
    let (_, value) = leaky.json();
    assert_eq!(
        value["findings"][0]["message"],
        "`.dockerignore` lets `.env`, `node_modules` into the build context"
    );

    let negated = Context::new("server")
        .with("Containerfile", GOOD)
        .with(".dockerignore", "*\n!main.ts\n!src\n");
    assert_eq!(negated.summary().1, Vec::<String>::new());
}

#[test]
fn ignore_comments_silence_rules_but_not_requirements() {
    let silenced = good_with(
        "CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]",
        "# xtask-ignore: json-form, broad-permissions -- a debugging image\nCMD deno run -A main.ts",
    );
    assert_case(&silenced, 0, &[], &[]);
    let requirement = good_with("USER deno\n", "# xtask-ignore: runs-as-deno -- no\nUSER root\n");
    assert_case(&requirement, 1, &["error runs-as-deno 4"], &["runs-as-deno"]);
}

#[test]
fn syntax_errors_are_findings() {
    let (code, findings, failed) = Context::server("FROM denoland/deno:alpine\nRUNN x\n").summary();
    assert_eq!(code, 1);
    assert_eq!(findings, ["error syntax 2"]);
    assert_eq!(failed, ["deno-alpine-base", "app-baked-in", "runs-as-deno", "deps-cached"]);
    let (code, findings, _) = Context::server("").summary();
    assert_eq!((code, findings.len()), (1, 1));
}

#[test]
fn usage_errors_exit_2() {
    let output = xtask(Path::new("."), &["validate", "--format", "yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("invalid value 'yaml' for '--format <FORMAT>'"));
    let output = xtask(Path::new("."), &["explain", "no-such-rule"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: no rule named `no-such-rule`\nhint: `cargo xtask explain --list` lists them\n"
    );
}

#[test]
fn explain_every_rule() {
    let list = xtask(Path::new("."), &["explain", "--list"]);
    assert_eq!(list.status.code(), Some(0));
    let listed = stdout(&list);
    assert!(listed.contains("# xtask-ignore: rule-id[, other-rule] -- the reason"));
    let ids: Vec<String> = listed
        .lines()
        .take_while(|line| !line.is_empty())
        .map(|line| line.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 16);
    for id in &ids {
        let output = xtask(Path::new("."), &["explain", id]);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(0));
        assert!(text.starts_with(&format!("{id}: ")), "{text}");
        assert!(
            text.contains("\nbefore:\n")
                && text.contains("\nafter:\n")
                && text.contains("\nsee: https://"),
            "{text}"
        );
    }
}

#[test]
fn help_lists_every_command() {
    let output = xtask(Path::new("."), &["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for command in [
        "validate",
        "build-image",
        "smoke",
        "compare",
        "verify",
        "explain",
        "offline-images",
        "bench",
        "ci",
    ] {
        assert!(help.contains(&format!("\n  {command} ")), "`{command}` missing from:\n{help}");
    }
}

#[test]
fn finds_the_containerfile_or_says_which_to_delete() {
    let both = Context::server(GOOD).with("Dockerfile", GOOD);
    let output = xtask(&both.root, &["validate", "server/Dockerfile", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    // The default path is the project's own server directory.
    let output = xtask(
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap(),
        &["validate", "--format", "json"],
    );
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["file"], "server/Containerfile");
}
