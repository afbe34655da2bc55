//! Bindings at run time: a node's inputs from the graph's inputs and its upstream nodes' outputs
//! (promises, constants, collections and maps of them), as Propeller resolves them.

use flytekit_idl::core::{
    BindingData, Literal, LiteralCollection, LiteralMap, Scalar, Union, binding_data, literal,
    scalar,
};

use crate::workflow::INPUT_NODE_ID;

/// Wraps plain values bound to union-typed inputs (`Option<T>` from a `T` promise) into union
/// literals, as Propeller does when it coerces a value to a union.
pub(super) fn coerce_unions(
    mut inputs: LiteralMap,
    interface: &flytekit_idl::core::TypedInterface,
) -> LiteralMap {
    use flytekit_idl::core::{SimpleType, literal_type};
    let Some(vars) = interface.inputs.as_ref() else {
        return inputs;
    };
    for (name, lit) in inputs.literals.iter_mut() {
        let Some(Some(literal_type::Type::UnionType(u))) = vars
            .variables
            .get(name)
            .map(|v| v.r#type.as_ref().and_then(|t| t.r#type.as_ref()))
        else {
            continue;
        };
        let is_union = matches!(&lit.value, Some(literal::Value::Scalar(s)) if matches!(s.value, Some(scalar::Value::Union(_))));
        if is_union {
            continue;
        }
        let is_none = matches!(&lit.value, Some(literal::Value::Scalar(s)) if matches!(s.value, Some(scalar::Value::NoneType(_))));
        let none = |t: &&flytekit_idl::core::LiteralType| matches!(t.r#type, Some(literal_type::Type::Simple(s)) if s == SimpleType::None as i32);
        let variant = if is_none {
            u.variants.iter().find(none)
        } else {
            u.variants.iter().find(|t| !none(t))
        };
        if let Some(variant) = variant {
            let value = std::mem::take(lit);
            *lit = Literal {
                value: Some(literal::Value::Scalar(Scalar {
                    value: Some(scalar::Value::Union(Box::new(Union {
                        value: Some(Box::new(value)),
                        r#type: Some(variant.clone()),
                    }))),
                })),
                ..Default::default()
            };
        }
    }
    inputs
}

pub(super) fn is_input_node(id: &str) -> bool {
    id == INPUT_NODE_ID || id == "start-node"
}

/// Where promises read from: node id → that node's outputs.
pub(super) type Lookup<'a, 'b> = &'b dyn Fn(&str) -> Result<&'a LiteralMap, String>;

/// Resolves `bindings` through `lookup`; on failure returns the variable and the reason.
pub(super) fn resolve_bindings(
    bindings: &[flytekit_idl::core::Binding],
    lookup: Lookup<'_, '_>,
) -> Result<LiteralMap, (String, String)> {
    let mut out = LiteralMap::default();
    for b in bindings {
        let data = b
            .binding
            .as_ref()
            .ok_or_else(|| (b.var.clone(), "the input is not bound".to_string()))?;
        let lit = resolve(data, lookup).map_err(|r| (b.var.clone(), r))?;
        out.literals.insert(b.var.clone(), lit);
    }
    Ok(out)
}

/// Turns binding data into a literal, reading promises through `lookup`.
pub(super) fn resolve(data: &BindingData, lookup: Lookup<'_, '_>) -> Result<Literal, String> {
    let lit = match &data.value {
        Some(binding_data::Value::Scalar(s)) => Literal {
            value: Some(literal::Value::Scalar(s.clone())),
            ..Default::default()
        },
        Some(binding_data::Value::Collection(c)) => {
            let literals = c
                .bindings
                .iter()
                .map(|b| resolve(b, lookup))
                .collect::<Result<Vec<_>, _>>()?;
            Literal {
                value: Some(literal::Value::Collection(LiteralCollection { literals })),
                ..Default::default()
            }
        }
        Some(binding_data::Value::Map(m)) => {
            let mut literals = std::collections::BTreeMap::new();
            for (k, b) in &m.bindings {
                literals.insert(k.clone(), resolve(b, lookup)?);
            }
            Literal {
                value: Some(literal::Value::Map(Box::new(LiteralMap { literals }))),
                ..Default::default()
            }
        }
        Some(binding_data::Value::Promise(r)) => {
            if !r.attr_path.is_empty() {
                return Err(
                    "attribute paths on promises are not supported by the local engine yet"
                        .to_string(),
                );
            }
            let source = lookup(&r.node_id)?;
            source.literals.get(&r.var).cloned().ok_or_else(|| {
                if is_input_node(&r.node_id) {
                    format!("workflow input '{}' is missing", r.var)
                } else {
                    format!("node {} produced no output '{}'", r.node_id, r.var)
                }
            })?
        }
        Some(binding_data::Value::OffloadedMetadata(o)) => Literal {
            value: Some(literal::Value::OffloadedMetadata(Box::new(o.clone()))),
            ..Default::default()
        },
        None => return Err("empty binding".to_string()),
    };
    Ok(match &data.union {
        Some(u) => Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Union(Box::new(Union {
                    value: Some(Box::new(lit)),
                    r#type: u.target_type.clone(),
                }))),
            })),
            ..Default::default()
        },
        None => lit,
    })
}
