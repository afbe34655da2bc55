//! Launch plan schedules (`flyteidl/admin/schedule.proto`).

/// A schedule that fires at a fixed interval.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct FixedRate {
    /// Number of units between two runs.
    #[prost(uint32, tag = "1")]
    pub value: u32,
    /// Unit of `value`.
    #[prost(enumeration = "FixedRateUnit", tag = "2")]
    pub unit: i32,
}

/// A cron-style schedule.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CronSchedule {
    /// Cron expression, or an alias such as `@hourly`.
    #[prost(string, tag = "1")]
    pub schedule: String,
    /// ISO 8601 duration added to each firing time.
    #[prost(string, tag = "2")]
    pub offset: String,
}

/// When a launch plan runs automatically.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Schedule {
    /// How the firing times are expressed.
    #[prost(oneof = "schedule::ScheduleExpression", tags = "1, 2, 4")]
    pub schedule_expression: Option<schedule::ScheduleExpression>,
    /// Name of the workflow input that receives the scheduled firing time.
    #[prost(string, tag = "3")]
    pub kickoff_time_input_arg: String,
}

/// Types nested in [`Schedule`].
pub mod schedule {
    /// How the firing times are expressed.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum ScheduleExpression {
        /// Deprecated plain cron expression; use `cron_schedule`.
        #[prost(string, tag = "1")]
        CronExpression(String),
        /// Fire every fixed interval.
        #[prost(message, tag = "2")]
        Rate(super::FixedRate),
        /// Fire according to a cron schedule.
        #[prost(message, tag = "4")]
        CronSchedule(super::CronSchedule),
    }
}

/// Time unit of a [`FixedRate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum FixedRateUnit {
    /// Minutes.
    Minute = 0,
    /// Hours.
    Hour = 1,
    /// Days.
    Day = 2,
}

impl FixedRateUnit {
    /// The value's name as written in the proto definition.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Minute => "MINUTE",
            Self::Hour => "HOUR",
            Self::Day => "DAY",
        }
    }

    /// Looks a value up by its proto name; `None` for an unknown name.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "MINUTE" => Some(Self::Minute),
            "HOUR" => Some(Self::Hour),
            "DAY" => Some(Self::Day),
            _ => None,
        }
    }
}

impl_name! {
    FixedRate => "FixedRate",
    CronSchedule => "CronSchedule",
    Schedule => "Schedule",
}
