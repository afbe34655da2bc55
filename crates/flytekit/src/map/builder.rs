//! Building a map task over a task: [`map_task`] and its [`MapTaskBuilder`].

use std::collections::BTreeSet;
use std::sync::Arc;

use super::interface::{collection_interface, map_task_name};
use super::options::{MapOptions, Partial};
use super::spec::{MAP_RESOLVER_LOCATION, MapSpec, SuccessCriterion};
use crate::task::{ConfigError, Task, TaskKind};
use crate::workflow::{Entity, NodeInput, NodeRef, WorkflowBuilder};

/// Starts a map task over `task` (flytekit's `map_task`); finish with [`MapTaskBuilder::build`].
pub fn map_task(task: Task) -> MapTaskBuilder {
    MapTaskBuilder {
        inner: task,
        options: MapOptions::new().with_criterion(SuccessCriterion::All),
        bound_inputs: BTreeSet::new(),
    }
}

/// A map task under construction: the task, its [`MapOptions`] and its bound inputs.
#[derive(Clone, Debug)]
pub struct MapTaskBuilder {
    inner: Task,
    options: MapOptions<Partial>,
    bound_inputs: BTreeSet<String>,
}

impl MapTaskBuilder {
    /// Takes every option from `options`.
    pub fn options<M>(mut self, options: MapOptions<M>) -> Self {
        self.options = options.clone().with_criterion(options.criterion);
        self
    }

    /// Runs at most `n` elements at once; `0` means no limit.
    pub fn concurrency(mut self, n: u32) -> Self {
        self.options = self.options.concurrency(n);
        self
    }

    /// Succeeds when at least `n` elements succeed (replaces any ratio).
    pub fn min_successes(mut self, n: u32) -> Self {
        self.options = self.options.min_successes(n);
        self
    }

    /// Succeeds when at least this fraction of the elements succeed (`0.0..=1.0`; replaces any
    /// `min_successes`).
    pub fn min_success_ratio(mut self, ratio: f64) -> Self {
        self.options = self.options.min_success_ratio(ratio);
        self
    }

    /// Sets the success criterion.
    pub fn criterion(mut self, criterion: SuccessCriterion) -> Self {
        self.options = self.options.with_criterion(criterion);
        self
    }

    /// Keeps running all elements after the success criterion can no longer be met.
    pub fn run_all_sub_nodes(mut self, on: bool) -> Self {
        self.options = self.options.run_all_sub_nodes(on);
        self
    }

    /// Passes these inputs whole to every element instead of mapping over them.
    pub fn bound_inputs<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.bound_inputs
            .extend(names.into_iter().map(Into::into).filter(|n| !n.is_empty()));
        self
    }

    /// The inner task.
    pub(super) fn inner(&self) -> &Task {
        &self.inner
    }

    /// Whether the options let elements fail.
    pub(super) fn allows_failures(&self) -> bool {
        self.options.criterion.allows_failures()
    }

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let inner = &self.inner;
        if inner.has_kind() {
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
        if let SuccessCriterion::MinSuccessRatio(r) = self.options.criterion
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

    pub(super) fn build_unchecked(self) -> MapTask {
        let spec = MapSpec {
            inner: self.inner,
            concurrency: self.options.concurrency,
            criterion: self.options.criterion,
            bound_inputs: self.bound_inputs,
            run_all_sub_nodes: self.options.run_all_sub_nodes,
        };
        let name = map_task_name(&spec);
        let interface = collection_interface(&spec);
        let inner = spec.inner.clone();
        let task = inner
            .derived(name, interface, Some(TaskKind::from_arc(Arc::new(spec))))
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
        // A MapTask is only made by `build_unchecked`, which always sets the kind.
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
