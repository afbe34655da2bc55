//! `run`: runs a workflow or a task locally and prints its outputs as JSON on stdout.
//!
//! ```text
//! <binary> run wf --x 3 --name world
//! <binary> run wf --help            # the inputs of `wf`, their types and defaults
//! <binary> run --clear-cache        # empties the local cache
//! ```
//!
//! Inputs are flags named after the entity's inputs (`--my_input` or `--my-input`). Strings,
//! enums, files, datasets (a Parquet file or directory), dates and durations are given as plain
//! text; numbers and booleans as usual; structs, lists, maps and optional values as JSON. A dataset
//! output prints as its URI, format, row count and columns. Progress goes to stderr, the outputs to stdout
//! as a JSON object (`{"o0": ...}`). Exit status: 0 on success, 1 when the run fails, 2 on a usage
//! error (unknown name, missing, unknown or mistyped inputs).

use std::process::ExitCode;

use flytekit_idl::core::{Literal, LiteralMap, LiteralType};

use super::lookup::{LookupError, find_among, find_entity, list, task_names, workflow_names};
use super::values::{is_bool, value_to_literal};
use crate::engine::{
    CacheMode, Engine, EngineOptions, LocalCache, ProgressMode, default_cache_dir, outputs_to_json,
};
use crate::type_engine::{describe_type, literal_to_json};
use crate::workflow::Entity;

/// Arguments of `run`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    disable_help_flag = true,
    about = "Run a workflow or task locally and print its outputs as JSON",
    after_help = "Inputs follow the name as --<input> <value>; `run NAME --help` lists them.\n\
                  Engine options may also follow the name when no input has the same name."
)]
pub struct RunArgs {
    /// The workflow or task: its full name or a unique suffix (e.g. `wf` for `app.workflows.wf`).
    pub name: Option<String>,
    /// How many tasks may execute at the same time.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Do not read or write the local cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Run cached tasks anyway and replace their cached outputs.
    #[arg(long, conflicts_with = "no_cache")]
    pub overwrite_cache: bool,
    /// Empty the local cache (before running NAME, if given).
    #[arg(long)]
    pub clear_cache: bool,
    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run every task as Flyte would run its container: serialized, as a subprocess of
    /// `<binary> execute`, through a blob store (the proof that the workflow runs on a cluster).
    #[arg(long)]
    pub sandbox: bool,
    /// Where the sandbox keeps inputs and outputs (a directory, or `s3://bucket/prefix` with the
    /// usual storage configuration); default a temporary directory.
    #[arg(long, value_name = "URI")]
    pub sandbox_store: Option<String>,
    /// Answers the signal gate NAME with VALUE (text, parsed against the gate's type);
    /// repeatable. Gates without an answer are asked on the terminal, or fail without one.
    #[arg(long = "signal", value_name = "NAME=VALUE")]
    pub signals: Vec<String>,
    /// Approves the approval gate NAME; repeatable.
    #[arg(long = "approve", value_name = "NAME")]
    pub approvals: Vec<String>,
    /// A registration package (`flyte-package.tgz`, e.g. from `pyflyte package`, or a directory
    /// of `.pb` files) whose templates run the reference entities the workflow calls, in the
    /// sandbox; repeatable.
    #[arg(long = "reference-package", value_name = "PATH")]
    pub reference_packages: Vec<std::path::PathBuf>,
    /// Run every task container of the sandbox inside its image (pulled from its registry,
    /// isolated with bubblewrap), as a cluster runs it; images an ImageSpec makes are built and
    /// pushed first when missing. Implies `--sandbox`.
    #[arg(long)]
    pub in_image: bool,
    /// Instance payloads (uploaded with `--sandbox` and `--remote`) and provider arguments.
    #[command(flatten)]
    pub payloads: super::instances::PayloadArgs,
    /// Print help; after NAME, the inputs of NAME.
    #[arg(long, short)]
    pub help: bool,
    /// Running on a Flyte cluster instead (`--remote`); its `--image` and `--binary` also
    /// serve `--in-image`.
    #[command(flatten)]
    pub remote: super::remote::RemoteRunArgs,
    /// The inputs: `--<input> <value>` pairs.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "INPUTS"
    )]
    pub inputs: Vec<String>,
}

/// A usage error of `run`: what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The name names no entity, or several.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// An argument is not a `--<input>` flag.
    #[error("unexpected argument '{arg}'; inputs are given as --<input> <value>")]
    Unexpected {
        /// The argument.
        arg: String,
    },
    /// A flag names no input.
    #[error("{entity} has no input --{name}{suggestion}; its inputs are: {inputs}")]
    UnknownInput {
        /// The entity.
        entity: String,
        /// The flag.
        name: String,
        /// ` (did you mean --x?)` or empty.
        suggestion: String,
        /// The declared inputs.
        inputs: String,
    },
    /// A flag has no value.
    #[error("input --{name} needs a value of type {ty}")]
    MissingValue {
        /// The input.
        name: String,
        /// Its type, rendered.
        ty: String,
    },
    /// An input is given twice.
    #[error("input --{name} is given twice")]
    Duplicate {
        /// The input.
        name: String,
    },
    /// A value does not fit the input's type.
    #[error("input --{name}: expected {ty}, got '{value}': {reason}")]
    BadValue {
        /// The input.
        name: String,
        /// Its type, rendered.
        ty: String,
        /// The value given.
        value: String,
        /// Why it does not fit.
        reason: String,
    },
    /// Required inputs are missing.
    #[error(
        "{entity}: missing required input(s): {missing}\nrun `run {entity} --help` to see every input"
    )]
    Missing {
        /// The entity.
        entity: String,
        /// `--x <INTEGER>, ...`.
        missing: String,
    },
    /// A bad engine option.
    #[error("{0}")]
    Option(String),
}

/// Entry point of `run`: parses inputs, runs on the local engine, prints the outputs.
pub async fn run(args: RunArgs) -> ExitCode {
    match execute(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn execute(mut args: RunArgs) -> Result<ExitCode, RunError> {
    if args.clear_cache {
        let dir = default_cache_dir();
        match LocalCache::open(&dir).and_then(|c| c.clear().map(|n| (n, c))) {
            Ok((n, c)) => eprintln!(
                "cleared {n} entr{} from {}",
                if n == 1 { "y" } else { "ies" },
                c.path().display()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
        if args.name.is_none() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    if args.help && args.name.is_none() {
        let mut cmd = <RunArgs as clap::Args>::augment_args(clap::Command::new("run"));
        print!("{}", cmd.render_help());
        return Ok(ExitCode::SUCCESS);
    }
    let Some(name) = args.name.clone() else {
        return Err(RunError::Option(format!(
            "name a workflow or task to run\navailable workflows: {}\navailable tasks: {}",
            list(workflow_names()),
            list(task_names())
        )));
    };
    let entity = match find_entity(&name) {
        // Then among the workflows and instance tasks that providers declare.
        Err(e @ LookupError::UnknownEntity { .. }) => {
            let declared = super::instances::declared_entities(&args.payloads.instances)
                .map_err(RunError::Option)?;
            find_among(&name, &declared).unwrap_or(Err(e))?
        }
        other => other?,
    };
    let raw_inputs = std::mem::take(&mut args.inputs);
    if args.help {
        print!("{}", entity_help(&entity));
        return Ok(ExitCode::SUCCESS);
    }
    let inputs = match parse_inputs(&entity, &raw_inputs, &mut args)? {
        Parsed::Help => {
            print!("{}", entity_help(&entity));
            return Ok(ExitCode::SUCCESS);
        }
        Parsed::Inputs(m) => m,
    };
    if let Some(flag) = args.remote.misplaced(args.in_image) {
        return Err(RunError::Option(format!(
            "{flag} applies only with --remote"
        )));
    }
    if args.remote.remote {
        if args.sandbox || args.sandbox_store.is_some() {
            return Err(RunError::Option(
                "--sandbox runs locally; leave it out with --remote".into(),
            ));
        }
        return Ok(super::remote::run_remote(&entity, inputs, &args.remote, &args.payloads).await);
    }
    let options = EngineOptions {
        concurrency: args
            .concurrency
            .unwrap_or(EngineOptions::default().concurrency)
            .max(1),
        cache: if args.no_cache {
            CacheMode::Disabled
        } else if args.overwrite_cache {
            CacheMode::Overwrite
        } else {
            CacheMode::Enabled
        },
        progress: if args.quiet {
            ProgressMode::Off
        } else {
            ProgressMode::Auto
        },
        sandbox: (args.sandbox || args.in_image || args.sandbox_store.is_some()).then(|| {
            crate::engine::SandboxOptions::new(args.sandbox_store.clone().unwrap_or_else(|| {
                std::env::temp_dir()
                    .join("flytekit-rs")
                    .join("sandbox")
                    .display()
                    .to_string()
            }))
        }),
        ..EngineOptions::default()
    };
    let mut options = super::control::apply(
        options,
        &args.signals,
        &args.approvals,
        &args.reference_packages,
    )
    .map_err(RunError::Option)?;
    if args.in_image {
        // `--in-image` (cli/build.rs, engine/isolate.rs): containers run inside their images.
        match super::build::in_image_runs(
            &entity,
            &args.remote.options.image,
            args.remote.options.binary.as_deref(),
            args.quiet,
        )
        .await
        {
            Ok(runs) => {
                if let Some(sandbox) = options.sandbox.as_mut() {
                    sandbox.in_image = Some(runs);
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    if let Some(sandbox) = options.sandbox.as_mut()
        && let Err(e) =
            super::instances::prepare_sandbox(&entity, &args.payloads, sandbox, args.quiet).await
    {
        eprintln!("error: {e}");
        return Ok(ExitCode::FAILURE);
    }
    let engine = Engine::new(options);
    // Ctrl-C drops the run: in-process tasks stop at their next await, sandbox containers are
    // killed (their processes are tied to the run), and the exit status is 130.
    let result = tokio::select! {
        r = engine.run(&entity, inputs) => r,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("interrupted; stopping the run");
            return Ok(ExitCode::from(130));
        }
    };
    match result {
        Ok(outputs) => {
            let mut json = outputs_to_json(&outputs);
            // Datasets print as their URI, row count and columns.
            crate::dataset::describe_outputs(&outputs, &mut json, engine.conversion_context())
                .await;
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

enum Parsed {
    Help,
    Inputs(LiteralMap),
}

/// One declared input: name, type, default (workflows only), in declaration order when known.
struct InputSpec {
    name: String,
    ty: LiteralType,
    default: Option<Literal>,
}

fn input_specs(entity: &Entity) -> Vec<InputSpec> {
    match entity {
        Entity::Workflow(w) => w
            .inputs()
            .iter()
            .map(|i| InputSpec {
                name: i.name.clone(),
                ty: i.ty.clone(),
                default: i.default.clone(),
            })
            .collect(),
        Entity::LaunchPlan(lp) => {
            let defaults = lp.callable_defaults();
            lp.workflow()
                .inputs()
                .iter()
                .filter(|i| !lp.fixed_inputs().iter().any(|(n, _)| n == &i.name))
                .map(|i| InputSpec {
                    name: i.name.clone(),
                    ty: i.ty.clone(),
                    default: defaults.get(&i.name).cloned(),
                })
                .collect()
        }
        other => {
            let mut v: Vec<InputSpec> = other
                .interface()
                .inputs
                .iter()
                .flat_map(|m| m.variables.iter())
                .map(|(n, var)| InputSpec {
                    name: n.clone(),
                    ty: var.r#type.clone().unwrap_or_default(),
                    default: None,
                })
                .collect();
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v
        }
    }
}

fn parse_inputs(entity: &Entity, args: &[String], opts: &mut RunArgs) -> Result<Parsed, RunError> {
    let specs = input_specs(entity);
    let mut out = LiteralMap::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--help" || arg == "-h" {
            return Ok(Parsed::Help);
        }
        if arg == "-q" {
            opts.quiet = true;
            continue;
        }
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(RunError::Unexpected { arg: arg.clone() });
        };
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (flag, None),
        };
        let spec = specs.iter().find(|s| s.name == flag).or_else(|| {
            let underscored = flag.replace('-', "_");
            specs.iter().find(|s| s.name == underscored)
        });
        let Some(spec) = spec else {
            // Engine options after the name.
            let next_value = |i: &mut usize| -> Option<String> {
                inline.clone().or_else(|| {
                    let v = args.get(*i).cloned();
                    *i += 1;
                    v
                })
            };
            match flag {
                "quiet" | "q" => opts.quiet = true,
                "no-cache" => opts.no_cache = true,
                "overwrite-cache" => opts.overwrite_cache = true,
                "sandbox" => opts.sandbox = true,
                "signal" | "approve" | "reference-package" => {
                    let v = next_value(&mut i)
                        .ok_or_else(|| RunError::Option(format!("--{flag} needs a value")))?;
                    match flag {
                        "signal" => opts.signals.push(v),
                        "approve" => opts.approvals.push(v),
                        _ => opts.reference_packages.push(v.into()),
                    }
                }
                "in-image" => {
                    opts.sandbox = true;
                    opts.in_image = true;
                }
                "image" => opts
                    .remote
                    .options
                    .image
                    .push(next_value(&mut i).ok_or_else(|| {
                        RunError::Option(
                            "--image needs [NAME=]URI or an ImageSpec YAML file".into(),
                        )
                    })?),
                "binary" => {
                    opts.remote.options.binary = Some(next_value(&mut i).ok_or_else(|| {
                        RunError::Option("--binary needs the binary's path in the image".into())
                    })?);
                }
                "remote" => opts.remote.remote = true,
                "wait" => opts.remote.wait = true,
                "sandbox-store" => {
                    opts.sandbox = true;
                    opts.sandbox_store = Some(next_value(&mut i).ok_or_else(|| {
                        RunError::Option("--sandbox-store needs a path or URI".into())
                    })?);
                }
                "concurrency" => {
                    let v = next_value(&mut i).unwrap_or_default();
                    opts.concurrency = Some(v.parse().map_err(|_| {
                        RunError::Option(format!(
                            "--concurrency needs a positive number, got '{v}'"
                        ))
                    })?);
                }
                _ if entity.unbindable(flag).is_some() => {
                    return Err(RunError::Option(format!(
                        "{}; leave --{flag} out",
                        entity.unbindable(flag).unwrap_or_default()
                    )));
                }
                _ => {
                    let best = specs
                        .iter()
                        .map(|s| (strsim::jaro_winkler(&s.name, flag), &s.name))
                        .filter(|(s, _)| *s > 0.7)
                        .max_by(|a, b| a.0.total_cmp(&b.0));
                    return Err(RunError::UnknownInput {
                        entity: entity.name().to_string(),
                        name: flag.to_string(),
                        suggestion: best
                            .map(|(_, n)| format!(" (did you mean --{n}?)"))
                            .unwrap_or_default(),
                        inputs: list(specs.iter().map(|s| format!("--{}", s.name)).collect()),
                    });
                }
            }
            continue;
        };
        let value = match inline {
            Some(v) => v,
            None => match args.get(i) {
                Some(v) if !(v.starts_with("--") && is_bool(&spec.ty)) => {
                    i += 1;
                    v.clone()
                }
                _ if is_bool(&spec.ty) => "true".to_string(),
                _ => {
                    return Err(RunError::MissingValue {
                        name: spec.name.clone(),
                        ty: describe_type(&spec.ty),
                    });
                }
            },
        };
        if out.literals.contains_key(&spec.name) {
            return Err(RunError::Duplicate {
                name: spec.name.clone(),
            });
        }
        let lit = value_to_literal(&spec.ty, &value).map_err(|reason| RunError::BadValue {
            name: spec.name.clone(),
            ty: describe_type(&spec.ty),
            value: value.clone(),
            reason,
        })?;
        out.literals.insert(spec.name.clone(), lit);
    }
    let missing: Vec<String> = specs
        .iter()
        .filter(|s| s.default.is_none() && !out.literals.contains_key(&s.name))
        .map(|s| format!("--{} <{}>", s.name, describe_type(&s.ty)))
        .collect();
    if !missing.is_empty() {
        return Err(RunError::Missing {
            entity: entity.name().to_string(),
            missing: missing.join(", "),
        });
    }
    Ok(Parsed::Inputs(out))
}

fn entity_help(entity: &Entity) -> String {
    let specs = input_specs(entity);
    let mut s = format!("Usage: run {} [--<input> <value>]...\n\n", entity.name());
    if let Entity::Workflow(w) = entity
        && !w.description().is_empty()
    {
        s.push_str(w.description());
        s.push_str("\n\n");
    }
    s.push_str(&format!("Inputs of {} {}:\n", entity.kind(), entity.name()));
    if specs.is_empty() {
        s.push_str("  (none)\n");
    }
    for spec in &specs {
        let flag = format!("--{} <{}>", spec.name, describe_type(&spec.ty));
        let note = match &spec.default {
            Some(d) => format!("default: {}", literal_to_json(d)),
            None => "required".to_string(),
        };
        s.push_str(&format!("  {flag:<40} {note}\n"));
    }
    let outputs = entity.interface().outputs.clone().unwrap_or_default();
    let mut outs: Vec<_> = outputs.variables.iter().collect();
    outs.sort_by(|a, b| a.0.cmp(b.0));
    s.push_str("\nOutputs (printed as JSON):\n");
    if outs.is_empty() {
        s.push_str("  (none)\n");
    }
    for (n, v) in outs {
        s.push_str(&format!(
            "  {n}: {}\n",
            v.r#type.as_ref().map(describe_type).unwrap_or_default()
        ));
    }
    s.push_str(
        "\nValues: plain text for strings, enums, files, datasets, dates and durations; JSON for numbers,\n\
         booleans, structs, lists, maps and optional values. A boolean flag alone means true.\n",
    );
    s
}
