//! Registration of serialized entities, as `pyflyte register` does it: tasks first (several at a
//! time), then workflows and launch plans in their order; an entity that already exists with the
//! same content is fine (FlyteAdmin answers `ALREADY_EXISTS`), the same version with other
//! content is an error naming the entity. Every request is checked against the gRPC message
//! size limit before anything is sent, and a failure reports what was registered before it.

use std::fmt;

use flytekit_idl::Message;
use flytekit_idl::admin;
use flytekit_idl::core::Identifier;
use futures::StreamExt;

use crate::client::Remote;
use crate::error::RemoteError;

/// How many tasks are registered at the same time.
const TASK_CONCURRENCY: usize = 8;

/// A registrable entity: what `serialize`/`package` write as `<i>_<name>_<1|2|3>.pb`.
#[derive(Clone, Debug, PartialEq)]
pub enum Entity {
    /// An `admin.TaskSpec` (`_1.pb`).
    Task(admin::TaskSpec),
    /// An `admin.WorkflowSpec` (`_2.pb`).
    Workflow(admin::WorkflowSpec),
    /// An `admin.LaunchPlan` (`_3.pb`).
    LaunchPlan(admin::LaunchPlan),
}

impl Entity {
    /// Decodes a file of the `pyflyte package` layout: the suffix `_1.pb`, `_2.pb` or `_3.pb`
    /// says whether `bytes` hold a task, a workflow or a launch plan.
    pub fn from_package_file(file_name: &str, bytes: &[u8]) -> Result<Entity, RegisterError> {
        let bad = |message: String| RegisterError {
            failure: Box::new(Failure::Invalid(format!("{file_name}: {message}"))),
            registered: Vec::new(),
        };
        let decoded = if file_name.ends_with("_1.pb") {
            admin::TaskSpec::decode(bytes).map(Entity::Task)
        } else if file_name.ends_with("_2.pb") {
            admin::WorkflowSpec::decode(bytes).map(Entity::Workflow)
        } else if file_name.ends_with("_3.pb") {
            admin::LaunchPlan::decode(bytes).map(Entity::LaunchPlan)
        } else {
            return Err(bad(
                "not an entity file (expected a name ending in _1.pb, _2.pb or _3.pb)".into(),
            ));
        };
        let entity = decoded.map_err(|e| bad(format!("not a valid protobuf message: {e}")))?;
        if entity
            .id()
            .is_none_or(|id| id.name.is_empty() || id.version.is_empty())
        {
            return Err(bad(
                "the entity has no identifier with a name and version".into()
            ));
        }
        Ok(entity)
    }

    /// The entity's identifier.
    pub fn id(&self) -> Option<&Identifier> {
        match self {
            Entity::Task(t) => t.template.as_ref().and_then(|t| t.id.as_ref()),
            Entity::Workflow(w) => w.template.as_ref().and_then(|t| t.id.as_ref()),
            Entity::LaunchPlan(l) => l.id.as_ref(),
        }
    }

    /// `task`, `workflow` or `launch plan`.
    pub fn kind(&self) -> &'static str {
        match self {
            Entity::Task(_) => "task",
            Entity::Workflow(_) => "workflow",
            Entity::LaunchPlan(_) => "launch plan",
        }
    }

    fn describe(&self) -> String {
        describe(self.kind(), self.id())
    }

    /// The size of the create request that registers this entity.
    fn request_len(&self) -> usize {
        match self.clone() {
            Entity::Task(spec) => admin::TaskCreateRequest {
                id: self.id().cloned(),
                spec: Some(spec),
            }
            .encoded_len(),
            Entity::Workflow(spec) => admin::WorkflowCreateRequest {
                id: self.id().cloned(),
                spec: Some(spec),
            }
            .encoded_len(),
            Entity::LaunchPlan(lp) => admin::LaunchPlanCreateRequest {
                id: lp.id,
                spec: lp.spec,
            }
            .encoded_len(),
        }
    }
}

fn describe(kind: &str, id: Option<&Identifier>) -> String {
    match id {
        Some(id) => format!(
            "{kind} {} (version {}, {}/{})",
            id.name, id.version, id.project, id.domain
        ),
        None => format!("{kind} without identifier"),
    }
}

/// What registering one entity did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// FlyteAdmin stored it.
    Created,
    /// It was there already, with the same content.
    AlreadyExisted,
}

/// One registered entity.
#[derive(Clone, Debug, PartialEq)]
pub struct Registered {
    /// `task`, `workflow` or `launch plan`.
    pub kind: &'static str,
    /// Its identifier.
    pub id: Identifier,
    /// Whether it was created or already there.
    pub outcome: Outcome,
}

impl fmt::Display for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (version {}){}",
            self.kind,
            self.id.name,
            self.id.version,
            match self.outcome {
                Outcome::Created => "",
                Outcome::AlreadyExisted => ", already registered",
            }
        )
    }
}

/// What [`Remote::register`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegistrationReport {
    /// Every entity, in registration order.
    pub registered: Vec<Registered>,
    /// Launch plans activated.
    pub activated: Vec<Identifier>,
}

/// Registration failed; [`registered`](Self::registered) is what was registered before.
#[derive(Debug)]
pub struct RegisterError {
    /// What failed.
    pub failure: Box<Failure>,
    /// Entities registered (or found registered) before the failure.
    pub registered: Vec<Registered>,
}

/// Why registration failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// An entity is not registrable as given.
    #[error("{0}")]
    Invalid(String),
    /// The version exists with different content.
    #[error(
        "{entity} already exists on FlyteAdmin at {endpoint} with different content: {message}. \
         Register under a new version: leave out --version to version by content, or pass \
         another one"
    )]
    Conflict {
        /// The entity.
        entity: String,
        /// `host:port`.
        endpoint: String,
        /// FlyteAdmin's message (the difference).
        message: String,
    },
    /// A call failed.
    #[error("registering {entity} failed: {source}")]
    Call {
        /// The entity.
        entity: String,
        /// The failure.
        source: RemoteError,
    },
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.failure)?;
        if self.registered.is_empty() {
            write!(f, "\nnothing was registered")
        } else {
            write!(
                f,
                "\nregistered before the failure ({}):",
                self.registered.len()
            )?;
            for r in &self.registered {
                write!(f, "\n  {r}")?;
            }
            Ok(())
        }
    }
}

impl std::error::Error for RegisterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.failure)
    }
}

impl Remote {
    /// Registers `entities` (tasks several at a time, then workflows and launch plans in order)
    /// and, with `activate_launch_plans`, activates every launch plan registered (as `pyflyte
    /// register --activate-launchplans`), which starts the schedules of scheduled ones.
    pub async fn register(
        &self,
        entities: &[Entity],
        activate_launch_plans: bool,
    ) -> Result<RegistrationReport, RegisterError> {
        let limit = &self.config().max_message_size;
        for e in entities {
            let size = e.request_len();
            if size > limit.value {
                return Err(RegisterError {
                    failure: Box::new(Failure::Call {
                        entity: e.describe(),
                        source: RemoteError::TooLarge {
                            what: e.describe(),
                            size,
                            limit: limit.value,
                            setting: limit.from.clone(),
                        },
                    }),
                    registered: Vec::new(),
                });
            }
        }
        let mut report = RegistrationReport::default();
        let (tasks, others): (Vec<&Entity>, Vec<&Entity>) =
            entities.iter().partition(|e| matches!(e, Entity::Task(_)));
        let results: Vec<Result<Registered, Failure>> = futures::stream::iter(tasks)
            .map(|e| self.register_one(e))
            .buffered(TASK_CONCURRENCY)
            .collect()
            .await;
        let mut first_failure = None;
        for r in results {
            match r {
                Ok(reg) => report.registered.push(reg),
                Err(f) => {
                    if first_failure.is_none() {
                        first_failure = Some(f);
                    } else {
                        tracing::error!("{f}");
                    }
                }
            }
        }
        if let Some(failure) = first_failure {
            return Err(RegisterError {
                failure: Box::new(failure),
                registered: report.registered,
            });
        }
        for e in others {
            match self.register_one(e).await {
                Ok(reg) => report.registered.push(reg),
                Err(failure) => {
                    return Err(RegisterError {
                        failure: Box::new(failure),
                        registered: report.registered,
                    });
                }
            }
        }
        if activate_launch_plans {
            for e in entities {
                if let (Entity::LaunchPlan(_), Some(id)) = (e, e.id()) {
                    let req = admin::LaunchPlanUpdateRequest {
                        id: Some(id.clone()),
                        state: admin::LaunchPlanState::Active as i32,
                    };
                    if let Err(source) = self.update_launch_plan(req).await {
                        return Err(RegisterError {
                            failure: Box::new(Failure::Call {
                                entity: format!("activating {}", e.describe()),
                                source,
                            }),
                            registered: report.registered,
                        });
                    }
                    report.activated.push(id.clone());
                }
            }
        }
        Ok(report)
    }

    async fn register_one(&self, e: &Entity) -> Result<Registered, Failure> {
        let id = e.id().cloned().unwrap_or_default();
        let result = match e.clone() {
            Entity::Task(spec) => self
                .create_task(admin::TaskCreateRequest {
                    id: Some(id.clone()),
                    spec: Some(spec),
                })
                .await
                .map(|_| ()),
            Entity::Workflow(spec) => self
                .create_workflow(admin::WorkflowCreateRequest {
                    id: Some(id.clone()),
                    spec: Some(spec),
                })
                .await
                .map(|_| ()),
            Entity::LaunchPlan(lp) => self
                .create_launch_plan(admin::LaunchPlanCreateRequest {
                    id: Some(id.clone()),
                    spec: lp.spec,
                })
                .await
                .map(|_| ()),
        };
        let registered = |outcome| Registered {
            kind: e.kind(),
            id: id.clone(),
            outcome,
        };
        match result {
            Ok(()) => Ok(registered(Outcome::Created)),
            Err(err) if err.code() == Some(tonic::Code::AlreadyExists) => {
                Ok(registered(Outcome::AlreadyExisted))
            }
            Err(err)
                if err.code() == Some(tonic::Code::InvalidArgument)
                    && err
                        .server_message()
                        .is_some_and(|m| m.contains("different structure already exists")) =>
            {
                Err(Failure::Conflict {
                    entity: e.describe(),
                    endpoint: self.endpoint().to_string(),
                    message: err.server_message().unwrap_or_default().trim().to_string(),
                })
            }
            Err(source) => Err(Failure::Call {
                entity: e.describe(),
                source,
            }),
        }
    }
}
