//! Map tasks: run one task once per element of its list inputs, as a Flyte `ArrayNode` (flytekit's
//! `ArrayNodeMapTask`, contract §4.8).
//!
//! [`map_task`] turns a task `f(a: A, b: B) -> U` into a task `(a: Vec<A>, b: Vec<B>) -> Vec<U>`
//! that runs `f` on `(a[i], b[i])` for every `i`. Inputs can be *bound* instead: passed whole to
//! every element (flytekit's `functools.partial`), keeping their type. Options:
//!
//! - `concurrency`: at most this many elements run at once (`0`: no limit; unset: the platform's
//!   or engine's default);
//! - `min_successes` / `min_success_ratio`: the map succeeds when that many elements succeed; the
//!   failed elements' outputs are then `None`, so the output type becomes `Vec<Option<U>>`.
//!
//! In a `#[workflow]` (or `#[dynamic]`) body, every `#[task]` with at most one output can be mapped
//! through its companion module, typed:
//!
//! ```ignore
//! #[task]
//! fn add(a: i64, b: i64) -> i64 { a + b }
//!
//! #[workflow]
//! fn sums(xs: Vec<i64>, ys: Vec<i64>, k: i64) -> (Vec<i64>, Vec<Option<i64>>) {
//!     let all = add::map(xs, ys);                       // Promise<Vec<i64>>
//!     let some = add::map_with(
//!         MapOptions::new().concurrency(8).min_success_ratio(0.9),
//!         xs,
//!         Bound(k),                                      // b = k for every element
//!     );                                                 // Promise<Vec<Option<i64>>>
//!     (all, some)
//! }
//! ```
//!
//! Without the macros, [`map_task`] builds a [`MapTask`] and [`MapTask::add_node`] adds it to a
//! [`WorkflowBuilder`].
//!
//! **On Flyte** the map task serializes exactly like flytekit 1.16's `ArrayNodeMapTask`: a task
//! named `<module>.map_<function>_<md5>-arraynode` of the inner task's type with
//! `task_type_version = 1`, the inner task's container (or pod), resources, metadata and security
//! context, and the command `<binary> map-execute ... --resolver flytekit.resolver.map -- vars
//! <bound,inputs> resolver <inner resolver> <inner loader args>`; its node is an `ArrayNode` whose
//! sub-node runs that task. Propeller starts one container per element and tells it its index
//! through `BATCH_JOB_ARRAY_INDEX_VAR_NAME`/`BATCH_JOB_ARRAY_INDEX_OFFSET`
//! (see [`crate::entrypoint::map_execute`]).
//!
//! **Locally** the engine runs the elements in parallel, each with the inner task's retries,
//! timeout and cache, at most `concurrency` at a time.
//!
//! One deliberate difference from flytekit: with `min_successes` (and no ratio) flytekit keeps the
//! output type `List[T]` although failed elements produce `None`; here the output is
//! `List[Optional[T]]`, as flytekit itself does for `min_success_ratio < 1`.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use flytekit_idl::core::{
    ArrayNode, Literal, LiteralCollection, LiteralMap, LiteralType, Node, NodeMetadata,
    ResourceType, RetryStrategy, SimpleType, TaskNode, TaskNodeOverrides, TaskTemplate,
    TypedInterface, UnionType, VariableMap, array_node, literal, literal_type, node, node_metadata,
    task_node,
};
use tokio::task::JoinSet;

use crate::resolver::{ResolveError, TaskResolver};
use crate::task::{
    ConfigError, SerializationSettings, SerializeError, Task, TaskError, TaskExtension,
};
use crate::type_engine::FlyteType;
use crate::type_engine::literals::{none_literal, simple_type, with_tag};
use crate::workflow::{
    Entity, IntoBinding, NodeInput, NodeRef, NodeSpec, Promise, WorkflowBuilder, WorkflowError,
};

/// The `--resolver` location of map tasks (flytekit's `ArrayNodeMapTaskResolver`).
pub const MAP_RESOLVER_LOCATION: &str = "flytekit.resolver.map";

/// Which elements must succeed for the map to succeed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SuccessCriterion {
    /// Every element (flytekit's default `min_success_ratio=1.0`).
    All,
    /// At least this many elements.
    MinSuccesses(u32),
    /// At least this fraction of the elements (rounded up), in `[0, 1]`.
    MinSuccessRatio(f64),
}

impl SuccessCriterion {
    /// How many of `n` elements must succeed (Propeller's rule: the ratio rounded up; never more
    /// than `n`).
    pub fn required(self, n: usize) -> usize {
        match self {
            SuccessCriterion::All => n,
            SuccessCriterion::MinSuccesses(k) => (k as usize).min(n),
            SuccessCriterion::MinSuccessRatio(r) => ((n as f64 * r).ceil() as usize).min(n),
        }
    }

    /// The criterion of a serialized `ArrayNode` (none set: every element).
    pub fn from_idl(c: Option<&array_node::SuccessCriteria>) -> Self {
        match c {
            None => SuccessCriterion::All,
            Some(array_node::SuccessCriteria::MinSuccesses(k)) => {
                SuccessCriterion::MinSuccesses(*k)
            }
            Some(array_node::SuccessCriteria::MinSuccessRatio(r)) => {
                SuccessCriterion::MinSuccessRatio(f64::from(*r))
            }
        }
    }
}

/// What a map task maps: the inner task and the map's options. Found on a map task through
/// [`Task::map_spec`].
#[derive(Clone, Debug)]
pub struct MapSpec {
    inner: Task,
    concurrency: Option<u32>,
    criterion: SuccessCriterion,
    bound_inputs: BTreeSet<String>,
    run_all_sub_nodes: bool,
}

impl MapSpec {
    /// The task run for every element.
    pub fn inner(&self) -> &Task {
        &self.inner
    }

    /// The concurrency limit (`Some(0)`: none; `None`: inherited).
    pub fn concurrency(&self) -> Option<u32> {
        self.concurrency
    }

    /// The success criterion.
    pub fn criterion(&self) -> SuccessCriterion {
        self.criterion
    }

    /// The inputs passed whole to every element, sorted.
    pub fn bound_inputs(&self) -> &BTreeSet<String> {
        &self.bound_inputs
    }

    /// Whether all elements run even after the success criterion can no longer be met.
    pub fn run_all_sub_nodes(&self) -> bool {
        self.run_all_sub_nodes
    }

    /// How many of `n` elements must succeed (Propeller's rule: the ratio rounded up; never more
    /// than `n`).
    pub fn required_successes(&self, n: usize) -> usize {
        self.criterion.required(n)
    }

    /// Whether failed elements are allowed, making the outputs optional.
    pub fn optional_outputs(&self) -> bool {
        match self.criterion {
            SuccessCriterion::All => false,
            SuccessCriterion::MinSuccesses(_) => true,
            SuccessCriterion::MinSuccessRatio(r) => r < 1.0,
        }
    }

    /// The inputs mapped over (not bound), in name order.
    fn mapped_inputs(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .interface()
            .inputs
            .as_ref()
            .map(|m| m.variables.keys().cloned().collect())
            .unwrap_or_default();
        names.retain(|n| !self.bound_inputs.contains(n));
        names.sort();
        names
    }
}

/// Starts a map task over `task` (flytekit's `map_task`); finish with [`MapTaskBuilder::build`].
pub fn map_task(task: Task) -> MapTaskBuilder {
    MapTaskBuilder {
        inner: task,
        concurrency: None,
        criterion: SuccessCriterion::All,
        bound_inputs: BTreeSet::new(),
        run_all_sub_nodes: false,
    }
}

/// Options of a map task under construction.
#[derive(Clone, Debug)]
pub struct MapTaskBuilder {
    inner: Task,
    concurrency: Option<u32>,
    criterion: SuccessCriterion,
    bound_inputs: BTreeSet<String>,
    run_all_sub_nodes: bool,
}

impl MapTaskBuilder {
    /// Runs at most `n` elements at once; `0` means no limit.
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Succeeds when at least `n` elements succeed (replaces any ratio: flytekit's
    /// `min_successes=n, min_success_ratio=None`).
    pub fn min_successes(mut self, n: u32) -> Self {
        self.criterion = SuccessCriterion::MinSuccesses(n);
        self
    }

    /// Succeeds when at least this fraction of the elements succeed (`0.0..=1.0`; replaces any
    /// `min_successes`).
    pub fn min_success_ratio(mut self, ratio: f64) -> Self {
        self.criterion = if ratio == 1.0 {
            SuccessCriterion::All
        } else {
            SuccessCriterion::MinSuccessRatio(ratio)
        };
        self
    }

    /// Sets the success criterion.
    pub fn criterion(mut self, criterion: SuccessCriterion) -> Self {
        self.criterion = criterion;
        self
    }

    /// Passes these inputs whole to every element instead of mapping over them.
    pub fn bound_inputs<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.bound_inputs
            .extend(names.into_iter().map(Into::into).filter(|n| !n.is_empty()));
        self
    }

    /// Keeps running all elements after the success criterion can no longer be met.
    pub fn run_all_sub_nodes(mut self, on: bool) -> Self {
        self.run_all_sub_nodes = on;
        self
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let inner = &self.inner;
        if inner.map_spec().is_some() || inner.dynamic_spec().is_some() {
            return Err(ConfigError::Invalid(format!(
                "cannot map over {}: only plain tasks can be mapped (not map or dynamic tasks)",
                inner.name()
            )));
        }
        let outputs = inner
            .interface()
            .outputs
            .as_ref()
            .map_or(0, |o| o.variables.len());
        if outputs > 1 {
            return Err(ConfigError::Invalid(format!(
                "cannot map over {}: it has {outputs} outputs and map tasks support at most one",
                inner.name()
            )));
        }
        let inputs = inner.interface().inputs.clone().unwrap_or_default();
        for b in &self.bound_inputs {
            if !inputs.variables.contains_key(b) {
                let mut known: Vec<&String> = inputs.variables.keys().collect();
                known.sort();
                return Err(ConfigError::Invalid(format!(
                    "map task over {}: bound input '{b}' is not an input of the task; its inputs are: {}",
                    inner.name(),
                    known
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        if let SuccessCriterion::MinSuccessRatio(r) = self.criterion
            && !(0.0..=1.0).contains(&r)
        {
            return Err(ConfigError::Invalid(format!(
                "map task over {}: min_success_ratio must be between 0 and 1, got {r}",
                inner.name()
            )));
        }
        Ok(())
    }

    /// Validates the options and builds the map task.
    pub fn build(self) -> Result<MapTask, ConfigError> {
        self.validate()?;
        Ok(self.build_unchecked())
    }

    fn build_unchecked(self) -> MapTask {
        let spec = MapSpec {
            inner: self.inner,
            concurrency: self.concurrency,
            criterion: self.criterion,
            bound_inputs: self.bound_inputs,
            run_all_sub_nodes: self.run_all_sub_nodes,
        };
        let name = map_task_name(&spec);
        let interface = collection_interface(&spec);
        let spec = Arc::new(spec);
        let body_spec = spec.clone();
        let body: crate::task::TaskBody = Arc::new(move |cx, inputs| {
            let spec = body_spec.clone();
            Box::pin(async move { run_in_process(&spec, inputs, cx).await })
        });
        let task = spec
            .inner
            .derived(
                name,
                interface,
                body,
                Some(TaskExtension::Map(spec.clone())),
            )
            .with_resolver(MAP_RESOLVER_LOCATION.to_string(), None);
        MapTask(task)
    }
}

/// A built map task: a [`Task`] whose [`Task::map_spec`] is set. Use it as a workflow node
/// ([`MapTask::add_node`]) or run it like any task.
#[derive(Clone, Debug)]
pub struct MapTask(Task);

impl MapTask {
    /// The map task as a task (its template is the ArrayNode task's).
    pub fn task(&self) -> &Task {
        &self.0
    }

    /// The map specification.
    pub fn spec(&self) -> &MapSpec {
        // A MapTask is only made by `build_unchecked`, which always sets the extension.
        match self.0.map_spec() {
            Some(s) => s,
            None => unreachable!("a MapTask always carries its MapSpec"),
        }
    }

    /// The registered name, `<module>.map_<function>_<md5>-arraynode`.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// Adds the map task as a node of `wf`: mapped inputs bind `Vec<T>` values, bound inputs
    /// `T` values (see [`WorkflowBuilder::bind`]).
    pub fn add_node<'w>(&self, wf: &'w WorkflowBuilder, inputs: Vec<NodeInput>) -> NodeRef<'w> {
        wf.add_node(self.0.clone(), inputs)
    }
}

impl From<MapTask> for Task {
    fn from(m: MapTask) -> Task {
        m.0
    }
}

impl From<MapTask> for Entity {
    fn from(m: MapTask) -> Entity {
        Entity::Task(m.0)
    }
}

/// Python's `repr` of a float, which flytekit hashes into the map task name (`1.0`, `0.5`,
/// `1e-05`).
fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust writes `1e-5`, `1.5e16`; Python `1e-05`, `1.5e+16`.
        let s = format!("{f:e}");
        if let Some((mantissa, exp)) = s.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            return format!("{mantissa}e{sign}{digits:0>2}");
        }
        return s;
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn py_opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "None".into())
}

/// `<mod>.map_<f>_<md5(bound + concurrency + min_successes + min_success_ratio)>-arraynode`.
fn map_task_name(spec: &MapSpec) -> String {
    let inner = &spec.inner;
    let (module, function) = match inner.location() {
        Some(l) => (l.module.clone(), l.name.clone()),
        // Instance tasks: flytekit uses the task type and the instance's name.
        None => (
            inner.config().task_type.clone(),
            inner.short_name().to_string(),
        ),
    };
    let (min_successes, ratio) = match spec.criterion {
        SuccessCriterion::All => (None, Some(py_float(1.0))),
        SuccessCriterion::MinSuccesses(n) => (Some(n), None),
        SuccessCriterion::MinSuccessRatio(r) => (None, Some(py_float(r))),
    };
    let bound = spec
        .bound_inputs
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let key = format!(
        "{bound}{}{}{}",
        py_opt(spec.concurrency),
        py_opt(min_successes),
        ratio.unwrap_or_else(|| "None".into())
    );
    let digest = hex::encode(<md5::Md5 as md5::Digest>::digest(key.as_bytes()));
    format!("{module}.map_{function}_{digest}-arraynode")
}

/// `List[T]` of `t`.
fn list_of(t: LiteralType) -> LiteralType {
    LiteralType {
        r#type: Some(literal_type::Type::CollectionType(Box::new(t))),
        ..Default::default()
    }
}

/// `Optional[T]` of `t`, tagged as flytekit tags union variants.
fn optional_of(t: LiteralType) -> LiteralType {
    let tag = crate::type_engine::type_tag_of(&t);
    LiteralType {
        r#type: Some(literal_type::Type::UnionType(UnionType {
            variants: vec![
                with_tag(t, tag),
                with_tag(simple_type(SimpleType::None), "none"),
            ],
        })),
        ..Default::default()
    }
}

/// The map task's interface: mapped inputs and all outputs lifted to lists (flytekit's
/// `transform_interface_to_list_interface`); descriptions are the names, as flytekit's.
fn collection_interface(spec: &MapSpec) -> TypedInterface {
    let lift = |map: Option<&VariableMap>, bound: &BTreeSet<String>, optional: bool| {
        let mut out = VariableMap::default();
        for (name, var) in map.map(|m| &m.variables).into_iter().flatten() {
            let ty = var.r#type.clone().unwrap_or_default();
            let ty = if bound.contains(name) {
                ty
            } else if optional {
                list_of(optional_of(ty))
            } else {
                list_of(ty)
            };
            out.variables
                .insert(name.clone(), crate::workflow::variable(name, &ty));
        }
        out
    };
    let i = spec.inner.interface();
    TypedInterface {
        inputs: Some(lift(i.inputs.as_ref(), &spec.bound_inputs, false)),
        outputs: Some(lift(
            i.outputs.as_ref(),
            &BTreeSet::new(),
            spec.optional_outputs(),
        )),
    }
}

/// The loader args after `--` (flytekit's `ArrayNodeMapTaskResolver.loader_args`):
/// `vars <bound,csv> resolver <inner location> <inner loader args>`.
fn map_loader_args(
    spec: &MapSpec,
    settings: &SerializationSettings,
) -> Result<Vec<String>, String> {
    let inner = &spec.inner;
    let mut args = vec![
        "vars".to_string(),
        spec.bound_inputs
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
        "resolver".to_string(),
        inner.resolver_location().to_string(),
    ];
    args.extend(crate::resolver::loader_args(inner, settings)?);
    Ok(args)
}

/// The map task's container args (flytekit's `ArrayNodeMapTask.get_command`).
pub(crate) fn command(
    task: &Task,
    spec: &MapSpec,
    settings: &SerializationSettings,
) -> Result<Vec<String>, SerializeError> {
    let loader = map_loader_args(spec, settings).map_err(|message| SerializeError::Resolver {
        task: task.name().to_string(),
        message,
    })?;
    Ok(crate::task::entrypoint_command(
        &settings.binary,
        "map-execute",
        MAP_RESOLVER_LOCATION,
        loader,
    ))
}

/// The map task's `TaskTemplate`: the inner task's, with the command swapped for the map command
/// through `set_command_fn` and reset afterwards (flytekit's `prepare_target`), under the map
/// task's name and interface with `task_type_version = 1`.
pub(crate) fn template(
    task: &Task,
    spec: &MapSpec,
    settings: &SerializationSettings,
) -> Result<TaskTemplate, SerializeError> {
    let args = command(task, spec, settings)?;
    // A private copy: swapping the command of the shared inner task would race anyone
    // serializing it at the same time.
    let inner = spec.inner.detached();
    inner.set_command_fn(Arc::new(move |_, _| args.clone()));
    let result = inner.template(settings);
    inner.reset_command_fn();
    let mut t = result?;
    if let Some(id) = t.id.as_mut() {
        id.name = task.name().to_string();
    }
    t.interface = Some(task.interface().clone());
    t.task_type_version = 1;
    Ok(t)
}

fn duration(d: std::time::Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

/// The workflow node of a map task: an `ArrayNode` whose sub-node runs the map task (flytekit's
/// `get_serializable_array_node_map_task`).
pub(crate) fn compile_node(
    n: &NodeSpec,
    task: &Task,
    spec: &MapSpec,
    settings: &SerializationSettings,
) -> Node {
    let o = &n.overrides;
    let inner = spec.inner.config();
    let metadata = NodeMetadata {
        name: o.name.clone().unwrap_or_else(|| task.name().to_string()),
        retries: Some(RetryStrategy {
            retries: o.retries.unwrap_or(0),
        }),
        timeout: o.timeout.map(duration),
        interruptible_value: o
            .interruptible
            .map(node_metadata::InterruptibleValue::Interruptible),
        cacheable_value: o.cache.map(node_metadata::CacheableValue::Cacheable),
        cache_version_value: o
            .cache_version
            .clone()
            .map(node_metadata::CacheVersionValue::CacheVersion),
        ..Default::default()
    };
    let sub_metadata = NodeMetadata {
        name: task.name().to_string(),
        timeout: inner.timeout.filter(|t| !t.is_zero()).map(duration),
        retries: Some(RetryStrategy {
            retries: inner.retries,
        }),
        interruptible_value: inner
            .interruptible
            .map(node_metadata::InterruptibleValue::Interruptible),
        ..Default::default()
    };
    let sub_node = Node {
        id: task.name().to_string(),
        metadata: Some(sub_metadata),
        inputs: n.inputs.clone(),
        upstream_node_ids: Vec::new(),
        output_aliases: Vec::new(),
        target: Some(node::Target::TaskNode(TaskNode {
            overrides: Some(TaskNodeOverrides::default()),
            reference: Some(task_node::Reference::ReferenceId(
                flytekit_idl::core::Identifier {
                    resource_type: ResourceType::Task as i32,
                    project: settings.project.clone(),
                    domain: settings.domain.clone(),
                    name: task.name().to_string(),
                    version: settings.version.clone(),
                    ..Default::default()
                },
            )),
        })),
    };
    let success_criteria = Some(match spec.criterion {
        SuccessCriterion::All => array_node::SuccessCriteria::MinSuccessRatio(1.0),
        SuccessCriterion::MinSuccesses(k) => array_node::SuccessCriteria::MinSuccesses(k),
        SuccessCriterion::MinSuccessRatio(r) => {
            array_node::SuccessCriteria::MinSuccessRatio(r as f32)
        }
    });
    let array = ArrayNode {
        node: Some(Box::new(sub_node)),
        execution_mode: array_node::ExecutionMode::MinimalState as i32,
        is_original_sub_node_interface: Some(false),
        data_mode: array_node::DataMode::SingleInputFile as i32,
        bound_inputs: spec.bound_inputs.iter().cloned().collect(),
        run_all_sub_nodes: spec.run_all_sub_nodes,
        parallelism_option: spec
            .concurrency
            .map(array_node::ParallelismOption::Parallelism),
        success_criteria,
    };
    Node {
        id: n.id.clone(),
        metadata: Some(metadata),
        inputs: n.inputs.clone(),
        upstream_node_ids: n.upstream.iter().map(|i| format!("n{i}")).collect(),
        output_aliases: Vec::new(),
        target: Some(node::Target::ArrayNode(Box::new(array))),
    }
}

// ---------------------------------------------------------------------------------------------
// Running elements

/// Why an element's inputs could not be formed.
fn input_error(spec: &MapSpec, message: String) -> TaskError {
    TaskError::InputConversion {
        task: spec.inner.name().to_string(),
        message,
    }
}

/// The number of elements: the length of the mapped inputs, which must all be lists of the same
/// length (`0` when nothing is mapped, as in flytekit).
pub fn map_size(spec: &MapSpec, inputs: &LiteralMap) -> Result<usize, TaskError> {
    common_length(&spec.mapped_inputs(), inputs).map_err(|m| input_error(spec, m))
}

/// The common length of the list inputs `names` (`0` for no names); an input that is missing or
/// not a list, or lists of different lengths, is an error saying which.
pub(crate) fn common_length(names: &[String], inputs: &LiteralMap) -> Result<usize, String> {
    let mut size: Option<(&str, usize)> = None;
    for name in names {
        let lit = inputs
            .literals
            .get(name)
            .ok_or_else(|| format!("the map task input '{name}' is missing"))?;
        let len = match &lit.value {
            Some(literal::Value::Collection(c)) => c.literals.len(),
            _ => return Err(format!("Expected a list of literals for {name}")),
        };
        match size {
            Some((first, n)) if n != len => {
                return Err(format!(
                    "mapped inputs have different lengths: '{first}' has {n} elements, '{name}' has {len}"
                ));
            }
            Some(_) => {}
            None => size = Some((name, len)),
        }
    }
    Ok(size.map_or(0, |(_, n)| n))
}

/// The inputs of element `idx`: element `idx` of every mapped input, bound inputs whole
/// (flytekit's `_literal_map_to_python_input` in a container).
pub fn element_inputs(
    spec: &MapSpec,
    inputs: &LiteralMap,
    idx: usize,
) -> Result<LiteralMap, TaskError> {
    let mut out = LiteralMap::default();
    let declared = spec.inner.interface().inputs.as_ref();
    for name in declared.iter().flat_map(|d| d.variables.keys()) {
        let lit = inputs
            .literals
            .get(name)
            .ok_or_else(|| input_error(spec, format!("the map task input '{name}' is missing")))?;
        let value = if spec.bound_inputs.contains(name) {
            lit.clone()
        } else {
            match &lit.value {
                Some(literal::Value::Collection(c)) => {
                    c.literals.get(idx).cloned().ok_or_else(|| {
                        input_error(
                            spec,
                            format!(
                                "element index {idx} is out of range: input '{name}' has {} elements",
                                c.literals.len()
                            ),
                        )
                    })?
                }
                _ => {
                    return Err(input_error(
                        spec,
                        format!("Expected a list of literals for {name}"),
                    ));
                }
            }
        };
        out.literals.insert(name.clone(), value);
    }
    Ok(out)
}

/// The map's outputs from the elements' (`None` for a failed element): one list per output of
/// the inner task, a `None` literal in place of each failed element.
pub fn gather_outputs(spec: &MapSpec, results: Vec<Option<LiteralMap>>) -> LiteralMap {
    let names: Vec<String> = spec
        .inner
        .interface()
        .outputs
        .as_ref()
        .map(|o| o.variables.keys().cloned().collect())
        .unwrap_or_default();
    gather_named(&names, results)
}

/// [`gather_outputs`] for the outputs `names`.
pub(crate) fn gather_named(names: &[String], results: Vec<Option<LiteralMap>>) -> LiteralMap {
    let mut lists: HashMap<String, Vec<Literal>> = names
        .iter()
        .map(|n| (n.clone(), Vec::with_capacity(results.len())))
        .collect();
    for mut r in results {
        for name in names {
            let lit = r
                .as_mut()
                .and_then(|m| m.literals.remove(name))
                .unwrap_or_else(none_literal);
            if let Some(l) = lists.get_mut(name) {
                l.push(lit);
            }
        }
    }
    LiteralMap {
        literals: lists
            .into_iter()
            .map(|(k, literals)| {
                (
                    k,
                    Literal {
                        value: Some(literal::Value::Collection(LiteralCollection { literals })),
                        ..Default::default()
                    },
                )
            })
            .collect(),
    }
}

/// A failed map: too few elements succeeded (or the inputs could not be split).
#[derive(Debug)]
pub enum MapFailure<E> {
    /// The inputs could not be split into elements.
    Inputs(TaskError),
    /// Fewer elements than required succeeded; the failures, by element index (all of them, or
    /// those seen before the run was stopped).
    TooFewSuccesses {
        /// Number of elements.
        total: usize,
        /// Elements required to succeed.
        required: usize,
        /// The failed elements and why.
        failures: Vec<(usize, E)>,
    },
}

impl<E: std::fmt::Display> MapFailure<E> {
    /// A one-line summary naming the first failures.
    pub fn summary(&self) -> String {
        match self {
            MapFailure::Inputs(e) => e.to_string(),
            MapFailure::TooFewSuccesses {
                total,
                required,
                failures,
            } => {
                let mut shown: Vec<String> = failures
                    .iter()
                    .take(3)
                    .map(|(i, e)| format!("element {i}: {e}"))
                    .collect();
                if failures.len() > 3 {
                    shown.push(format!("... and {} more", failures.len() - 3));
                }
                format!(
                    "{} of {total} elements failed ({required} must succeed); {}",
                    failures.len(),
                    shown.join("; ")
                )
            }
        }
    }
}

/// Runs every element of a map through `run` (at most `limit` at once, each on its own tokio
/// task) and gathers the outputs, applying the success criterion: once more elements have failed
/// than it allows, the remaining ones are cancelled (unless `run_all_sub_nodes`). A panicking
/// element fails with `aborted(reason)`.
pub async fn run_elements<E, F, Fut>(
    spec: &MapSpec,
    inputs: &LiteralMap,
    limit: usize,
    run: F,
    aborted: impl Fn(usize, String) -> E,
) -> Result<LiteralMap, MapFailure<E>>
where
    E: Send + 'static,
    F: Fn(usize, LiteralMap) -> Fut,
    Fut: Future<Output = Result<LiteralMap, E>> + Send + 'static,
{
    let n = map_size(spec, inputs).map_err(MapFailure::Inputs)?;
    let plan = ElementPlan {
        n,
        required: spec.required_successes(n),
        run_all: spec.run_all_sub_nodes,
        limit,
    };
    let start = |i| {
        let elem = element_inputs(spec, inputs, i).map_err(MapFailure::Inputs)?;
        Ok(run(i, elem))
    };
    let results = run_indexed(plan, start, aborted).await?;
    Ok(gather_outputs(spec, results))
}

/// How the elements of a map run: how many, how many must succeed, and how many at once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ElementPlan {
    /// Number of elements.
    pub n: usize,
    /// Elements that must succeed.
    pub required: usize,
    /// Whether all elements run even after the criterion can no longer be met.
    pub run_all: bool,
    /// Elements running at once (at least 1).
    pub limit: usize,
}

/// The scheduling core of [`run_elements`]: element `i` starts as `start(i)` (which may refuse
/// with a failure of the whole map); the outputs come back by index, `None` for failed elements.
pub(crate) async fn run_indexed<E, F, Fut>(
    plan: ElementPlan,
    mut start: F,
    aborted: impl Fn(usize, String) -> E,
) -> Result<Vec<Option<LiteralMap>>, MapFailure<E>>
where
    E: Send + 'static,
    F: FnMut(usize) -> Result<Fut, MapFailure<E>>,
    Fut: Future<Output = Result<LiteralMap, E>> + Send + 'static,
{
    let ElementPlan {
        n,
        required,
        run_all,
        limit,
    } = plan;
    let allowed_failures = n - required.min(n);
    let limit = limit.max(1);
    let mut results: Vec<Option<LiteralMap>> = vec![None; n];
    let mut failures: Vec<(usize, E)> = Vec::new();
    let mut running: JoinSet<(usize, Result<LiteralMap, E>)> = JoinSet::new();
    let mut index_of: HashMap<tokio::task::Id, usize> = HashMap::new();
    let mut next = 0usize;
    loop {
        while next < n && running.len() < limit {
            let i = next;
            let fut = start(i)?;
            let handle = running.spawn(async move { (i, fut.await) });
            index_of.insert(handle.id(), i);
            next += 1;
        }
        let Some(joined) = running.join_next_with_id().await else {
            break;
        };
        match joined {
            Ok((_, (i, Ok(out)))) => results[i] = Some(out),
            Ok((_, (i, Err(e)))) => failures.push((i, e)),
            Err(join) => {
                let i = index_of.get(&join.id()).copied().unwrap_or(0);
                let reason = if join.is_panic() {
                    "the element panicked".to_string()
                } else {
                    join.to_string()
                };
                failures.push((i, aborted(i, reason)));
            }
        }
        if failures.len() > allowed_failures && !run_all {
            running.abort_all();
            while running.join_next().await.is_some() {}
            break;
        }
    }
    if failures.len() > allowed_failures {
        failures.sort_by_key(|(i, _)| *i);
        return Err(MapFailure::TooFewSuccesses {
            total: n,
            required,
            failures,
        });
    }
    Ok(results)
}

/// The body of a map task run on its own (`Task::dispatch` outside the engine): the elements run
/// concurrently through the inner task's `dispatch`.
async fn run_in_process(
    spec: &MapSpec,
    inputs: LiteralMap,
    cx: crate::ExecutionContext,
) -> Result<LiteralMap, TaskError> {
    let default_limit = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(4);
    let limit = match spec.concurrency {
        Some(0) | None => default_limit,
        Some(k) => k as usize,
    };
    let inner = spec.inner.clone();
    let result = run_elements(
        spec,
        &inputs,
        limit,
        |_, elem| {
            let inner = inner.clone();
            let cx = cx.clone();
            async move { inner.dispatch(&elem, &cx).await }
        },
        |_, reason| TaskError::System(reason),
    )
    .await;
    result.map_err(|f| failure_to_task_error(spec, f))
}

/// A map failure as one task error: the first element's error, with the map's summary.
pub(crate) fn failure_to_task_error(spec: &MapSpec, f: MapFailure<TaskError>) -> TaskError {
    let summary = f.summary();
    match f {
        MapFailure::Inputs(e) => e,
        MapFailure::TooFewSuccesses { mut failures, .. } => {
            let first = if failures.is_empty() {
                None
            } else {
                Some(failures.remove(0).1)
            };
            let message = format!("map task over {}: {summary}", spec.inner.name());
            match first {
                Some(TaskError::User {
                    code, recoverable, ..
                }) => TaskError::User {
                    code,
                    message,
                    recoverable,
                },
                Some(TaskError::InputConversion { task, .. }) => {
                    TaskError::InputConversion { task, message }
                }
                Some(TaskError::OutputConversion { task, .. }) => {
                    TaskError::OutputConversion { task, message }
                }
                Some(TaskError::Load(_)) => TaskError::Load(message),
                _ => TaskError::System(message),
            }
        }
    }
}

/// The element index of a map-task container: `BATCH_JOB_ARRAY_INDEX_OFFSET` plus the value of
/// the variable named by `BATCH_JOB_ARRAY_INDEX_VAR_NAME` (Propeller: `FLYTE_K8S_ARRAY_INDEX`),
/// each `0` when unset (flytekit's `_compute_array_job_index`, which looks up a variable named
/// `0` when no name is given).
pub fn array_job_index(env: impl Fn(&str) -> Option<String>) -> Result<usize, String> {
    let parse = |what: &str, v: Option<String>| -> Result<i64, String> {
        match v {
            None => Ok(0),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("{what} is {s:?}, not an integer")),
        }
    };
    let offset = parse(
        "BATCH_JOB_ARRAY_INDEX_OFFSET",
        env("BATCH_JOB_ARRAY_INDEX_OFFSET"),
    )?;
    let var = env("BATCH_JOB_ARRAY_INDEX_VAR_NAME").unwrap_or_else(|| "0".to_string());
    let index = parse(&var, env(&var))?;
    offset
        .checked_add(index)
        .and_then(|i| usize::try_from(i).ok())
        .ok_or_else(|| format!("the element index {offset} + {index} is out of range"))
}

/// The environment Propeller gives the container of element `index` of an ArrayNode:
/// `BATCH_JOB_ARRAY_INDEX_VAR_NAME=FLYTE_K8S_ARRAY_INDEX` and `FLYTE_K8S_ARRAY_INDEX=<index>`.
pub fn element_env(index: usize) -> Vec<(String, String)> {
    vec![
        (
            "BATCH_JOB_ARRAY_INDEX_VAR_NAME".to_string(),
            "FLYTE_K8S_ARRAY_INDEX".to_string(),
        ),
        ("FLYTE_K8S_ARRAY_INDEX".to_string(), index.to_string()),
    ]
}

// ---------------------------------------------------------------------------------------------
// The resolver

/// Loads map tasks in their containers from `vars <bound> resolver <inner location> <inner args>`
/// (flytekit's `ArrayNodeMapTaskResolver`).
pub struct MapTaskResolver;

/// The map resolver's instance.
pub static MAP_RESOLVER: MapTaskResolver = MapTaskResolver;

crate::register_resolver!(MAP_RESOLVER);

const MAP_ARGS_SHAPE: &str =
    "vars <bound inputs, comma-separated> resolver <inner resolver> <inner loader args...>";

#[async_trait]
impl TaskResolver for MapTaskResolver {
    fn location(&self) -> &str {
        MAP_RESOLVER_LOCATION
    }

    fn loader_args(
        &self,
        settings: &SerializationSettings,
        task: &Task,
    ) -> Result<Vec<String>, String> {
        let spec = task
            .map_spec()
            .ok_or_else(|| format!("task {} is not a map task", task.name()))?;
        map_loader_args(spec, settings)
    }

    async fn load_task(&self, args: &[String]) -> Result<Task, ResolveError> {
        let bad = || ResolveError::BadLoaderArgs {
            args: args.to_vec(),
            expected: MAP_ARGS_SHAPE.into(),
        };
        let [k1, bound, k2, resolver, inner_args @ ..] = args else {
            return Err(bad());
        };
        if k1 != "vars" || k2 != "resolver" || inner_args.is_empty() {
            return Err(bad());
        }
        let inner = crate::resolver::load_task(resolver, inner_args).await?;
        map_task(inner)
            .bound_inputs(bound.split(','))
            .build()
            .map(Task::from)
            .map_err(|e| ResolveError::Other(e.to_string()))
    }
}

// ---------------------------------------------------------------------------------------------
// Typed node API (used by the code `#[task]` generates)

/// Passes a value whole to every element of a map instead of mapping over it (flytekit's
/// `functools.partial`): `add::map_with(MapOptions::new(), xs, Bound(y))`.
#[derive(Clone, Copy, Debug)]
pub struct Bound<P>(pub P);

/// One input of a map node under construction; made by [`MapInput::map_input`].
#[derive(Debug)]
pub struct MapArg {
    bound: bool,
    input: NodeInput,
}

/// What can be passed for an input of type `T` of a mapped task: a list to map over (a
/// `Promise<Vec<T>>`, a `Vec<T>` constant, a `Vec<Promise<T>>`) or a [`Bound`] value passed whole.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed to a mapped input of type `{T}`",
    label = "expected a `Promise<Vec<{T}>>`, a `Vec<{T}>`, or `Bound(value)` to pass one value to every element"
)]
pub trait MapInput<T> {
    /// Binds the value to input `name` of a map node in `wf`.
    fn map_input(self, wf: &WorkflowBuilder, name: &str) -> MapArg;
}

impl<T: FlyteType> MapInput<T> for Promise<'_, Vec<T>> {
    fn map_input(self, wf: &WorkflowBuilder, name: &str) -> MapArg {
        MapArg {
            bound: false,
            input: wf.bind::<Vec<T>>(name, self),
        }
    }
}

impl<T: FlyteType> MapInput<T> for &Promise<'_, Vec<T>> {
    fn map_input(self, wf: &WorkflowBuilder, name: &str) -> MapArg {
        MapArg {
            bound: false,
            input: wf.bind::<Vec<T>>(name, self),
        }
    }
}

impl<T: FlyteType> MapInput<T> for Vec<T> {
    fn map_input(self, wf: &WorkflowBuilder, name: &str) -> MapArg {
        MapArg {
            bound: false,
            input: wf.bind::<Vec<T>>(name, self),
        }
    }
}

impl<T: FlyteType> MapInput<T> for Vec<Promise<'_, T>> {
    fn map_input(self, wf: &WorkflowBuilder, name: &str) -> MapArg {
        MapArg {
            bound: false,
            input: wf.bind::<Vec<T>>(name, self),
        }
    }
}

impl<T: FlyteType, P: IntoBinding<T>> MapInput<T> for Bound<P> {
    fn map_input(self, wf: &WorkflowBuilder, name: &str) -> MapArg {
        MapArg {
            bound: true,
            input: wf.bind::<T>(name, self.0),
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::AllSucceed {}
    impl Sealed for super::Partial {}
}

/// Whether a map may finish with failed elements, which decides its output type.
pub trait MapMode: sealed::Sealed {
    /// The type of one output element for an inner output of type `U`.
    type Out<U: FlyteType>: FlyteType;
    /// Whether elements may fail.
    const ALLOWS_FAILURES: bool;
}

/// Every element must succeed; outputs are `Vec<U>`.
#[derive(Debug)]
pub enum AllSucceed {}

/// Some elements may fail; outputs are `Vec<Option<U>>`, `None` for failed elements.
#[derive(Debug)]
pub enum Partial {}

impl MapMode for AllSucceed {
    type Out<U: FlyteType> = U;
    const ALLOWS_FAILURES: bool = false;
}

impl MapMode for Partial {
    type Out<U: FlyteType> = Option<U>;
    const ALLOWS_FAILURES: bool = true;
}

/// Options of a typed map node (`add::map_with(options, ...)`); the type parameter records
/// whether elements may fail, which makes the outputs optional.
#[derive(Debug)]
pub struct MapOptions<M = AllSucceed> {
    concurrency: Option<u32>,
    criterion: SuccessCriterion,
    run_all_sub_nodes: bool,
    _mode: PhantomData<fn() -> M>,
}

impl<M> Clone for MapOptions<M> {
    fn clone(&self) -> Self {
        Self {
            concurrency: self.concurrency,
            criterion: self.criterion,
            run_all_sub_nodes: self.run_all_sub_nodes,
            _mode: PhantomData,
        }
    }
}

impl Default for MapOptions<AllSucceed> {
    fn default() -> Self {
        Self::new()
    }
}

impl MapOptions<AllSucceed> {
    /// Every element must succeed; no concurrency limit beyond the platform's.
    pub fn new() -> Self {
        Self {
            concurrency: None,
            criterion: SuccessCriterion::All,
            run_all_sub_nodes: false,
            _mode: PhantomData,
        }
    }
}

impl<M> MapOptions<M> {
    /// Runs at most `n` elements at once (`0`: no limit).
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Keeps running all elements after the success criterion can no longer be met.
    pub fn run_all_sub_nodes(mut self, on: bool) -> Self {
        self.run_all_sub_nodes = on;
        self
    }

    /// Succeeds when at least `n` elements succeed; outputs become optional.
    pub fn min_successes(self, n: u32) -> MapOptions<Partial> {
        MapOptions {
            concurrency: self.concurrency,
            criterion: SuccessCriterion::MinSuccesses(n),
            run_all_sub_nodes: self.run_all_sub_nodes,
            _mode: PhantomData,
        }
    }

    /// Succeeds when at least this fraction (below 1) of the elements succeed; outputs become
    /// optional.
    pub fn min_success_ratio(self, ratio: f64) -> MapOptions<Partial> {
        MapOptions {
            concurrency: self.concurrency,
            criterion: SuccessCriterion::MinSuccessRatio(ratio),
            run_all_sub_nodes: self.run_all_sub_nodes,
            _mode: PhantomData,
        }
    }
}

/// Adds a map node over `task` to `wf` with typed options and inputs (what `add::map_with`
/// generated by `#[task]` calls). Inputs given as [`Bound`] become the map's bound inputs.
/// Invalid options are reported by [`WorkflowBuilder::build`].
pub fn map_node<'w, M: MapMode>(
    wf: &'w WorkflowBuilder,
    task: Task,
    options: &MapOptions<M>,
    inputs: Vec<MapArg>,
) -> NodeRef<'w> {
    let bound: Vec<String> = inputs
        .iter()
        .filter(|a| a.bound)
        .map(|a| a.input_name().to_string())
        .collect();
    let builder = map_task(task)
        .criterion(options.criterion)
        .bound_inputs(bound)
        .run_all_sub_nodes(options.run_all_sub_nodes);
    let builder = match options.concurrency {
        Some(c) => builder.concurrency(c),
        None => builder,
    };
    let partial_typed = M::ALLOWS_FAILURES;
    let mut error = builder.validate().err().map(|e| e.to_string());
    if partial_typed && !builder.criterion_allows_failures() {
        error.get_or_insert_with(|| {
            "min_success_ratio(1.0) requires every element to succeed: drop it (the outputs are \
             then Vec<U>, not Vec<Option<U>>)"
                .to_string()
        });
    }
    let entity = builder.inner.name().to_string();
    let map = builder.build_unchecked();
    if let Some(message) = error {
        wf.report_error(WorkflowError::InvalidEntity { entity, message });
    }
    map.add_node(wf, inputs.into_iter().map(|a| a.input).collect())
}

impl MapArg {
    fn input_name(&self) -> &str {
        self.input.name()
    }
}

impl MapTaskBuilder {
    fn criterion_allows_failures(&self) -> bool {
        match self.criterion {
            SuccessCriterion::All => false,
            SuccessCriterion::MinSuccesses(_) => true,
            SuccessCriterion::MinSuccessRatio(r) => r < 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.5), "0.5");
        assert_eq!(py_float(0.75), "0.75");
        assert_eq!(py_float(0.1), "0.1");
        assert_eq!(py_float(0.0), "0.0");
        assert_eq!(py_float(1e-5), "1e-05");
        assert_eq!(py_float(1.5e-7), "1.5e-07");
        assert_eq!(py_float(0.0001), "0.0001");
    }

    #[test]
    fn index_from_env() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(array_job_index(env(&[])), Ok(0));
        assert_eq!(
            array_job_index(env(&[
                ("BATCH_JOB_ARRAY_INDEX_OFFSET", "1"),
                ("BATCH_JOB_ARRAY_INDEX_VAR_NAME", "MYIDX"),
                ("MYIDX", "1")
            ])),
            Ok(2)
        );
        assert_eq!(array_job_index(env(&[("0", "3")])), Ok(3));
        assert!(array_job_index(env(&[("BATCH_JOB_ARRAY_INDEX_OFFSET", "x")])).is_err());
        assert!(array_job_index(env(&[("BATCH_JOB_ARRAY_INDEX_OFFSET", "-2")])).is_err());
        assert!(
            array_job_index(env(&[
                ("BATCH_JOB_ARRAY_INDEX_OFFSET", "9223372036854775807"),
                ("0", "1")
            ]))
            .is_err()
        );
    }
}
