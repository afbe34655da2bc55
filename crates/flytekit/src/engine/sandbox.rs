//! The sandbox: runs each task node the way FlytePropeller runs its container, on this machine.
//!
//! For every attempt the sandbox serializes the task's `TaskTemplate`, writes `inputs.pb` to a
//! blob store (a local directory by default, `s3://...` when configured), renders Propeller's
//! template variables in the container args (`{{.input}}`, `{{.outputPrefix}}`,
//! `{{.rawOutputDataPrefix}}`, `{{.checkpointOutputPrefix}}`, `{{.prevCheckpointPrefix}}`;
//! case-insensitive, spaces allowed), sets the `FLYTE_INTERNAL_*` environment plus the template's
//! own, runs the args as a subprocess, and reads `outputs.pb` or `error.pb` back like Propeller:
//! a recoverable error may be retried, a non-recoverable one fails the node at once.
//!
//! Nothing but the container contract is used, so a workflow that passes `run --sandbox` runs on
//! a cluster with the same artifacts.

use std::sync::LazyLock;
use std::time::Duration;

use flytekit_idl::Message;
use flytekit_idl::codec::{decode_literal_map, encode_literal_map};
use flytekit_idl::core::{
    ContainerError, DynamicJobSpec, ErrorDocument, LiteralMap, TaskTemplate, container_error,
};
use regex::Regex;

use crate::contract::{ERROR_FILE, FUTURES_FILE, OUTPUTS_FILE};
use crate::settings::{
    PayloadPlacements, PayloadSettings, SerializationSettings, current_binary_name,
};
use crate::storage::{Storage, join};

/// Settings of sandbox runs.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// The blob store prefix under which each attempt's files go (a local path or a URI).
    pub store: String,
    /// The binary whose `execute` runs the tasks (default: the current executable).
    pub binary: String,
    /// Identifies the run in paths and `FLYTE_INTERNAL_EXECUTION_ID`.
    pub execution_name: String,
    /// Where instance payloads go: by default offloaded ones to `<store>/payloads`. Each
    /// instance task's offloaded payload is put there before its container starts.
    pub payloads: PayloadSettings,
    /// Payloads placed explicitly (e.g. in a bundle a [`PayloadPlan`] uploaded).
    ///
    /// [`PayloadPlan`]: crate::payload_plan::PayloadPlan
    pub placements: PayloadPlacements,
    /// Run each container inside its image with bubblewrap (`run --sandbox --in-image`, see
    /// [`super::isolate`]); `None` runs the container args on this machine.
    pub in_image: Option<std::sync::Arc<super::isolate::InImage>>,
}

impl SandboxOptions {
    /// Sandbox runs storing under `store`, running the current executable.
    pub fn new(store: impl Into<String>) -> Self {
        let store = store.into();
        Self {
            payloads: PayloadSettings::default().offload_to(join(&store, "payloads")),
            placements: PayloadPlacements::default(),
            store,
            binary: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| current_binary_name()),
            execution_name: format!("sbx{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
            in_image: None,
        }
    }
}

/// One failed sandbox attempt, as Propeller would see it.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// The task wrote `error.pb`.
    #[error("{origin} error {code} ({}): {message}", if *.recoverable { "recoverable" } else { "non-recoverable" })]
    Task {
        /// `USER:...` or `SYSTEM`.
        code: String,
        /// The message from `error.pb`.
        message: String,
        /// `USER` or `SYSTEM`.
        origin: &'static str,
        /// Whether Propeller would retry.
        recoverable: bool,
    },
    /// The container exited without `outputs.pb` or `error.pb` (Propeller: recoverable SYSTEM).
    #[error(
        "the task container exited with {status} and wrote neither outputs.pb nor error.pb; its stderr ends with:\n{stderr}"
    )]
    NoResult {
        /// The exit status.
        status: String,
        /// The end of its standard error.
        stderr: String,
    },
    /// The sandbox could not prepare or start the attempt.
    #[error("sandbox: {0}")]
    Setup(String),
}

impl AttemptError {
    /// Whether Propeller would retry this attempt.
    pub fn is_recoverable(&self) -> bool {
        match self {
            AttemptError::Task { recoverable, .. } => *recoverable,
            AttemptError::NoResult { .. } => true,
            AttemptError::Setup(_) => false,
        }
    }

    /// The error for the engine's retry loop, with whether Propeller would retry it.
    pub(crate) fn into_failure(self) -> (Box<dyn std::error::Error + Send + Sync>, bool) {
        let retryable = self.is_recoverable();
        (Box::new(self), retryable)
    }

    fn from_container_error(e: ContainerError) -> Self {
        AttemptError::Task {
            code: e.code,
            message: e.message,
            origin: match e.origin {
                1 => "USER",
                2 => "SYSTEM",
                _ => "UNKNOWN",
            },
            recoverable: e.kind == container_error::Kind::Recoverable as i32,
        }
    }
}

/// The values Propeller substitutes into container args.
#[derive(Clone, Debug, Default)]
pub struct TemplateVars {
    /// `{{.input}}`: the inputs file.
    pub input: String,
    /// `{{.inputPrefix}}`: its directory.
    pub input_prefix: String,
    /// `{{.outputPrefix}}`.
    pub output_prefix: String,
    /// `{{.rawOutputDataPrefix}}`.
    pub raw_output_data_prefix: String,
    /// `{{.checkpointOutputPrefix}}`.
    pub checkpoint_output_prefix: String,
    /// `{{.prevCheckpointPrefix}}`; empty renders as `""`, as Propeller does.
    pub prev_checkpoint_prefix: String,
}

static VAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\{\{\s*[\.$]([a-z]+)\s*\}\}").expect("static regex"));

/// Renders Propeller's template variables in one arg (flyteplugins' `template.Render`); unknown
/// variables are left as they are.
pub fn render(arg: &str, vars: &TemplateVars) -> String {
    VAR.replace_all(arg, |c: &regex::Captures| {
        let name = c[1].to_ascii_lowercase();
        match name.as_str() {
            "input" => vars.input.clone(),
            "inputprefix" => vars.input_prefix.clone(),
            "outputprefix" => vars.output_prefix.clone(),
            "rawoutputdataprefix" => vars.raw_output_data_prefix.clone(),
            "checkpointoutputprefix" => vars.checkpoint_output_prefix.clone(),
            "prevcheckpointprefix" => {
                if vars.prev_checkpoint_prefix.is_empty() {
                    "\"\"".to_string()
                } else {
                    vars.prev_checkpoint_prefix.clone()
                }
            }
            _ => c[0].to_string(),
        }
    })
    .into_owned()
}

/// Environment variables, in order.
type Env = Vec<(String, String)>;

/// What a finished container left: outputs, or a dynamic task's graph.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// `outputs.pb`.
    Outputs(LiteralMap),
    /// `futures.pb`: the `DynamicJobSpec` Propeller runs next, in place of outputs.
    Futures(DynamicJobSpec),
}

/// Where an attempt's inputs come from.
pub(crate) enum Input<'a> {
    /// Written to `<attempt dir>/inputs.pb` first.
    Write(&'a LiteralMap),
    /// An `inputs.pb` already in the store (a map task's, shared by its elements).
    At(String),
}

/// One container run: the template to run, where, and with what.
pub(crate) struct ContainerRun<'a> {
    /// The serialized task.
    pub template: &'a TaskTemplate,
    /// The node path (`n1`, `n2/dn0`, `n3[4]`): names the run's directory.
    pub node: &'a str,
    /// Zero-based attempt number.
    pub attempt: u32,
    /// The inputs.
    pub input: Input<'a>,
    /// Environment beyond the template's and `FLYTE_INTERNAL_*` (a map element's index).
    pub env: Env,
}

/// The settings the sandbox serializes tasks with: this run's binary, a placeholder image, its
/// payload placement.
pub(crate) fn settings(opts: &SandboxOptions) -> SerializationSettings {
    // In-image runs (engine/isolate.rs): the registration's images and in-image binary name.
    let mut s = match &opts.in_image {
        Some(in_image) => in_image.settings(SANDBOX_PROJECT, SANDBOX_DOMAIN, SANDBOX_VERSION),
        None => SerializationSettings::new(SANDBOX_PROJECT, SANDBOX_DOMAIN, SANDBOX_VERSION)
            .with_default_image("sandbox.local/flytekit-rs:sandbox")
            .with_binary(opts.binary.clone()),
    }
    .with_payloads(opts.payloads.clone());
    s.placements = opts.placements.clone();
    s
}

const SANDBOX_PROJECT: &str = "sandbox";
const SANDBOX_DOMAIN: &str = "local";
const SANDBOX_VERSION: &str = "sandbox";

/// The store directory of a node's runs: `<store>/<execution>/<node path with '/' as '-'>`.
pub(crate) fn node_dir(opts: &SandboxOptions, node: &str) -> String {
    join(
        &join(&opts.store, &opts.execution_name),
        &node.replace('/', "-"),
    )
}

/// Writes a map node's whole inputs once, for all its elements; returns their URI.
pub(crate) async fn write_map_inputs(
    opts: &SandboxOptions,
    storage: &Storage,
    node: &str,
    inputs: &LiteralMap,
) -> Result<String, String> {
    let uri = join(&node_dir(opts, node), "inputs.pb");
    storage
        .put(&uri, encode_literal_map(inputs))
        .await
        .map_err(|e| format!("cannot write the map's inputs: {e}"))?;
    Ok(uri)
}

/// Runs one attempt of a serialized task through the container contract: renders the args,
/// runs them, and reads `outputs.pb`, `futures.pb` or `error.pb` back as Propeller does.
pub(crate) async fn run_container(
    run: ContainerRun<'_>,
    opts: &SandboxOptions,
    storage: &Storage,
) -> Result<Outcome, AttemptError> {
    let template = run.template;
    let task_name = template
        .id
        .as_ref()
        .map(|i| i.name.as_str())
        .unwrap_or_default();
    let crate::serialization::PrimaryContainer { args, env, .. } =
        crate::serialization::primary_container(template)
            .map_err(|e| AttemptError::Setup(e.to_string()))?;
    let base = node_dir(opts, run.node);
    let attempt = run.attempt;
    let dir = join(&base, &attempt.to_string());
    let input = match run.input {
        Input::At(uri) => uri,
        Input::Write(inputs) => {
            let uri = join(&dir, "inputs.pb");
            storage
                .put(&uri, encode_literal_map(inputs))
                .await
                .map_err(|e| AttemptError::Setup(format!("cannot write the inputs: {e}")))?;
            uri
        }
    };
    let vars = TemplateVars {
        input_prefix: input
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default(),
        input,
        output_prefix: join(&dir, "out"),
        raw_output_data_prefix: join(&dir, "raw"),
        checkpoint_output_prefix: join(&dir, "_flytecheckpoints"),
        prev_checkpoint_prefix: if attempt > 0 {
            join(
                &join(&base, &(attempt - 1).to_string()),
                "_flytecheckpoints",
            )
        } else {
            String::new()
        },
    };
    let argv: Vec<String> = args.iter().map(|a| render(a, &vars)).collect();
    let Some((program, rest)) = argv.split_first() else {
        return Err(AttemptError::Setup("the container has no args".into()));
    };
    let pod_env: Env = env
        .into_iter()
        .chain(
            [
                ("FLYTE_INTERNAL_EXECUTION_PROJECT", SANDBOX_PROJECT),
                ("FLYTE_INTERNAL_EXECUTION_DOMAIN", SANDBOX_DOMAIN),
                ("FLYTE_INTERNAL_EXECUTION_ID", opts.execution_name.as_str()),
                ("FLYTE_INTERNAL_EXECUTION_WORKFLOW", run.node),
                ("FLYTE_INTERNAL_TASK_PROJECT", SANDBOX_PROJECT),
                ("FLYTE_INTERNAL_TASK_DOMAIN", SANDBOX_DOMAIN),
                ("FLYTE_INTERNAL_TASK_NAME", task_name),
                ("FLYTE_INTERNAL_TASK_VERSION", SANDBOX_VERSION),
                ("FLYTE_ATTEMPT_NUMBER", &attempt.to_string()),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        )
        .chain(run.env)
        .collect();
    // In-image runs (engine/isolate.rs): the same args and env, inside the image.
    let (mut cmd, _in_image_guard) = match &opts.in_image {
        Some(in_image) => {
            let (cmd, guard) = in_image
                .command(template, &argv, &pod_env, &opts.store)
                .await
                .map_err(|e| AttemptError::Setup(e.to_string()))?;
            (cmd, Some(guard))
        }
        None => {
            let mut cmd = tokio::process::Command::new(program);
            cmd.args(rest).envs(pod_env);
            (cmd, None)
        }
    };
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        // A cancelled run (Ctrl-C, timeout) drops this future: the container goes with it.
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| AttemptError::Setup(format!("cannot start {program}: {e}")))?;
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| AttemptError::Setup(format!("waiting for {program}: {e}")))?;
    let read = |name: &str| {
        let uri = join(&vars.output_prefix, name);
        async move {
            match storage.exists(&uri).await {
                Ok(true) => storage.get(&uri).await.map(Some),
                Ok(false) => Ok(None),
                Err(e) => Err(e),
            }
        }
    };
    let setup = |e: crate::storage::StorageError| {
        AttemptError::Setup(format!("cannot read the results: {e}"))
    };
    if let Some(bytes) = read(OUTPUTS_FILE).await.map_err(setup)? {
        return decode_literal_map(&bytes)
            .map(Outcome::Outputs)
            .map_err(|e| AttemptError::Setup(format!("outputs.pb is not a LiteralMap: {e}")));
    }
    if let Some(bytes) = read(FUTURES_FILE).await.map_err(setup)? {
        return DynamicJobSpec::decode(bytes.as_ref())
            .map(Outcome::Futures)
            .map_err(|e| AttemptError::Setup(format!("futures.pb is not a DynamicJobSpec: {e}")));
    }
    if let Some(bytes) = read(ERROR_FILE).await.map_err(setup)? {
        let doc = ErrorDocument::decode(bytes.as_ref())
            .map_err(|e| AttemptError::Setup(format!("error.pb is not an ErrorDocument: {e}")))?;
        return Err(AttemptError::from_container_error(
            doc.error.unwrap_or_default(),
        ));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
    Err(AttemptError::NoResult {
        status: out.status.to_string(),
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
}

/// How long the sandbox waits between retries of a recoverable failure.
pub(crate) const RETRY_DELAY: Duration = Duration::from_millis(50);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_propeller() {
        let vars = TemplateVars {
            input: "/in/inputs.pb".into(),
            output_prefix: "/out".into(),
            ..Default::default()
        };
        assert_eq!(render("{{.input}}", &vars), "/in/inputs.pb");
        assert_eq!(render("{{ .Input }}", &vars), "/in/inputs.pb");
        assert_eq!(render("{{$outputPrefix}}/x", &vars), "/out/x");
        assert_eq!(render("{{.prevCheckpointPrefix}}", &vars), "\"\"");
        assert_eq!(render("{{.unknownThing}}", &vars), "{{.unknownThing}}");
    }
}
