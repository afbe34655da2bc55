//! Attribute access on promises: a part of a value that only exists when the workflow runs —
//! `xs.at(0)` of a list, `m.get("k")` of a map, `est.field::<f64>("pi")` (or the typed
//! `est.pi()` that `#[derive(FlyteType)]` generates) of a struct. Each compiles to the promise's
//! `OutputReference.attr_path`, exactly as flytekit 1.16 writes `est.pi`, `xs[0]`, `m["k"]`;
//! Propeller, the local engine and the sandbox resolve the path when the node runs.

use std::collections::{BTreeMap, HashMap};

use flytekit_idl::core::{PromiseAttribute, promise_attribute};

use super::{Promise, WorkflowError, describe_type};
use crate::type_engine::FlyteType;

fn key(name: &str) -> PromiseAttribute {
    PromiseAttribute {
        value: Some(promise_attribute::Value::StringValue(name.to_string())),
    }
}

impl<'w, T: FlyteType> Promise<'w, Vec<T>> {
    /// The element at `index` of the list (flytekit's `xs[index]`).
    pub fn at(&self, index: usize) -> Promise<'w, T> {
        let index = i32::try_from(index).unwrap_or(i32::MAX);
        self.with_attr(PromiseAttribute {
            value: Some(promise_attribute::Value::IntValue(index)),
        })
    }
}

impl<'w, T: FlyteType> Promise<'w, HashMap<String, T>> {
    /// The value at `key` of the map (flytekit's `m["key"]`).
    pub fn get(&self, key_name: &str) -> Promise<'w, T> {
        self.with_attr(key(key_name))
    }
}

impl<'w, T: FlyteType> Promise<'w, BTreeMap<String, T>> {
    /// The value at `key` of the map (flytekit's `m["key"]`).
    pub fn get(&self, key_name: &str) -> Promise<'w, T> {
        self.with_attr(key(key_name))
    }
}

impl<'w, T: FlyteType> Promise<'w, T> {
    /// The field `name` of a struct (a dataclass), as a promise of `U` (flytekit's `est.name`).
    /// `#[derive(FlyteType)]` generates typed accessors (`est.pi()`) that call this; called
    /// directly, a field the struct does not have, or of another type, is reported by
    /// [`WorkflowBuilder::build`](super::WorkflowBuilder::build).
    pub fn field<U: FlyteType>(&self, name: &str) -> Promise<'w, U> {
        let ty = T::literal_type();
        let fields = crate::type_engine::dataclass::dataclass_fields(&ty);
        if !fields.is_empty() {
            match fields.get(name) {
                None => self.wf.report_error(WorkflowError::InvalidEntity {
                    entity: format!("{} (a {})", self.var(), describe_type(&ty)),
                    message: format!(
                        "has no field '{name}'; its fields are: {}",
                        super::join_names(fields.keys())
                    ),
                }),
                Some(declared) if !crate::type_engine::compatible(declared, &U::literal_type()) => {
                    self.wf.report_error(WorkflowError::TypeMismatch {
                        place: format!("field '{name}' of {}", self.var()),
                        expected: describe_type(declared),
                        got: describe_type(&U::literal_type()),
                    })
                }
                Some(_) => {}
            }
        }
        self.with_attr(key(name))
    }
}
