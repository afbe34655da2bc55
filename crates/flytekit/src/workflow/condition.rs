//! Conditionals: a node that runs one of several nodes, chosen by conditions on values that
//! exist when the workflow runs — flytekit's `conditional(...)`, a Flyte `BranchNode`.
//!
//! In a `#[workflow]` body:
//!
//! ```ignore
//! let b = is_positive(x);
//! let y = conditional("sign")
//!     .if_(x.ge(0.1) & x.le(1.0))
//!     .then(double(x))
//!     .elif_(b.is_true() | x.lt(0.0))
//!     .then(square(x))
//!     .else_()
//!     .fail("x must be in [0.1, 1] or negative");
//! ```
//!
//! - A condition compares a promise with a constant or another promise of the same type
//!   (`eq`, `ne`, `gt`, `ge`, `lt`, `le`; `is_true`/`is_false` for booleans, `is_none` for
//!   optional values) and joins conditions with `&`/`|` (or `.and()`/`.or()`). Only primitive
//!   values compare (numbers, strings, booleans, datetimes, durations), and both sides have the
//!   same Rust type: anything else does not compile.
//! - Each branch is exactly one call (a task, a sub-workflow, a launch plan, a reference, a gate or
//!   a nested conditional) made inside it; every branch produces outputs of the same types and
//!   names (the compiler checks the types, [`WorkflowBuilder::build`] the names).
//! - `else_()` ends the conditional with a last branch, or with `.fail(message)`, which fails
//!   the node with that message when no condition holds.
//!
//! The value of the whole expression is the conditional node's outputs, shaped like each
//! branch's: a promise, a tuple of promises, or a [`NodeRef`] when the branches have no outputs.
//!
//! Serialized exactly as flytekit does it: nodes made inside a conditional are numbered `n0`,
//! `n1`, ... within it; the branch node binds every promise its conditions read under the name
//! `<node id>.<output>` (`.<input>` for a workflow input), sorted, and waits for their nodes.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flytekit_idl::core::{
    Binding, BindingData, BooleanExpression, ComparisonExpression, ConjunctionExpression, Literal,
    LiteralType, OutputReference, TypedInterface, VariableMap, binding_data, boolean_expression,
    comparison_expression::Operator, conjunction_expression::LogicalOperator, literal, operand,
    scalar,
};

use super::{
    Entity, NodeRef, NodeSpec, Promise, WorkflowBuilder, WorkflowError, describe_type, variable,
};
use crate::type_engine::FlyteType;

mod sealed {
    pub trait Sealed {}
}

/// A type whose values a condition can compare for equality: Flyte's primitives. Both sides of
/// a comparison have the same type.
#[diagnostic::on_unimplemented(
    message = "a condition cannot compare values of type `{Self}`",
    label = "not a Flyte primitive",
    note = "conditions compare integers, floats, strings, booleans, datetimes and durations \
            (as Propeller does); test optional values with `is_none()`"
)]
pub trait Comparable: FlyteType + sealed::Sealed {}

/// A [`Comparable`] type whose values are ordered (`gt`, `ge`, `lt`, `le`): every primitive but
/// `bool`, as in Propeller.
#[diagnostic::on_unimplemented(
    message = "values of type `{Self}` are not ordered in a condition",
    label = "`gt`, `ge`, `lt` and `le` need an ordered primitive",
    note = "compare booleans with `eq`/`ne` or `is_true()`/`is_false()`"
)]
pub trait Ordered: Comparable {}

macro_rules! comparable {
    ($($ty:ty),* ; ordered) => {$(
        impl sealed::Sealed for $ty {}
        impl Comparable for $ty {}
        impl Ordered for $ty {}
    )*};
}
comparable!(i8, i16, i32, i64, u8, u16, u32, f32, f64, String, DateTime<Utc>, Duration; ordered);
impl sealed::Sealed for bool {}
impl Comparable for bool {}

/// A promise a condition reads: the branch node binds it as `<node id>.<var>`.
#[derive(Clone, Debug)]
pub(super) struct ConditionInput {
    var: String,
    reference: OutputReference,
    node: Option<u32>,
    ty: LiteralType,
}

/// One side of a comparison: a promise of `T` or a constant `T` (`&str` for `String`).
#[diagnostic::on_unimplemented(
    message = "a condition on a `Promise<{T}>` cannot compare it with `{Self}`",
    label = "expected a `Promise<{T}>` or a `{T}` constant",
    note = "both sides of a comparison have the same primitive type, as flytekit requires"
)]
pub trait Operand<'w, T> {
    /// The operand in the workflow under construction `wf`.
    #[doc(hidden)]
    fn operand(self, wf: &'w WorkflowBuilder) -> OperandValue;
}

/// A compiled operand.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub enum OperandValue {
    /// A promise.
    Input(Box<ConditionInputPublic>),
    /// A constant.
    Constant(Literal),
    /// Why the operand is invalid.
    Invalid(String),
}

/// The public face of a condition input (kept opaque).
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct ConditionInputPublic(ConditionInput);

impl<'w, T: Comparable> Operand<'w, T> for T {
    fn operand(self, _wf: &'w WorkflowBuilder) -> OperandValue {
        constant(&self)
    }
}

impl<'w> Operand<'w, String> for &str {
    fn operand(self, _wf: &'w WorkflowBuilder) -> OperandValue {
        constant(&self.to_string())
    }
}

impl<'w, T: Comparable> Operand<'w, T> for Promise<'w, T> {
    fn operand(self, wf: &'w WorkflowBuilder) -> OperandValue {
        promise_operand(&self, wf, T::literal_type())
    }
}

fn constant<T: FlyteType>(value: &T) -> OperandValue {
    match super::binding::constant_literal(value) {
        Ok(l) => OperandValue::Constant(l),
        Err(e) => OperandValue::Invalid(e),
    }
}

fn promise_operand<T>(p: &Promise<'_, T>, wf: &WorkflowBuilder, ty: LiteralType) -> OperandValue {
    if !std::ptr::eq(p.wf, wf) {
        return OperandValue::Invalid("a promise of another workflow was used".into());
    }
    let reference = p.reference();
    OperandValue::Input(Box::new(ConditionInputPublic(ConditionInput {
        // flytekit's `create_branch_node_promise_var`: the attribute path is not in the name.
        var: format!("{}.{}", reference.node_id, reference.var),
        reference,
        node: p.node_index(),
        ty,
    })))
}

/// A condition of a branch: comparisons of promises joined by AND/OR. Made by the comparison
/// methods of [`Promise`] and combined with `&` and `|`.
#[derive(Clone, Debug)]
pub struct Condition<'w> {
    wf: &'w WorkflowBuilder,
    expr: BooleanExpression,
    inputs: Vec<ConditionInput>,
    errors: Vec<String>,
}

impl<'w> Condition<'w> {
    /// A comparison `left <op> right` of two compiled operands (the typed methods of [`Promise`]
    /// make these; this is the untyped form, checked by [`WorkflowBuilder::build`]).
    #[doc(hidden)]
    pub fn compare(
        wf: &'w WorkflowBuilder,
        op: Operator,
        left: OperandValue,
        right: OperandValue,
    ) -> Self {
        let mut inputs = Vec::new();
        let mut errors = Vec::new();
        let mut types = Vec::new();
        let mut side = |v: OperandValue| -> flytekit_idl::core::Operand {
            let val = match v {
                OperandValue::Input(i) => {
                    let i = i.0;
                    types.push(Some(i.ty.clone()));
                    let var = i.var.clone();
                    inputs.push(i);
                    Some(operand::Val::Var(var))
                }
                OperandValue::Constant(l) => {
                    types.push(constant_type(&l));
                    operand_of_literal(&l).or_else(|| {
                        errors.push(format!(
                            "only primitive values and None can be compared, not {}",
                            crate::type_engine::describe_literal(&l)
                        ));
                        None
                    })
                }
                OperandValue::Invalid(e) => {
                    errors.push(e);
                    None
                }
            };
            flytekit_idl::core::Operand { val }
        };
        let left = side(left);
        let right = side(right);
        for t in types.iter().flatten() {
            if !is_comparable(t) {
                errors.push(format!(
                    "only primitive values can be compared, not a {}",
                    describe_type(t)
                ));
            }
        }
        if let [Some(a), Some(b)] = types.as_slice() {
            let (a, b) = (unwrap_optional(a), unwrap_optional(b));
            if !is_none_type(a) && !is_none_type(b) && a.r#type != b.r#type {
                errors.push(format!(
                    "cannot compare a {} with a {}",
                    describe_type(a),
                    describe_type(b)
                ));
            }
        }
        Condition {
            wf,
            expr: BooleanExpression {
                expr: Some(boolean_expression::Expr::Comparison(ComparisonExpression {
                    operator: op as i32,
                    left_value: Some(left),
                    right_value: Some(right),
                })),
            },
            inputs,
            errors,
        }
    }

    fn join(self, op: LogicalOperator, other: Condition<'w>) -> Self {
        let mut inputs = self.inputs;
        inputs.extend(other.inputs);
        let mut errors = self.errors;
        errors.extend(other.errors);
        Condition {
            wf: self.wf,
            expr: BooleanExpression {
                expr: Some(boolean_expression::Expr::Conjunction(Box::new(
                    ConjunctionExpression {
                        operator: op as i32,
                        left_expression: Some(Box::new(self.expr)),
                        right_expression: Some(Box::new(other.expr)),
                    },
                ))),
            },
            inputs,
            errors,
        }
    }

    /// Both conditions hold (`self & other`).
    pub fn and(self, other: Condition<'w>) -> Self {
        self.join(LogicalOperator::And, other)
    }

    /// At least one condition holds (`self | other`).
    pub fn or(self, other: Condition<'w>) -> Self {
        self.join(LogicalOperator::Or, other)
    }

    /// The condition as Flyte IDL.
    pub fn expression(&self) -> &BooleanExpression {
        &self.expr
    }
}

impl<'w> std::ops::BitAnd for Condition<'w> {
    type Output = Condition<'w>;
    fn bitand(self, rhs: Condition<'w>) -> Condition<'w> {
        self.and(rhs)
    }
}

impl<'w> std::ops::BitOr for Condition<'w> {
    type Output = Condition<'w>;
    fn bitor(self, rhs: Condition<'w>) -> Condition<'w> {
        self.or(rhs)
    }
}

/// The operand of a constant literal, as flytekit writes it: a primitive in the (deprecated)
/// `primitive` field, `None` as a scalar.
#[allow(deprecated)]
fn operand_of_literal(l: &Literal) -> Option<operand::Val> {
    match &l.value {
        Some(literal::Value::Scalar(s)) => match &s.value {
            Some(scalar::Value::Primitive(p)) => Some(operand::Val::Primitive(p.clone())),
            Some(scalar::Value::NoneType(_)) => Some(operand::Val::Scalar(s.clone())),
            Some(scalar::Value::Union(u)) => u.value.as_deref().and_then(operand_of_literal),
            _ => None,
        },
        _ => None,
    }
}

fn constant_type(l: &Literal) -> Option<LiteralType> {
    use flytekit_idl::core::{SimpleType, primitive};
    let simple = |s: SimpleType| crate::type_engine::literals::simple_type(s);
    match &l.value {
        Some(literal::Value::Scalar(s)) => match &s.value {
            Some(scalar::Value::Primitive(p)) => Some(simple(match &p.value {
                Some(primitive::Value::Integer(_)) => SimpleType::Integer,
                Some(primitive::Value::FloatValue(_)) => SimpleType::Float,
                Some(primitive::Value::StringValue(_)) => SimpleType::String,
                Some(primitive::Value::Boolean(_)) => SimpleType::Boolean,
                Some(primitive::Value::Datetime(_)) => SimpleType::Datetime,
                Some(primitive::Value::Duration(_)) => SimpleType::Duration,
                None => return None,
            })),
            Some(scalar::Value::NoneType(_)) => Some(simple(SimpleType::None)),
            Some(scalar::Value::Union(u)) => u.value.as_deref().and_then(constant_type),
            _ => None,
        },
        _ => None,
    }
}

fn unwrap_optional(t: &LiteralType) -> &LiteralType {
    use flytekit_idl::core::literal_type::Type;
    match &t.r#type {
        Some(Type::UnionType(u)) => u.variants.iter().find(|v| !is_none_type(v)).unwrap_or(t),
        _ => t,
    }
}

fn is_none_type(t: &LiteralType) -> bool {
    use flytekit_idl::core::{SimpleType, literal_type::Type};
    matches!(t.r#type, Some(Type::Simple(s)) if s == SimpleType::None as i32)
}

fn is_comparable(t: &LiteralType) -> bool {
    use flytekit_idl::core::{SimpleType, literal_type::Type};
    match &unwrap_optional(t).r#type {
        Some(Type::Simple(s)) => [
            SimpleType::Integer,
            SimpleType::Float,
            SimpleType::String,
            SimpleType::Boolean,
            SimpleType::Datetime,
            SimpleType::Duration,
            SimpleType::None,
        ]
        .iter()
        .any(|x| *x as i32 == *s),
        _ => false,
    }
}

#[allow(clippy::should_implement_trait)]
impl<'w, T: Comparable> Promise<'w, T> {
    fn compare(self, op: Operator, rhs: impl Operand<'w, T>) -> Condition<'w> {
        let left = promise_operand(&self, self.wf, T::literal_type());
        Condition::compare(self.wf, op, left, rhs.operand(self.wf))
    }

    /// `self == rhs`.
    pub fn eq(self, rhs: impl Operand<'w, T>) -> Condition<'w> {
        self.compare(Operator::Eq, rhs)
    }

    /// `self != rhs`.
    pub fn ne(self, rhs: impl Operand<'w, T>) -> Condition<'w> {
        self.compare(Operator::Neq, rhs)
    }
}

#[allow(clippy::should_implement_trait)]
impl<'w, T: Ordered> Promise<'w, T> {
    /// `self > rhs`.
    pub fn gt(self, rhs: impl Operand<'w, T>) -> Condition<'w> {
        self.compare(Operator::Gt, rhs)
    }

    /// `self >= rhs`.
    pub fn ge(self, rhs: impl Operand<'w, T>) -> Condition<'w> {
        self.compare(Operator::Gte, rhs)
    }

    /// `self < rhs`.
    pub fn lt(self, rhs: impl Operand<'w, T>) -> Condition<'w> {
        self.compare(Operator::Lt, rhs)
    }

    /// `self <= rhs`.
    pub fn le(self, rhs: impl Operand<'w, T>) -> Condition<'w> {
        self.compare(Operator::Lte, rhs)
    }
}

impl<'w> Promise<'w, bool> {
    /// The boolean is true (flytekit's `is_true()`: `== True`).
    pub fn is_true(self) -> Condition<'w> {
        self.eq(true)
    }

    /// The boolean is false (flytekit's `is_false()`: `== False`).
    pub fn is_false(self) -> Condition<'w> {
        self.eq(false)
    }
}

impl<'w, T: FlyteType> Promise<'w, Option<T>> {
    /// The optional value is absent (flytekit's `is_none()`: `== None`).
    pub fn is_none(self) -> Condition<'w> {
        let left = promise_operand(&self, self.wf, <Option<T>>::literal_type());
        let none = Literal {
            value: Some(literal::Value::Scalar(flytekit_idl::core::Scalar {
                value: Some(scalar::Value::NoneType(Default::default())),
            })),
            ..Default::default()
        };
        Condition::compare(self.wf, Operator::Eq, left, OperandValue::Constant(none))
    }
}

/// What a branch produces: the outputs of the one node it runs — a promise, a tuple of promises,
/// or the node itself when it has no outputs. Every branch of a conditional produces the same
/// type, and the conditional produces it too.
pub trait BranchOutput<'w>: Sized {
    /// The node the outputs come from, with each output's name and type; `None` when they do not
    /// all come from one node's outputs.
    #[doc(hidden)]
    fn outputs(&self) -> Result<(u32, Vec<(String, LiteralType)>), String>;

    /// The same shape of outputs, read from `node` under `names`.
    #[doc(hidden)]
    fn from_node(node: NodeRef<'w>, names: &[String]) -> Self;
}

impl<'w> BranchOutput<'w> for NodeRef<'w> {
    fn outputs(&self) -> Result<(u32, Vec<(String, LiteralType)>), String> {
        Ok((self.index(), Vec::new()))
    }

    fn from_node(node: NodeRef<'w>, _names: &[String]) -> Self {
        node
    }
}

impl<'w, T: FlyteType> BranchOutput<'w> for Promise<'w, T> {
    fn outputs(&self) -> Result<(u32, Vec<(String, LiteralType)>), String> {
        let node = self.node_index().ok_or_else(|| {
            format!(
                "a branch runs a node; '{}' is a workflow input: pass it through a task",
                self.var()
            )
        })?;
        if self.has_attr_path() {
            return Err(format!(
                "a branch's value is a node's output, not a part of one ({:?})",
                self.reference().attr_path
            ));
        }
        Ok((node, vec![(self.var(), T::literal_type())]))
    }

    fn from_node(node: NodeRef<'w>, names: &[String]) -> Self {
        node.output::<T>(names.first().map(String::as_str).unwrap_or("o0"))
    }
}

macro_rules! tuple_output {
    ($($t:ident $i:tt),+) => {
        impl<'w, $($t: FlyteType),+> BranchOutput<'w> for ($(Promise<'w, $t>,)+) {
            fn outputs(&self) -> Result<(u32, Vec<(String, LiteralType)>), String> {
                let mut node = None;
                let mut outs = Vec::new();
                $(
                    let (n, mut o) = self.$i.outputs()?;
                    if node.is_some_and(|m| m != n) {
                        return Err("a branch's outputs all come from the one node it runs".into());
                    }
                    node = Some(n);
                    outs.append(&mut o);
                )+
                Ok((node.unwrap_or_default(), outs))
            }

            fn from_node(node: NodeRef<'w>, names: &[String]) -> Self {
                ($(node.output::<$t>(names.get($i).map(String::as_str).unwrap_or_default()),)+)
            }
        }
    };
}
tuple_output!(A 0, B 1);
tuple_output!(A 0, B 1, C 2);
tuple_output!(A 0, B 1, C 2, D 3);
tuple_output!(A 0, B 1, C 2, D 3, E 4);
tuple_output!(A 0, B 1, C 2, D 3, E 4, F 5);

/// One arm of a conditional: its condition and the node it runs.
#[derive(Clone, Debug)]
pub struct BranchCase {
    /// When the arm is taken.
    pub condition: BooleanExpression,
    /// The node it runs (ids count within the conditional).
    pub node: NodeSpec,
}

/// What a conditional does when no condition holds.
#[derive(Clone, Debug)]
pub enum Otherwise {
    /// Runs this node.
    Node(Box<NodeSpec>),
    /// Fails with this message.
    Fail(String),
}

/// A finished conditional: the entity of a branch node.
#[derive(Clone, Debug)]
pub struct BranchSpec {
    name: String,
    interface: TypedInterface,
    cases: Vec<BranchCase>,
    otherwise: Otherwise,
}

impl BranchSpec {
    /// The conditional's name (`conditional("name")`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Inputs: the promises the conditions read (`<node id>.<var>`); outputs: the branches'.
    pub fn interface(&self) -> &TypedInterface {
        &self.interface
    }

    /// The `if` arm, then the `elif` arms, in order.
    pub fn cases(&self) -> &[BranchCase] {
        &self.cases
    }

    /// The `else` arm.
    pub fn otherwise(&self) -> &Otherwise {
        &self.otherwise
    }

    /// Every node the conditional may run, nested conditionals' included.
    pub(crate) fn nodes(&self) -> Vec<&NodeSpec> {
        let mut out: Vec<&NodeSpec> = self.cases.iter().map(|c| &c.node).collect();
        if let Otherwise::Node(n) = &self.otherwise {
            out.push(n);
        }
        let nested: Vec<&NodeSpec> = out
            .iter()
            .filter_map(|n| match &n.entity {
                Entity::Branch(b) => Some(b.nodes()),
                _ => None,
            })
            .flatten()
            .collect();
        out.extend(nested);
        out
    }
}

/// A case under construction.
#[derive(Debug)]
struct PendingCase {
    condition: Option<BooleanExpression>,
    output: Option<u32>,
    error: Option<String>,
}

/// A conditional under construction (in the builder's state).
#[derive(Debug)]
pub(super) struct Section {
    pub(super) scope: u32,
    pub(super) name: String,
    /// Nodes made in it so far (their ids are `n0`, `n1`, ... within it).
    pub(super) count: usize,
    cases: Vec<PendingCase>,
    inputs: Vec<ConditionInput>,
    outputs: Option<Vec<(String, LiteralType)>>,
    errors: Vec<String>,
}

/// Starts a conditional in a `#[workflow]` body: `conditional("name").if_(..).then(..)...`.
/// The body rewrite turns `conditional("name")` into `conditional::node(&wf, "name")`.
pub mod conditional {
    use super::{Conditional, WorkflowBuilder};

    /// Starts the conditional `name` in the workflow under construction.
    pub fn node<'w>(wf: &'w WorkflowBuilder, name: &str) -> Conditional<'w> {
        wf.conditional(name)
    }
}

impl WorkflowBuilder {
    /// Starts a conditional named `name`: nodes added until it ends belong to its branches.
    pub fn conditional(&self, name: &str) -> Conditional<'_> {
        let mut st = self.state.borrow_mut();
        let scope = st.next_scope;
        st.next_scope += 1;
        st.sections.push(Section {
            scope,
            name: name.to_string(),
            count: 0,
            cases: Vec::new(),
            inputs: Vec::new(),
            outputs: None,
            errors: Vec::new(),
        });
        Conditional { wf: self, scope }
    }

    fn with_section<R>(&self, scope: u32, f: impl FnOnce(&mut Section) -> R) -> Option<R> {
        let mut st = self.state.borrow_mut();
        let section = st.sections.iter_mut().rev().find(|s| s.scope == scope)?;
        Some(f(section))
    }

    /// Adds a case with `condition` (`None`: the else arm).
    fn add_case(&self, scope: u32, condition: Option<Condition<'_>>) {
        let scopes: Vec<(u32, u32)> = {
            let st = self.state.borrow();
            condition
                .iter()
                .flat_map(|c| c.inputs.iter())
                .filter_map(|i| i.node)
                .map(|n| (n, st.arena.get(n as usize).map(|s| s.scope).unwrap_or(0)))
                .collect()
        };
        self.with_section(scope, |s| {
            let mut expr = None;
            if let Some(c) = condition {
                s.errors.extend(c.errors);
                for (_, node_scope) in &scopes {
                    if *node_scope != 0 {
                        s.errors.push(
                            "a condition reads a node made inside a conditional; make the node \
                             before the conditional starts"
                                .into(),
                        );
                    }
                }
                for i in c.inputs {
                    // flytekit's `merge_promises`: one binding per (node, output).
                    if !s.inputs.iter().any(|x| {
                        x.reference.node_id == i.reference.node_id
                            && x.reference.var == i.reference.var
                    }) {
                        s.inputs.push(i);
                    }
                }
                expr = Some(c.expr);
            }
            s.cases.push(PendingCase {
                condition: expr,
                output: None,
                error: None,
            });
        });
    }

    /// Sets the node of the last case to the one producing `out`.
    fn set_case_output<'w, O: BranchOutput<'w>>(&'w self, scope: u32, out: &O) {
        let produced = out.outputs();
        let node_scope = produced
            .as_ref()
            .ok()
            .and_then(|(n, _)| self.state.borrow().arena.get(*n as usize).map(|s| s.scope));
        self.with_section(scope, |s| match produced {
            Err(e) => s.errors.push(e),
            Ok((node, outs)) => {
                if node_scope != Some(scope) {
                    s.errors.push(
                        "a branch runs a node made inside it: call the task (or workflow) inside \
                         `.then(..)`"
                            .into(),
                    );
                }
                match &s.outputs {
                    None => s.outputs = Some(outs),
                    Some(first) if *first != outs => {
                        let names = |o: &[(String, LiteralType)]| {
                            o.iter()
                                .map(|(n, t)| format!("{n}: {}", describe_type(t)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        s.errors.push(format!(
                            "every branch produces the same outputs; the first produces ({}), \
                             branch {} produces ({})",
                            names(first),
                            s.cases.len(),
                            names(&outs)
                        ));
                    }
                    Some(_) => {}
                }
                if let Some(c) = s.cases.last_mut() {
                    c.output = Some(node);
                }
            }
        });
    }

    /// Ends the conditional `scope`: checks it, and adds its branch node where it started.
    fn close_section(&self, scope: u32) -> Option<NodeRef<'_>> {
        let mut st = self.state.borrow_mut();
        let pos = st.sections.iter().rposition(|s| s.scope == scope)?;
        if pos + 1 != st.sections.len() {
            let inner = st
                .sections
                .last()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            st.errors.push(WorkflowError::Condition {
                conditional: inner,
                message: "a conditional inside a branch must end before the branch".into(),
            });
        }
        let mut section = st.sections.remove(pos);
        let used: Vec<u32> = section.cases.iter().filter_map(|c| c.output).collect();
        for (i, slot) in st.arena.iter().enumerate() {
            if slot.scope == scope && !used.contains(&(i as u32)) {
                section.errors.push(format!(
                    "node {} ({}) is made inside a branch but is not the branch's node; a branch \
                     runs one node: make the others before the conditional, or wrap them in a \
                     sub-workflow",
                    slot.spec.id,
                    slot.spec.entity.name()
                ));
            }
        }
        let node_of = |n: Option<u32>, arena: &Vec<super::Slot>| -> Option<NodeSpec> {
            n.and_then(|i| arena.get(i as usize))
                .map(|s| s.spec.clone())
        };
        let mut cases = Vec::new();
        let mut otherwise = None;
        let n_cases = section.cases.len();
        if n_cases < 2 {
            section
                .errors
                .push("a conditional needs `if_(..).then(..)` and an `else_()`".into());
        }
        for (k, c) in section.cases.iter().enumerate() {
            let last = k + 1 == n_cases;
            match (&c.condition, last) {
                (Some(cond), false) => match node_of(c.output, &st.arena) {
                    Some(node) => cases.push(BranchCase {
                        condition: cond.clone(),
                        node,
                    }),
                    None => section.errors.push(format!("branch {} has no node", k + 1)),
                },
                (None, true) => {
                    otherwise = Some(match (&c.error, node_of(c.output, &st.arena)) {
                        (Some(msg), _) => Otherwise::Fail(msg.clone()),
                        (None, Some(node)) => Otherwise::Node(Box::new(node)),
                        (None, None) => Otherwise::Fail("Condition failed".into()),
                    });
                }
                _ => section
                    .errors
                    .push("`else_()` comes last, after `if_` and any `elif_`".into()),
            }
        }
        let name = section.name.clone();
        for message in section.errors.drain(..) {
            st.errors.push(WorkflowError::Condition {
                conditional: name.clone(),
                message,
            });
        }
        let mut inputs = VariableMap::default();
        let mut bindings: Vec<Binding> = Vec::new();
        let mut upstream: Vec<usize> = Vec::new();
        for i in &section.inputs {
            inputs
                .variables
                .insert(i.var.clone(), variable(&i.var, &i.ty));
            bindings.push(Binding {
                var: i.var.clone(),
                binding: Some(BindingData {
                    union: None,
                    value: Some(binding_data::Value::Promise(i.reference.clone())),
                }),
            });
            if let Some(n) = i.node
                && !upstream.contains(&(n as usize))
            {
                upstream.push(n as usize);
            }
        }
        bindings.sort_by(|a, b| a.var.cmp(&b.var));
        let mut outputs = VariableMap::default();
        for (n, t) in section.outputs.clone().unwrap_or_default() {
            outputs.variables.insert(n.clone(), variable(&n, &t));
        }
        let spec = BranchSpec {
            name: name.clone(),
            interface: TypedInterface {
                inputs: Some(inputs),
                outputs: Some(outputs),
            },
            cases,
            otherwise: otherwise.unwrap_or(Otherwise::Fail("Condition failed".into())),
        };
        let id = st.next_id();
        drop(st);
        Some(self.push_node(
            NodeSpec {
                id,
                entity: Entity::Branch(Arc::new(spec)),
                inputs: bindings,
                upstream,
                overrides: Default::default(),
            },
            Vec::new(),
        ))
    }
}

/// A conditional just started: give it its first condition with [`if_`](Self::if_).
#[must_use = "a conditional needs `.if_(..).then(..)` and an `.else_()`"]
pub struct Conditional<'w> {
    wf: &'w WorkflowBuilder,
    scope: u32,
}

impl<'w> Conditional<'w> {
    /// The first arm: taken when `condition` holds.
    pub fn if_(self, condition: Condition<'w>) -> If<'w> {
        self.wf.add_case(self.scope, Some(condition));
        If {
            wf: self.wf,
            scope: self.scope,
        }
    }
}

/// The first arm, waiting for its node.
#[must_use = "give the arm its node with `.then(..)`"]
pub struct If<'w> {
    wf: &'w WorkflowBuilder,
    scope: u32,
}

impl<'w> If<'w> {
    /// The node the arm runs (call it inside the parentheses): its outputs fix the type of every
    /// other arm's.
    pub fn then<O: BranchOutput<'w>>(self, out: O) -> Branches<'w, O> {
        self.wf.set_case_output(self.scope, &out);
        Branches {
            wf: self.wf,
            scope: self.scope,
            _out: PhantomData,
        }
    }
}

/// A conditional with at least one arm: add `elif_` arms, then end it with `else_`.
#[must_use = "end the conditional with `.else_()`"]
pub struct Branches<'w, O> {
    wf: &'w WorkflowBuilder,
    scope: u32,
    _out: PhantomData<O>,
}

impl<'w, O: BranchOutput<'w>> Branches<'w, O> {
    /// Another arm, taken when the arms before it were not and `condition` holds.
    pub fn elif_(self, condition: Condition<'w>) -> Elif<'w, O> {
        self.wf.add_case(self.scope, Some(condition));
        Elif {
            wf: self.wf,
            scope: self.scope,
            _out: PhantomData,
        }
    }

    /// The last arm, taken when no condition holds.
    pub fn else_(self) -> Else<'w, O> {
        self.wf.add_case(self.scope, None);
        Else {
            wf: self.wf,
            scope: self.scope,
            _out: PhantomData,
        }
    }
}

/// An `elif` arm, waiting for its node.
#[must_use = "give the arm its node with `.then(..)`"]
pub struct Elif<'w, O> {
    wf: &'w WorkflowBuilder,
    scope: u32,
    _out: PhantomData<O>,
}

impl<'w, O: BranchOutput<'w>> Elif<'w, O> {
    /// The node the arm runs; its outputs have the first arm's types.
    pub fn then(self, out: O) -> Branches<'w, O> {
        self.wf.set_case_output(self.scope, &out);
        Branches {
            wf: self.wf,
            scope: self.scope,
            _out: PhantomData,
        }
    }
}

/// The `else` arm: a node, or a failure.
#[must_use = "end the conditional with `.then(..)` or `.fail(..)`"]
pub struct Else<'w, O> {
    wf: &'w WorkflowBuilder,
    scope: u32,
    _out: PhantomData<O>,
}

impl<'w, O: BranchOutput<'w>> Else<'w, O> {
    /// The node run when no condition holds. Ends the conditional and returns its outputs.
    pub fn then(self, out: O) -> O {
        self.wf.set_case_output(self.scope, &out);
        self.finish()
    }

    /// Fails the conditional node with `message` when no condition holds. Ends the conditional
    /// and returns its outputs (those of the arms that run a node).
    pub fn fail(self, message: impl Into<String>) -> O {
        let message = message.into();
        self.wf.with_section(self.scope, |s| {
            if let Some(c) = s.cases.last_mut() {
                c.error = Some(message);
            }
        });
        self.finish()
    }

    fn finish(self) -> O {
        let names: Vec<String> = self
            .wf
            .with_section(self.scope, |s| {
                s.outputs
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect()
            })
            .unwrap_or_default();
        match self.wf.close_section(self.scope) {
            Some(node) => O::from_node(node, &names),
            None => {
                // The section was already closed: report and return promises of a dummy node.
                let node = NodeRef {
                    wf: self.wf,
                    index: u32::MAX,
                };
                O::from_node(node, &names)
            }
        }
    }
}

/// `spec` with its upstream (and its branches' nodes' upstream) translated from builder
/// indices to indices among the workflow's nodes.
pub(super) fn translate_node(
    mut spec: NodeSpec,
    translate: &dyn Fn(&[usize]) -> Vec<usize>,
) -> NodeSpec {
    spec.upstream = translate(&spec.upstream);
    if let Entity::Branch(b) = &spec.entity {
        let mut b = (**b).clone();
        b.cases = b
            .cases
            .into_iter()
            .map(|c| BranchCase {
                condition: c.condition,
                node: translate_node(c.node, translate),
            })
            .collect();
        if let Otherwise::Node(n) = b.otherwise {
            b.otherwise = Otherwise::Node(Box::new(translate_node(*n, translate)));
        }
        spec.entity = Entity::Branch(Arc::new(b));
    }
    spec
}
