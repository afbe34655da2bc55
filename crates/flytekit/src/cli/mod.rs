//! The command line every user binary gets from [`main`](crate::main): `list`, `run`,
//! `serialize`, `package`, `register`, `execution` for people, `execute` and `fast-execute` for
//! Flyte's containers.

pub(crate) mod build;
pub(crate) mod control;
pub(crate) mod instances;
pub(crate) mod launch_plans;
pub(crate) mod lookup;
pub(crate) mod package;
pub(crate) mod registrar;
pub(crate) mod registration;
pub(crate) mod remote;
pub(crate) mod run;
pub(crate) mod serialize;
pub(crate) mod values;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::entrypoint::{ExecuteArgs, FastExecuteArgs, MapExecuteArgs};

/// The binary's command line.
#[derive(Debug, Parser)]
#[command(
    about = "Flyte tasks and workflows written in Rust (flytekit-rs)",
    long_about = "Flyte tasks and workflows written in Rust (flytekit-rs).\n\n\
                  Run workflows locally with `run`, write them for registration with `package` or \
                  `serialize`, register and run them on a Flyte cluster with `register` and \
                  `run --remote`; Flyte's containers call `execute` and `fast-execute`.",
    version
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the workflows, tasks and launch plans in this binary (and the instances its
    /// providers declare).
    List(instances::InstanceArgs),
    /// Run a workflow or task locally and print its outputs as JSON.
    Run(run::RunArgs),
    /// Write workflows, tasks and launch plans as Flyte protobuf files.
    Serialize(serialize::SerializeArgs),
    /// Write a `flyte-package.tgz` for `flytectl register files`.
    Package(package::PackageArgs),
    /// Build and push the images the tasks name; check that the others exist.
    Build(build::BuildArgs),
    /// Register workflows, tasks and launch plans with FlyteAdmin.
    Register(remote::RegisterArgs),
    /// Look at and act on executions on the Flyte cluster.
    Execution(remote::ExecutionArgs),
    /// Run one task inside its container (the `pyflyte-execute` contract).
    Execute(ExecuteArgs),
    /// Run one element of a map task inside its container (the `pyflyte-map-execute` contract).
    MapExecute(MapExecuteArgs),
    /// Install a fast-registration bundle, then run the task command (`pyflyte-fast-execute`).
    FastExecute(FastExecuteArgs),
}

/// Parses the command line, runs the subcommand on a tokio runtime, and exits with its status.
/// Call it from your binary's `fn main()`.
pub fn main() -> ! {
    let code = run_cli(Cli::parse());
    std::process::exit(exit_code_value(code))
}

fn exit_code_value(code: ExitCode) -> i32 {
    // `ExitCode` does not expose its value; find it among the 256 possible ones.
    (0..=255u8)
        .find(|&n| ExitCode::from(n) == code)
        .map_or(1, i32::from)
}

/// Runs a parsed command line.
pub fn run_cli(cli: Cli) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::List(a) => list(&a),
            Command::Run(a) => run::run(a).await,
            Command::Serialize(a) => serialize::serialize(a),
            Command::Package(a) => package::package(a).await,
            Command::Build(a) => build::build(a).await,
            Command::Register(a) => remote::register(a).await,
            Command::Execution(a) => remote::execution(a).await,
            Command::Execute(a) => crate::entrypoint::execute(a).await,
            Command::MapExecute(a) => crate::entrypoint::map_execute(a).await,
            Command::FastExecute(a) => crate::entrypoint::fast_execute(a).await,
        }
    })
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FLYTEKIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn list(instance_args: &instances::InstanceArgs) -> ExitCode {
    let workflows = crate::workflow::registered();
    let tasks = crate::task::registered();
    println!("workflows:");
    for w in &workflows {
        println!("  {}", w.name());
    }
    if workflows.is_empty() {
        println!("  (none)");
    }
    println!("tasks:");
    for t in &tasks {
        let doc = t.config().docs.lines().next().unwrap_or("");
        if doc.is_empty() {
            println!("  {}", t.name());
        } else {
            println!("  {}  — {doc}", t.name());
        }
    }
    if tasks.is_empty() {
        println!("  (none)");
    }
    launch_plans::print();
    instances::list(instance_args)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Clap checks a command's definition (unique argument names, valid conflicts) only when
    /// it is built in a debug binary; this fails here instead of in the first user's hands.
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
