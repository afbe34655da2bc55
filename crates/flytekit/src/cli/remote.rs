//! `register`, `run --remote` and `execution`: this binary on a Flyte cluster, through
//! FlyteAdmin's gRPC API ([`flytekit_remote`]).
//!
//! ```text
//! <binary> register [WORKFLOW...] [--fast] [-p P] [-d D] [-i IMAGE] [--activate-launchplans]
//! <binary> run --remote [--fast] [-p P] WF --x 1 [--wait]
//! <binary> execution status|outputs|wait|relaunch|terminate|signal ID ...
//! ```
//!
//! The cluster is found as flytekit finds it: `--config FILE`, else `$FLYTECTL_CONFIG`, else
//! `~/.flyte/config.yaml`, with `FLYTE_PLATFORM_URL`-style overrides ([`PlatformConfig`]).
//! Registration serializes with [`serialize_versioned`] (the same entities `package` writes,
//! versioned by content unless `--version` is given), builds the images of tasks whose image
//! is an `ImageSpec`, uploads the fast bundle with `--fast`, and registers through
//! [`Remote::register`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use flytekit_idl::core::{Identifier, LiteralMap, ResourceType, WorkflowExecutionIdentifier};
use flytekit_remote::execution::{Phase, failure_of, is_terminal, parse_execution_id, phase_of};
use flytekit_remote::{
    Entity as RemoteEntity, Outputs, PlatformConfig, RegisterError, Remote, RemoteError, WatchEvent,
};

use super::registration::{RegistrationArgs, Versioning};
use super::serialize::{SerializedEntity, current_binary_digest, serialize_versioned};
use crate::payload_plan::PayloadPlan;
use crate::settings::{FastSerializationSettings, SerializationSettings};
use crate::task::Task;
use crate::workflow::{Entity, Workflow};

/// Where the cluster is and what to register there: shared by `register` and `run --remote`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterArgs {
    /// The Flyte config file (default: $FLYTECTL_CONFIG, ./flytekit.config, ~/.flyte/config,
    /// ~/.flyte/config.yaml); FLYTE_PLATFORM_URL-style variables override it.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Project (default: $FLYTE_DEFAULT_PROJECT, task.project of the config, flytesnacks).
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Domain (default: $FLYTE_DEFAULT_DOMAIN, task.domain of the config, development).
    #[arg(long, short = 'd')]
    pub domain: Option<String>,
}

/// The registration options of `register` and `run --remote`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegisterOptions {
    /// Version of the entities. Default: a hash of what is shipped, so unchanged code registers
    /// nothing new.
    #[arg(long, short = 'v')]
    pub version: Option<String>,
    /// Images: `uri` (the default image) or `name=uri`, repeatable (as `package`); with
    /// `run --in-image` also an ImageSpec YAML file.
    #[arg(long, short = 'i', value_name = "[NAME=]URI|SPEC.yaml")]
    pub image: Vec<String>,
    /// The binary's name or path inside the image (default: this binary's file name).
    #[arg(long, value_name = "PATH")]
    pub binary: Option<String>,
    /// Environment for every task, `KEY=VALUE`, repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Ship this binary as a fast-registration bundle uploaded through FlyteAdmin's data proxy,
    /// so the image need not change with the code.
    #[arg(long)]
    pub fast: bool,
    /// Where the bundle is unpacked in the container (with `--fast`).
    #[arg(long, default_value = "/root", value_name = "DIR")]
    pub dest_dir: String,
}

/// Arguments of `register`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Register workflows, tasks and launch plans with FlyteAdmin")]
pub struct RegisterArgs {
    /// Workflows, launch plans and tasks to register (full names or unique suffixes), registered
    /// or declared by instance providers; default: every workflow and task and everything the
    /// providers declare.
    pub workflows: Vec<String>,
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// What to register.
    #[command(flatten)]
    pub options: RegisterOptions,
    /// Activate the launch plans registered (starting the schedules of scheduled ones).
    #[arg(long)]
    pub activate_launchplans: bool,
    /// Instance payloads: the payload store they are uploaded to before anything is
    /// registered, placement, provider arguments.
    #[command(flatten)]
    pub payloads: super::instances::PayloadArgs,
}

/// The remote options of `run` (`run --remote [options] NAME --input value`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RemoteRunArgs {
    /// Register and run on the Flyte cluster instead of locally; prints the console URL.
    #[arg(long)]
    pub remote: bool,
    /// With --remote: follow the execution, a line per node, and print its outputs as JSON.
    #[arg(long)]
    pub wait: bool,
    /// With --remote --wait: seconds between status checks.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub poll_interval: f64,
    /// With --remote: the execution's name (default: FlyteAdmin chooses one).
    #[arg(long, value_name = "NAME")]
    pub execution_name: Option<String>,
    /// The cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// What to register.
    #[command(flatten)]
    pub options: RegisterOptions,
}

impl RemoteRunArgs {
    /// The remote-only options given without `--remote`, if any (a usage error). `--image`
    /// and `--binary` also serve `--in-image`, so they are in place when `in_image` is set.
    pub fn misplaced(&self, in_image: bool) -> Option<&'static str> {
        let c = &self.cluster;
        let o = &self.options;
        if self.remote {
            return None;
        }
        [
            (self.wait, "--wait"),
            (self.execution_name.is_some(), "--execution-name"),
            (c.config.is_some(), "--config"),
            (c.project.is_some(), "--project"),
            (c.domain.is_some(), "--domain"),
            (o.version.is_some(), "--version"),
            (!in_image && !o.image.is_empty(), "--image"),
            (!in_image && o.binary.is_some(), "--binary"),
            (!o.env.is_empty(), "--env"),
            (o.fast, "--fast"),
        ]
        .into_iter()
        .find(|(set, _)| *set)
        .map(|(_, flag)| flag)
    }
}

/// Arguments of `execution`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Look at and act on executions on the Flyte cluster")]
pub struct ExecutionArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ExecutionCommand,
}

/// The `execution` subcommands. `ID` is an execution name (in --project/--domain),
/// `PROJECT:DOMAIN:NAME`, or the execution's console URL.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ExecutionCommand {
    /// Print the phase of an execution and of its nodes.
    Status {
        /// The execution.
        id: String,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Print the outputs of a finished execution as JSON.
    Outputs {
        /// The execution.
        id: String,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Follow an execution until it finishes, then print its outputs as JSON.
    Wait {
        /// The execution.
        id: String,
        /// Seconds between status checks.
        #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
        poll_interval: f64,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Start an execution again with the same inputs; prints the new one's console URL.
    Relaunch {
        /// The execution.
        id: String,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// Abort a running execution.
    Terminate {
        /// The execution.
        id: String,
        /// Why (recorded with the abort).
        #[arg(long, default_value = "terminated from the command line")]
        cause: String,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
    /// List the signals a gate node waits for, or give one its value.
    Signal {
        /// The execution.
        id: String,
        /// The signal to set (omit to list the signals).
        signal: Option<String>,
        /// The value, as `run` takes inputs (plain text for strings, JSON otherwise).
        value: Option<String>,
        /// The cluster.
        #[command(flatten)]
        cluster: ClusterArgs,
    },
}

/// Why a cluster command failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteCommandError {
    /// The command line is wrong (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// The Flyte configuration is unusable (exit status 2).
    #[error(transparent)]
    Config(#[from] flytekit_remote::config::ConfigError),
    /// FlyteAdmin (or the way to it) failed.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// Registration failed; the error lists what was registered before.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// Preparing what to register failed (serialization, images, the fast bundle).
    #[error("{0}")]
    Prepare(String),
}

impl RemoteCommandError {
    fn exit_code(&self) -> ExitCode {
        match self {
            RemoteCommandError::Usage(_) | RemoteCommandError::Config(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

fn report(result: Result<ExitCode, RemoteCommandError>) -> ExitCode {
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        e.exit_code()
    })
}

/// A connection and the project and domain to work in.
struct Cluster {
    remote: Remote,
    project: String,
    domain: String,
}

impl Cluster {
    fn open(args: &ClusterArgs) -> Result<Cluster, RemoteCommandError> {
        let config = PlatformConfig::load(args.config.as_deref())?;
        let project = args
            .project
            .clone()
            .unwrap_or_else(|| config.default_project.value.clone());
        let domain = args
            .domain
            .clone()
            .unwrap_or_else(|| config.default_domain.value.clone());
        Ok(Cluster {
            remote: Remote::new(config)?,
            project,
            domain,
        })
    }
}

/// Entry point of `register`.
pub async fn register(args: RegisterArgs) -> ExitCode {
    report(register_inner(args).await)
}

async fn register_inner(args: RegisterArgs) -> Result<ExitCode, RemoteCommandError> {
    let (mut workflows, mut tasks) = select(&args.workflows, &args.payloads.instances)?;
    let cluster = Cluster::open(&args.cluster)?;
    // The instances providers declare join the selection; their payloads are stored before
    // any entity naming them is registered.
    let everything = args.workflows.is_empty();
    let plan =
        super::instances::plan_and_store(&args.payloads, everything, &mut workflows, &mut tasks)
            .await
            .map_err(|e| RemoteCommandError::Prepare(format!("{e}; nothing was registered")))?;
    let (entities, _) = prepare(&cluster, &workflows, &tasks, &args.options, plan.as_ref()).await?;
    let report = cluster
        .remote
        .register(&entities, args.activate_launchplans)
        .await?;
    for r in &report.registered {
        println!("registered {r}");
    }
    for id in &report.activated {
        println!("activated launch plan {} (version {})", id.name, id.version);
    }
    let created = report
        .registered
        .iter()
        .filter(|r| r.outcome == flytekit_remote::Outcome::Created)
        .count();
    eprintln!(
        "{} entities on {} in {}/{}: {created} new, {} already registered",
        report.registered.len(),
        cluster.remote.endpoint(),
        cluster.project,
        cluster.domain,
        report.registered.len() - created
    );
    Ok(ExitCode::SUCCESS)
}

/// The workflows, launch plans and tasks named on the command line (registered, or declared by
/// the instance providers), or every registered workflow and task.
fn select(
    names: &[String],
    instances: &super::instances::InstanceArgs,
) -> Result<(Vec<Workflow>, Vec<Task>), RemoteCommandError> {
    if names.is_empty() {
        return Ok((crate::workflow::registered(), crate::task::registered()));
    }
    let mut workflows = Vec::new();
    let mut tasks = Vec::new();
    for entity in
        super::instances::find_entities(names, instances).map_err(RemoteCommandError::Usage)?
    {
        match entity {
            Entity::Workflow(w) => workflows.push(w),
            Entity::Task(t) => tasks.push(t),
            // A launch plan goes with its workflow (serialization adds the workflow's plans).
            Entity::LaunchPlan(lp) => workflows.push(lp.workflow().clone()),
            other => {
                return Err(RemoteCommandError::Usage(format!(
                    "'{}' is a {}; register names workflows, launch plans and tasks",
                    other.name(),
                    other.kind()
                )));
            }
        }
    }
    Ok((workflows, tasks))
}

/// Builds the images, uploads the fast bundle, serializes and decodes the entities to register.
/// Returns them with the settings used (their version in particular).
async fn prepare(
    cluster: &Cluster,
    workflows: &[Workflow],
    tasks: &[Task],
    options: &RegisterOptions,
    payloads: Option<&PayloadPlan>,
) -> Result<(Vec<RemoteEntity>, SerializationSettings), RemoteCommandError> {
    // Project, domain and version are always known here: they come from the flags or config.
    let mut settings = RegistrationArgs {
        project: Some(cluster.project.clone()),
        domain: Some(cluster.domain.clone()),
        version: options.version.clone(),
        content_version: false,
        image: options.image.clone(),
        binary: options.binary.clone(),
        env: options.env.clone(),
    }
    .settings()
    .map_err(RemoteCommandError::Usage)?;
    settings.project = cluster.project.clone();
    settings.domain = cluster.domain.clone();
    super::instances::apply(payloads, &mut settings);
    if options.fast {
        settings.fast = Some(FastSerializationSettings {
            destination_dir: Some(options.dest_dir.clone()),
            distribution_location: None,
        });
    }
    build_images(workflows, tasks, &settings).await?;
    let scratch = tempfile::tempdir().map_err(|e| {
        RemoteCommandError::Prepare(format!("cannot create a temporary directory: {e}"))
    })?;
    let mut code = None;
    if options.fast {
        let exe = std::env::current_exe()
            .map_err(|e| RemoteCommandError::Prepare(format!("cannot find this binary: {e}")))?;
        let name = Path::new(&settings.binary)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| settings.binary.clone());
        let bundle = crate::fast::FastBundle::create(&[(exe, name)], scratch.path())
            .map_err(|e| RemoteCommandError::Prepare(e.to_string()))?;
        let uploaded = cluster
            .remote
            .upload_file(&cluster.project, &cluster.domain, &bundle.path)
            .await?;
        eprintln!("uploaded the fast bundle to {}", uploaded.native_url);
        if let Some(fast) = &mut settings.fast {
            fast.distribution_location = Some(uploaded.native_url);
        }
        code = Some(format!("fast-bundle:md5:{}", bundle.digest));
    }
    // `register` is the registrar: without --version it writes the content version itself
    // (as flytectl writes its --version into empty identifiers).
    let versioning = match &options.version {
        Some(v) => Versioning::Given(v.clone()),
        None => Versioning::ContentWritten,
    };
    let files: Vec<SerializedEntity> =
        serialize_versioned(workflows, tasks, &mut settings, &versioning, || {
            code.map_or_else(current_binary_digest, Ok)
        })
        .map_err(RemoteCommandError::Prepare)?
        .files;
    eprintln!("version: {}", settings.version);
    let entities = files
        .iter()
        .map(|f| RemoteEntity::from_package_file(&f.file_name, &f.bytes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((entities, settings))
}

/// Builds (or finds) the image of every task whose image is an `ImageSpec`, once per spec, so
/// the images the serialized tasks name exist. The one place registration builds images.
async fn build_images(
    workflows: &[Workflow],
    tasks: &[Task],
    settings: &SerializationSettings,
) -> Result<(), RemoteCommandError> {
    let mut seen = BTreeSet::new();
    for task in reachable_tasks(workflows, tasks) {
        let Some(spec) = task.image_spec_for(settings) else {
            continue;
        };
        let key = spec.image_name().unwrap_or_default();
        if !seen.insert(key) {
            continue;
        }
        let image = crate::image::ImageBuildEngine::global()
            .registerable_image(&spec, &settings.image_config)
            .await
            .map_err(|e| {
                RemoteCommandError::Prepare(format!("image of task {}: {e}", task.name()))
            })?;
        eprintln!("image {image} ready for task {}", task.name());
    }
    Ok(())
}

/// `tasks` and every task the workflows (and their sub-workflows) run.
fn reachable_tasks(workflows: &[Workflow], tasks: &[Task]) -> Vec<Task> {
    let mut out: Vec<Task> = tasks.to_vec();
    let mut stack: Vec<Workflow> = workflows.to_vec();
    let mut seen = BTreeSet::new();
    while let Some(wf) = stack.pop() {
        if !seen.insert(wf.name().to_string()) {
            continue;
        }
        // Conditionals' arms and the failure node included; a launch plan's workflow is
        // registered with the plan; references are registered elsewhere.
        for node in wf.entity_nodes() {
            match &node.entity {
                Entity::Task(t) => out.push(t.clone()),
                Entity::Workflow(w) => stack.push(w.clone()),
                Entity::LaunchPlan(lp) => stack.push(lp.workflow().clone()),
                Entity::Reference(_) | Entity::Branch(_) | Entity::Gate(_) => {}
            }
        }
    }
    out
}

/// `run --remote`: registers what `entity` needs, starts it with `inputs`, prints the console
/// URL; with `--wait` follows it and prints its outputs as JSON.
pub async fn run_remote(
    entity: &Entity,
    inputs: LiteralMap,
    args: &RemoteRunArgs,
    payloads: &super::instances::PayloadArgs,
) -> ExitCode {
    report(run_remote_inner(entity, inputs, args, payloads).await)
}

async fn run_remote_inner(
    entity: &Entity,
    inputs: LiteralMap,
    args: &RemoteRunArgs,
    payloads: &super::instances::PayloadArgs,
) -> Result<ExitCode, RemoteCommandError> {
    let cluster = Cluster::open(&args.cluster)?;
    // The payloads of the instance tasks it runs are stored before anything names them.
    let plan = super::instances::plan_entity(entity, payloads, None, false)
        .await
        .map_err(|e| RemoteCommandError::Prepare(format!("{e}; nothing was registered")))?;
    let (workflows, tasks, kind) = match entity {
        Entity::Workflow(w) => (vec![w.clone()], vec![], ResourceType::LaunchPlan),
        Entity::Task(t) => (vec![], vec![t.clone()], ResourceType::Task),
        // Registered with its workflow (serialization adds the workflow's plans).
        Entity::LaunchPlan(lp) => (
            vec![lp.workflow().clone()],
            vec![],
            ResourceType::LaunchPlan,
        ),
        other => {
            return Err(RemoteCommandError::Usage(format!(
                "'{}' is a {}; run --remote starts workflows, launch plans and tasks",
                other.name(),
                other.kind()
            )));
        }
    };
    let (entities, settings) =
        prepare(&cluster, &workflows, &tasks, &args.options, plan.as_ref()).await?;
    let report = cluster.remote.register(&entities, false).await?;
    let created = report
        .registered
        .iter()
        .filter(|r| r.outcome == flytekit_remote::Outcome::Created)
        .count();
    eprintln!(
        "registered {} entities ({created} new) in {}/{}",
        report.registered.len(),
        cluster.project,
        cluster.domain
    );
    let mut inputs = inputs;
    upload_local_files(&cluster, &mut inputs).await?;
    // The default launch plan is named after its workflow.
    let target = Identifier {
        resource_type: kind as i32,
        project: cluster.project.clone(),
        domain: cluster.domain.clone(),
        name: entity.name().to_string(),
        version: settings.version.clone(),
        org: String::new(),
    };
    let id = cluster
        .remote
        .launch(&target, inputs, args.execution_name.as_deref())
        .await?;
    let url = cluster.remote.console_url(&id);
    if !args.wait {
        eprintln!("execution {} started", id.name);
        println!("{url}");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("execution {} started: {url}", id.name);
    let nodes = node_names(entity);
    follow(&cluster.remote, &id, args.poll_interval, &nodes).await
}

/// Uploads the local files among the inputs through FlyteAdmin's data proxy and puts their
/// blob store URIs in their place (as flytekit does for `run --remote`): a cluster cannot read
/// this machine's files. Local directories are refused with what to do instead.
async fn upload_local_files(
    cluster: &Cluster,
    inputs: &mut LiteralMap,
) -> Result<(), RemoteCommandError> {
    for (name, blob) in local_blobs(inputs) {
        let path = PathBuf::from(blob.uri.strip_prefix("file://").unwrap_or(&blob.uri));
        let multipart = blob
            .metadata
            .as_ref()
            .and_then(|m| m.r#type.as_ref())
            .is_some_and(|t| {
                t.dimensionality
                    == flytekit_idl::core::blob_type::BlobDimensionality::Multipart as i32
            });
        if multipart || path.is_dir() {
            return Err(RemoteCommandError::Usage(format!(
                "input --{name}: the local directory {} cannot be read on the cluster; upload it \
                 to the blob store and pass its URI (s3://...)",
                path.display()
            )));
        }
        if !path.is_file() {
            return Err(RemoteCommandError::Usage(format!(
                "input --{name}: {} is not a file here, nor a URI the cluster can read \
                 (s3://, gs://, abfs://, http(s)://)",
                path.display()
            )));
        }
        let uploaded = cluster
            .remote
            .upload_file(&cluster.project, &cluster.domain, &path)
            .await?;
        eprintln!(
            "uploaded input --{name} {} to {}",
            path.display(),
            uploaded.native_url
        );
        blob.uri = uploaded.native_url;
    }
    Ok(())
}

/// The blobs among the inputs (in lists, maps and unions too) whose URI is a local path,
/// with the name of the input they belong to.
fn local_blobs(inputs: &mut LiteralMap) -> Vec<(String, &mut flytekit_idl::core::Blob)> {
    use flytekit_idl::core::{literal, scalar};
    let mut out = Vec::new();
    for (name, lit) in inputs.literals.iter_mut() {
        let mut stack = vec![lit];
        while let Some(lit) = stack.pop() {
            match &mut lit.value {
                Some(literal::Value::Scalar(s)) => match &mut s.value {
                    Some(scalar::Value::Blob(b))
                        if b.uri.starts_with("file://") || !b.uri.contains("://") =>
                    {
                        out.push((name.clone(), &mut **b));
                    }
                    Some(scalar::Value::Union(u)) => stack.extend(u.value.as_deref_mut()),
                    _ => {}
                },
                Some(literal::Value::Collection(c)) => stack.extend(c.literals.iter_mut()),
                Some(literal::Value::Map(m)) => stack.extend(m.literals.values_mut()),
                _ => {}
            }
        }
    }
    out
}

/// Node id → the name of what it runs, for progress lines.
fn node_names(entity: &Entity) -> std::collections::HashMap<String, String> {
    match entity {
        Entity::Workflow(w) => w
            .nodes()
            .iter()
            .map(|n| (n.id.clone(), n.entity.short_name().to_string()))
            .collect(),
        Entity::Task(t) => [(
            "n0".to_string(),
            t.name().rsplit('.').next().unwrap_or(t.name()).to_string(),
        )]
        .into(),
        Entity::LaunchPlan(lp) => node_names(&Entity::Workflow(lp.workflow().clone())),
        Entity::Reference(_) | Entity::Branch(_) | Entity::Gate(_) => Default::default(),
    }
}

/// Follows an execution to its end (a line per phase change), then prints its outputs as JSON.
async fn follow(
    remote: &Remote,
    id: &WorkflowExecutionIdentifier,
    poll_interval: f64,
    nodes: &std::collections::HashMap<String, String>,
) -> Result<ExitCode, RemoteCommandError> {
    let poll = Duration::try_from_secs_f64(poll_interval.max(0.01))
        .map_err(|e| RemoteCommandError::Usage(format!("--poll-interval: {e}")))?;
    let on_event = |event: WatchEvent| match event {
        WatchEvent::Execution(phase) => eprintln!("{}: {}", id.name, phase.as_str_name()),
        WatchEvent::Node {
            node_id,
            phase,
            error,
        } => {
            let what = nodes
                .get(&node_id)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            match error {
                Some(e) => eprintln!("  {node_id}{what}: {} {}", phase.as_str_name(), e.message),
                None => eprintln!("  {node_id}{what}: {}", phase.as_str_name()),
            }
        }
    };
    let exec = tokio::select! {
        r = remote.watch(id, poll, on_event) => r?,
        _ = tokio::signal::ctrl_c() => {
            eprintln!(
                "stopped following; the execution goes on: {}",
                remote.console_url(id)
            );
            return Ok(ExitCode::from(130));
        }
    };
    finish(remote, id, &exec).await
}

/// Prints the outputs of a succeeded execution, or says why it did not succeed.
async fn finish(
    remote: &Remote,
    id: &WorkflowExecutionIdentifier,
    exec: &flytekit_idl::admin::Execution,
) -> Result<ExitCode, RemoteCommandError> {
    let phase = phase_of(exec);
    if phase != Phase::Succeeded {
        let why = failure_of(exec).unwrap_or_default();
        eprintln!(
            "error: execution {} {}{}{}",
            id.name,
            phase.as_str_name(),
            if why.is_empty() { "" } else { ": " },
            why
        );
        return Ok(ExitCode::FAILURE);
    }
    let outputs = read_outputs(remote, id).await?;
    let json = crate::engine::outputs_to_json(&outputs);
    println!(
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_else(|_| json.to_string())
    );
    Ok(ExitCode::SUCCESS)
}

/// The outputs of a finished execution: inline, from a signed URL, or from the blob store.
async fn read_outputs(
    remote: &Remote,
    id: &WorkflowExecutionIdentifier,
) -> Result<LiteralMap, RemoteCommandError> {
    match remote.outputs(id).await? {
        Outputs::Literals(m) => Ok(m),
        Outputs::None => Ok(LiteralMap::default()),
        Outputs::At(url) if url.starts_with("http://") || url.starts_with("https://") => {
            Ok(remote.download_outputs(&url).await?)
        }
        Outputs::At(uri) => {
            let storage = crate::storage::Storage::try_new().map_err(|e| {
                RemoteCommandError::Prepare(format!("reading the outputs at {uri}: {e}"))
            })?;
            let bytes = storage.get(&uri).await.map_err(|e| {
                RemoteCommandError::Prepare(format!("reading the outputs at {uri}: {e}"))
            })?;
            flytekit_idl::codec::decode_literal_map(&bytes).map_err(|e| {
                RemoteCommandError::Prepare(format!(
                    "the outputs at {uri} are not a LiteralMap: {e}"
                ))
            })
        }
    }
}

/// Entry point of `execution`.
pub async fn execution(args: ExecutionArgs) -> ExitCode {
    report(execution_inner(args.command).await)
}

async fn execution_inner(command: ExecutionCommand) -> Result<ExitCode, RemoteCommandError> {
    let (id_text, cluster_args) = match &command {
        ExecutionCommand::Status { id, cluster }
        | ExecutionCommand::Outputs { id, cluster }
        | ExecutionCommand::Wait { id, cluster, .. }
        | ExecutionCommand::Relaunch { id, cluster }
        | ExecutionCommand::Terminate { id, cluster, .. }
        | ExecutionCommand::Signal { id, cluster, .. } => (id.clone(), cluster.clone()),
    };
    let cluster = Cluster::open(&cluster_args)?;
    let id = parse_execution_id(&id_text, &cluster.project, &cluster.domain)
        .map_err(RemoteCommandError::Usage)?;
    let remote = &cluster.remote;
    match command {
        ExecutionCommand::Status { .. } => {
            let exec = remote.execution(&id).await?;
            let phase = phase_of(&exec);
            println!("{}: {}", id.name, phase.as_str_name());
            if let Some(why) = failure_of(&exec) {
                println!("  {why}");
            }
            for node in remote.node_executions(&id).await? {
                let node_id = node.id.as_ref().map(|n| n.node_id.as_str()).unwrap_or("");
                if node_id == "start-node" || node_id == "end-node" {
                    continue;
                }
                let Some(closure) = &node.closure else {
                    continue;
                };
                let phase = flytekit_remote::execution::NodePhase::try_from(closure.phase)
                    .unwrap_or(flytekit_remote::execution::NodePhase::Undefined);
                match &closure.output_result {
                    Some(flytekit_idl::admin::node_execution_closure::OutputResult::Error(e)) => {
                        println!("  {node_id}: {} {}", phase.as_str_name(), e.message)
                    }
                    _ => println!("  {node_id}: {}", phase.as_str_name()),
                }
            }
            println!("{}", remote.console_url(&id));
            Ok(ExitCode::SUCCESS)
        }
        ExecutionCommand::Outputs { .. } => {
            let exec = remote.execution(&id).await?;
            if !is_terminal(phase_of(&exec)) {
                return Err(RemoteCommandError::Usage(format!(
                    "execution {} is {}; it has no outputs yet (`execution wait {}` follows it)",
                    id.name,
                    phase_of(&exec).as_str_name(),
                    id.name
                )));
            }
            finish(remote, &id, &exec).await
        }
        ExecutionCommand::Wait { poll_interval, .. } => {
            follow(remote, &id, poll_interval, &Default::default()).await
        }
        ExecutionCommand::Relaunch { .. } => {
            let new = remote.relaunch(&id, None).await?;
            eprintln!("relaunched {} as {}", id.name, new.name);
            println!("{}", remote.console_url(&new));
            Ok(ExitCode::SUCCESS)
        }
        ExecutionCommand::Terminate { cause, .. } => {
            remote.terminate(&id, &cause).await?;
            eprintln!("terminated {}", id.name);
            Ok(ExitCode::SUCCESS)
        }
        ExecutionCommand::Signal { signal, value, .. } => {
            let signals = remote.signals(&id).await?;
            let Some(signal) = signal else {
                if signals.is_empty() {
                    println!("execution {} has no signals", id.name);
                }
                for s in &signals {
                    let name = s.id.as_ref().map(|i| i.signal_id.as_str()).unwrap_or("");
                    let ty = s
                        .r#type
                        .as_ref()
                        .map(crate::type_engine::describe_type)
                        .unwrap_or_default();
                    match &s.value {
                        Some(v) => {
                            println!("{name} ({ty}) = {}", crate::type_engine::literal_to_json(v))
                        }
                        None => println!("{name} ({ty}) waiting"),
                    }
                }
                return Ok(ExitCode::SUCCESS);
            };
            let found = signals
                .iter()
                .find(|s| s.id.as_ref().is_some_and(|i| i.signal_id == signal));
            let Some(found) = found else {
                let names: Vec<&str> = signals
                    .iter()
                    .filter_map(|s| s.id.as_ref().map(|i| i.signal_id.as_str()))
                    .collect();
                return Err(RemoteCommandError::Usage(format!(
                    "execution {} has no signal '{signal}'; its signals: {}",
                    id.name,
                    if names.is_empty() {
                        "(none)".to_string()
                    } else {
                        names.join(", ")
                    }
                )));
            };
            let Some(value) = value else {
                return Err(RemoteCommandError::Usage(format!(
                    "give the value of signal '{signal}' after its name"
                )));
            };
            let ty = found.r#type.clone().unwrap_or_default();
            let literal = super::values::value_to_literal(&ty, &value).map_err(|reason| {
                RemoteCommandError::Usage(format!(
                    "signal '{signal}': expected {}, got '{value}': {reason}",
                    crate::type_engine::describe_type(&ty)
                ))
            })?;
            remote.signal(&id, &signal, literal).await?;
            eprintln!("set signal {signal} of {}", id.name);
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::type_engine::literal_from_json;
    use flytekit_idl::core::{BlobType, LiteralType, blob_type, literal_type};

    #[test]
    fn local_files_among_the_inputs_are_found_wherever_they_are() {
        let file = LiteralType {
            r#type: Some(literal_type::Type::Blob(BlobType {
                format: String::new(),
                dimensionality: blob_type::BlobDimensionality::Single as i32,
            })),
            ..Default::default()
        };
        let list = LiteralType {
            r#type: Some(literal_type::Type::CollectionType(Box::new(file.clone()))),
            ..Default::default()
        };
        let mut inputs = LiteralMap::default();
        let lit = |t: &LiteralType, v: serde_json::Value| literal_from_json(t, &v).unwrap();
        inputs
            .literals
            .insert("a".into(), lit(&file, "data.csv".into()));
        inputs
            .literals
            .insert("b".into(), lit(&file, "s3://bucket/x.csv".into()));
        inputs.literals.insert(
            "c".into(),
            lit(
                &list,
                serde_json::json!(["file:///tmp/y", "gs://b/z", "/abs/w"]),
            ),
        );
        let mut found: Vec<(String, String)> = local_blobs(&mut inputs)
            .into_iter()
            .map(|(n, b)| (n, b.uri.clone()))
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                ("a".to_string(), "data.csv".to_string()),
                ("c".to_string(), "/abs/w".to_string()),
                ("c".to_string(), "file:///tmp/y".to_string()),
            ]
        );
    }
}
