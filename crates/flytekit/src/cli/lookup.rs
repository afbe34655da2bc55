//! Finding the workflows and tasks a command names: by full name or a unique `.`-separated
//! suffix, with suggestions when nothing matches.

use crate::task::registered as registered_tasks;
use crate::workflow::Entity;

/// A name that names no workflow or task, or several.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No workflow or task has the given name.
    #[error(
        "no workflow or task named '{name}'{suggestion}\navailable workflows: {workflows}\navailable tasks: {tasks}"
    )]
    UnknownEntity {
        /// The name given.
        name: String,
        /// ` (did you mean 'x'?)` or empty.
        suggestion: String,
        /// Registered workflows, comma-separated.
        workflows: String,
        /// Registered tasks, comma-separated.
        tasks: String,
    },
    /// The name matches several entities.
    #[error("'{name}' is ambiguous; use one of: {candidates}")]
    Ambiguous {
        /// The name given.
        name: String,
        /// The matching full names.
        candidates: String,
    },
}

pub(crate) fn workflow_names() -> Vec<String> {
    crate::workflow::registered()
        .iter()
        .map(|w| w.name().to_string())
        .collect()
}

pub(crate) fn task_names() -> Vec<String> {
    let mut v: Vec<String> = registered_tasks()
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    v.sort();
    v
}

pub(crate) fn list(names: Vec<String>) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

/// Finds a registered workflow, task or launch plan by full name, or by a unique `.`-separated suffix.
pub(crate) fn find_entity(name: &str) -> Result<Entity, LookupError> {
    let mut all: Vec<Entity> = crate::workflow::registered()
        .into_iter()
        .map(Entity::Workflow)
        .collect();
    all.extend(registered_tasks().into_iter().map(Entity::Task));
    all.extend(
        crate::workflow::registered_launch_plans()
            .into_iter()
            .map(Entity::LaunchPlan),
    );
    match find_among(name, &all) {
        Some(found) => found,
        None => {
            let best = all
                .iter()
                .flat_map(|e| [e.name(), e.short_name()])
                .map(|n| (strsim::jaro_winkler(n, name), n))
                .filter(|(s, _)| *s > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            Err(LookupError::UnknownEntity {
                name: name.to_string(),
                suggestion: best
                    .map(|(_, n)| format!(" (did you mean '{n}'?)"))
                    .unwrap_or_default(),
                workflows: list(workflow_names()),
                tasks: list(task_names()),
            })
        }
    }
}

/// The entity of `all` named `name` (or with the unique suffix `.name`); `None` when none is.
pub(crate) fn find_among(name: &str, all: &[Entity]) -> Option<Result<Entity, LookupError>> {
    if let Some(e) = all.iter().find(|e| e.name() == name) {
        return Some(Ok(e.clone()));
    }
    let suffix = format!(".{name}");
    let matches: Vec<&Entity> = all.iter().filter(|e| e.name().ends_with(&suffix)).collect();
    match matches.as_slice() {
        [] => None,
        [one] => Some(Ok((*one).clone())),
        many => Some(Err(LookupError::Ambiguous {
            name: name.to_string(),
            candidates: many
                .iter()
                .map(|e| format!("{} ({})", e.name(), e.kind()))
                .collect::<Vec<_>>()
                .join(", "),
        })),
    }
}
