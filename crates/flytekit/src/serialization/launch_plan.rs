//! Serialization of launch plans (`flyteidl.admin.LaunchPlan`), shaped like flytekit's
//! `get_serializable_launch_plan`: every input that is not fixed is a parameter, with its default
//! or `required: true`; schedule, notifications, labels, annotations, raw output location,
//! parallelism, identity and cache settings as given (empty labels, annotations and raw output
//! location are written as empty messages, as flytekit does).

use flytekit_idl::admin::{
    self, Annotations, EmailNotification, Labels, LaunchPlanMetadata, LaunchPlanSpec,
    PagerDutyNotification, RawOutputDataConfig, SlackNotification, notification,
};
use flytekit_idl::core::{
    self, LiteralMap, Parameter, ParameterMap, ResourceType, parameter, workflow_execution,
};

use super::node::identifier;
use crate::settings::SerializationSettings;
use crate::workflow::{
    LaunchPlan, Notification, NotificationKind, Schedule, ScheduleExpression, SecurityContext,
    WorkflowError, WorkflowPhase, variable,
};

fn schedule(s: &Schedule) -> Result<admin::Schedule, String> {
    let expression = match s.expression().map_err(str::to_string)? {
        ScheduleExpression::Cron { schedule, offset } => {
            admin::schedule::ScheduleExpression::CronSchedule(admin::CronSchedule {
                schedule: schedule.clone(),
                offset: offset.clone().unwrap_or_default(),
            })
        }
        ScheduleExpression::Rate { value, unit } => {
            admin::schedule::ScheduleExpression::Rate(admin::FixedRate {
                value: *value,
                unit: *unit as i32,
            })
        }
    };
    Ok(admin::Schedule {
        schedule_expression: Some(expression),
        kickoff_time_input_arg: s.kickoff_input_name().unwrap_or_default().to_string(),
    })
}

fn phase(p: WorkflowPhase) -> i32 {
    (match p {
        WorkflowPhase::Succeeded => workflow_execution::Phase::Succeeded,
        WorkflowPhase::Failed => workflow_execution::Phase::Failed,
        WorkflowPhase::TimedOut => workflow_execution::Phase::TimedOut,
        WorkflowPhase::Aborted => workflow_execution::Phase::Aborted,
    }) as i32
}

fn notification(n: &Notification) -> admin::Notification {
    let recipients_email = n.recipients.clone();
    admin::Notification {
        phases: n.phases.iter().map(|p| phase(*p)).collect(),
        r#type: Some(match n.kind {
            NotificationKind::Email => notification::Type::Email(EmailNotification {
                recipients_email,
                template: String::new(),
            }),
            NotificationKind::Slack => notification::Type::Slack(SlackNotification {
                recipients_email,
                template: String::new(),
            }),
            NotificationKind::PagerDuty => notification::Type::PagerDuty(PagerDutyNotification {
                recipients_email,
                template: String::new(),
            }),
        }),
    }
}

fn security_context(s: &SecurityContext) -> core::SecurityContext {
    let run_as = (s.service_account.is_some() || s.iam_role.is_some()).then(|| core::Identity {
        iam_role: s.iam_role.clone().unwrap_or_default(),
        k8s_service_account: s.service_account.clone().unwrap_or_default(),
        ..Default::default()
    });
    core::SecurityContext {
        run_as,
        secrets: s.secrets.iter().map(|x| x.to_idl()).collect(),
        tokens: Vec::new(),
    }
}

impl LaunchPlan {
    /// The registration spec, shaped like flytekit's: every non-fixed input is a parameter, with
    /// its default or `required: true`.
    pub fn spec(&self, settings: &SerializationSettings) -> Result<LaunchPlanSpec, WorkflowError> {
        self.workflow().check()?;
        self.check()?;
        let mut parameters = ParameterMap::default();
        let mut fixed = LiteralMap::default();
        for input in self.workflow().inputs() {
            if let Some((_, v)) = self.fixed_inputs().iter().find(|(n, _)| n == &input.name) {
                fixed.literals.insert(input.name.clone(), v.clone());
                continue;
            }
            let default = self
                .default_inputs()
                .iter()
                .find(|(n, _)| n == &input.name)
                .map(|(_, v)| v.clone())
                .or(input.default.clone());
            let behavior = match default {
                Some(d) => parameter::Behavior::Default(d),
                None => parameter::Behavior::Required(true),
            };
            parameters.parameters.insert(
                input.name.clone(),
                Parameter {
                    var: Some(variable(&input.name, &input.ty)),
                    behavior: Some(behavior),
                },
            );
        }
        let schedule = self
            .schedule_spec()
            .map(schedule)
            .transpose()
            .map_err(|message| crate::workflow::LaunchPlanError::Schedule {
                plan: self.name().to_string(),
                message,
            })?;
        Ok(LaunchPlanSpec {
            workflow_id: Some(identifier(
                settings,
                ResourceType::Workflow,
                self.workflow().name(),
            )),
            entity_metadata: Some(LaunchPlanMetadata {
                schedule,
                notifications: self.notifications().iter().map(notification).collect(),
                launch_conditions: None,
            }),
            default_inputs: Some(parameters),
            fixed_inputs: Some(fixed),
            labels: Some(Labels {
                values: self.labels().clone(),
            }),
            annotations: Some(Annotations {
                values: self.annotations().clone(),
            }),
            raw_output_data_config: Some(RawOutputDataConfig {
                output_location_prefix: self.raw_output_prefix_value().unwrap_or_default().into(),
            }),
            max_parallelism: self
                .max_parallelism_value()
                .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
                .unwrap_or(0),
            security_context: self.security_context_value().map(security_context),
            overwrite_cache: self.overwrite_cache_value().unwrap_or(false),
            ..Default::default()
        })
    }

    /// The full launch plan message (`flyteidl.admin.LaunchPlan`) with its id.
    pub fn to_idl(
        &self,
        settings: &SerializationSettings,
    ) -> Result<flytekit_idl::admin::LaunchPlan, WorkflowError> {
        Ok(flytekit_idl::admin::LaunchPlan {
            id: Some(identifier(settings, ResourceType::LaunchPlan, self.name())),
            spec: Some(self.spec(settings)?),
            // flytekit writes an empty closure; FlyteAdmin fills it in.
            closure: Some(flytekit_idl::admin::LaunchPlanClosure {
                expected_inputs: Some(ParameterMap::default()),
                expected_outputs: Some(flytekit_idl::core::VariableMap::default()),
                ..Default::default()
            }),
        })
    }
}
