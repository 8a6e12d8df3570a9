//! `cargo xtask`: the automation around the chat server's container image.

mod bench;
mod build_image;
mod ci;
mod cli;
mod compare;
mod containerfile;
mod engine;
mod explain;
mod live;
mod offline_images;
mod progress;
mod project;
mod report;
mod rules;
mod session;
mod smoke;
mod stack;
mod timing;
mod tools;
mod validate;
mod verify;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

/// How a command that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// A check failed: a requirement, a smoke check, a benchmark bound.
    Failed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Ci(args) => ci::run(&args),
        Command::BuildImage(args) => build_image::run(&args, cli.verbose),
        Command::Smoke(args) => smoke::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Verify(args) => verify::run(&args, cli.verbose),
        Command::OfflineImages(args) => offline_images::run(&args, cli.verbose),
        Command::Bench(args) => bench::run(&args, cli.verbose),
    };
    match result {
        Ok(Outcome::Passed) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
