//! What each rule is for: the text behind `explain` and the SARIF rule metadata.

use super::Severity;

pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what the rule checks.
    pub title: &'static str,
    /// Why it matters.
    pub why: &'static str,
    pub before: &'static str,
    pub after: &'static str,
    pub link: &'static str,
    /// Requirements cannot be suppressed.
    pub requirement: bool,
}

const DOCKERFILE_REFERENCE: &str = "https://docs.docker.com/reference/dockerfile/";

pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        id: "deno-alpine-base",
        severity: Severity::Error,
        title: "the final stage is based on the `alpine` tag of `denoland/deno`",
        why: "The alpine variant is the smallest official Deno image. A pinned `alpine-X.Y.Z` tag, \
              with or without a digest, counts; ARGs and stage names are resolved first.",
        before: "FROM denoland/deno:debian",
        after: "FROM denoland/deno:alpine",
        link: "https://docs.docker.com/reference/dockerfile/#from",
        requirement: true,
    },
    RuleInfo {
        id: "app-baked-in",
        severity: Severity::Error,
        title: "the application is copied into the image",
        why: "An image that holds its application runs anywhere with one `run` command. One that \
              expects the source bind-mounted depends on a checkout on the host, at the right path.",
        before: "FROM denoland/deno:alpine\nCMD [\"run\", \"--allow-net\", \"/app/main.ts\"]",
        after: "FROM denoland/deno:alpine\nWORKDIR /app\nCOPY --chown=deno:deno . .\nCMD [\"run\", \"--allow-net\", \"main.ts\"]",
        link: "https://docs.docker.com/reference/dockerfile/#copy",
        requirement: true,
    },
    RuleInfo {
        id: "runs-as-deno",
        severity: Severity::Error,
        title: "the final stage's effective user is `deno`",
        why: "The upstream image sets no USER, so a container runs as root. A compromised server \
              then owns the container; as `deno` (uid 1000 in the alpine image) it owns little.",
        before: "CMD [\"run\", \"--allow-net\", \"main.ts\"]",
        after: "USER deno\nCMD [\"run\", \"--allow-net\", \"main.ts\"]",
        link: "https://docs.docker.com/reference/dockerfile/#user",
        requirement: true,
    },
    RuleInfo {
        id: "deps-cached",
        severity: Severity::Error,
        title: "the dependencies of the file the container runs are cached at build time",
        why: "Without `deno cache`, every container start downloads its dependencies: slow, and \
              impossible without a network. The cache must be made after the entry file is in \
              place, in the final image (a cache left in another stage does not count).",
        before: "COPY . .\nCMD [\"run\", \"--allow-net\", \"main.ts\"]",
        after: "COPY . .\nRUN deno cache main.ts\nCMD [\"run\", \"--allow-net\", \"main.ts\"]",
        link: "https://docs.deno.com/runtime/reference/cli/install/",
        requirement: true,
    },
    RuleInfo {
        id: "containerfile-location",
        severity: Severity::Error,
        title: "the Containerfile lives in `server/`",
        why: "Beside the application its directory is the build context, so `COPY . .` means the \
              server and nothing else.",
        before: "Containerfile\nserver/main.ts",
        after: "server/Containerfile\nserver/main.ts",
        link: "https://docs.docker.com/build/concepts/context/",
        requirement: true,
    },
    RuleInfo {
        id: "syntax",
        severity: Severity::Error,
        title: "the file parses",
        why: "A file the parser rejects cannot be built; the other rules need a parsed file.",
        before: "RUN <<EOF\necho never closed",
        after: "RUN <<EOF\necho closed\nEOF",
        link: DOCKERFILE_REFERENCE,
        requirement: false,
    },
    RuleInfo {
        id: "json-form",
        severity: Severity::Warning,
        title: "CMD and ENTRYPOINT use the JSON (exec) form",
        why: "The shell form runs the server under `/bin/sh -c`. The shell becomes the main \
              process and does not pass SIGTERM on, so `stop` waits for its timeout and kills.",
        before: "CMD deno run --allow-net main.ts",
        after: "CMD [\"run\", \"--allow-net\", \"main.ts\"]",
        link: "https://docs.docker.com/reference/dockerfile/#shell-and-exec-form",
        requirement: false,
    },
    RuleInfo {
        id: "duplicate-cmd",
        severity: Severity::Warning,
        title: "a stage has one CMD and one ENTRYPOINT at most",
        why: "Only the last of each takes effect; the earlier ones mislead whoever reads the file.",
        before: "CMD [\"run\", \"dev.ts\"]\nCMD [\"run\", \"main.ts\"]",
        after: "CMD [\"run\", \"main.ts\"]",
        link: "https://docs.docker.com/reference/dockerfile/#cmd",
        requirement: false,
    },
    RuleInfo {
        id: "broad-permissions",
        severity: Severity::Warning,
        title: "the server gets only the permissions it needs",
        why: "Deno denies by default. `-A`, `--allow-run`, `--allow-write`, `--allow-ffi` and \
              `--allow-sys` throw that away: a flaw in the server or a dependency could then run \
              programs or write files. The chat server needs net, env and read.",
        before: "CMD [\"run\", \"-A\", \"main.ts\"]",
        after: "CMD [\"run\", \"--allow-net\", \"--allow-env\", \"--allow-read\", \"main.ts\"]",
        link: "https://docs.deno.com/runtime/fundamentals/security/",
        requirement: false,
    },
    RuleInfo {
        id: "relative-workdir",
        severity: Severity::Warning,
        title: "WORKDIR is absolute",
        why: "A relative WORKDIR is resolved against the previous one, which may come from the \
              base image and change without notice.",
        before: "WORKDIR app",
        after: "WORKDIR /app",
        link: "https://docs.docker.com/reference/dockerfile/#workdir",
        requirement: false,
    },
    RuleInfo {
        id: "missing-healthcheck",
        severity: Severity::Info,
        title: "the final stage has a HEALTHCHECK",
        why: "A running process is not a working server. A HEALTHCHECK lets the engine (and \
              `ps`) report a server that hangs or lost its database.",
        before: "CMD [\"run\", \"--allow-net\", \"main.ts\"]",
        after: "HEALTHCHECK CMD wget -q -O /dev/null http://127.0.0.1:8000/health || exit 1\nCMD [\"run\", \"--allow-net\", \"main.ts\"]",
        link: "https://docs.docker.com/reference/dockerfile/#healthcheck",
        requirement: false,
    },
    RuleInfo {
        id: "dockerignore",
        severity: Severity::Warning,
        title: "a `.dockerignore` keeps `.git`, `.env` and `node_modules` out of the build context",
        why: "Everything in the context is sent to the builder, and `COPY . .` puts it in the \
              image: history, local secrets, bulky or platform-specific modules.",
        before: "(no .dockerignore)",
        after: ".git\n.env\nnode_modules",
        link: "https://docs.docker.com/build/concepts/context/#dockerignore-files",
        requirement: false,
    },
    RuleInfo {
        id: "secret-env",
        severity: Severity::Warning,
        title: "no secret-looking names in ARG or ENV",
        why: "ARG and ENV values are stored in the image's metadata and history, readable by \
              anyone who can pull it. Names ending in `_FILE` or `_PATH` point at a secret and \
              are fine.",
        before: "ENV PGPASSWORD=hunter2",
        after: "# at run time: run -e PGPASSWORD ...\nENV PGPASSWORD_FILE=/run/secrets/pg",
        link: "https://docs.docker.com/build/building/secrets/",
        requirement: false,
    },
    RuleInfo {
        id: "source-before-cache",
        severity: Severity::Info,
        title: "dependencies are cached before the source is copied",
        why: "Layers are reused until the first changed input. When the whole source is copied \
              before the cache step, editing any file re-downloads every dependency.",
        before: "COPY . .\nRUN deno cache main.ts",
        after: "COPY deno.json deno.lock ./\nRUN deno install\nCOPY . .\nRUN deno cache main.ts",
        link: "https://docs.docker.com/build/cache/optimize/",
        requirement: false,
    },
    RuleInfo {
        id: "user-before-write",
        severity: Severity::Warning,
        title: "a step that runs as a non-root user can write where it needs to",
        why: "COPY creates files owned by root unless `--chown` says otherwise. Deno 2 writes \
              `deno.lock` beside `deno.json`, so `deno cache` run as `deno` over root-owned files \
              fails with a permission error. With `--frozen` it only checks the lockfile, and \
              root-owned files are better: the server cannot rewrite its own code.",
        before: "USER deno\nCOPY deno.json deno.lock ./\nRUN deno install",
        after: "USER deno\nCOPY deno.json deno.lock ./\nRUN deno install --frozen",
        link: "https://docs.docker.com/reference/dockerfile/#copy---chown---chmod",
        requirement: false,
    },
    RuleInfo {
        id: "prefer-copy",
        severity: Severity::Info,
        title: "COPY for local files, ADD only for URLs and archives",
        why: "ADD also unpacks local archives and fetches URLs; for plain files COPY says exactly \
              what happens. (Tutorials often write ADD; it works, it is just less explicit.)",
        before: "ADD . /app",
        after: "COPY . /app",
        link: "https://docs.docker.com/reference/dockerfile/#add",
        requirement: false,
    },
];

pub fn find(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|rule| rule.id == id)
}
