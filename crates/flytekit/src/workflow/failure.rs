//! Failure nodes: a task or workflow run when the workflow fails (flytekit's
//! `@workflow(on_failure=...)`), serialized as `WorkflowTemplate.failure_node` with id `fn0`.
//!
//! The failure node receives the workflow's inputs by name (it must declare every one of them);
//! its other inputs must be optional and are bound to `None` — in particular `err:
//! Option<FlyteError>`, which Propeller (and the local engine, and the sandbox) fill with the
//! error that failed the workflow. The workflow still fails after its failure node ran.

use flytekit_idl::core::{Binding, LiteralType, literal_type};

use super::binding::literal_to_binding;
use super::{Entity, NodeSpec, State, WorkflowBuilder, WorkflowError, describe_type, variables};
use crate::type_engine::literals::{none_literal, scalar_literal, simple_type, with_tag};

/// The id flytekit gives a `@workflow`'s failure node.
pub const FAILURE_NODE_ID: &str = "fn0";

/// Records `entity` as the failure node of the workflow under construction (bound in
/// [`WorkflowBuilder::finish`], once every input is declared).
pub(super) fn set(wf: &WorkflowBuilder, entity: Entity) {
    wf.state.borrow_mut().failure_entity = Some(entity);
}

/// The none value of an optional input of type `ty`, as flytekit binds a default `None`.
fn none_of(ty: &LiteralType) -> Option<flytekit_idl::core::Literal> {
    use flytekit_idl::core::{SimpleType, Union, scalar};
    let Some(literal_type::Type::UnionType(u)) = &ty.r#type else {
        return None;
    };
    let none = u
        .variants
        .iter()
        .find(|v| matches!(v.r#type, Some(literal_type::Type::Simple(s)) if s == SimpleType::None as i32))
        .cloned()
        .unwrap_or_else(|| with_tag(simple_type(SimpleType::None), "none"));
    Some(scalar_literal(scalar::Value::Union(Box::new(Union {
        value: Some(Box::new(none_literal())),
        r#type: Some(none),
    }))))
}

/// Builds the failure node from the recorded entity, reporting what does not fit.
pub(super) fn build(st: &mut State) {
    let Some(entity) = st.failure_entity.take() else {
        return;
    };
    let workflow = st.name.clone();
    let err = |message: String| WorkflowError::FailureNode {
        workflow: workflow.clone(),
        entity: entity.name().to_string(),
        message,
    };
    let declared = variables(entity.interface().inputs.as_ref());
    let mut errors = Vec::new();
    if let Err(e) = entity.check() {
        errors.push(e);
    }
    let mut inputs: Vec<Binding> = Vec::new();
    for input in &st.inputs {
        match declared.get(&input.name) {
            None => errors.push(err(format!(
                "it does not take the workflow's input '{}'; a failure node receives every input \
                 of the workflow",
                input.name
            ))),
            Some(ty) if !crate::type_engine::compatible(ty, &input.ty) => {
                errors.push(err(format!(
                    "its input '{}' is a {}, the workflow's is a {}",
                    input.name,
                    describe_type(ty),
                    describe_type(&input.ty)
                )))
            }
            Some(_) => inputs.push(Binding {
                var: input.name.clone(),
                binding: Some(flytekit_idl::core::BindingData {
                    union: None,
                    value: Some(flytekit_idl::core::binding_data::Value::Promise(
                        flytekit_idl::core::OutputReference {
                            node_id: super::INPUT_NODE_ID.to_string(),
                            var: input.name.clone(),
                            attr_path: Vec::new(),
                        },
                    )),
                }),
            }),
        }
    }
    let mut extra: Vec<(&String, &LiteralType)> = declared
        .iter()
        .filter(|(k, _)| !st.inputs.iter().any(|i| &i.name == *k))
        .collect();
    extra.sort_by(|a, b| a.0.cmp(b.0));
    for (name, ty) in extra {
        match none_of(ty) {
            Some(none) => inputs.push(Binding {
                var: name.clone(),
                binding: Some(literal_to_binding(&none)),
            }),
            None => errors.push(err(format!(
                "its input '{name}' is not an input of the workflow and not optional; make it an \
                 Option (`err: Option<FlyteError>` receives the error)"
            ))),
        }
    }
    inputs.sort_by(|a, b| a.var.cmp(&b.var));
    st.errors.extend(errors);
    st.failure = Some(NodeSpec {
        id: FAILURE_NODE_ID.to_string(),
        entity,
        inputs,
        upstream: Vec::new(),
        overrides: Default::default(),
    });
}
