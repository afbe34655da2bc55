//! The entry points of task serialization, by kind: a map task serializes as an `ArrayNode`'s
//! task ([`super::map`]), a dynamic task carries the settings its sub-tasks need (`_F_SS_C`),
//! every other task is a plain container task ([`super::task`]).

use flytekit_idl::core::TaskTemplate;

use super::error::SerializeError;
use crate::dynamic::DynamicSpec;
use crate::map::MapSpec;
use crate::settings::{SERIALIZED_CONTEXT_ENV, SerializationSettings, with_serialized_context};
use crate::task::Task;

impl Task {
    /// The container args (flytekit's `get_command`): a map task's `map-execute` command, else
    /// [`get_default_command`](Self::get_default_command).
    pub fn get_command(
        &self,
        settings: &SerializationSettings,
    ) -> Result<Vec<String>, SerializeError> {
        match self.kind::<MapSpec>() {
            Some(map) => super::map::command(self, map, settings),
            None => self.get_default_command(settings),
        }
    }

    /// The `TaskTemplate` Flyte registers (flytekit's `get_serializable_task`).
    pub fn template(
        &self,
        settings: &SerializationSettings,
    ) -> Result<TaskTemplate, SerializeError> {
        if let Some(map) = self.kind::<MapSpec>() {
            return super::map::template(self, map, settings);
        }
        if self.kind::<DynamicSpec>().is_some()
            && !settings
                .env
                .iter()
                .any(|(k, _)| k == SERIALIZED_CONTEXT_ENV)
        {
            // Dynamic tasks carry the settings their sub-tasks are serialized with (§4.6).
            return self.template(&with_serialized_context(settings));
        }
        self.plain_template(settings, self.get_default_command(settings)?)
    }
}
