//! Resolves what each stage of a Containerfile produces: variables, base image (through stage
//! names), user, working directory, copied files, dependency-cache steps, and the command.

use std::collections::HashMap;
use std::path::Path;

use super::deno::{self, CacheCommand, DenoRun};
use super::words::{Scope, Variables, expand};
use super::{Command, Containerfile, Instruction, Kind, Position};

/// How many variables, copies, sources of one copy and cache steps a stage records; real
/// stages hold a handful of each. Past this, more are left out: every `FROM <stage>` starts
/// from a copy of that stage, and the rules compare copies with cache steps, so unbounded
/// state would let a hostile file make the work grow quadratically.
const MAX_RECORDED: usize = 1024;

/// A value and the instruction that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub position: Position,
}

/// `COPY` or `ADD`, resolved.
#[derive(Debug, Clone)]
pub struct Placement {
    pub sources: Vec<String>,
    /// Absolute destination, ending in `/` when it is a directory.
    pub dest: String,
    /// `--from`: another stage or image.
    pub from: Option<String>,
    pub chown: bool,
    pub position: Position,
    /// Index of the instruction in the file.
    pub index: usize,
}

/// A build step that caches dependencies.
#[derive(Debug, Clone)]
pub struct CacheStep {
    /// Absolute paths of the entry files cached.
    pub entrypoints: Vec<String>,
    pub configured_dependencies: bool,
    /// `--frozen`: the step never writes the lockfile.
    pub frozen: bool,
    /// The directory the command ran in.
    pub directory: String,
    pub user: Option<String>,
    pub position: Position,
    pub index: usize,
    /// The stage it ran in, when it was carried over from another stage.
    pub carried_from: Option<String>,
}

/// Everything known about one stage after its instructions.
#[derive(Debug, Clone)]
pub struct Stage {
    pub index: usize,
    pub name: Option<String>,
    /// The `FROM` instruction's index in the file.
    pub from_index: usize,
    pub from_position: Position,
    /// The `FROM` argument with variables resolved.
    pub base: String,
    /// The external image at the root of the `FROM <stage>` chain.
    pub image: String,
    /// Indices of the stages this one builds on, nearest first.
    pub parents: Vec<usize>,
    pub user: Option<Located<String>>,
    pub workdir: String,
    pub env: HashMap<String, String>,
    pub placements: Vec<Placement>,
    pub cache_steps: Vec<CacheStep>,
    pub cmd: Option<Located<Command>>,
    pub entrypoint: Option<Located<Command>>,
    pub healthcheck: Option<Position>,
    /// The instruction indices that belong to this stage (after its `FROM`).
    pub instructions: std::ops::Range<usize>,
}

/// The program the final image runs, when it is a deno script.
#[derive(Debug, Clone)]
pub struct RunTarget {
    pub run: DenoRun,
    /// Absolute path of the script.
    pub path: Option<String>,
    pub position: Position,
}

impl Stage {
    /// The deno program this stage's container runs.
    pub fn run_target(&self) -> Option<RunTarget> {
        let argv = deno::container_argv(
            self.entrypoint.as_ref().map(|e| &e.value),
            self.cmd.as_ref().map(|c| &c.value),
        );
        let args = deno::deno_arguments(&argv)?;
        let run = deno::parse_run(&args)?;
        let position = match (&self.cmd, &self.entrypoint) {
            (Some(cmd), Some(entry)) => cmd.position.max(entry.position),
            (Some(cmd), None) => cmd.position,
            (None, Some(entry)) => entry.position,
            (None, None) => self.from_position,
        };
        let path = match run.subcommand.as_str() {
            "task" => None,
            _ => run.script.as_deref().map(|script| absolute(&self.workdir, script)),
        };
        Some(RunTarget { run, path, position })
    }
}

/// Joins `path` onto `base` unless it is absolute, and normalises `.` and `..`.
pub fn absolute(base: &str, path: &str) -> String {
    let joined = if path.starts_with('/') { path.to_string() } else { format!("{base}/{path}") };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    let mut normal = format!("/{}", parts.join("/"));
    if (path.ends_with('/') || path.ends_with("/.") || path == ".") && normal != "/" {
        normal.push('/');
    }
    normal
}

/// Whether `placement` puts a file at the absolute path `target`, judging directory sources
/// by the build context at `context` when it is readable.
pub fn places(placement: &Placement, target: &str, context: &Path) -> bool {
    let dest_is_dir = placement.dest.ends_with('/') || placement.sources.len() > 1;
    placement.sources.iter().any(|source| {
        let source = source.trim_start_matches("./");
        let whole_tree = source.is_empty() || source == "." || source == "/";
        let on_disk = context.join(source);
        let is_dir = whole_tree
            || source.ends_with('/')
            || (placement.from.is_none() && on_disk.is_dir())
            || (placement.from.is_none() && !on_disk.exists() && !source.contains(['.', '*', '?']));
        let dir = placement.dest.trim_end_matches('/');
        if is_dir {
            // A directory's contents land in the destination.
            let Some(relative) = target.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) else {
                return false;
            };
            if whole_tree || placement.from.is_some() || !context.join(source).is_dir() {
                return true;
            }
            context.join(source).join(relative).exists()
        } else if dest_is_dir || source.contains(['*', '?']) {
            let name = source.rsplit('/').next().unwrap_or(source);
            let (parent, target_name) = target.rsplit_once('/').unwrap_or(("", target));
            parent == dir && glob_match(name, target_name)
        } else {
            target == placement.dest
        }
    })
}

/// `*` and `?` globbing on one path segment.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), name.chars().collect());
    let (mut p, mut n, mut star, mut mark) = (0, 0, None, 0);
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = n;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            n = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// What the upstream deno image sets, so that a stage built on it inherits the right state.
fn image_defaults(image: &str, stage: &mut Stage) {
    if image_repository(image) == "denoland/deno" {
        stage.env.insert("DENO_DIR".into(), "/deno-dir/".into());
        let position = stage.from_position;
        let entry = ["/tini", "--", "docker-entrypoint.sh"].map(String::from).to_vec();
        stage.entrypoint = Some(Located { value: Command::Exec(entry), position });
        let cmd = ["eval", "console.log('Welcome to Deno!')"].map(String::from).to_vec();
        stage.cmd = Some(Located { value: Command::Exec(cmd), position });
    }
}

/// `denoland/deno` for `docker.io/denoland/deno:alpine@sha256:...`.
pub fn image_repository(reference: &str) -> &str {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = without_digest.rfind('/').map_or(0, |at| at + 1);
    let name_end =
        without_digest[last_slash..].find(':').map_or(without_digest.len(), |at| at + last_slash);
    let name = &without_digest[..name_end];
    name.strip_prefix("docker.io/")
        .or_else(|| name.strip_prefix("index.docker.io/"))
        .unwrap_or(name)
}

/// Resolves every stage of `file`, in order.
pub fn resolve(file: &Containerfile) -> Vec<Stage> {
    let escape = file.escape;
    let mut global_args: HashMap<String, String> = HashMap::new();
    let mut stages: Vec<Stage> = Vec::new();

    let mut index = 0;
    while index < file.instructions.len() {
        let instruction = &file.instructions[index];
        match &instruction.kind {
            Kind::Arg(words) if stages.is_empty() => {
                for word in words {
                    let (name, value) = split_arg(word, escape, &global_args);
                    global_args.insert(name, value.unwrap_or_default());
                }
                index += 1;
            }
            Kind::From { image, alias } => {
                let end = file.instructions[index + 1..]
                    .iter()
                    .position(|i| matches!(i.kind, Kind::From { .. }))
                    .map_or(file.instructions.len(), |at| at + index + 1);
                let base = expand(image, escape, &global_args);
                let stage = new_stage(&stages, index, instruction, base, alias.clone(), end);
                let stage = run_instructions(file, stage, &stages, &global_args);
                stages.push(stage);
                index = end;
            }
            _ => index += 1,
        }
    }
    stages
}

fn new_stage(
    stages: &[Stage],
    index: usize,
    from: &Instruction,
    base: String,
    name: Option<String>,
    end: usize,
) -> Stage {
    let parent = find_stage(stages, &base);
    let mut stage = match parent {
        Some(parent) => {
            let mut stage = stages[parent].clone();
            stage.parents.insert(0, parent);
            stage
        }
        None => Stage {
            index: 0,
            name: None,
            from_index: index,
            from_position: from.position,
            base: base.clone(),
            image: base.clone(),
            parents: vec![],
            user: None,
            workdir: "/".into(),
            env: HashMap::new(),
            placements: vec![],
            cache_steps: vec![],
            cmd: None,
            entrypoint: None,
            healthcheck: None,
            instructions: 0..0,
        },
    };
    stage.index = stages.len();
    stage.name = name.map(|n| n.to_lowercase());
    stage.from_index = index;
    stage.from_position = from.position;
    stage.base = base;
    stage.instructions = index + 1..end;
    if parent.is_none() {
        let image = stage.image.clone();
        image_defaults(&image, &mut stage);
    }
    stage
}

/// A stage named `reference` (names are case-insensitive), or numbered.
pub fn find_stage(stages: &[Stage], reference: &str) -> Option<usize> {
    let lower = reference.to_lowercase();
    stages
        .iter()
        .position(|s| s.name.as_deref() == Some(lower.as_str()))
        .or_else(|| reference.parse::<usize>().ok().filter(|&n| n < stages.len()))
}

fn split_arg(word: &str, escape: char, vars: &impl Variables) -> (String, Option<String>) {
    match word.split_once('=') {
        Some((name, value)) => (name.to_string(), Some(expand(value, escape, vars))),
        None => (word.to_string(), None),
    }
}

fn run_instructions(
    file: &Containerfile,
    mut stage: Stage,
    earlier: &[Stage],
    global_args: &HashMap<String, String>,
) -> Stage {
    let escape = file.escape;
    let mut args: HashMap<String, String> = HashMap::new();

    for index in stage.instructions.clone() {
        let instruction = &file.instructions[index];
        let position = instruction.position;
        let word = |raw: &str| expand(raw, escape, &Scope { env: &stage.env, args: &args });

        match &instruction.kind {
            Kind::Arg(words) => {
                for raw in words {
                    let (name, value) =
                        split_arg(raw, escape, &Scope { env: &stage.env, args: &args });
                    let value =
                        value.or_else(|| global_args.get(&name).cloned()).unwrap_or_default();
                    args.insert(name, value);
                }
            }
            Kind::Env(pairs) => {
                for (key, value) in pairs {
                    let scope = Scope { env: &stage.env, args: &args };
                    let (key, value) = (expand(key, escape, &scope), expand(value, escape, &scope));
                    if stage.env.len() < MAX_RECORDED || stage.env.contains_key(&key) {
                        stage.env.insert(key, value);
                    }
                }
            }
            Kind::Workdir(raw) => stage.workdir = absolute(&stage.workdir, &word(raw)),
            Kind::User(raw) => stage.user = Some(Located { value: word(raw), position }),
            Kind::Copy { sources, dest } | Kind::Add { sources, dest } => {
                let sources: Vec<String> =
                    sources.iter().take(MAX_RECORDED).map(|s| word(s)).collect();
                let dest = word(dest);
                let mut dest = absolute(&stage.workdir, &dest);
                if sources.len() > 1 && !dest.ends_with('/') {
                    dest.push('/');
                }
                let from = instruction.flag("from").and_then(|f| f.value.as_deref()).map(&word);
                let chown = instruction.flag("chown").is_some();
                let placement = Placement { sources, dest, from, chown, position, index };
                carry_cache_steps(&mut stage, earlier, &placement);
                if stage.placements.len() < MAX_RECORDED {
                    stage.placements.push(placement);
                }
            }
            Kind::Run(command) => {
                let bodies: Vec<String> =
                    instruction.heredocs.iter().map(|h| h.content.clone()).collect();
                for cache in deno::cache_commands(command, &bodies) {
                    if stage.cache_steps.len() < MAX_RECORDED {
                        let step = cache_step(&stage, cache, position, index);
                        stage.cache_steps.push(step);
                    }
                }
            }
            Kind::Cmd(command) => stage.cmd = Some(Located { value: command.clone(), position }),
            Kind::Entrypoint(command) => {
                stage.entrypoint = Some(Located { value: command.clone(), position });
                // A new ENTRYPOINT drops the CMD inherited from the base image.
                if stage.cmd.as_ref().is_some_and(|cmd| cmd.position <= stage.from_position) {
                    stage.cmd = None;
                }
            }
            Kind::Healthcheck(_) => stage.healthcheck = Some(position),
            _ => {}
        }
    }
    stage
}

fn cache_step(stage: &Stage, cache: CacheCommand, position: Position, index: usize) -> CacheStep {
    let directory = match &cache.directory {
        Some(dir) => absolute(&stage.workdir, dir),
        None => stage.workdir.clone(),
    };
    let entrypoints = cache.entrypoints.iter().map(|e| absolute(&directory, e)).collect();
    CacheStep {
        entrypoints,
        configured_dependencies: cache.configured_dependencies,
        frozen: cache.frozen,
        directory,
        user: stage.user.as_ref().map(|u| u.value.clone()),
        position,
        index,
        carried_from: None,
    }
}

/// `COPY --from=STAGE` of that stage's `DENO_DIR` brings its cache along.
fn carry_cache_steps(stage: &mut Stage, earlier: &[Stage], placement: &Placement) {
    let Some(source_stage) = placement.from.as_deref().and_then(|from| find_stage(earlier, from))
    else {
        return;
    };
    let source = &earlier[source_stage];
    let deno_dir = source.env.get("DENO_DIR").map_or("/deno-dir", |d| d.trim_end_matches('/'));
    let copies_cache = placement.sources.iter().any(|s| {
        let s = s.trim_end_matches('/');
        s == deno_dir || deno_dir.starts_with(&format!("{s}/")) || s.is_empty()
    });
    if !copies_cache {
        return;
    }
    let name = source.name.clone().unwrap_or_else(|| source_stage.to_string());
    let room = MAX_RECORDED.saturating_sub(stage.cache_steps.len());
    for step in source.cache_steps.iter().take(room) {
        let mut carried = step.clone();
        carried.position = placement.position;
        carried.index = placement.index;
        carried.carried_from = Some(name.clone());
        stage.cache_steps.push(carried);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_records_a_bounded_state_for_the_stages_built_on_it() {
        let pairs: Vec<String> = (0..2000).map(|n| format!("V{n}=x")).collect();
        let sources: Vec<String> = (0..2000).map(|n| format!("f{n}")).collect();
        let mut text = format!("FROM scratch AS base\nENV {}\n", pairs.join(" "));
        text.push_str(&format!("COPY {} /app/\n", sources.join(" ")));
        text.push_str(&"COPY . /app/\nRUN deno cache main.ts\n".repeat(1500));
        text.push_str("FROM base\nENV V1999=y V0=z\n");
        let file = Containerfile::parse(Path::new("/nonexistent/Containerfile"), &text).unwrap();
        let stages = resolve(&file);

        let last = &stages[1];
        assert_eq!(last.env.len(), MAX_RECORDED);
        assert_eq!((last.env.get("V1023"), last.env.get("V1024")), (Some(&"x".into()), None));
        assert_eq!(last.env["V0"], "z");
        assert_eq!(last.placements.len(), MAX_RECORDED);
        assert_eq!(last.placements[0].sources.len(), MAX_RECORDED);
        assert_eq!(last.cache_steps.len(), MAX_RECORDED);
    }

    #[test]
    fn normalises_paths() {
        assert_eq!(absolute("/app", "main.ts"), "/app/main.ts");
        assert_eq!(absolute("/app", "./src/../main.ts"), "/app/main.ts");
        assert_eq!(absolute("/app", "."), "/app/");
        assert_eq!(absolute("/", "/x/"), "/x/");
        assert_eq!(absolute("/app", ".."), "/");
    }

    #[test]
    fn reads_repositories() {
        assert_eq!(image_repository("denoland/deno:alpine"), "denoland/deno");
        assert_eq!(image_repository("docker.io/denoland/deno:alpine@sha256:ab"), "denoland/deno");
        assert_eq!(image_repository("localhost:5000/deno"), "localhost:5000/deno");
        assert_eq!(image_repository("alpine"), "alpine");
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.ts", "main.ts"));
        assert!(glob_match("ma?n.*", "main.ts"));
        assert!(!glob_match("*.json", "main.ts"));
    }
}
