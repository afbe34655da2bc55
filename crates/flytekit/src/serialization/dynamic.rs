//! Serialization of a dynamic task's workflow into the `DynamicJobSpec` (`futures.pb`) that
//! Propeller runs, as flytekit's `compile_into_workflow` does: node ids prefixed `d`, every task
//! template and sub-workflow included; a body that adds no nodes yields its outputs directly.

use flytekit_idl::core::{
    Binding, BindingData, DynamicJobSpec, Literal, LiteralCollection, LiteralMap, Node,
    WorkflowTemplate, binding_data, literal, node,
};

use crate::settings::SerializationSettings;
use crate::task::TaskError;
use crate::workflow::Workflow;

/// What a dynamic task produces in a container.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DynamicOutcome {
    /// The body added no nodes: its outputs, written to `outputs.pb`.
    Outputs(LiteralMap),
    /// The graph to run, written to `futures.pb`.
    Futures(DynamicJobSpec),
}

/// Compiles a dynamic task's workflow as flytekit's `compile_into_workflow` does.
pub(crate) fn compile_dynamic(
    wf: &Workflow,
    settings: &SerializationSettings,
) -> Result<DynamicOutcome, TaskError> {
    if wf.nodes().is_empty() {
        let mut out = LiteralMap::default();
        for b in wf.output_bindings() {
            let lit = b
                .binding
                .as_ref()
                .and_then(binding_to_literal)
                .ok_or_else(|| {
                    TaskError::from_user(format!(
                        "output '{}' of the dynamic workflow is bound to a promise but the \
                         workflow has no nodes",
                        b.var
                    ))
                })?;
            out.literals.insert(b.var.clone(), lit);
        }
        return Ok(DynamicOutcome::Outputs(out));
    }
    let closure = wf.closure(settings).map_err(TaskError::from_user)?;
    let WorkflowTemplate { nodes, outputs, .. } = closure.template;
    let nodes: Vec<Node> = nodes.into_iter().map(prefix_node).collect();
    Ok(DynamicOutcome::Futures(DynamicJobSpec {
        min_successes: nodes.len() as i64,
        nodes,
        outputs: outputs.into_iter().map(prefix_binding).collect(),
        tasks: closure.tasks,
        subworkflows: closure
            .sub_workflows
            .into_iter()
            .map(|mut w| {
                w.nodes = w.nodes.into_iter().map(prefix_node).collect();
                w.outputs = w.outputs.into_iter().map(prefix_binding).collect();
                w
            })
            .collect(),
    }))
}

/// The constant value of binding data (no promises).
fn binding_to_literal(b: &BindingData) -> Option<Literal> {
    let value = match b.value.as_ref()? {
        binding_data::Value::Scalar(s) => literal::Value::Scalar(s.clone()),
        binding_data::Value::Collection(c) => literal::Value::Collection(LiteralCollection {
            literals: c
                .bindings
                .iter()
                .map(binding_to_literal)
                .collect::<Option<Vec<_>>>()?,
        }),
        binding_data::Value::Map(m) => {
            let mut literals = std::collections::BTreeMap::new();
            for (k, v) in &m.bindings {
                literals.insert(k.clone(), binding_to_literal(v)?);
            }
            literal::Value::Map(Box::new(LiteralMap { literals }))
        }
        binding_data::Value::OffloadedMetadata(o) => {
            literal::Value::OffloadedMetadata(Box::new(o.clone()))
        }
        binding_data::Value::Promise(_) => return None,
    };
    let lit = Literal {
        value: Some(value),
        ..Default::default()
    };
    Some(match &b.union {
        Some(u) => crate::type_engine::literals::scalar_literal(
            flytekit_idl::core::scalar::Value::Union(Box::new(flytekit_idl::core::Union {
                value: Some(Box::new(lit)),
                r#type: u.target_type.clone(),
            })),
        ),
        None => lit,
    })
}

/// `n3` → `dn3`: flytekit compiles dynamic workflows with the node-id prefix `d`.
fn prefix_id(id: &str) -> String {
    if id.is_empty() {
        id.to_string()
    } else {
        format!("d{id}")
    }
}

fn prefix_data(mut b: BindingData) -> BindingData {
    b.value = b.value.map(|v| match v {
        binding_data::Value::Promise(mut r) => {
            r.node_id = prefix_id(&r.node_id);
            binding_data::Value::Promise(r)
        }
        binding_data::Value::Collection(mut c) => {
            c.bindings = c.bindings.into_iter().map(prefix_data).collect();
            binding_data::Value::Collection(c)
        }
        binding_data::Value::Map(mut m) => {
            m.bindings = m
                .bindings
                .into_iter()
                .map(|(k, v)| (k, prefix_data(v)))
                .collect();
            binding_data::Value::Map(m)
        }
        other => other,
    });
    b
}

fn prefix_binding(b: Binding) -> Binding {
    Binding {
        var: b.var,
        binding: b.binding.map(prefix_data),
    }
}

fn prefix_node(mut n: Node) -> Node {
    n.id = prefix_id(&n.id);
    n.upstream_node_ids = n.upstream_node_ids.iter().map(|i| prefix_id(i)).collect();
    n.inputs = n.inputs.into_iter().map(prefix_binding).collect();
    if let Some(node::Target::ArrayNode(a)) = n.target.as_mut()
        && let Some(sub) = a.node.as_mut()
    {
        // The sub-node keeps its id (the map task's name) but reads the same promises.
        sub.inputs = std::mem::take(&mut sub.inputs)
            .into_iter()
            .map(prefix_binding)
            .collect();
    }
    n
}
