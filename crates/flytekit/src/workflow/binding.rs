//! What can be passed as a node input in a workflow body: promises, constants, and collections or
//! maps of promises. Compiles each to Flyte `BindingData`.

use std::collections::{BTreeMap, HashMap};

use flytekit_idl::core::{
    BindingData, BindingDataCollection, BindingDataMap, Literal, binding_data, literal,
};

use super::{Promise, WorkflowBuilder, WorkflowError};
use crate::type_engine::{ConversionContext, FlyteType};

/// A value that can be bound to a node input of type `T` in a workflow under construction.
///
/// Implemented for:
/// - `Promise<T>` and `&Promise<T>`: an output of another node or a workflow input (a `Promise<T>`
///   also binds to an `Option<T>` input);
/// - any `T: FlyteType` (and `&str` for `String`): a constant, embedded in the workflow;
/// - `Vec<Promise<T>>` and `[Promise<T>; N]` for `Vec<T>`: a collection binding (fan-in);
/// - `HashMap<String, Promise<T>>` and `BTreeMap<String, Promise<T>>` for maps of `T`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed where a workflow expects a `{T}`",
    label = "expected a `Promise<{T}>`, a `{T}` constant, or a collection of promises",
    note = "in a #[workflow] body, node inputs are promises of the declared type or constants; \
            calls of lowercase paths are task/workflow calls"
)]
pub trait IntoBinding<T> {
    /// Compiles the value into binding data of the workflow `wf`.
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError>;
}

impl<T: FlyteType> IntoBinding<T> for Promise<'_, T> {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        self.binding_in(wf)
    }
}

impl<T: FlyteType> IntoBinding<T> for &Promise<'_, T> {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        self.binding_in(wf)
    }
}

impl<T: FlyteType> IntoBinding<Option<T>> for Promise<'_, T> {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        self.binding_in(wf)
    }
}

impl<T: FlyteType> IntoBinding<T> for T {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        constant_binding(&self, wf)
    }
}

impl IntoBinding<String> for &str {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        constant_binding(&self.to_string(), wf)
    }
}

impl<T: FlyteType> IntoBinding<Vec<T>> for Vec<Promise<'_, T>> {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        collection(self.iter().map(|p| p.binding_in(wf)))
    }
}

impl<T: FlyteType, const N: usize> IntoBinding<Vec<T>> for [Promise<'_, T>; N] {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        collection(self.iter().map(|p| p.binding_in(wf)))
    }
}

impl<T: FlyteType> IntoBinding<HashMap<String, T>> for HashMap<String, Promise<'_, T>> {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        map(self.iter().map(|(k, p)| (k.clone(), p.binding_in(wf))))
    }
}

impl<T: FlyteType> IntoBinding<BTreeMap<String, T>> for BTreeMap<String, Promise<'_, T>> {
    fn into_binding(self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        map(self.iter().map(|(k, p)| (k.clone(), p.binding_in(wf))))
    }
}

fn collection(
    items: impl Iterator<Item = Result<BindingData, WorkflowError>>,
) -> Result<BindingData, WorkflowError> {
    let bindings = items.collect::<Result<Vec<_>, _>>()?;
    Ok(BindingData {
        union: None,
        value: Some(binding_data::Value::Collection(BindingDataCollection {
            bindings,
        })),
    })
}

fn map(
    items: impl Iterator<Item = (String, Result<BindingData, WorkflowError>)>,
) -> Result<BindingData, WorkflowError> {
    let mut bindings = BTreeMap::new();
    for (k, v) in items {
        bindings.insert(k, v?);
    }
    Ok(BindingData {
        union: None,
        value: Some(binding_data::Value::Map(BindingDataMap { bindings })),
    })
}

fn constant_binding<T: FlyteType>(
    value: &T,
    wf: &WorkflowBuilder,
) -> Result<BindingData, WorkflowError> {
    let literal = constant_literal(value).map_err(|message| WorkflowError::Constant {
        workflow: wf.name(),
        place: "a node input".to_string(),
        message,
    })?;
    Ok(literal_to_binding(&literal))
}

/// Converts a constant of a workflow definition to a literal. Construction is synchronous; plain
/// values convert without waiting. Blob constants upload from the local machine.
pub(crate) fn constant_literal<T: FlyteType>(value: &T) -> Result<Literal, String> {
    let dir = std::env::temp_dir().join("flytekit-rs").join("constants");
    let cx = ConversionContext::new(
        crate::storage::Storage::new(),
        &dir,
        dir.to_string_lossy().into_owned(),
    );
    futures::executor::block_on(value.to_literal(&cx)).map_err(|e| e.to_string())
}

/// The binding data of a constant literal, shaped like flytekit's: collections and maps are bound
/// element by element, scalars as scalars.
pub(crate) fn literal_to_binding(lit: &Literal) -> BindingData {
    let value = match &lit.value {
        Some(literal::Value::Scalar(s)) => Some(binding_data::Value::Scalar(s.clone())),
        Some(literal::Value::Collection(c)) => {
            Some(binding_data::Value::Collection(BindingDataCollection {
                bindings: c.literals.iter().map(literal_to_binding).collect(),
            }))
        }
        Some(literal::Value::Map(m)) => Some(binding_data::Value::Map(BindingDataMap {
            bindings: m
                .literals
                .iter()
                .map(|(k, v)| (k.clone(), literal_to_binding(v)))
                .collect(),
        })),
        Some(literal::Value::OffloadedMetadata(o)) => {
            Some(binding_data::Value::OffloadedMetadata((**o).clone()))
        }
        None => None,
    };
    BindingData { union: None, value }
}
