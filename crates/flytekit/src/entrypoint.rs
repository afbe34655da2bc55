//! The in-container entrypoint: `<binary> execute ...`, `<binary> map-execute ...` and
//! `<binary> fast-execute ...`, under the exact contract of `pyflyte-execute` /
//! `pyflyte-map-execute` / `pyflyte-fast-execute` (contract §6): the same flags,
//! placeholder normalization, environment, `outputs.pb` / `error.pb` / `deck.html`, error kinds and
//! origins, and exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use flytekit_idl::Message;
use flytekit_idl::codec::{decode_literal_map, encode_literal_map};
use flytekit_idl::core::{Identifier, LiteralMap, ResourceType, WorkflowExecutionIdentifier};

use crate::contract::{DECK_FILE, ERROR_FILE, FUTURES_FILE, OUTPUTS_FILE};
use crate::deck::{self, Deck};
use crate::execution::{Checkpoint, ExecutionContext, ExecutionMode};
use crate::serialization::DynamicOutcome;
use crate::storage::{Storage, join};
use crate::task::{DeckField, Task, TaskError};
use crate::type_engine::ConversionContext;

/// Arguments of `execute` (those of `pyflyte-execute`).
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Run one task inside its container (what Flyte's pod runs; see `pyflyte-execute`)"
)]
pub struct ExecuteArgs {
    /// The inputs file (`{{.input}}`), a LiteralMap.
    #[arg(long)]
    pub inputs: String,
    /// Where `outputs.pb`, `error.pb` and `deck.html` go (`{{.outputPrefix}}`).
    #[arg(long)]
    pub output_prefix: String,
    /// Where new blobs go (`{{.rawOutputDataPrefix}}`).
    #[arg(long)]
    pub raw_output_data_prefix: Option<String>,
    /// This attempt's checkpoint prefix (`{{.checkpointOutputPrefix}}`).
    #[arg(long)]
    pub checkpoint_path: Option<String>,
    /// The previous attempt's checkpoint prefix (`{{.prevCheckpointPrefix}}`).
    #[arg(long)]
    pub prev_checkpoint: Option<String>,
    /// Load the task and stop (a smoke test of the resolver).
    #[arg(long)]
    pub test: bool,
    /// The fast-registration bundle, set by `fast-execute` (used by dynamic tasks).
    #[arg(long)]
    pub dynamic_addl_distro: Option<String>,
    /// Where the bundle was unpacked, set by `fast-execute`.
    #[arg(long)]
    pub dynamic_dest_dir: Option<String>,
    /// The task resolver's location.
    #[arg(long)]
    pub resolver: Option<String>,
    /// The resolver's loader args, after `--`.
    #[arg(last = true)]
    pub resolver_args: Vec<String>,
}

/// Arguments of `fast-execute` (those of `pyflyte-fast-execute`).
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Download a fast-registration bundle, then run the task command with its binary")]
pub struct FastExecuteArgs {
    /// The bundle (`fast<digest>.tar.gz`) to download and unpack.
    #[arg(long)]
    pub additional_distribution: Option<String>,
    /// Where to unpack it (default: the current directory).
    #[arg(long)]
    pub dest_dir: Option<String>,
    /// The task command, after `--`.
    #[arg(last = true)]
    pub task_execute_cmd: Vec<String>,
}

/// Arguments of `map-execute` (those of `pyflyte-map-execute`): `execute`'s, with the element
/// chosen by `BATCH_JOB_ARRAY_INDEX_OFFSET` plus the variable named by
/// `BATCH_JOB_ARRAY_INDEX_VAR_NAME` (Propeller sets `FLYTE_K8S_ARRAY_INDEX`).
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Run one element of a map task inside its container (see `pyflyte-map-execute`)")]
pub struct MapExecuteArgs {
    /// The arguments shared with `execute`.
    #[command(flatten)]
    pub execute: ExecuteArgs,
    /// Accepted for compatibility with `pyflyte-map-execute`; unused (Propeller schedules the
    /// elements).
    #[arg(long)]
    pub max_concurrency: Option<i64>,
}

/// What a successful run writes.
enum Written {
    /// `outputs.pb`.
    Outputs(LiteralMap),
    /// `futures.pb` (a dynamic task's graph).
    Futures(flytekit_idl::core::DynamicJobSpec),
}

/// The first of several environment variables that is set, or `""`.
fn env_one_of(names: &[&str]) -> String {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok())
        .unwrap_or_default()
}

fn str2bool(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "true" | "t" | "1")
}

/// Propeller placeholders that were not substituted mean "unset" (flytekit's `normalize_inputs`).
fn normalize(args: &mut ExecuteArgs) {
    if args.raw_output_data_prefix.as_deref() == Some("{{.rawOutputDataPrefix}}") {
        args.raw_output_data_prefix = None;
    }
    if args.checkpoint_path.as_deref() == Some("{{.checkpointOutputPrefix}}") {
        args.checkpoint_path = None;
    }
    if matches!(
        args.prev_checkpoint.as_deref(),
        Some("{{.prevCheckpointPrefix}}") | Some("") | Some("\"\"")
    ) {
        args.prev_checkpoint = None;
    }
}

/// Runs `execute`. Failures of the task are reported in `error.pb` and exit 0 (exit 1 with
/// `FLYTE_FAIL_ON_ERROR`); only a failure to write the result files exits non-zero otherwise.
pub async fn execute(args: ExecuteArgs) -> ExitCode {
    run_entrypoint(args, false).await
}

/// Runs `map-execute`: loads the map task through `--resolver` (the map resolver), computes the
/// element index, runs the inner task on element `index` of every mapped input (bound inputs
/// whole) and writes that element's outputs — the inner task's interface — to `--output-prefix`.
/// Errors follow `execute`'s table; a mapped input that is not a list is a non-recoverable SYSTEM
/// error, as in flytekit.
pub async fn map_execute(args: MapExecuteArgs) -> ExitCode {
    run_entrypoint(args.execute, true).await
}

async fn run_entrypoint(mut args: ExecuteArgs, is_map: bool) -> ExitCode {
    normalize(&mut args);
    let storage = match Storage::try_new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let work = match tempfile::Builder::new().prefix("flyte").tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot create a working directory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dist_strategy = env_one_of(&["FLYTE_INTERNAL_DIST_ERROR_STRATEGY", "_F_DES"]);
    let (error_file, worker) = if dist_strategy.is_empty() {
        (ERROR_FILE.to_string(), String::new())
    } else {
        (
            format!("error-{}.pb", uuid::Uuid::new_v4().simple()),
            env_one_of(&["FLYTE_INTERNAL_WORKER_NAME", "_F_WN"]),
        )
    };
    let raw_prefix = args
        .raw_output_data_prefix
        .clone()
        .unwrap_or_else(|| work.path().join("raw").display().to_string());
    let conversion = ConversionContext::new(storage.clone(), work.path().join("local"), raw_prefix);
    let cx = ExecutionContext::builder(ExecutionMode::Container, conversion, work.path())
        .execution_id(WorkflowExecutionIdentifier {
            project: env_one_of(&["FLYTE_INTERNAL_EXECUTION_PROJECT", "_F_PRJ"]),
            domain: env_one_of(&["FLYTE_INTERNAL_EXECUTION_DOMAIN", "_F_DM"]),
            name: env_one_of(&["FLYTE_INTERNAL_EXECUTION_ID", "_F_NM"]),
            ..Default::default()
        })
        .task_id(Identifier {
            resource_type: ResourceType::Task as i32,
            project: env_one_of(&["FLYTE_INTERNAL_TASK_PROJECT", "_F_TK_PRJ"]),
            domain: env_one_of(&["FLYTE_INTERNAL_TASK_DOMAIN", "_F_TK_DM"]),
            name: env_one_of(&["FLYTE_INTERNAL_TASK_NAME", "_F_TK_NM"]),
            version: env_one_of(&["FLYTE_INTERNAL_TASK_VERSION", "_F_TK_V"]),
            ..Default::default()
        })
        .attempt(
            std::env::var("FLYTE_ATTEMPT_NUMBER")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        )
        .output_prefix(args.output_prefix.clone())
        .checkpoint(
            args.checkpoint_path
                .clone()
                .map(|dest| Checkpoint::new(storage.clone(), dest, args.prev_checkpoint.clone())),
        )
        .build();
    cx.record_phase("Load task");

    let mut loaded: Option<Task> = None;
    let result = run(&args, &cx, &mut loaded, is_map).await;
    if args.test {
        return match result {
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
            Ok(_) => ExitCode::SUCCESS,
        };
    }
    let mut failed = false;
    let mut write_failed = false;
    let outputs_for_deck = match &result {
        Ok(Some(Written::Outputs(o))) => Some(o.clone()),
        _ => None,
    };
    match result {
        Ok(None) | Err(TaskError::IgnoreOutputs) => {
            tracing::info!("the task asked to ignore its outputs; writing nothing");
            return ExitCode::SUCCESS;
        }
        Ok(Some(written)) => {
            let (file, bytes) = match written {
                Written::Outputs(o) => (OUTPUTS_FILE, encode_literal_map(&o)),
                Written::Futures(f) => (FUTURES_FILE, f.encode_to_vec()),
            };
            let uri = join(&args.output_prefix, file);
            if let Err(e) = storage.put(&uri, bytes).await {
                eprintln!("error: cannot write {file}: {e}");
                let err = TaskError::system(format!("cannot write {file}: {e}"));
                failed = true;
                write_failed = true;
                let _ =
                    write_error(&storage, &args.output_prefix, &error_file, &err, &worker).await;
            }
        }
        Err(err) => {
            failed = true;
            eprintln!("task failed: {err}");
            if let Err(e) =
                write_error(&storage, &args.output_prefix, &error_file, &err, &worker).await
            {
                eprintln!("error: cannot write {error_file}: {e}");
                write_failed = true;
            }
        }
    }
    if let Some(task) = &loaded
        && task.config().enable_deck
    {
        let output_deck = match &outputs_for_deck {
            Some(o) if task.config().deck_fields.contains(&DeckField::Output) => {
                Some(crate::dataset::literal_map_deck("Output", o, cx.conversion()).await)
            }
            _ => None,
        };
        let html = render_decks(task, &cx, output_deck);
        if let Err(e) = storage
            .put(&join(&args.output_prefix, DECK_FILE), html.into_bytes())
            .await
        {
            tracing::warn!("cannot write {DECK_FILE}: {e}");
        }
    }
    if write_failed
        || (failed && str2bool(&std::env::var("FLYTE_FAIL_ON_ERROR").unwrap_or_default()))
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Load, read inputs, dispatch. `Ok(None)` only for `--test`.
async fn run(
    args: &ExecuteArgs,
    cx: &ExecutionContext,
    loaded: &mut Option<Task>,
    is_map: bool,
) -> Result<Option<Written>, TaskError> {
    let Some(resolver) = args.resolver.as_deref() else {
        return Err(TaskError::Load(
            "--resolver is required (e.g. --resolver flytekit.resolver.default -- task-module <m> task-name <t>)".into(),
        ));
    };
    if args.resolver_args.is_empty() {
        return Err(TaskError::Load(
            "resolver args cannot be empty: give the loader args after `--`".into(),
        ));
    }
    let task = crate::resolver::load_task(resolver, &args.resolver_args)
        .await
        .map_err(|e| TaskError::Load(e.to_string()))?;
    if is_map && task.map_spec().is_none() {
        return Err(TaskError::Load(format!(
            "map-execute loaded {}, which is not a map task; use --resolver {}",
            task.name(),
            crate::map::MAP_RESOLVER_LOCATION
        )));
    }
    *loaded = Some(task.clone());
    if args.test {
        println!("loaded task {}", task.name());
        return Ok(None);
    }
    cx.record_phase("Read inputs");
    let local_inputs = cx.working_dir().join("inputs.pb");
    cx.storage()
        .download_file(&args.inputs, &local_inputs)
        .await
        .map_err(|e| TaskError::system_caused_by("cannot download the inputs", e))?;
    let bytes = tokio::fs::read(&local_inputs).await.map_err(|e| {
        TaskError::system_caused_by(format!("cannot read {}", local_inputs.display()), e)
    })?;
    let inputs = inputs_from_bytes(&bytes, &args.inputs, &task, cx).await?;
    drop(bytes);
    let (mut outputs, interface) = match (task.map_spec(), task.dynamic_spec()) {
        (Some(map), _) if is_map => {
            let index = crate::contract::array_job_index(|k| std::env::var(k).ok())
                .map_err(|e| TaskError::system(format!("cannot compute the element index: {e}")))?;
            let element = crate::elements::element_inputs(map, &inputs, index)?;
            let inner = map.inner();
            (
                inner.dispatch(&element, cx).await?,
                inner.interface().clone(),
            )
        }
        (_, Some(dynamic)) => {
            let settings = crate::settings::runtime_settings(
                |k| std::env::var(k).ok(),
                args.dynamic_addl_distro.as_deref(),
                args.dynamic_dest_dir.as_deref(),
            )
            .map_err(|e| {
                TaskError::system_caused_by("cannot read the serialization settings", e)
            })?;
            let wf = dynamic.build_workflow(cx.clone(), inputs).await?;
            // The offloaded payloads of instance tasks the graph runs go to the payload store
            // before futures.pb names them.
            crate::instance::stage_workflow(&wf, &settings, cx.storage())
                .await
                .map_err(|e| TaskError::system_caused_by("cannot stage instance payloads", e))?;
            match crate::serialization::compile_dynamic(&wf, &settings)? {
                DynamicOutcome::Futures(spec) => {
                    return Ok(Some(Written::Futures(spec)));
                }
                DynamicOutcome::Outputs(o) => (o, task.interface().clone()),
            }
        }
        _ => (
            task.dispatch_owned(inputs, cx).await?,
            task.interface().clone(),
        ),
    };
    if let Some(limits) = crate::offload::Limits::from_env() {
        crate::offload::offload_outputs(
            cx.storage(),
            &args.output_prefix,
            &mut outputs,
            &interface,
            limits,
        )
        .await
        .map_err(|e| TaskError::system_caused_by("cannot offload the outputs", e))?;
    }
    Ok(Some(Written::Outputs(outputs)))
}

/// The task's inputs from the bytes of `inputs.pb` (read from `origin`), as `execute` reads
/// them: decoded, shown in the Input deck when the task has one, and with offloaded literals
/// resolved through the context's storage. (The fuzz target `entrypoint_inputs` drives it.)
pub async fn inputs_from_bytes(
    bytes: &[u8],
    origin: &str,
    task: &Task,
    cx: &ExecutionContext,
) -> Result<LiteralMap, TaskError> {
    let mut inputs = decode_literal_map(bytes).map_err(|e| {
        TaskError::system(format!(
            "the inputs file {origin} is not a flyteidl.core.LiteralMap: {e}"
        ))
    })?;
    if task.config().enable_deck && task.config().deck_fields.contains(&DeckField::Input) {
        cx.add_deck(crate::dataset::literal_map_deck("Input", &inputs, cx.conversion()).await);
    }
    crate::offload::resolve_inputs(cx.storage(), &mut inputs)
        .await
        .map_err(|e| e.into_task_error(task.name()))?;
    Ok(inputs)
}

async fn write_error(
    storage: &Storage,
    output_prefix: &str,
    file: &str,
    err: &TaskError,
    worker: &str,
) -> Result<(), crate::storage::StorageError> {
    let doc = err.to_error_document(SystemTime::now(), worker);
    storage
        .put(&join(output_prefix, file), doc.encode_to_vec())
        .await
}

fn render_decks(task: &Task, cx: &ExecutionContext, output_deck: Option<Deck>) -> String {
    let fields = &task.config().deck_fields;
    let mut decks: Vec<Deck> = Vec::new();
    if fields.contains(&DeckField::SourceCode) {
        decks.push(Deck::text(
            "Source Code",
            &format!(
                "{}\ndefined at {}",
                task.name(),
                task.config().source.as_deref().unwrap_or("(unknown)")
            ),
        ));
    }
    if fields.contains(&DeckField::Timeline) {
        decks.push(Deck::timeline(&cx.timeline()));
    }
    decks.extend(cx.decks());
    decks.extend(output_deck);
    deck::render(task.short_name(), &decks)
}

/// Runs `fast-execute`: downloads and unpacks the bundle, then runs the task command with
/// `--dynamic-addl-distro`/`--dynamic-dest-dir` inserted before each `--resolver`, preferring the
/// bundle's binary. Exits with the child's code.
pub async fn fast_execute(args: FastExecuteArgs) -> ExitCode {
    let dest: PathBuf = match &args.dest_dir {
        Some(d) => PathBuf::from(d),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    if args.task_execute_cmd.is_empty() {
        eprintln!("error: fast-execute needs the task command after `--`");
        return ExitCode::from(2);
    }
    let mut argv = Vec::new();
    if let Some(dist) = &args.additional_distribution {
        if let Err(e) = tokio::fs::create_dir_all(&dest).await {
            eprintln!("error: cannot create {}: {e}", dest.display());
            return ExitCode::FAILURE;
        }
        let storage = Storage::new();
        match crate::fast::download_distribution(&storage, dist, &dest).await {
            Ok(_) => {}
            Err(crate::fast::FastError::Storage(crate::storage::StorageError::NotFound {
                ..
            })) => {
                eprintln!(
                    "error: task execution code was not found: no bundle at {dist}; was it uploaded \
                     (flytectl register files uploads the package's fast*.tar.gz)?"
                );
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot install the fast-registration bundle {dist}: {e}");
                return ExitCode::FAILURE;
            }
        }
        for a in &args.task_execute_cmd {
            if a == "--resolver" {
                argv.push("--dynamic-addl-distro".to_string());
                argv.push(dist.clone());
                argv.push("--dynamic-dest-dir".to_string());
                argv.push(dest.display().to_string());
            }
            argv.push(a.clone());
        }
    } else {
        argv = args.task_execute_cmd.clone();
    }
    let program = resolve_program(&argv[0], &dest);
    let mut cmd = tokio::process::Command::new(&program);
    cmd.args(&argv[1..]);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![dest.clone()];
    paths.extend(std::env::split_paths(&path));
    if let Ok(p) = std::env::join_paths(paths) {
        cmd.env("PATH", p);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot start {}: {e}", program.display());
            return ExitCode::FAILURE;
        }
    };
    let status = {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (mut term, mut int) = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(t), Ok(i)) => (t, i),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("error: cannot install signal handlers: {e}");
                    let _ = child.start_kill();
                    return ExitCode::FAILURE;
                }
            };
            loop {
                let forward = tokio::select! {
                    s = child.wait() => break s,
                    _ = term.recv() => libc::SIGTERM,
                    _ = int.recv() => libc::SIGINT,
                };
                // Forward the same signal, as pyflyte-fast-execute does, so the task can clean up.
                if let Some(pid) = child.id() {
                    // SAFETY: `kill` has no memory-safety preconditions; `pid` is our own child,
                    // which has not been reaped yet (we still hold it and have not seen it exit).
                    unsafe {
                        libc::kill(pid as libc::pid_t, forward);
                    }
                }
            }
        }
        #[cfg(not(unix))]
        {
            child.wait().await
        }
    };
    match status {
        Ok(s) => ExitCode::from(child_exit_code(&s)),
        Err(e) => {
            eprintln!("error: waiting for the task command: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The child's exit code, or 128 + the signal that killed it (the shell's convention).
fn child_exit_code(status: &std::process::ExitStatus) -> u8 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return (128 + sig).clamp(0, 255) as u8;
        }
    }
    status.code().unwrap_or(1).clamp(0, 255) as u8
}

/// The bundle's copy of `program` when it has one, else `program` itself (found through PATH).
fn resolve_program(program: &str, dest: &Path) -> PathBuf {
    let name = Path::new(program).file_name().map(PathBuf::from);
    match name {
        Some(n) if dest.join(&n).is_file() => dest.join(n),
        _ => PathBuf::from(program),
    }
}
