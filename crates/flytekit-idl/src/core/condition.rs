//! `flyteidl/core/condition.proto`: boolean conditions of branch nodes.

use super::{Primitive, Scalar};

/// Compares two operands, e.g. `x > 3`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ComparisonExpression {
    /// The comparison.
    #[prost(enumeration = "comparison_expression::Operator", tag = "1")]
    pub operator: i32,
    /// Left-hand operand.
    #[prost(message, optional, tag = "2")]
    pub left_value: Option<Operand>,
    /// Right-hand operand.
    #[prost(message, optional, tag = "3")]
    pub right_value: Option<Operand>,
}
/// Nested types of [`ComparisonExpression`].
pub mod comparison_expression {
    /// Comparison operators.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Operator {
        /// Equal.
        Eq = 0,
        /// Not equal.
        Neq = 1,
        /// Greater than.
        Gt = 2,
        /// Greater than or equal.
        Gte = 3,
        /// Less than.
        Lt = 4,
        /// Less than or equal.
        Lte = 5,
    }
    impl Operator {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Eq => "EQ",
                Self::Neq => "NEQ",
                Self::Gt => "GT",
                Self::Gte => "GTE",
                Self::Lt => "LT",
                Self::Lte => "LTE",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "EQ" => Some(Self::Eq),
                "NEQ" => Some(Self::Neq),
                "GT" => Some(Self::Gt),
                "GTE" => Some(Self::Gte),
                "LT" => Some(Self::Lt),
                "LTE" => Some(Self::Lte),
                _ => None,
            }
        }
    }
}

/// One side of a comparison: a constant or an input variable.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Operand {
    /// The operand value.
    #[prost(oneof = "operand::Val", tags = "1, 2, 3")]
    pub val: Option<operand::Val>,
}
/// Nested types of [`Operand`].
pub mod operand {
    /// The operand value.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Val {
        /// Deprecated: a constant primitive; use `scalar`.
        #[deprecated]
        #[prost(message, tag = "1")]
        Primitive(super::Primitive),
        /// Name of an input variable of the branch node.
        #[prost(string, tag = "2")]
        Var(String),
        /// A constant scalar.
        #[prost(message, tag = "3")]
        Scalar(super::Scalar),
    }
}

/// A condition: a comparison, or a conjunction of conditions.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct BooleanExpression {
    /// The expression.
    #[prost(oneof = "boolean_expression::Expr", tags = "1, 2")]
    pub expr: Option<boolean_expression::Expr>,
}
/// Nested types of [`BooleanExpression`].
pub mod boolean_expression {
    /// The expression.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    #[allow(clippy::large_enum_variant)]
    pub enum Expr {
        /// Two conditions joined by AND or OR.
        #[prost(message, tag = "1")]
        Conjunction(Box<super::ConjunctionExpression>),
        /// A single comparison.
        #[prost(message, tag = "2")]
        Comparison(super::ComparisonExpression),
    }
}

/// Two conditions joined by a logical operator.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ConjunctionExpression {
    /// AND or OR.
    #[prost(enumeration = "conjunction_expression::LogicalOperator", tag = "1")]
    pub operator: i32,
    /// Left-hand condition.
    #[prost(message, optional, boxed, tag = "2")]
    pub left_expression: Option<Box<BooleanExpression>>,
    /// Right-hand condition.
    #[prost(message, optional, boxed, tag = "3")]
    pub right_expression: Option<Box<BooleanExpression>>,
}
/// Nested types of [`ConjunctionExpression`].
pub mod conjunction_expression {
    /// Logical operators.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum LogicalOperator {
        /// Both conditions must hold.
        And = 0,
        /// At least one condition must hold.
        Or = 1,
    }
    impl LogicalOperator {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::And => "AND",
                Self::Or => "OR",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "AND" => Some(Self::And),
                "OR" => Some(Self::Or),
                _ => None,
            }
        }
    }
}

impl_name! {
    ComparisonExpression => "ComparisonExpression",
    Operand => "Operand",
    BooleanExpression => "BooleanExpression",
    ConjunctionExpression => "ConjunctionExpression",
}
