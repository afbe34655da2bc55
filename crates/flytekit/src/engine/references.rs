//! Where a run finds the entities its nodes name but this binary has no code for: reference
//! tasks, launch plans and workflows (a local stand-in, or — in the sandbox — the template in a
//! package given with `--reference-package`), and launch plans a serialized graph names by id.

use std::sync::Arc;

use flytekit_idl::core::{Identifier, LiteralType, ResourceType, TypedInterface};

use super::catalog::Catalog;
use super::graph::{Attempts, Executable, Graph, LaunchPlanNode, NodeKind, Resolve};
use super::package::{ReferencePackage, find_by_id};
use super::{EngineError, EngineOptions};
use crate::type_engine::describe_type as describe;
use crate::workflow::{Entity, LaunchPlan, Reference};

/// The stand-ins, packages and launch plans a run resolves names against.
pub(crate) struct References {
    stand_ins: Vec<(Reference, Entity)>,
    packages: Vec<Arc<ReferencePackage>>,
    launch_plans: Vec<LaunchPlan>,
    sandbox: bool,
}

impl References {
    /// What `options` and this binary's registrations provide.
    pub(crate) fn new(options: &EngineOptions) -> Self {
        let mut stand_ins = options.stand_ins.clone();
        stand_ins.extend(crate::workflow::registered_stand_ins());
        Self {
            stand_ins,
            packages: options.reference_packages.clone(),
            launch_plans: crate::workflow::registered_launch_plans(),
            sandbox: options.sandbox.is_some(),
        }
    }

    fn kind_name(kind: ResourceType) -> &'static str {
        match kind {
            ResourceType::Task => "task",
            ResourceType::Workflow => "workflow",
            ResourceType::LaunchPlan => "launch plan",
            _ => "entity",
        }
    }

    /// The entity `id` from the packages, when one holds it.
    fn in_packages(
        &self,
        kind: ResourceType,
        id: &Identifier,
        node: &str,
    ) -> Result<Option<NodeKind>, EngineError> {
        for pkg in &self.packages {
            let catalog = || {
                Catalog::new(
                    pkg.tasks().iter().map(|t| t.as_ref()),
                    pkg.workflows().iter(),
                    node,
                    self,
                )
            };
            match kind {
                ResourceType::Task => {
                    if let Some(t) = find_by_id(pkg.tasks().iter(), |t| t.id.as_ref(), id) {
                        let attempts = Attempts::of_template(&Default::default(), t);
                        return Ok(Some(NodeKind::Task(
                            Executable::Template(t.clone()),
                            attempts,
                        )));
                    }
                }
                ResourceType::Workflow => {
                    if let Some(w) = find_by_id(pkg.workflows().iter(), |w| w.id.as_ref(), id) {
                        return Ok(Some(NodeKind::Workflow(Arc::new(catalog().workflow(w)?))));
                    }
                }
                ResourceType::LaunchPlan => {
                    if let Some(lp) = find_by_id(pkg.launch_plans().iter(), |l| l.id.as_ref(), id) {
                        let wf_id = lp
                            .spec
                            .as_ref()
                            .and_then(|s| s.workflow_id.clone())
                            .unwrap_or_default();
                        let Some(w) = find_by_id(pkg.workflows().iter(), |w| w.id.as_ref(), &wf_id)
                        else {
                            return Err(EngineError::Reference {
                                node: node.to_string(),
                                message: format!(
                                    "launch plan {} in {} starts workflow {}, which the package \
                                     does not hold",
                                    id.name,
                                    pkg.path().display(),
                                    wf_id.name
                                ),
                            });
                        };
                        return Ok(Some(NodeKind::LaunchPlan(Arc::new(
                            catalog().launch_plan(lp, w)?,
                        ))));
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    fn held(&self) -> String {
        let names: Vec<String> = self.packages.iter().flat_map(|p| p.names()).collect();
        if names.is_empty() {
            "nothing".into()
        } else {
            names.join(", ")
        }
    }

    /// The node kind of a stand-in `entity`.
    fn kind_of(&self, entity: &Entity, node: &str) -> Result<NodeKind, EngineError> {
        Graph::kind_of_entity(entity, node, self)
    }
}

/// Checks that a stand-in's interface is the reference's.
fn same_interface(r: &Reference, stand_in: &TypedInterface) -> Result<(), String> {
    let vars = |m: Option<&flytekit_idl::core::VariableMap>| -> Vec<(String, LiteralType)> {
        let mut v: Vec<(String, LiteralType)> = m
            .map(|m| {
                m.variables
                    .iter()
                    .map(|(k, v)| (k.clone(), v.r#type.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    for (side, want, got) in [
        (
            "inputs",
            vars(r.interface().inputs.as_ref()),
            vars(stand_in.inputs.as_ref()),
        ),
        (
            "outputs",
            vars(r.interface().outputs.as_ref()),
            vars(stand_in.outputs.as_ref()),
        ),
    ] {
        let names = |v: &[(String, LiteralType)]| {
            v.iter()
                .map(|(n, t)| format!("{n}: {}", describe(t)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let same = want.len() == got.len()
            && want
                .iter()
                .zip(&got)
                .all(|((a, x), (b, y))| a == b && crate::type_engine::compatible(x, y));
        if !same {
            return Err(format!(
                "the stand-in's {side} ({}) are not the reference's ({})",
                names(&got),
                names(&want)
            ));
        }
    }
    Ok(())
}

impl Resolve for References {
    fn reference(&self, r: &Reference, node: &str) -> Result<NodeKind, EngineError> {
        let what = format!("{} {} ({})", r.kind().describe(), r.name(), r.display_id());
        if self.sandbox
            && let Some(kind) = self.in_packages(r.kind().resource_type(), &r.id(), node)?
        {
            return Ok(kind);
        }
        if let Some((_, entity)) = self.stand_ins.iter().find(|(x, _)| x.name() == r.name()) {
            same_interface(r, entity.interface()).map_err(|m| EngineError::Reference {
                node: node.to_string(),
                message: format!("{what}: {m}"),
            })?;
            return self.kind_of(entity, node);
        }
        let message = if self.sandbox {
            format!(
                "unknown reference: the workflow calls {what}, which is in none of the packages \
                 given with --reference-package (they hold: {}) and has no stand-in; pass the \
                 package that registers it (e.g. one written by `pyflyte package`)",
                self.held()
            )
        } else {
            format!(
                "the workflow calls {what}, which has no code in this binary. A local run needs a \
                 stand-in with the same interface: register one with \
                 `flytekit::stand_in!(<reference>, <local task or workflow>);` (or give one to \
                 the engine in EngineOptions::stand_ins), or run the reference's own template in \
                 the sandbox: `run --sandbox --reference-package <package.tgz>`"
            )
        };
        Err(EngineError::Reference {
            node: node.to_string(),
            message,
        })
    }

    fn by_id(
        &self,
        kind: ResourceType,
        id: &Identifier,
        node: &str,
    ) -> Result<NodeKind, EngineError> {
        if let Some(k) = self.in_packages(kind, id, node)? {
            return Ok(k);
        }
        if kind == ResourceType::LaunchPlan
            && let Some(lp) = self.launch_plans.iter().find(|l| l.name() == id.name)
        {
            return self.kind_of(&Entity::LaunchPlan(lp.clone()), node);
        }
        if let Some((_, entity)) = self.stand_ins.iter().find(|(x, _)| x.name() == id.name) {
            return self.kind_of(entity, node);
        }
        Err(EngineError::Reference {
            node: node.to_string(),
            message: format!(
                "unknown reference: the graph names {} {} ({}/{}/{}@{}), which is neither in this \
                 binary nor in the packages given with --reference-package (they hold: {})",
                Self::kind_name(kind),
                id.name,
                id.project,
                id.domain,
                id.name,
                id.version,
                self.held()
            ),
        })
    }
}

impl Graph {
    /// The node kind running `entity` (a stand-in, or a launch plan found by name).
    pub(crate) fn kind_of_entity(
        entity: &Entity,
        node: &str,
        resolve: &dyn Resolve,
    ) -> Result<NodeKind, EngineError> {
        match entity {
            Entity::Task(t) => Ok(NodeKind::of_task(t, &Default::default())),
            Entity::Workflow(w) => {
                w.check()?;
                Ok(NodeKind::Workflow(Arc::new(Graph::from_workflow(
                    w, resolve,
                )?)))
            }
            Entity::LaunchPlan(lp) => {
                lp.workflow().check()?;
                Ok(NodeKind::LaunchPlan(Arc::new(LaunchPlanNode {
                    name: lp.name().to_string(),
                    graph: Arc::new(Graph::from_workflow(lp.workflow(), resolve)?),
                    defaults: flytekit_idl::core::LiteralMap {
                        literals: lp.callable_defaults().into_iter().collect(),
                    },
                    fixed: flytekit_idl::core::LiteralMap {
                        literals: lp.fixed_inputs().iter().cloned().collect(),
                    },
                })))
            }
            Entity::Reference(r) => resolve.reference(r, node),
            Entity::Branch(_) | Entity::Gate(_) => Err(EngineError::Reference {
                node: node.to_string(),
                message: format!("a {} cannot stand in for an entity", entity.kind()),
            }),
        }
    }
}
