//! `serialize`: writes the registrable Flyte entities of the registered workflows as protobuf
//! files, in the layout `pyflyte serialize` and `pyflyte package` use: `<i>_<name>_1.pb` for a
//! task (`admin.TaskSpec`), `_2.pb` for a workflow (`admin.WorkflowSpec`, sub-workflows
//! included) and `_3.pb` for its default launch plan (`admin.LaunchPlan`).
//!
//! ```text
//! <binary> serialize --project p --domain development --version v1 -o out/ [WORKFLOW...]
//! ```

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use flytekit_idl::Message;
use flytekit_idl::admin::TaskSpec;

use crate::workflow::deps::SerializationSettings;
use crate::workflow::{LaunchPlan, Workflow, WorkflowError};

/// Where and how entities are registered: shared by `serialize` and `package`.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistrationArgs {
    /// Flyte project of the identifiers.
    #[arg(long, short = 'p', default_value = "flytesnacks")]
    pub project: String,
    /// Flyte domain of the identifiers.
    #[arg(long, short = 'd', default_value = "development")]
    pub domain: String,
    /// Version of the identifiers.
    #[arg(long, short = 'v')]
    pub version: String,
    /// Images: `uri` (the default image) or `name=uri`, repeatable; tasks without an image use
    /// the default (also taken from `FLYTE_INTERNAL_IMAGE`).
    #[arg(long, short = 'i', value_name = "[NAME=]URI")]
    pub image: Vec<String>,
    /// The binary's name or path inside the image (default: this binary's file name).
    #[arg(long, value_name = "PATH")]
    pub binary: Option<String>,
    /// Environment for every task, `KEY=VALUE`, repeatable (before each task's own).
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
}

impl RegistrationArgs {
    /// The serialization settings these arguments describe.
    pub fn settings(&self) -> Result<SerializationSettings, String> {
        let image_config = crate::image::ImageConfig::from_cli_values(&self.image, "image")
            .map_err(|e| e.to_string())?;
        let mut env = Vec::new();
        for kv in &self.env {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("--env {kv}: expected KEY=VALUE"))?;
            env.push((k.to_string(), v.to_string()));
        }
        let mut s = SerializationSettings::new(&self.project, &self.domain, &self.version)
            .with_image_config(image_config);
        s.env = env;
        if let Some(b) = &self.binary {
            s.binary = b.clone();
        }
        Ok(s)
    }
}

/// Arguments of `serialize`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Write workflows, their tasks and launch plans as Flyte protobuf files")]
pub struct SerializeArgs {
    /// Workflows to serialize (full names or unique suffixes); default: every registered workflow
    /// and every registered task.
    pub workflows: Vec<String>,
    /// Directory receiving the files (created if needed).
    #[arg(long, short, default_value = "flyte-serialized")]
    pub output_dir: PathBuf,
    /// Identifiers, images and environment.
    #[command(flatten)]
    pub registration: RegistrationArgs,
}

/// One file of the serialized output: its name and bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct SerializedEntity {
    /// `<i>_<name>_<1|2|3>.pb`.
    pub file_name: String,
    /// The encoded protobuf message.
    pub bytes: Vec<u8>,
}

/// Serializes `workflows` with everything they reference, each entity once: for every workflow,
/// first its tasks, then its sub-workflows, then its own spec and default launch plan.
pub fn serialize_workflows(
    workflows: &[Workflow],
    settings: &SerializationSettings,
) -> Result<Vec<SerializedEntity>, WorkflowError> {
    serialize_entities(workflows, &[], settings)
}

/// [`serialize_workflows`], then each of `tasks` not already written (tasks registered in the
/// binary but used by no workflow).
pub fn serialize_entities(
    workflows: &[Workflow],
    tasks: &[crate::task::Task],
    settings: &SerializationSettings,
) -> Result<Vec<SerializedEntity>, WorkflowError> {
    let mut out = Vec::new();
    let mut seen_tasks = BTreeSet::new();
    let mut seen_workflows = BTreeSet::new();
    let push = |name: &str, kind: u8, bytes: Vec<u8>, out: &mut Vec<SerializedEntity>| {
        let file_name = format!("{}_{}_{}.pb", out.len(), name, kind);
        out.push(SerializedEntity { file_name, bytes });
    };
    for wf in workflows {
        let closure = wf.closure(settings)?;
        for t in &closure.tasks {
            let name = t.id.as_ref().map(|i| i.name.clone()).unwrap_or_default();
            if seen_tasks.insert(name.clone()) {
                let spec = TaskSpec {
                    template: Some(t.clone()),
                    ..Default::default()
                };
                push(&name, 1, spec.encode_to_vec(), &mut out);
            }
        }
        for sub in wf.nodes().iter().filter_map(|n| match &n.entity {
            crate::workflow::Entity::Workflow(w) => Some(w.clone()),
            crate::workflow::Entity::Task(_) => None,
        }) {
            if seen_workflows.insert(sub.name().to_string()) {
                let c = sub.closure(settings)?;
                push(sub.name(), 2, c.spec().encode_to_vec(), &mut out);
                push(
                    sub.name(),
                    3,
                    LaunchPlan::default_for(&sub)
                        .to_idl(settings)?
                        .encode_to_vec(),
                    &mut out,
                );
            }
        }
        if seen_workflows.insert(wf.name().to_string()) {
            push(wf.name(), 2, closure.spec().encode_to_vec(), &mut out);
            push(
                wf.name(),
                3,
                LaunchPlan::default_for(wf)
                    .to_idl(settings)?
                    .encode_to_vec(),
                &mut out,
            );
        }
    }
    for t in tasks {
        if seen_tasks.insert(t.name().to_string()) {
            let template = t
                .template(settings)
                .map_err(|e| WorkflowError::Serialization {
                    entity: t.name().to_string(),
                    message: e.to_string(),
                })?;
            let spec = TaskSpec {
                template: Some(template),
                ..Default::default()
            };
            push(t.name(), 1, spec.encode_to_vec(), &mut out);
        }
    }
    Ok(out)
}

/// Entry point of `serialize`.
pub fn serialize(args: SerializeArgs) -> ExitCode {
    let all = crate::workflow::registered();
    let selected: Vec<Workflow> = if args.workflows.is_empty() {
        all
    } else {
        let mut v = Vec::new();
        for name in &args.workflows {
            match super::run::find_entity(name) {
                Ok(crate::workflow::Entity::Workflow(w)) => v.push(w),
                Ok(crate::workflow::Entity::Task(t)) => {
                    eprintln!(
                        "error: '{}' is a task; serialize names workflows (their tasks are included)",
                        t.name()
                    );
                    return ExitCode::from(2);
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        v
    };
    let settings = match args.registration.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let standalone = if args.workflows.is_empty() {
        crate::task::registered()
    } else {
        Vec::new()
    };
    let files = match serialize_entities(&selected, &standalone, &settings) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.output_dir) {
        eprintln!("error: cannot create {}: {e}", args.output_dir.display());
        return ExitCode::FAILURE;
    }
    for f in &files {
        let path = args.output_dir.join(&f.file_name);
        if let Err(e) = std::fs::write(&path, &f.bytes) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "wrote {} file(s) to {}",
        files.len(),
        args.output_dir.display()
    );
    ExitCode::SUCCESS
}
