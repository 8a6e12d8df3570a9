//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Validates, builds, smoke-tests and compares the chat server's container image",
    after_help = "Exit status: 0 all good, 1 a check failed, 2 the tool could not do its job."
)]
pub struct Cli {
    /// Show the engines' own output as it runs
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check a Containerfile against the image's requirements and good practice
    Validate(ValidateArgs),
    /// Validate, then build the server image with docker or podman
    BuildImage(BuildImageArgs),
    /// Run the built image with a throwaway database and test it live
    Smoke(SmokeArgs),
    /// Run the stock base image with `server/` bind-mounted, and compare
    Compare(CompareArgs),
    /// Validate, build, smoke-test and compare, with one summary at the end
    Verify(VerifyArgs),
    /// Explain why a rule exists and how to fix what it reports
    Explain(ExplainArgs),
    /// Build local stand-ins for the upstream images, for machines that cannot pull
    OfflineImages(OfflineImagesArgs),
    /// Measure build, start and validation times against a naive Containerfile
    Bench(BenchArgs),
    /// Run every check CI runs, in the order CI runs them
    Ci(CiArgs),
}

#[derive(Args)]
pub struct ValidateArgs {
    /// The Containerfile to check [default: the one in `server/`]
    pub path: Option<PathBuf>,

    /// Output format [default: `github` when GITHUB_ACTIONS=true, else `text`]
    #[arg(long, value_enum)]
    pub format: Option<ValidateFormat>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Human-readable, like compiler diagnostics
    Text,
    /// One JSON object: the file, its requirements and findings
    Json,
    /// GitHub workflow commands, shown as annotations
    Github,
    /// SARIF 2.1.0, for GitHub code scanning
    Sarif,
}

#[derive(Args)]
pub struct EngineArgs {
    /// Container engine [default: CONTAINER_ENGINE, else docker when its daemon answers, else podman]
    #[arg(long, value_enum)]
    pub engine: Option<EngineName>,
}

#[derive(Args)]
pub struct SmokeArgs {
    #[command(flatten)]
    pub engine: EngineArgs,

    /// The image under test
    #[arg(long, default_value = crate::build_image::DEFAULT_TAG)]
    pub image: String,

    /// The database image to run beside it
    #[arg(long, value_name = "IMAGE", default_value = crate::offline_images::POSTGRES_IMAGE)]
    pub db_image: String,

    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub engine: EngineArgs,

    /// The image with the application baked in
    #[arg(long, default_value = crate::build_image::DEFAULT_TAG)]
    pub image: String,

    /// The database image both variants use
    #[arg(long, value_name = "IMAGE", default_value = crate::offline_images::POSTGRES_IMAGE)]
    pub db_image: String,

    /// Output format
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// Human-readable
    Text,
    /// One JSON object
    Json,
    /// A Markdown table, for a README or a job summary
    Markdown,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub engine: EngineArgs,

    /// How many times to measure each figure (the report gives the median, min and max)
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub repeat: usize,

    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Args)]
pub struct BuildImageArgs {
    #[command(flatten)]
    pub engine: EngineArgs,

    /// The image's tag
    #[arg(long, default_value = crate::build_image::DEFAULT_TAG)]
    pub tag: String,

    /// Build every step again instead of reusing cached layers
    #[arg(long)]
    pub no_cache: bool,

    /// The build context: a directory holding the Containerfile [default: `server/`]
    #[arg(long, value_name = "DIR")]
    pub context: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Args)]
pub struct OfflineImagesArgs {
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Replace images of the same names that did not come from this command
    #[arg(long)]
    pub force: bool,

    /// A CA bundle to trust inside the images, for networks that intercept TLS
    #[arg(long, value_name = "PATH")]
    pub ca_bundle: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

/// The format of a command's results.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable
    Text,
    /// One JSON object
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineName {
    Docker,
    Podman,
}

#[derive(Args)]
pub struct CiArgs {
    /// Leave out the steps that build or run images (they need docker and podman)
    #[arg(long)]
    pub no_engines: bool,
}

#[derive(Args)]
pub struct ExplainArgs {
    /// The rule id, as printed in brackets by `validate`
    #[arg(required_unless_present = "list")]
    pub rule: Option<String>,

    /// List every rule with a one-line summary
    #[arg(long, conflicts_with = "rule")]
    pub list: bool,
}
