//! Conditionals at run time: the branch node's inputs (the values its conditions read) are
//! resolved, the arms' conditions evaluated in order as Propeller evaluates them, and the first
//! arm that holds runs its node — whose inputs read the enclosing graph, like any node's. With no
//! arm holding, the `else` node runs, or the node fails with the conditional's message.
//!
//! Comparisons follow Propeller's `comparator.go`: both sides primitives of the same kind
//! (integers with integers, ...; an optional value is compared by what it holds), `None` only
//! with `==` and `!=`, booleans only with `==` and `!=`, datetimes and durations by their
//! seconds. Both sides of AND and OR are evaluated, so a malformed comparison fails the node
//! whichever side it is on.

use std::cmp::Ordering;

use flytekit_idl::core::{
    BooleanExpression, ComparisonExpression, Literal, LiteralMap, Primitive, boolean_expression,
    comparison_expression::Operator, conjunction_expression::LogicalOperator, literal, operand,
    primitive, scalar,
};

use super::bindings::{Lookup, resolve_bindings};
use super::graph::{BranchNode, GraphNode, NodeKind, Otherwise};
use super::{Engine, EngineError, Run};

/// A value a comparison reads: a primitive, or `None`.
#[derive(Debug)]
enum Value<'a> {
    Primitive(&'a primitive::Value),
    None,
}

fn value_of_literal<'a>(l: &'a Literal, var: &str) -> Result<Value<'a>, String> {
    match &l.value {
        Some(literal::Value::Scalar(s)) => match &s.value {
            Some(scalar::Value::Primitive(Primitive { value: Some(p) })) => Ok(Value::Primitive(p)),
            Some(scalar::Value::NoneType(_)) => Ok(Value::None),
            Some(scalar::Value::Union(u)) => match u.value.as_deref() {
                Some(inner) => value_of_literal(inner, var),
                None => Ok(Value::None),
            },
            _ => Err(format!(
                "only primitives can be compared; '{var}' is a {}",
                crate::type_engine::describe_literal(l)
            )),
        },
        _ => Err(format!(
            "only primitives can be compared; '{var}' is a {}",
            crate::type_engine::describe_literal(l)
        )),
    }
}

#[allow(deprecated)]
fn operand_value<'a>(
    o: Option<&'a flytekit_idl::core::Operand>,
    inputs: &'a LiteralMap,
) -> Result<Value<'a>, String> {
    match o.and_then(|o| o.val.as_ref()) {
        Some(operand::Val::Primitive(Primitive { value: Some(p) })) => Ok(Value::Primitive(p)),
        Some(operand::Val::Scalar(s)) => match &s.value {
            Some(scalar::Value::Primitive(Primitive { value: Some(p) })) => Ok(Value::Primitive(p)),
            Some(scalar::Value::NoneType(_)) => Ok(Value::None),
            _ => Err("only primitives and None can be compared".into()),
        },
        Some(operand::Val::Var(var)) => {
            let l = inputs
                .literals
                .get(var)
                .ok_or_else(|| format!("failed to find the value of variable [{var}]"))?;
            value_of_literal(l, var)
        }
        _ => Err("a comparison lacks an operand".into()),
    }
}

fn kind(p: &primitive::Value) -> &'static str {
    match p {
        primitive::Value::Integer(_) => "an integer",
        primitive::Value::FloatValue(_) => "a float",
        primitive::Value::StringValue(_) => "a string",
        primitive::Value::Boolean(_) => "a boolean",
        primitive::Value::Datetime(_) => "a datetime",
        primitive::Value::Duration(_) => "a duration",
    }
}

/// `a` compared with `b` (same kind), as Propeller compares them.
fn order(a: &primitive::Value, b: &primitive::Value) -> Option<Ordering> {
    use primitive::Value as P;
    match (a, b) {
        (P::Integer(x), P::Integer(y)) => Some(x.cmp(y)),
        (P::FloatValue(x), P::FloatValue(y)) => x.partial_cmp(y),
        (P::StringValue(x), P::StringValue(y)) => Some(x.cmp(y)),
        (P::Boolean(x), P::Boolean(y)) => Some(x.cmp(y)),
        (P::Datetime(x), P::Datetime(y)) => Some(x.seconds.cmp(&y.seconds)),
        (P::Duration(x), P::Duration(y)) => Some(x.seconds.cmp(&y.seconds)),
        _ => None,
    }
}

fn compare(c: &ComparisonExpression, inputs: &LiteralMap) -> Result<bool, String> {
    let op = Operator::try_from(c.operator).unwrap_or(Operator::Eq);
    let left = operand_value(c.left_value.as_ref(), inputs)?;
    let right = operand_value(c.right_value.as_ref(), inputs)?;
    let (l, r) = match (left, right) {
        (Value::Primitive(l), Value::Primitive(r)) => (l, r),
        (l, r) => {
            let both_none = matches!((&l, &r), (Value::None, Value::None));
            return match op {
                Operator::Eq => Ok(both_none),
                Operator::Neq => Ok(!both_none),
                _ => Err(format!(
                    "comparing None with [{}] is not supported; use == or !=",
                    op.as_str_name()
                )),
            };
        }
    };
    if std::mem::discriminant(l) != std::mem::discriminant(r) {
        return Err(format!(
            "cannot compare {} with {}: both sides of a comparison must have the same type",
            kind(l),
            kind(r)
        ));
    }
    let is_bool = matches!(l, primitive::Value::Boolean(_));
    let ord = order(l, r);
    Ok(match op {
        Operator::Eq => ord == Some(Ordering::Equal),
        Operator::Neq => ord != Some(Ordering::Equal),
        _ if is_bool => {
            return Err(format!(
                "[{}] is not defined for boolean operands",
                op.as_str_name()
            ));
        }
        Operator::Gt => ord == Some(Ordering::Greater),
        Operator::Gte => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        Operator::Lt => ord == Some(Ordering::Less),
        Operator::Lte => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
    })
}

/// Evaluates a condition on the branch node's `inputs`.
pub(crate) fn evaluate(e: &BooleanExpression, inputs: &LiteralMap) -> Result<bool, String> {
    match &e.expr {
        Some(boolean_expression::Expr::Comparison(c)) => compare(c, inputs),
        Some(boolean_expression::Expr::Conjunction(c)) => {
            let side = |x: &Option<Box<BooleanExpression>>| match x {
                Some(x) => evaluate(x, inputs),
                None => Err("a conjunction lacks a side".to_string()),
            };
            let (l, r) = (side(&c.left_expression)?, side(&c.right_expression)?);
            Ok(if c.operator == LogicalOperator::Or as i32 {
                l || r
            } else {
                l && r
            })
        }
        None => Err("no comparison or conjunction found in the branch node's condition".into()),
    }
}

impl Engine {
    /// Runs the conditional `node` at `path`: resolves its inputs through `lookup`, takes the
    /// first arm whose condition holds (else the `else` arm) and runs its node, whose inputs
    /// `lookup` resolves too.
    pub(super) fn run_branch(
        &self,
        node: &GraphNode,
        branch: &BranchNode,
        lookup: Lookup<'_, '_>,
        path: &str,
        run: &Run,
    ) -> Result<LiteralMap, EngineError> {
        let fail = |message: String| {
            let e = EngineError::Branch {
                node: path.to_string(),
                conditional: branch.name.clone(),
                message,
            };
            run.progress.failed(path, &branch.name, &e.to_string());
            e
        };
        let inputs = resolve_bindings(&node.inputs, lookup)
            .map_err(|(input, reason)| fail(format!("cannot resolve '{input}': {reason}")))?;
        let mut chosen = None;
        for (k, (condition, then)) in branch.cases.iter().enumerate() {
            let holds = evaluate(condition, &inputs).map_err(|m| {
                fail(format!(
                    "{} condition: {m}",
                    if k == 0 {
                        "the if_".to_string()
                    } else {
                        format!("elif_ #{k}")
                    }
                ))
            })?;
            if holds {
                // Propeller skips the arms after the first that holds.
                chosen = Some(then);
                break;
            }
        }
        let then = match (chosen, &branch.otherwise) {
            (Some(n), _) => n,
            (None, Otherwise::Node(n)) => n.as_ref(),
            (None, Otherwise::Fail(message)) => {
                return Err(fail(format!("no condition holds: {message}")));
            }
        };
        let child = format!("{path}/{}", then.id);
        if let NodeKind::Branch(inner) = &then.kind {
            return self.run_branch(then, inner, lookup, &child, run);
        }
        let inputs = resolve_bindings(&then.inputs, lookup).map_err(|(input, reason)| {
            let e = EngineError::Binding {
                node: child.clone(),
                entity: then.entity.clone(),
                input,
                reason,
            };
            run.progress.failed(&child, &then.entity, &e.to_string());
            e
        })?;
        let inputs = match then.interface() {
            Some(interface) => super::bindings::coerce_unions(inputs, interface),
            None => inputs,
        };
        self.run_node(then, inputs, child, run)
    }
}
