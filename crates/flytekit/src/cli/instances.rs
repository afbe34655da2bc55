//! Instance tasks on the command line: the instances and workflows that providers declare
//! (`register_instances!`) in `list`, `run`, `serialize`, `package`, `build` and `register`, and
//! the payload plan that `package`, `register` and `run --sandbox` upload before anything names
//! it.
//!
//! ```text
//! <binary> package --payload-store s3://bucket/payloads --instance-arg config=tables.yaml
//! <binary> package --payload-store s3://bucket/payloads --bundle     # one bundle for all
//! <binary> run --sandbox --instance-arg config=tables.yaml lookup_all --key a
//! ```

use std::collections::BTreeSet;
use std::process::ExitCode;

use super::lookup::{LookupError, find_among};
use crate::engine::SandboxOptions;
use crate::instance::{
    Instances, PayloadMode, PayloadSettings, ProviderArgs, declared, instance_tasks_in,
    registered_providers,
};
use crate::payload_plan::{PayloadPlan, PlannedPlacement};
use crate::settings::SerializationSettings;
use crate::storage::Storage;
use crate::task::Task;
use crate::workflow::{Entity, Workflow};

/// How many objects are uploaded at once.
const UPLOAD_CONCURRENCY: usize = 16;

/// The arguments instance providers are called with.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InstanceArgs {
    /// An argument for the instance providers (`register_instances!`), `KEY=VALUE`; repeatable.
    #[arg(long = "instance-arg", value_name = "KEY=VALUE")]
    pub instance_arg: Vec<String>,
}

impl InstanceArgs {
    /// The provider arguments.
    pub fn provider_args(&self) -> Result<ProviderArgs, String> {
        let mut pairs = Vec::new();
        for kv in &self.instance_arg {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("--instance-arg {kv}: expected KEY=VALUE"))?;
            pairs.push((k.to_string(), v.to_string()));
        }
        Ok(ProviderArgs::from_pairs(pairs))
    }
}

/// Where instance payloads go, and the provider arguments.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PayloadArgs {
    /// The payload store: offloaded instance payloads and bundles are uploaded there,
    /// content-addressed (`<URI>/sha256-<hex>`), before anything names them.
    #[arg(long, value_name = "URI", env = "FLYTEKIT_PAYLOAD_STORE")]
    pub payload_store: Option<String>,
    /// Where instance payloads travel: `auto` (inline up to the threshold, else offloaded),
    /// `offload` (always offloaded) or `naive` (always inline; warned, size-limited).
    #[arg(long, value_name = "MODE", value_parser = ["auto", "offload", "naive"])]
    pub payload_mode: Option<String>,
    /// The largest payload inlined in `auto` mode, in base64 characters (default 4096).
    #[arg(long, value_name = "BYTES")]
    pub inline_threshold: Option<usize>,
    /// Ship every instance payload in one uploaded bundle (one object, one digest).
    #[arg(long)]
    pub bundle: bool,
    /// Provider arguments.
    #[command(flatten)]
    pub instances: InstanceArgs,
}

impl PayloadArgs {
    /// The payload settings, with `default_store` when no `--payload-store` is given.
    pub fn settings(&self, default_store: Option<&str>) -> PayloadSettings {
        let mut s = PayloadSettings::default();
        if let Some(mode) = self.payload_mode.as_deref().and_then(PayloadMode::parse) {
            s.mode = mode;
        }
        if let Some(t) = self.inline_threshold {
            s.inline_threshold = t;
        }
        s.offload_prefix = self
            .payload_store
            .clone()
            .or_else(|| default_store.map(str::to_string));
        s
    }
}

/// What every provider declares, merged.
#[derive(Default)]
struct Declared {
    tasks: Vec<Task>,
    workflows: Vec<Workflow>,
    /// The tasks that travel in a bundle.
    bundled: BTreeSet<String>,
}

fn declared_all(args: &InstanceArgs) -> Result<Declared, String> {
    let mut out = Declared::default();
    if registered_providers().is_empty() {
        return Ok(out);
    }
    for (_, instances) in declared(&args.provider_args()?).map_err(|e| e.to_string())? {
        merge(&mut out, instances);
    }
    Ok(out)
}

fn merge(out: &mut Declared, instances: Instances) {
    if instances.is_bundled() {
        out.bundled
            .extend(instances.tasks().iter().map(|t| t.name().to_string()));
    }
    out.tasks.extend(instances.tasks().iter().cloned());
    out.workflows.extend(instances.workflows().iter().cloned());
}

/// The workflows and instance tasks the providers declare (none without providers).
pub fn declared_entities(args: &InstanceArgs) -> Result<Vec<Entity>, String> {
    let declared = declared_all(args)?;
    Ok(declared
        .workflows
        .into_iter()
        .map(Entity::Workflow)
        .chain(declared.tasks.into_iter().map(Entity::Task))
        .collect())
}

/// The entities `names` name (full names or unique suffixes): registered ones, else ones the
/// providers declare with `args` (the providers are called only when a name is not registered).
pub fn find_entities(names: &[String], args: &InstanceArgs) -> Result<Vec<Entity>, String> {
    let mut declared: Option<Vec<Entity>> = None;
    let mut out = Vec::new();
    for name in names {
        let found = match super::lookup::find_entity(name) {
            Err(e @ LookupError::UnknownEntity { .. }) => {
                if declared.is_none() {
                    declared = Some(declared_entities(args)?);
                }
                find_among(name, declared.as_deref().unwrap_or_default()).unwrap_or(Err(e))
            }
            other => other,
        };
        out.push(found.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// The selection of `package`, `serialize` and `build` (`command`): the workflows `names` name,
/// registered or declared by the providers — a launch plan stands for its workflow, whose plans
/// go with it — or with no names every registered workflow and task (the caller adds what the
/// providers declare: [`plan_registration`], [`add_declared`]).
pub fn select(
    names: &[String],
    args: &InstanceArgs,
    command: &str,
) -> Result<(Vec<Workflow>, Vec<Task>), String> {
    if names.is_empty() {
        return Ok((crate::workflow::registered(), crate::task::registered()));
    }
    let mut workflows = Vec::new();
    for entity in find_entities(names, args)? {
        match entity {
            Entity::Workflow(w) => workflows.push(w),
            Entity::LaunchPlan(lp) => workflows.push(lp.workflow().clone()),
            other => {
                return Err(format!(
                    "'{}' is a {}; {command} names workflows and launch plans (their tasks are \
                     included)",
                    other.name(),
                    other.kind()
                ));
            }
        }
    }
    Ok((workflows, Vec::new()))
}

/// Adds the workflows and instance tasks the providers declare to a selection of everything.
pub fn add_declared(
    args: &InstanceArgs,
    workflows: &mut Vec<Workflow>,
    tasks: &mut Vec<Task>,
) -> Result<(), String> {
    let declared = declared_all(args)?;
    workflows.extend(declared.workflows);
    tasks.extend(declared.tasks);
    Ok(())
}

/// `list`'s part: the declared workflows and instance tasks, with their payload sizes.
pub fn list(args: &InstanceArgs) -> ExitCode {
    if registered_providers().is_empty() {
        return ExitCode::SUCCESS;
    }
    let mut declared = match declared_all(args) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    declared.tasks.sort_by(|a, b| a.name().cmp(b.name()));
    declared.workflows.sort_by(|a, b| a.name().cmp(b.name()));
    println!("declared workflows:");
    for w in &declared.workflows {
        println!("  {}", w.name());
    }
    if declared.workflows.is_empty() {
        println!("  (none)");
    }
    println!("instance tasks:");
    for t in &declared.tasks {
        let Some(p) = t.instance_payload() else {
            continue;
        };
        println!(
            "  {}  [{}, {} serialized, {} encoded{}]",
            t.name(),
            p.type_tag(),
            size(p.raw_len()),
            size(p.encoded().len()),
            if declared.bundled.contains(t.name()) {
                ", bundled"
            } else {
                ""
            }
        );
    }
    if declared.tasks.is_empty() {
        println!("  (none)");
    }
    ExitCode::SUCCESS
}

/// For `serialize`, `package` and `register`: adds the declared workflows and instance tasks (when
/// registering everything) and plans the payloads of every instance task to be serialized
/// (printed on stderr; `uploads` says whether the caller uploads them). `None` when there is
/// none.
pub fn plan_registration(
    args: &PayloadArgs,
    uploads: bool,
    everything: bool,
    workflows: &mut Vec<Workflow>,
    tasks: &mut Vec<Task>,
) -> Result<Option<PayloadPlan>, String> {
    let declared = declared_all(&args.instances)?;
    let bundled = declared.bundled.clone();
    if everything {
        workflows.extend(declared.workflows);
        tasks.extend(declared.tasks);
    }
    let mut instances = instance_tasks_in(workflows);
    instances.extend(
        tasks
            .iter()
            .filter(|t| t.instance_payload().is_some())
            .cloned(),
    );
    if instances.is_empty() {
        return Ok(None);
    }
    let plan = PayloadPlan::new(
        &instances,
        |t| args.bundle || bundled.contains(t.name()),
        args.settings(None),
    )
    .map_err(|e| e.to_string())?;
    report(&plan);
    if !uploads && !plan.objects().is_empty() {
        tracing::warn!(
            "serialize uploads no payloads: {} object(s) named by these tasks must be in the \
             payload store before they run; `package` uploads them",
            plan.objects().len()
        );
    }
    Ok(Some(plan))
}

/// For `package` and `register`: [`plan_registration`] of what is registered, then [`upload`]
/// of the plan, so that every payload is stored before anything names it.
pub async fn plan_and_store(
    args: &PayloadArgs,
    everything: bool,
    workflows: &mut Vec<Workflow>,
    tasks: &mut Vec<Task>,
) -> Result<Option<PayloadPlan>, String> {
    let plan = plan_registration(args, true, everything, workflows, tasks)?;
    if let Some(p) = &plan {
        upload(p).await?;
    }
    Ok(plan)
}

/// Uploads `plan` to its payload store (`package`: before the archive is written; `register`:
/// before any entity is sent).
pub async fn upload(plan: &PayloadPlan) -> Result<(), String> {
    if plan.objects().is_empty() {
        return Ok(());
    }
    let storage = Storage::try_new().map_err(|e| e.to_string())?;
    let r = plan
        .upload(&storage, UPLOAD_CONCURRENCY)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "payload store: uploaded {} object(s) ({}), {} already present",
        r.uploaded,
        size(r.uploaded_bytes as usize),
        r.present
    );
    Ok(())
}

/// Applies `plan` to `settings` (what `serialize` and `package` serialize with).
pub fn apply(plan: Option<&PayloadPlan>, settings: &mut SerializationSettings) {
    if let Some(p) = plan {
        p.apply(settings);
    }
}

/// Plans the payloads of the instance tasks `entity` runs, in the store `args` name (else
/// `default_store`), and uploads them: what `run --sandbox` and `run --remote` do before
/// anything names them. `None` when `entity` runs no instance task.
pub async fn plan_entity(
    entity: &Entity,
    args: &PayloadArgs,
    default_store: Option<&str>,
    quiet: bool,
) -> Result<Option<PayloadPlan>, String> {
    let instances = match entity {
        Entity::Workflow(w) => instance_tasks_in(std::slice::from_ref(w)),
        Entity::LaunchPlan(lp) => instance_tasks_in(std::slice::from_ref(lp.workflow())),
        Entity::Task(t) if t.instance_payload().is_some() => vec![t.clone()],
        Entity::Task(_) | Entity::Reference(_) | Entity::Branch(_) | Entity::Gate(_) => Vec::new(),
    };
    if instances.is_empty() {
        return Ok(None);
    }
    let bundled = declared_all(&args.instances)?.bundled;
    let plan = PayloadPlan::new(
        &instances,
        |t| args.bundle || bundled.contains(t.name()),
        args.settings(default_store),
    )
    .map_err(|e| e.to_string())?;
    if !quiet {
        report(&plan);
    }
    if !plan.objects().is_empty() {
        let storage = Storage::try_new().map_err(|e| e.to_string())?;
        plan.upload(&storage, UPLOAD_CONCURRENCY)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(Some(plan))
}

/// For `run --sandbox`: [`plan_entity`] against the sandbox's store (or `--payload-store`), and
/// has the sandbox serialize with the plan.
pub async fn prepare_sandbox(
    entity: &Entity,
    args: &PayloadArgs,
    opts: &mut SandboxOptions,
    quiet: bool,
) -> Result<(), String> {
    let default_store = opts.payloads.offload_prefix.clone();
    match plan_entity(entity, args, default_store.as_deref(), quiet).await? {
        Some(plan) => {
            opts.payloads = plan.settings().clone();
            opts.placements = plan.placements().clone();
        }
        None => opts.payloads = args.settings(default_store.as_deref()),
    }
    Ok(())
}

/// Prints each planned payload: task, type, sizes and placement; and the bundle.
fn report(plan: &PayloadPlan) {
    let s = plan.settings();
    eprintln!(
        "instance payloads ({} mode, store {}):",
        s.mode.as_str(),
        s.offload_prefix.as_deref().unwrap_or("none")
    );
    let width = plan
        .entries()
        .iter()
        .map(|e| e.task.len())
        .max()
        .unwrap_or(0);
    for e in plan.entries() {
        let placement = match &e.placement {
            PlannedPlacement::Bundled { .. } => "bundle".to_string(),
            other => other.to_string(),
        };
        eprintln!(
            "  {:width$}  {:>10} serialized  {:>10} encoded  {placement}",
            e.task,
            size(e.raw_len),
            size(e.encoded_len),
        );
    }
    if let Some(b) = plan.bundle() {
        eprintln!(
            "  bundle {} ({} entities, {})",
            b.uri(),
            b.names().len(),
            size(b.len())
        );
    }
    if s.mode == PayloadMode::Naive {
        tracing::warn!(
            "naive payload mode: every payload is inlined in its task's loader args; use \
             --payload-store s3://<bucket>/<prefix> to offload large ones"
        );
    }
}

/// A byte count for people: `812 B`, `4.1 KiB`, `5.0 MiB`.
fn size(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(812), "812 B");
        assert_eq!(size(4200), "4.1 KiB");
        assert_eq!(size(5 << 20), "5.0 MiB");
    }

    #[test]
    fn payload_args_make_settings() {
        let args = PayloadArgs {
            payload_mode: Some("offload".into()),
            inline_threshold: Some(10),
            ..PayloadArgs::default()
        };
        let s = args.settings(Some("/tmp/x"));
        assert_eq!(s.mode, PayloadMode::Offload);
        assert_eq!(s.inline_threshold, 10);
        assert_eq!(s.offload_prefix.as_deref(), Some("/tmp/x"));
        let bad = InstanceArgs {
            instance_arg: vec!["novalue".into()],
        };
        assert!(bad.provider_args().unwrap_err().contains("KEY=VALUE"));
    }
}
