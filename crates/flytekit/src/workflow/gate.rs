//! Gate nodes: a workflow that sleeps, waits for a value from a person, or waits for a person's
//! approval — flytekit's `sleep`, `wait_for_input` and `approve`, a Flyte `GateNode`.
//!
//! In a `#[workflow]` body:
//!
//! ```ignore
//! let pause = sleep(Duration::from_secs(3));
//! let answer: Promise<i64> = wait_for_input("answer", Duration::from_secs(300));
//! let checked = approve(total, "ok-total", Duration::from_secs(7200));
//! ```
//!
//! `wait_for_input` takes its type from where its promise goes (annotate the `let` when nothing
//! says). A gate fails its node when nobody answers within its timeout (one hour unless given).
//! Locally, `run` takes the answers as `--signal answer=42` and `--approve ok-total`, or asks on
//! the terminal; without either it fails and says which flag answers the gate.

use std::time::Duration;

use flytekit_idl::core::{LiteralType, TypedInterface, VariableMap};

use super::{NodeRef, Promise, WorkflowBuilder, WorkflowError, variable};
use crate::type_engine::FlyteType;

/// How long a gate waits for an answer unless told otherwise (flytekit's `DEFAULT_TIMEOUT`).
pub const DEFAULT_GATE_TIMEOUT: Duration = Duration::from_secs(3600);

/// What a gate waits for.
#[derive(Clone, Debug, PartialEq)]
pub enum GateKind {
    /// A fixed time.
    Sleep(Duration),
    /// A value of type `ty`, given by a person (or a system) as the signal named like the gate;
    /// the node's output `output` carries it.
    Signal {
        /// The value's type.
        ty: LiteralType,
        /// The output variable (`o0`).
        output: String,
    },
    /// An approval of the value bound to input `var`, which the node passes on as its output
    /// `var`.
    Approve {
        /// The value's variable (the upstream output's name).
        var: String,
        /// Its type.
        ty: LiteralType,
    },
}

/// A gate: the entity of a gate node.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    name: String,
    kind: GateKind,
    timeout: Duration,
    interface: TypedInterface,
}

impl Gate {
    /// A gate named `name` of `kind`, failing after `timeout`.
    pub fn new(name: impl Into<String>, kind: GateKind, timeout: Duration) -> Self {
        let mut inputs = VariableMap::default();
        let mut outputs = VariableMap::default();
        match &kind {
            GateKind::Sleep(_) => {}
            GateKind::Signal { ty, output } => {
                outputs
                    .variables
                    .insert(output.clone(), variable(output, ty));
            }
            GateKind::Approve { var, ty } => {
                inputs.variables.insert(var.clone(), variable(var, ty));
                outputs.variables.insert(var.clone(), variable(var, ty));
            }
        }
        Self {
            name: name.into(),
            kind,
            timeout,
            interface: TypedInterface {
                inputs: Some(inputs),
                outputs: Some(outputs),
            },
        }
    }

    /// The gate's name: the signal id of a signal or approval, `sleep-gate` for a sleep.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it waits for.
    pub fn kind(&self) -> &GateKind {
        &self.kind
    }

    /// How long it waits before failing its node.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Inputs (an approval's value) and outputs (a signal's or approval's value).
    pub fn interface(&self) -> &TypedInterface {
        &self.interface
    }
}

/// `sleep(duration)` in a `#[workflow]` body: a node that waits `duration` (flytekit's `sleep`).
pub mod sleep {
    use super::*;

    /// Adds a sleep gate to the workflow under construction.
    pub fn node<'w>(wf: &'w WorkflowBuilder, duration: Duration) -> NodeRef<'w> {
        wf.add_node(
            Gate::new(
                "sleep-gate",
                GateKind::Sleep(duration),
                DEFAULT_GATE_TIMEOUT,
            ),
            Vec::new(),
        )
    }
}

/// `wait_for_input(name, timeout)` in a `#[workflow]` body: a node whose output is a value given
/// while the workflow runs, as the signal `name` (flytekit's `wait_for_input`).
pub mod wait_for_input {
    use super::*;

    /// Adds a signal gate to the workflow under construction; `T` is the value's type.
    pub fn node<'w, T: FlyteType>(
        wf: &'w WorkflowBuilder,
        name: &str,
        timeout: Duration,
    ) -> Promise<'w, T> {
        let gate = Gate::new(
            name,
            GateKind::Signal {
                ty: T::literal_type(),
                output: "o0".to_string(),
            },
            timeout,
        );
        wf.add_node(gate, Vec::new()).output::<T>("o0")
    }
}

/// `approve(value, name, timeout)` in a `#[workflow]` body: a node that passes `value` on once a
/// person approves it as the signal `name` (flytekit's `approve`).
pub mod approve {
    use super::*;

    /// Adds an approval gate of `value` to the workflow under construction.
    pub fn node<'w, T: FlyteType>(
        wf: &'w WorkflowBuilder,
        value: Promise<'w, T>,
        name: &str,
        timeout: Duration,
    ) -> Promise<'w, T> {
        if value.node().is_none() {
            wf.report_error(WorkflowError::InvalidEntity {
                entity: format!("approval gate {name}"),
                message: "workflow inputs cannot be passed to approval nodes; approve an output \
                          of a node"
                    .into(),
            });
        }
        let var = value.var();
        let gate = Gate::new(
            name,
            GateKind::Approve {
                var: var.clone(),
                ty: T::literal_type(),
            },
            timeout,
        );
        let input = wf.bind::<T>(&var, value);
        wf.add_node(gate, vec![input]).output::<T>(&var)
    }
}
