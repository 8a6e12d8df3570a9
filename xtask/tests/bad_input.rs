//! Runs the real `xtask validate` on input that is not a good Containerfile, or not one at all,
//! and checks that each gives a one-line error (exit 2) or findings (exit 1), never a panic.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh `server/` directory with a `.dockerignore` and the files the rules look for.
struct Server {
    root: PathBuf,
}

impl Server {
    fn new() -> Server {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("xtask-bad-{}-{n}", std::process::id()));
        std::fs::create_dir_all(root.join("server")).unwrap();
        std::fs::write(root.join("server/.dockerignore"), ".git\n.env\nnode_modules\n").unwrap();
        std::fs::write(root.join("server/main.ts"), "export {};\n").unwrap();
        Server { root }
    }

    fn with(self, name: &str, bytes: impl AsRef<[u8]>) -> Server {
        std::fs::write(self.root.join("server").join(name), bytes).unwrap();
        self
    }

    fn validate(&self, path: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["validate", path])
            .current_dir(&self.root)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .output()
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Exit status, stdout and stderr.
fn run(server: &Server, path: &str) -> (Option<i32>, String, String) {
    let output = server.validate(path);
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
    (output.status.code(), text(&output.stdout), text(&output.stderr))
}

/// The error `validate` gives for input it cannot check: exit 2, one line, nothing on stdout.
fn refused(message: &str) -> (Option<i32>, String, String) {
    (Some(2), String::new(), format!("error: {message}\n"))
}

/// The requirements block of a file that did not parse.
const UNPARSED: &str = "\
requirements:
  FAIL  deno-alpine-base        the Containerfile could not be parsed
  FAIL  app-baked-in            the Containerfile could not be parsed
  FAIL  runs-as-deno            the Containerfile could not be parsed
  FAIL  deps-cached             the Containerfile could not be parsed
  pass  containerfile-location  the Containerfile lives in `server/`
";

#[test]
fn empty_file_is_a_syntax_error() {
    let server = Server::new().with("Containerfile", "");
    let expected = format!(
        "\
error[syntax]: expected at least one FROM instruction
 --> server/Containerfile:1:1
  |
1 | 
  | ^

{UNPARSED}server/Containerfile: 1 of 5 requirements met; 1 error, 0 warnings, 0 notes
"
    );
    assert_eq!(run(&server, "server/Containerfile"), (Some(1), expected, String::new()));
}

#[test]
fn file_with_no_from_is_a_syntax_error() {
    let server = Server::new().with("Containerfile", "USER deno\nCMD [\"run\", \"main.ts\"]\n");
    let expected = format!(
        "\
error[syntax]: expected FROM at line 1 column 1
 --> server/Containerfile:1:1
  |
1 | USER deno
  | ^^^^

{UNPARSED}server/Containerfile: 1 of 5 requirements met; 1 error, 0 warnings, 0 notes
"
    );
    assert_eq!(run(&server, "server/Containerfile"), (Some(1), expected, String::new()));
}

#[test]
fn binary_file_is_refused() {
    // The start of an ELF executable: NUL bytes, and bytes that are not UTF-8.
    let mut elf =
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x3e\x00".to_vec();
    elf.extend([0x01, 0x00, 0x00, 0x00, 0x60, 0xe1, 0x00, 0x00, 0xff, 0xfe]);
    let server = Server::new().with("Containerfile", elf);
    let expected = refused("`server/Containerfile` is a binary file, not a Containerfile");
    assert_eq!(run(&server, "server/Containerfile"), expected);
}

#[test]
fn invalid_utf8_is_refused_with_its_place() {
    // `é` in Latin-1, in a comment on the second line.
    let server = Server::new().with("Containerfile", b"FROM denoland/deno:alpine\n# caf\xe9\n");
    let expected =
        refused("`server/Containerfile` is not UTF-8 text: invalid byte at line 2, column 6");
    assert_eq!(run(&server, "server/Containerfile"), expected);
    let server = Server::new().with("Containerfile", ["# ñ ".as_bytes(), b"\x81"].concat());
    let expected =
        refused("`server/Containerfile` is not UTF-8 text: invalid byte at line 1, column 5");
    assert_eq!(run(&server, "server/Containerfile"), expected);
}

#[test]
fn file_over_1_mib_is_refused_without_reading_it_all() {
    let mut text = "FROM denoland/deno:alpine\n".to_string();
    while text.len() < 20 * 1024 * 1024 {
        text.push_str("RUN echo 0123456789abcdef\n");
    }
    let server = Server::new().with("Containerfile", &text);
    let expected =
        refused("`server/Containerfile` is larger than 1 MiB, too large for a Containerfile");
    assert_eq!(run(&server, "server/Containerfile"), expected);

    #[cfg(unix)]
    assert_eq!(
        run(&server, "/dev/zero"),
        refused("`/dev/zero` is larger than 1 MiB, too large for a Containerfile")
    );
}

#[test]
fn file_of_exactly_1_mib_is_checked() {
    let mut text = "FROM denoland/deno:latest\n".to_string();
    while text.len() < 1024 * 1024 {
        text.push_str("#\n");
    }
    assert_eq!(text.len(), 1024 * 1024);
    let server = Server::new().with("Containerfile", &text);
    let (code, stdout, stderr) = run(&server, "server/Containerfile");
    assert_eq!((code, stderr.as_str()), (Some(1), ""));
    assert!(
        stdout.ends_with(
            "server/Containerfile: 1 of 5 requirements met; 4 errors, 0 warnings, 1 note\n"
        ),
        "{stdout}"
    );
}

#[test]
fn directory_is_refused() {
    let server = Server::new();
    let expected = refused("`server` is a directory, not a Containerfile");
    assert_eq!(run(&server, "server"), expected);
}

#[test]
fn missing_path_is_refused() {
    let server = Server::new();
    let expected =
        refused("failed to read `missing/Containerfile`: No such file or directory (os error 2)");
    assert_eq!(run(&server, "missing/Containerfile"), expected);
}

#[test]
fn ten_thousand_line_continuation_keeps_its_line_numbers() {
    let mut text =
        "FROM denoland/deno:alpine\nWORKDIR /app\nUSER deno\nCOPY --chown=deno:deno . .\n"
            .to_string();
    text.push_str("RUN deno cache main.ts \\\n");
    for n in 0..9998 {
        text.push_str(&format!("    && echo {n} \\\n"));
    }
    text.push_str("    && echo done\nUSER root\n");
    text.push_str("HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1\n");
    text.push_str("CMD [\"run\", \"--allow-net\", \"main.ts\"]\n");
    let server = Server::new().with("Containerfile", &text);
    let expected = "\
note[source-before-cache]: the source is copied before the dependencies are cached (line 5), so any source edit downloads them again
 --> server/Containerfile:4:1
  |
4 | COPY --chown=deno:deno . .
  | ^^^^
  = help: copy `deno.json` and `deno.lock` first, run `deno install`, then copy the rest and `deno cache main.ts`

error[runs-as-deno]: the final stage runs as `root`, not `deno`
     --> server/Containerfile:10005:1
      |
10005 | USER root
      | ^^^^
      = help: add `USER deno` to the final stage

requirements:
  pass  deno-alpine-base        the final stage is based on `denoland/deno:alpine`
  pass  app-baked-in            `/app/main.ts`, which the container runs, is copied into the image at line 4
  FAIL  runs-as-deno            the final stage runs as `root`, not `deno`
  pass  deps-cached             `/app/main.ts` is cached at line 5, after it is copied in
  pass  containerfile-location  the Containerfile lives in `server/`
server/Containerfile: 4 of 5 requirements met; 1 error, 0 warnings, 1 note
";
    assert_eq!(
        run(&server, "server/Containerfile"),
        (Some(1), expected.to_string(), String::new())
    );
}
