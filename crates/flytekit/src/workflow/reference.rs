//! Reference entities: tasks, launch plans and workflows registered on the cluster (by this or
//! another team, in Rust or in Python), known here only by their id and typed interface —
//! flytekit's `reference_task`, `reference_launch_plan` and `reference_workflow`.
//!
//! ```ignore
//! #[reference_task(project = "flytesnacks", domain = "development", name = "core.shapes.area",
//!                  version = "v3", outputs(area, label))]
//! pub fn area(width: f64, height: f64) -> (f64, String);
//! ```
//!
//! A workflow calls it like any task: the node names the reference's id (`TaskNode.reference_id`,
//! `WorkflowNode.launchplan_ref`, `WorkflowNode.sub_workflow_ref`), and `package` does not write
//! it (it is registered elsewhere). There is no code to run here, so a local `run` needs a
//! stand-in: a task or workflow of this binary with the same interface, registered with
//! [`stand_in!`](crate::stand_in) (or given to the engine in tests). `run --sandbox
//! --reference-package flyte-package.tgz` instead runs the reference's own template from a
//! package (`pyflyte package` writes one) through its container args: a Python task runs under
//! `pyflyte-execute`.

use flytekit_idl::core::{Identifier, LiteralType, ResourceType, TypedInterface, VariableMap};

use super::{Entity, variable};
use crate::type_engine::FlyteType;

/// What a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceKind {
    /// A task.
    Task,
    /// A launch plan.
    LaunchPlan,
    /// A workflow.
    Workflow,
}

impl ReferenceKind {
    /// `reference task`, `reference launch plan` or `reference workflow`.
    pub fn describe(&self) -> &'static str {
        match self {
            ReferenceKind::Task => "reference task",
            ReferenceKind::LaunchPlan => "reference launch plan",
            ReferenceKind::Workflow => "reference workflow",
        }
    }

    /// The Flyte resource type of the id.
    pub fn resource_type(&self) -> ResourceType {
        match self {
            ReferenceKind::Task => ResourceType::Task,
            ReferenceKind::LaunchPlan => ResourceType::LaunchPlan,
            ReferenceKind::Workflow => ResourceType::Workflow,
        }
    }
}

/// An entity registered elsewhere: its kind, id and interface.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    kind: ReferenceKind,
    project: String,
    domain: String,
    name: String,
    version: String,
    interface: TypedInterface,
}

impl Reference {
    /// A reference of `kind` to `project/domain/name@version`, with no inputs or outputs yet.
    pub fn new(
        kind: ReferenceKind,
        project: impl Into<String>,
        domain: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            project: project.into(),
            domain: domain.into(),
            name: name.into(),
            version: version.into(),
            interface: TypedInterface {
                inputs: Some(VariableMap::default()),
                outputs: Some(VariableMap::default()),
            },
        }
    }

    /// Declares input `name` of type `T`.
    pub fn input<T: FlyteType>(self, name: &str) -> Self {
        self.input_type(name, T::literal_type())
    }

    /// Declares input `name` of literal type `ty`.
    pub fn input_type(mut self, name: &str, ty: LiteralType) -> Self {
        if let Some(m) = self.interface.inputs.as_mut() {
            m.variables.insert(name.to_string(), variable(name, &ty));
        }
        self
    }

    /// Declares output `name` of type `T`.
    pub fn output<T: FlyteType>(self, name: &str) -> Self {
        self.output_type(name, T::literal_type())
    }

    /// Declares output `name` of literal type `ty`.
    pub fn output_type(mut self, name: &str, ty: LiteralType) -> Self {
        if let Some(m) = self.interface.outputs.as_mut() {
            m.variables.insert(name.to_string(), variable(name, &ty));
        }
        self
    }

    /// What it names.
    pub fn kind(&self) -> ReferenceKind {
        self.kind
    }

    /// The registered name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The project, domain, name and version it is registered under.
    pub fn id(&self) -> Identifier {
        Identifier {
            resource_type: self.kind.resource_type() as i32,
            project: self.project.clone(),
            domain: self.domain.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            ..Default::default()
        }
    }

    /// `project/domain/name@version`, for messages.
    pub fn display_id(&self) -> String {
        format!(
            "{}/{}/{}@{}",
            self.project, self.domain, self.name, self.version
        )
    }

    /// The declared interface.
    pub fn interface(&self) -> &TypedInterface {
        &self.interface
    }
}

/// A local stand-in for a reference, registered with [`stand_in!`](crate::stand_in): local
/// runs run `entity` wherever a workflow calls the reference named `reference`.
pub struct StandInRegistration {
    build: fn() -> (Reference, Entity),
}

impl StandInRegistration {
    /// A registration whose reference and stand-in `build` makes.
    pub const fn new(build: fn() -> (Reference, Entity)) -> Self {
        Self { build }
    }

    /// The reference and its stand-in.
    pub fn stand_in(&self) -> (Reference, Entity) {
        (self.build)()
    }
}

inventory::collect!(StandInRegistration);

/// Every stand-in registered in this binary: the reference and the entity run in its place.
pub fn registered_stand_ins() -> Vec<(Reference, Entity)> {
    inventory::iter::<StandInRegistration>()
        .map(|r| r.stand_in())
        .collect()
}

/// Registers a local stand-in for a reference entity: local runs (and `run --sandbox` without a
/// package holding the reference) run `stand_in` wherever a workflow calls `reference`.
///
/// ```ignore
/// #[reference_task(project = "p", domain = "d", name = "shapes.area", version = "v3")]
/// pub fn area(width: f64, height: f64) -> f64;
///
/// #[task]
/// fn local_area(width: f64, height: f64) -> f64 { width * height }
///
/// flytekit::stand_in!(area, local_area);
/// ```
///
/// Both name companion modules (`area::entity()`, `local_area::entity()`); the stand-in's
/// interface must be the reference's.
#[macro_export]
macro_rules! stand_in {
    ($reference:path, $stand_in:path) => {
        $crate::__private::inventory::submit! {
            $crate::__private::StandInRegistration::new(|| {
                use $reference as __flytekit_reference;
                use $stand_in as __flytekit_stand_in;
                (
                    __flytekit_reference::reference(),
                    ::std::convert::Into::into(__flytekit_stand_in::entity()),
                )
            })
        }
    };
}
