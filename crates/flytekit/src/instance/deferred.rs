//! Instance tasks whose payload is placed when they are serialized, not when they are made: the
//! tasks that workflows use as nodes, that programs declare for `package`, and that `#[instance_task]`
//! generates.
//!
//! [`task_of`] encodes the value once and attaches the payload to the task as its kind
//! ([`InstancePayload`]); the task names the instance resolver but carries no loader args. When it
//! is serialized, the instance resolver places the payload under the settings'
//! [`PayloadSettings`](crate::settings::PayloadSettings) (inline, or offloaded to the payload
//! store) or under an explicit placement of the settings (a bundle). Whoever runs the serialized
//! task first puts the payload where its loader args say: `package` uploads before it writes the
//! archive, the sandbox before it starts the container ([`stage`]), a dynamic task's container
//! before it writes `futures.pb` ([`stage_workflow`]).

use bytes::Bytes;

use super::codec::{compress, decode_value, encode_value, sha256_hex};
use super::payload::{Placement, UploadOutcome, place, put_if_absent};
use super::registry::{InstanceTask, check_registered};
use super::{INSTANCE_RESOLVER_LOCATION, InstanceError};
use crate::settings::{PayloadSettings, SerializationSettings};
use crate::storage::Storage;
use crate::task::{Task, TaskKind};
use crate::workflow::{Entity, Workflow};

/// The payload of an instance task made by [`task_of`]: its type tag and encoded value, attached
/// to the task as its kind (find it with [`Task::instance_payload`]).
#[derive(Clone, Debug)]
pub struct InstancePayload {
    tag: &'static str,
    encoded: Bytes,
    sha256: String,
    raw_len: usize,
}

impl InstancePayload {
    /// The type tag.
    pub fn type_tag(&self) -> &'static str {
        self.tag
    }

    /// The encoded payload: zlib-compressed MessagePack, what offloaded objects hold.
    pub fn encoded(&self) -> &Bytes {
        &self.encoded
    }

    /// The hex SHA-256 of [`encoded`](Self::encoded).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The serialized (uncompressed MessagePack) size in bytes.
    pub fn raw_len(&self) -> usize {
        self.raw_len
    }

    /// The key of this payload in [`PayloadPlacements`](crate::settings::PayloadPlacements):
    /// `<type tag>@<sha256>`.
    pub fn key(&self) -> String {
        format!("{}@{}", self.tag, self.sha256)
    }

    /// The uncompressed MessagePack (what a bundle stores for the entity).
    pub fn raw(&self) -> Result<Vec<u8>, InstanceError> {
        super::codec::decompress(&self.encoded, &format!("the payload of type {}", self.tag))
    }

    /// Where `settings` place this payload of task `task` (inline or offloaded), and the loader
    /// args that name it there.
    pub fn place(
        &self,
        task: &str,
        settings: &PayloadSettings,
    ) -> Result<(Placement, Vec<String>), InstanceError> {
        place(self.tag, task, &self.encoded, settings)
    }
}

impl Task {
    /// The payload when this is an instance task made by [`task_of`] (or `#[instance_task]`).
    pub fn instance_payload(&self) -> Option<&InstancePayload> {
        self.kind::<InstancePayload>()
    }
}

/// The task of `value`, its payload placed when the task is serialized (see the module docs).
/// The value is encoded once and decoded again, as the container will, so a value that does not
/// survive its own encoding fails here.
pub fn task_of<T: InstanceTask>(value: &T) -> Result<Task, InstanceError> {
    task_of_encoded::<T>(encode_value(value)?)
}

/// [`task_of`] for a value already encoded as MessagePack with field names (what
/// `#[instance_task]` does: it encodes a borrowed form of its instance type).
pub fn task_of_encoded<T: InstanceTask>(raw: Vec<u8>) -> Result<Task, InstanceError> {
    check_registered::<T>()?;
    let value: T = decode_value(T::TYPE_TAG, &raw)?;
    let encoded = compress(&raw)?;
    let payload = InstancePayload {
        tag: T::TYPE_TAG,
        sha256: sha256_hex(&encoded),
        encoded: Bytes::from(encoded),
        raw_len: raw.len(),
    };
    drop(raw);
    let task = value
        .task()
        .kind(TaskKind::new(payload))
        .build()
        .map_err(|source| InstanceError::Build {
            tag: T::TYPE_TAG.to_string(),
            source,
        })?;
    Ok(task.with_resolver(INSTANCE_RESOLVER_LOCATION.to_string(), None))
}

/// The `--resolver` location and loader args of an instance task made by [`task_of`] under
/// `settings`: its explicit placement when the settings have one, else the instance resolver's
/// inline or offloaded loader args.
pub(crate) fn target(
    task: &Task,
    payload: &InstancePayload,
    settings: &SerializationSettings,
) -> Result<(String, Vec<String>), InstanceError> {
    if let Some(placed) = settings.placements.get(&payload.key()) {
        return Ok((placed.resolver.clone(), placed.loader_args.clone()));
    }
    let (_, args) = payload.place(task.name(), &settings.payloads)?;
    Ok((INSTANCE_RESOLVER_LOCATION.to_string(), args))
}

/// Puts the payload of `task` where `settings` place it when that is a payload store (an
/// offloaded payload), unless an object of the same name and size is there. Inline payloads,
/// explicitly placed ones (whoever placed them uploads them) and other tasks need nothing.
pub async fn stage(
    task: &Task,
    settings: &SerializationSettings,
    storage: &Storage,
) -> Result<UploadOutcome, InstanceError> {
    let Some(payload) = task.instance_payload() else {
        return Ok(UploadOutcome::Inline);
    };
    if settings.placements.get(&payload.key()).is_some() {
        return Ok(UploadOutcome::Inline);
    }
    match payload.place(task.name(), &settings.payloads)? {
        (Placement::Inline, _) => Ok(UploadOutcome::Inline),
        (Placement::Offloaded { uri, .. }, _) => {
            put_if_absent(storage, &uri, payload.encoded.clone()).await
        }
    }
}

/// [`stage`]s every instance task that `workflow`'s nodes (and its sub-workflows' nodes) run.
pub async fn stage_workflow(
    workflow: &Workflow,
    settings: &SerializationSettings,
    storage: &Storage,
) -> Result<Vec<UploadOutcome>, InstanceError> {
    let mut out = Vec::new();
    for task in instance_tasks_in(std::slice::from_ref(workflow)) {
        out.push(stage(&task, settings, storage).await?);
    }
    Ok(out)
}

/// The instance tasks made by [`task_of`] that the nodes of `workflows` run, their sub-workflows
/// included, in the order first met (one per name).
pub fn instance_tasks_in(workflows: &[Workflow]) -> Vec<Task> {
    fn walk(wf: &Workflow, seen: &mut Vec<String>, out: &mut Vec<Task>) {
        for node in wf.nodes() {
            match &node.entity {
                Entity::Task(t) => {
                    if t.instance_payload().is_some() && !seen.iter().any(|n| n == t.name()) {
                        seen.push(t.name().to_string());
                        out.push(t.clone());
                    }
                }
                Entity::Workflow(sub) => walk(sub, seen, out),
            }
        }
    }
    let (mut seen, mut out) = (Vec::new(), Vec::new());
    for wf in workflows {
        walk(wf, &mut seen, &mut out);
    }
    out
}
