//! The instance-task types a binary registers: the [`InstanceTask`] trait, the registry that
//! finds a type again by its tag, and [`register_instance_type!`](crate::register_instance_type).

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::InstanceError;
use super::codec::decode_value;
use crate::task::TaskBuilder;

/// A value that knows how to build a task from itself: the unit of an instance task.
///
/// Implement it for a serde type, register the type with
/// [`register_instance_type!`](crate::register_instance_type), and turn values into tasks with
/// [`instance_task`] (or put many of them in a [`bundle`](crate::bundle)).
pub trait InstanceTask: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stable tag that names this type in loader args. It must be unique in the binary and
    /// should not change once tasks are registered (e.g. `"myapp.Scale"`).
    const TYPE_TAG: &'static str;

    /// The task this value stands for: name, interface and body (any other configuration —
    /// resources, retries, image — may be set too). The resolver and loader args are set by
    /// flytekit; do not call [`TaskBuilder::resolver`].
    fn task(&self) -> TaskBuilder;
}

/// A type registered as an instance-task type (see
/// [`register_instance_type!`](crate::register_instance_type)).
pub struct InstanceType {
    tag: &'static str,
    type_name: fn() -> &'static str,
    build: fn(&[u8]) -> Result<TaskBuilder, InstanceError>,
}

impl InstanceType {
    /// The registration of `T`.
    pub const fn of<T: InstanceTask>() -> Self {
        Self {
            tag: T::TYPE_TAG,
            type_name: std::any::type_name::<T>,
            build: build_from_msgpack::<T>,
        }
    }

    /// The type tag.
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The Rust type's name.
    pub fn type_name(&self) -> &'static str {
        (self.type_name)()
    }

    /// Deserializes a value of this type from its (uncompressed) MessagePack payload and returns
    /// its task builder. A payload that does not fit the type is [`InstanceError::SchemaDrift`].
    pub fn builder_from_payload(&self, msgpack: &[u8]) -> Result<TaskBuilder, InstanceError> {
        (self.build)(msgpack)
    }
}

inventory::collect!(InstanceType);

/// Registers an [`InstanceTask`] type so the resolvers can rebuild its values inside the
/// container: `flytekit::register_instance_type!(Scale);` at module level.
#[macro_export]
macro_rules! register_instance_type {
    ($t:ty) => {
        $crate::__private::inventory::submit! {
            $crate::instance::InstanceType::of::<$t>()
        }
    };
}

/// The instance-task types registered in this binary, as `(tag, Rust type)`, sorted by tag.
pub fn registered_types() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = inventory::iter::<InstanceType>()
        .map(|t| (t.tag(), t.type_name()))
        .collect();
    all.sort();
    all
}

fn known_tags() -> String {
    let all = registered_types();
    if all.is_empty() {
        "none".to_string()
    } else {
        all.iter()
            .map(|(tag, ty)| format!("{tag} ({ty})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The registered type with tag `tag`.
pub fn find_type(tag: &str) -> Result<&'static InstanceType, InstanceError> {
    let mut found: Vec<&'static InstanceType> = inventory::iter::<InstanceType>()
        .filter(|t| t.tag() == tag)
        .collect();
    match found.len() {
        0 => Err(InstanceError::UnknownType {
            tag: tag.to_string(),
            known: known_tags(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(InstanceError::DuplicateTag {
            tag: tag.to_string(),
            types: found.iter().map(|t| t.type_name().to_string()).collect(),
        }),
    }
}

/// Checks at registration time that `T` is the one type registered under its tag.
pub(crate) fn check_registered<T: InstanceTask>() -> Result<(), InstanceError> {
    let wanted = std::any::type_name::<T>();
    match find_type(T::TYPE_TAG) {
        Ok(t) if t.type_name() == wanted => Ok(()),
        Ok(t) => Err(InstanceError::DuplicateTag {
            tag: T::TYPE_TAG.to_string(),
            types: vec![t.type_name().to_string(), wanted.to_string()],
        }),
        Err(InstanceError::UnknownType { .. }) => Err(InstanceError::NotRegistered {
            tag: T::TYPE_TAG.to_string(),
            type_name: wanted.to_string(),
        }),
        Err(e) => Err(e),
    }
}

fn build_from_msgpack<T: InstanceTask>(msgpack: &[u8]) -> Result<TaskBuilder, InstanceError> {
    decode_value::<T>(T::TYPE_TAG, msgpack).map(|v| v.task())
}
