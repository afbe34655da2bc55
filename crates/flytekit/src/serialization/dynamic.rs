//! Serialization of a dynamic task's workflow into the `DynamicJobSpec` (`futures.pb`) that
//! Propeller runs, as flytekit's `compile_into_workflow` does: node ids prefixed `d`, every task
//! template (those of launch-plan nodes' workflows too) and sub-workflow included; a body that
//! adds no nodes yields its outputs directly.

use std::collections::BTreeMap;

use flytekit_idl::core::{
    Binding, BindingData, BooleanExpression, DynamicJobSpec, IfBlock, Literal, LiteralCollection,
    LiteralMap, Node, TaskTemplate, WorkflowTemplate, binding_data, boolean_expression,
    if_else_block, literal, node, operand,
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
    // flytekit lists every task it serialized for the graph, those of the workflows behind its
    // launch-plan nodes included (Propeller keeps only the tasks its nodes run).
    let mut tasks: BTreeMap<String, TaskTemplate> = BTreeMap::new();
    let mut add = |list: Vec<TaskTemplate>| {
        for t in list {
            let name = t.id.as_ref().map(|id| id.name.clone()).unwrap_or_default();
            tasks.entry(name).or_insert(t);
        }
    };
    add(closure.tasks);
    for lp in wf.launch_plans_used() {
        add(lp
            .workflow()
            .closure(settings)
            .map_err(TaskError::from_user)?
            .tasks);
    }
    let WorkflowTemplate { nodes, outputs, .. } = closure.template;
    let nodes: Vec<Node> = nodes.into_iter().map(prefix_node).collect();
    Ok(DynamicOutcome::Futures(DynamicJobSpec {
        min_successes: nodes.len() as i64,
        nodes,
        outputs: outputs.into_iter().map(prefix_binding).collect(),
        tasks: tasks.into_values().collect(),
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

/// A branch node's binding name `n0.o0` → `dn0.o0` (`.x`, a workflow input, stays).
fn prefix_var(var: &str) -> String {
    if var.starts_with('.') {
        var.to_string()
    } else {
        format!("d{var}")
    }
}

fn prefix_condition(mut e: BooleanExpression) -> BooleanExpression {
    e.expr = e.expr.map(|x| match x {
        boolean_expression::Expr::Comparison(mut c) => {
            for side in [c.left_value.as_mut(), c.right_value.as_mut()]
                .into_iter()
                .flatten()
            {
                if let Some(operand::Val::Var(v)) = side.val.as_mut() {
                    *v = prefix_var(v);
                }
            }
            boolean_expression::Expr::Comparison(c)
        }
        boolean_expression::Expr::Conjunction(mut c) => {
            c.left_expression = c.left_expression.map(|l| Box::new(prefix_condition(*l)));
            c.right_expression = c.right_expression.map(|r| Box::new(prefix_condition(*r)));
            boolean_expression::Expr::Conjunction(c)
        }
    });
    e
}

fn prefix_block(b: IfBlock) -> IfBlock {
    IfBlock {
        condition: b.condition.map(prefix_condition),
        then_node: b.then_node.map(|n| Box::new(prefix_node(*n))),
    }
}

fn prefix_node(mut n: Node) -> Node {
    n.id = prefix_id(&n.id);
    n.upstream_node_ids = n.upstream_node_ids.iter().map(|i| prefix_id(i)).collect();
    n.inputs = n.inputs.into_iter().map(prefix_binding).collect();
    if let Some(node::Target::BranchNode(b)) = n.target.as_mut() {
        // flytekit compiles a conditional's nodes and binding names with the same prefix.
        for input in n.inputs.iter_mut() {
            input.var = prefix_var(&input.var);
        }
        if let Some(ie) = b.if_else.as_mut() {
            ie.case = ie.case.take().map(|c| Box::new(prefix_block(*c)));
            ie.other = std::mem::take(&mut ie.other)
                .into_iter()
                .map(prefix_block)
                .collect();
            ie.default = match ie.default.take() {
                Some(if_else_block::Default::ElseNode(e)) => {
                    Some(if_else_block::Default::ElseNode(Box::new(prefix_node(*e))))
                }
                other => other,
            };
        }
    }
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
