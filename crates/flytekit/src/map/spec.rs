//! What a map task is: the inner task, its options and the inputs bound whole (a [`MapSpec`],
//! attached to the map task as its kind), and which elements must succeed.

use std::collections::BTreeSet;

use flytekit_idl::core::array_node;

use crate::task::Task;

/// The `--resolver` location of map tasks (flytekit's `ArrayNodeMapTaskResolver`).
pub const MAP_RESOLVER_LOCATION: &str = "flytekit.resolver.map";

/// Which elements must succeed for the map to succeed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SuccessCriterion {
    /// Every element (flytekit's default `min_success_ratio=1.0`).
    All,
    /// At least this many elements.
    MinSuccesses(u32),
    /// At least this fraction of the elements (rounded up), in `[0, 1)`; a ratio of 1 is
    /// [`SuccessCriterion::All`].
    MinSuccessRatio(f64),
}

impl SuccessCriterion {
    /// The criterion for `min_success_ratio = ratio`: a ratio of 1 means every element.
    pub fn ratio(ratio: f64) -> Self {
        if ratio == 1.0 {
            SuccessCriterion::All
        } else {
            SuccessCriterion::MinSuccessRatio(ratio)
        }
    }

    /// How many of `n` elements must succeed (Propeller's rule: the ratio rounded up; never more
    /// than `n`).
    pub fn required(self, n: usize) -> usize {
        match self {
            SuccessCriterion::All => n,
            SuccessCriterion::MinSuccesses(k) => (k as usize).min(n),
            SuccessCriterion::MinSuccessRatio(r) => ((n as f64 * r).ceil() as usize).min(n),
        }
    }

    /// Whether elements may fail, which makes the map's outputs optional.
    pub fn allows_failures(self) -> bool {
        match self {
            SuccessCriterion::All => false,
            SuccessCriterion::MinSuccesses(_) => true,
            SuccessCriterion::MinSuccessRatio(r) => r < 1.0,
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
                SuccessCriterion::ratio(f64::from(*r))
            }
        }
    }

    /// The criterion as serialized in an `ArrayNode` (every element: a ratio of 1, as flytekit).
    pub fn to_idl(self) -> array_node::SuccessCriteria {
        match self {
            SuccessCriterion::All => array_node::SuccessCriteria::MinSuccessRatio(1.0),
            SuccessCriterion::MinSuccesses(k) => array_node::SuccessCriteria::MinSuccesses(k),
            SuccessCriterion::MinSuccessRatio(r) => {
                array_node::SuccessCriteria::MinSuccessRatio(r as f32)
            }
        }
    }
}

/// What a map task maps: the inner task, the options and the bound inputs. Found on a map task
/// through [`Task::map_spec`].
#[derive(Clone, Debug)]
pub struct MapSpec {
    pub(super) inner: Task,
    pub(super) concurrency: Option<u32>,
    pub(super) criterion: SuccessCriterion,
    pub(super) bound_inputs: BTreeSet<String>,
    pub(super) run_all_sub_nodes: bool,
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
        self.criterion.allows_failures()
    }

    /// The inputs mapped over (not bound), in name order.
    pub fn mapped_inputs(&self) -> Vec<String> {
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

    /// The names of the inner task's outputs.
    pub fn output_names(&self) -> Vec<String> {
        self.inner
            .interface()
            .outputs
            .as_ref()
            .map(|o| o.variables.keys().cloned().collect())
            .unwrap_or_default()
    }
}

impl Task {
    /// The map specification when this is a map task (see [`map_task`]).
    pub fn map_spec(&self) -> Option<&MapSpec> {
        self.kind::<MapSpec>()
    }
}
