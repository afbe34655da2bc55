//! [`FlyteError`]: the error that failed a workflow, as its failure node receives it (flytekit's
//! `flytekit.types.error.FlyteError`, a Flyte `ERROR` literal).

use std::borrow::Cow;

use flytekit_idl::core::{Literal, LiteralType, SimpleType, scalar};

use super::literals::{scalar_literal, scalar_of, simple_type, unwrap_union};
use super::{ConversionContext, FlyteType, TypeError};

/// Why a workflow failed: what a failure node's `err: Option<FlyteError>` input receives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlyteError {
    /// The error message.
    pub message: String,
    /// The node that reported it (Propeller names the failure node itself).
    pub failed_node_id: String,
}

impl std::fmt::Display for FlyteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (node {})", self.message, self.failed_node_id)
    }
}

impl FlyteType for FlyteError {
    fn literal_type() -> LiteralType {
        simple_type(SimpleType::Error)
    }

    async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
        Ok(scalar_literal(scalar::Value::Error(Box::new(
            flytekit_idl::core::Error {
                failed_node_id: self.failed_node_id.clone(),
                message: self.message.clone(),
            },
        ))))
    }

    async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
        match scalar_of(unwrap_union(literal)) {
            Some(scalar::Value::Error(e)) => Ok(FlyteError {
                message: e.message.clone(),
                failed_node_id: e.failed_node_id.clone(),
            }),
            _ => Err(TypeError::mismatch(&Self::literal_type(), literal)),
        }
    }

    fn type_tag() -> Cow<'static, str> {
        Cow::Borrowed("FlyteError")
    }
}
