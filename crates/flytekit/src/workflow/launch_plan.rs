//! Launch plans: how a workflow is started on Flyte — with default and fixed inputs, on a
//! schedule, with notifications, labels, annotations, a raw output location, a parallelism limit,
//! an identity and cache settings (flytekit's `LaunchPlan.get_or_create`).
//!
//! Every workflow has a default launch plan (same name, the workflow's defaults). Declare others
//! with `#[launch_plan]` on a signature — the inputs a caller gives (the workflow's inputs minus
//! the fixed ones) and the workflow's outputs:
//!
//! ```ignore
//! #[launch_plan(workflow = report, defaults(n = 7), fixed(region = "eu"),
//!               schedule = Schedule::cron("0 * * * *").kickoff_input("kickoff"),
//!               notify = Notification::email([WorkflowPhase::Failed], ["ops@example.com"]),
//!               labels(team = "data"), max_parallelism = 8)]
//! pub fn hourly_report(kickoff: DateTime<Utc>, n: i64) -> String;
//! ```
//!
//! The compiler checks that each input exists in the workflow and has its type. `list` shows
//! the plan, `package`/`serialize` write it (`_3.pb`), `run hourly_report --kickoff ...` runs it
//! with its fixed and default inputs, and a workflow calls it like a task (a launch-plan node).
//! [`LaunchPlan::new`] builds the same at run time; mistakes are then reported by
//! [`LaunchPlan::check`].

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use flytekit_idl::core::{Literal, LiteralType, TypedInterface, VariableMap};

use super::{Workflow, describe_type, join_names, variable};
use crate::task::Secret;
use crate::type_engine::FlyteType;

/// Why a launch plan is invalid; every variant names the plan and what to change.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LaunchPlanError {
    /// A fixed or default input names no input of the workflow.
    #[error(
        "launch plan {plan}: {what} input '{input}' is not an input of workflow {workflow}; its inputs are: {expected}"
    )]
    UnknownInput {
        /// The launch plan.
        plan: String,
        /// `fixed` or `default`.
        what: &'static str,
        /// The input named.
        input: String,
        /// The workflow.
        workflow: String,
        /// The workflow's inputs.
        expected: String,
    },
    /// A fixed or default value has another type than the input.
    #[error("launch plan {plan}: {what} input '{input}' is a {expected}, the value is a {got}")]
    TypeMismatch {
        /// The launch plan.
        plan: String,
        /// `fixed` or `default`.
        what: &'static str,
        /// The input.
        input: String,
        /// The input's type.
        expected: String,
        /// The value's type.
        got: String,
    },
    /// A value could not become a literal.
    #[error("launch plan {plan}: {what} input '{input}': {message}")]
    Value {
        /// The launch plan.
        plan: String,
        /// `fixed` or `default`.
        what: &'static str,
        /// The input.
        input: String,
        /// The conversion error.
        message: String,
    },
    /// The schedule is invalid.
    #[error("launch plan {plan}: schedule: {message}")]
    Schedule {
        /// The launch plan.
        plan: String,
        /// What is wrong.
        message: String,
    },
    /// A notification is invalid.
    #[error("launch plan {plan}: notification: {message}")]
    Notification {
        /// The launch plan.
        plan: String,
        /// What is wrong.
        message: String,
    },
}

/// The terminal phases of an execution a notification can fire on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkflowPhase {
    /// Finished successfully.
    Succeeded,
    /// Failed.
    Failed,
    /// Ran out of time.
    TimedOut,
    /// Was aborted.
    Aborted,
}

/// Where a notification goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    /// Plain email.
    Email,
    /// Slack (by email).
    Slack,
    /// PagerDuty (by email).
    PagerDuty,
}

/// A notification sent when an execution of the plan ends in one of `phases` (flytekit's
/// `Email`, `Slack`, `PagerDuty`).
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// The channel.
    pub kind: NotificationKind,
    /// The phases it fires on.
    pub phases: Vec<WorkflowPhase>,
    /// The recipients.
    pub recipients: Vec<String>,
}

impl Notification {
    fn new(
        kind: NotificationKind,
        phases: impl IntoIterator<Item = WorkflowPhase>,
        recipients: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            kind,
            phases: phases.into_iter().collect(),
            recipients: recipients.into_iter().map(Into::into).collect(),
        }
    }

    /// An email to `recipients` when an execution ends in one of `phases`.
    pub fn email(
        phases: impl IntoIterator<Item = WorkflowPhase>,
        recipients: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(NotificationKind::Email, phases, recipients)
    }

    /// A Slack message (by email) to `recipients`.
    pub fn slack(
        phases: impl IntoIterator<Item = WorkflowPhase>,
        recipients: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(NotificationKind::Slack, phases, recipients)
    }

    /// A PagerDuty alert (by email) to `recipients`.
    pub fn pager_duty(
        phases: impl IntoIterator<Item = WorkflowPhase>,
        recipients: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self::new(NotificationKind::PagerDuty, phases, recipients)
    }
}

/// How often a schedule fires.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleExpression {
    /// A cron expression (five fields) or an alias such as `@hourly`, with an optional ISO 8601
    /// offset.
    Cron {
        /// The expression.
        schedule: String,
        /// The offset, e.g. `P1D`.
        offset: Option<String>,
    },
    /// Every `value` minutes, hours or days.
    Rate {
        /// How many units.
        value: u32,
        /// The unit.
        unit: flytekit_idl::admin::FixedRateUnit,
    },
}

/// When a launch plan runs on its own (flytekit's `CronSchedule` and `FixedRate`).
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    expression: Result<ScheduleExpression, String>,
    kickoff_input: Option<String>,
}

/// The aliases flytekit's `CronSchedule` accepts besides cron expressions.
const CRON_ALIASES: &[&str] = &[
    "hourly",
    "hours",
    "@hourly",
    "daily",
    "days",
    "@daily",
    "weekly",
    "weeks",
    "@weekly",
    "monthly",
    "months",
    "@monthly",
    "annually",
    "@annually",
    "yearly",
    "years",
    "@yearly",
];

impl Schedule {
    /// Fires on a cron schedule: five fields (`"0 * * * *"`) or an alias (`"@daily"`).
    pub fn cron(schedule: impl Into<String>) -> Self {
        let schedule = schedule.into();
        let expression = if CRON_ALIASES.contains(&schedule.to_lowercase().as_str()) {
            Ok(())
        } else {
            validate_cron(&schedule)
        }
        .map(|()| ScheduleExpression::Cron {
            schedule: schedule.clone(),
            offset: None,
        })
        .map_err(|e| format!("'{schedule}' is not a cron schedule ({e}); write five fields such as \"0 * * * *\" or an alias such as \"@daily\""));
        Self {
            expression,
            kickoff_input: None,
        }
    }

    /// Fires every `every`, a whole number of minutes (flytekit's `FixedRate`: days or hours when
    /// it divides evenly).
    pub fn fixed_rate(every: Duration) -> Self {
        use flytekit_idl::admin::FixedRateUnit;
        let secs = every.as_secs();
        let expression = if every.subsec_nanos() != 0 || !secs.is_multiple_of(60) || secs == 0 {
            Err(format!(
                "a fixed rate is a whole number of minutes, got {every:?}"
            ))
        } else {
            let (value, unit) = if secs.is_multiple_of(86_400) {
                (secs / 86_400, FixedRateUnit::Day)
            } else if secs.is_multiple_of(3600) {
                (secs / 3600, FixedRateUnit::Hour)
            } else {
                (secs / 60, FixedRateUnit::Minute)
            };
            u32::try_from(value)
                .map(|value| ScheduleExpression::Rate { value, unit })
                .map_err(|_| format!("the rate {every:?} is too long"))
        };
        Self {
            expression,
            kickoff_input: None,
        }
    }

    /// Shifts a cron schedule by an ISO 8601 duration (`"P1D"`, `"PT30M"`).
    pub fn offset(mut self, offset: impl Into<String>) -> Self {
        let offset = offset.into();
        self.expression = match self.expression {
            Ok(ScheduleExpression::Cron { schedule, .. }) => {
                if is_iso8601_duration(&offset) {
                    Ok(ScheduleExpression::Cron {
                        schedule,
                        offset: Some(offset),
                    })
                } else {
                    Err(format!(
                        "offset '{offset}' is not an ISO 8601 duration such as \"P1D\" or \"PT30M\""
                    ))
                }
            }
            Ok(_) => Err("only a cron schedule takes an offset".into()),
            e => e,
        };
        self
    }

    /// Passes each run's scheduled time to the workflow input `name` (a `DateTime<Utc>`).
    pub fn kickoff_input(mut self, name: impl Into<String>) -> Self {
        self.kickoff_input = Some(name.into());
        self
    }

    /// The firing times, or why they are invalid.
    pub fn expression(&self) -> Result<&ScheduleExpression, &str> {
        self.expression.as_ref().map_err(String::as_str)
    }

    /// The input receiving the scheduled time.
    pub fn kickoff_input_name(&self) -> Option<&str> {
        self.kickoff_input.as_deref()
    }
}

/// Checks a cron expression of five (or six, with seconds) fields.
fn validate_cron(expr: &str) -> Result<(), String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if !(5..=6).contains(&fields.len()) {
        return Err(format!("{} fields", fields.len()));
    }
    croner::Cron::new(expr)
        .with_seconds_optional()
        .parse()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// flytekit's `CronSchedule._OFFSET_PATTERN`.
fn is_iso8601_duration(s: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^([-+]?)P([-+0-9YMWD]+)?(T([-+0-9HMS.,]+)?)?$").expect("static regex")
    });
    RE.is_match(s)
}

/// Who an execution runs as and what it may read (flytekit's `SecurityContext`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecurityContext {
    /// The Kubernetes service account.
    pub service_account: Option<String>,
    /// The IAM role.
    pub iam_role: Option<String>,
    /// Secrets made available to every task.
    pub secrets: Vec<Secret>,
}

impl SecurityContext {
    /// Runs as the Kubernetes service account `name`.
    pub fn service_account(name: impl Into<String>) -> Self {
        Self {
            service_account: Some(name.into()),
            ..Self::default()
        }
    }

    /// Assumes the IAM role `role`.
    pub fn iam_role(mut self, role: impl Into<String>) -> Self {
        self.iam_role = Some(role.into());
        self
    }

    /// Makes `secret` available.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secrets.push(secret);
        self
    }
}

/// A launch plan of a workflow. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LaunchPlan {
    name: String,
    workflow: Workflow,
    fixed_inputs: Vec<(String, Literal)>,
    default_inputs: Vec<(String, Literal)>,
    schedule: Option<Schedule>,
    notifications: Vec<Notification>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    raw_output_prefix: Option<String>,
    max_parallelism: Option<u32>,
    security_context: Option<SecurityContext>,
    overwrite_cache: Option<bool>,
    interface: TypedInterface,
    errors: Vec<LaunchPlanError>,
}

impl LaunchPlan {
    /// The default launch plan of `workflow`: named like it, with the workflow's input defaults.
    pub fn default_for(workflow: &Workflow) -> Self {
        Self::new(workflow.name(), workflow)
    }

    /// A launch plan named `name` for `workflow`.
    pub fn new(name: impl Into<String>, workflow: &Workflow) -> Self {
        let mut lp = Self {
            name: name.into(),
            workflow: workflow.clone(),
            fixed_inputs: Vec::new(),
            default_inputs: Vec::new(),
            schedule: None,
            notifications: Vec::new(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            raw_output_prefix: None,
            max_parallelism: None,
            security_context: None,
            overwrite_cache: None,
            interface: TypedInterface::default(),
            errors: Vec::new(),
        };
        lp.update_interface();
        lp
    }

    fn update_interface(&mut self) {
        let mut inputs = VariableMap::default();
        for i in self.workflow.inputs() {
            if !self.fixed_inputs.iter().any(|(n, _)| n == &i.name) {
                inputs
                    .variables
                    .insert(i.name.clone(), variable(&i.name, &i.ty));
            }
        }
        self.interface = TypedInterface {
            inputs: Some(inputs),
            outputs: self.workflow.interface().outputs.clone(),
        };
    }

    /// The workflow input `name`'s type, or the error naming the plan and the input.
    fn input_type(&self, what: &'static str, name: &str) -> Result<LiteralType, LaunchPlanError> {
        self.workflow
            .inputs()
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.ty.clone())
            .ok_or_else(|| LaunchPlanError::UnknownInput {
                plan: self.name.clone(),
                what,
                input: name.to_string(),
                workflow: self.workflow.name().to_string(),
                expected: join_names(self.workflow.inputs().iter().map(|i| i.name.as_str())),
            })
    }

    fn checked_literal<T: FlyteType>(
        &mut self,
        what: &'static str,
        name: &str,
        value: &T,
    ) -> Option<Literal> {
        let result = self.input_type(what, name).and_then(|ty| {
            if !crate::type_engine::compatible(&ty, &T::literal_type()) {
                return Err(LaunchPlanError::TypeMismatch {
                    plan: self.name.clone(),
                    what,
                    input: name.to_string(),
                    expected: describe_type(&ty),
                    got: describe_type(&T::literal_type()),
                });
            }
            super::binding::constant_literal(value).map_err(|message| LaunchPlanError::Value {
                plan: self.name.clone(),
                what,
                input: name.to_string(),
                message,
            })
        });
        match result {
            Ok(l) => Some(l),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Fixes input `name` to `value`: callers cannot give it.
    pub fn fixed_input<T: FlyteType>(mut self, name: impl Into<String>, value: T) -> Self {
        let name = name.into();
        if let Some(l) = self.checked_literal("fixed", &name, &value) {
            self.fixed_inputs.retain(|(n, _)| n != &name);
            self.fixed_inputs.push((name, l));
            self.update_interface();
        }
        self
    }

    /// Sets the default value of input `name` (callers may give another).
    pub fn default_input<T: FlyteType>(mut self, name: impl Into<String>, value: T) -> Self {
        let name = name.into();
        if let Some(l) = self.checked_literal("default", &name, &value) {
            self.default_inputs.retain(|(n, _)| n != &name);
            self.default_inputs.push((name, l));
        }
        self
    }

    /// [`fixed_input`](Self::fixed_input) with a literal (its type is not checked).
    pub fn fixed_literal(mut self, name: impl Into<String>, value: Literal) -> Self {
        let name = name.into();
        if let Err(e) = self.input_type("fixed", &name) {
            self.errors.push(e);
            return self;
        }
        self.fixed_inputs.retain(|(n, _)| n != &name);
        self.fixed_inputs.push((name, value));
        self.update_interface();
        self
    }

    /// [`default_input`](Self::default_input) with a literal (its type is not checked).
    pub fn default_literal(mut self, name: impl Into<String>, value: Literal) -> Self {
        let name = name.into();
        if let Err(e) = self.input_type("default", &name) {
            self.errors.push(e);
            return self;
        }
        self.default_inputs.retain(|(n, _)| n != &name);
        self.default_inputs.push((name, value));
        self
    }

    /// Runs the plan on `schedule`.
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// Adds a notification.
    pub fn notify(mut self, notification: Notification) -> Self {
        self.notifications.push(notification);
        self
    }

    /// Adds a label to the executions' resources.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds an annotation to the executions' resources.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Writes offloaded data (files, directories) under `prefix`.
    pub fn raw_output_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.raw_output_prefix = Some(prefix.into());
        self
    }

    /// Runs at most `n` nodes of an execution at once.
    pub fn max_parallelism(mut self, n: u32) -> Self {
        self.max_parallelism = Some(n);
        self
    }

    /// Runs executions with `context`'s identity and secrets.
    pub fn security_context(mut self, context: SecurityContext) -> Self {
        self.security_context = Some(context);
        self
    }

    /// Recomputes cached outputs and replaces them.
    pub fn overwrite_cache(mut self, overwrite: bool) -> Self {
        self.overwrite_cache = Some(overwrite);
        self
    }

    /// The launch plan's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The workflow it launches.
    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    /// The fixed inputs, in the order given.
    pub fn fixed_inputs(&self) -> &[(String, Literal)] {
        &self.fixed_inputs
    }

    /// The default inputs set on the launch plan, in the order given.
    pub fn default_inputs(&self) -> &[(String, Literal)] {
        &self.default_inputs
    }

    /// The schedule.
    pub fn schedule_spec(&self) -> Option<&Schedule> {
        self.schedule.as_ref()
    }

    /// The notifications.
    pub fn notifications(&self) -> &[Notification] {
        &self.notifications
    }

    /// The labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        &self.labels
    }

    /// The annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// The raw output prefix.
    pub fn raw_output_prefix_value(&self) -> Option<&str> {
        self.raw_output_prefix.as_deref()
    }

    /// The parallelism limit.
    pub fn max_parallelism_value(&self) -> Option<u32> {
        self.max_parallelism
    }

    /// The identity and secrets.
    pub fn security_context_value(&self) -> Option<&SecurityContext> {
        self.security_context.as_ref()
    }

    /// Whether cached outputs are recomputed.
    pub fn overwrite_cache_value(&self) -> Option<bool> {
        self.overwrite_cache
    }

    /// What a caller gives (the workflow's inputs minus the fixed ones) and gets back.
    pub fn interface(&self) -> &TypedInterface {
        &self.interface
    }

    /// The values of inputs a caller leaves out: the plan's defaults over the workflow's.
    pub fn callable_defaults(&self) -> HashMap<String, Literal> {
        let mut out: HashMap<String, Literal> = self
            .workflow
            .inputs()
            .iter()
            .filter_map(|i| i.default.clone().map(|d| (i.name.clone(), d)))
            .collect();
        for (n, v) in &self.default_inputs {
            out.insert(n.clone(), v.clone());
        }
        for (n, _) in &self.fixed_inputs {
            out.remove(n);
        }
        out
    }

    /// Every definition error: unknown or mistyped inputs, an invalid schedule or notification.
    pub fn check(&self) -> Result<(), LaunchPlanError> {
        if let Some(e) = self.errors.first() {
            return Err(e.clone());
        }
        if let Some(s) = &self.schedule {
            let err = |message: String| LaunchPlanError::Schedule {
                plan: self.name.clone(),
                message,
            };
            s.expression().map_err(|e| err(e.to_string()))?;
            if let Some(k) = s.kickoff_input_name() {
                let ty = self
                    .input_type("kickoff", k)
                    .map_err(|e| err(e.to_string()))?;
                let datetime = crate::type_engine::literals::simple_type(
                    flytekit_idl::core::SimpleType::Datetime,
                );
                if !crate::type_engine::compatible(&ty, &datetime) {
                    return Err(err(format!(
                        "the kickoff input '{k}' is a {}, not a datetime",
                        describe_type(&ty)
                    )));
                }
            }
        }
        for n in &self.notifications {
            if n.phases.is_empty() || n.recipients.is_empty() {
                return Err(LaunchPlanError::Notification {
                    plan: self.name.clone(),
                    message: "a notification needs at least one phase and one recipient".into(),
                });
            }
        }
        Ok(())
    }
}

/// A launch plan registered by `#[launch_plan]`, found by `list`, `run`, `package` and
/// `serialize`.
pub struct LaunchPlanRegistration {
    build: fn() -> LaunchPlan,
}

impl LaunchPlanRegistration {
    /// A registration whose launch plan is built by `build`.
    pub const fn new(build: fn() -> LaunchPlan) -> Self {
        Self { build }
    }

    /// Builds (or returns the already built) launch plan.
    pub fn launch_plan(&self) -> LaunchPlan {
        (self.build)()
    }
}

inventory::collect!(LaunchPlanRegistration);

/// Every launch plan registered in this binary with `#[launch_plan]`, sorted by name.
pub fn registered_launch_plans() -> Vec<LaunchPlan> {
    let mut all: Vec<LaunchPlan> = inventory::iter::<LaunchPlanRegistration>()
        .map(|r| r.launch_plan())
        .collect();
    all.sort_by(|a, b| a.name().cmp(b.name()));
    all
}
