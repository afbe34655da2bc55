//! The launch plans `list` shows: those declared with `#[launch_plan]`, with their workflow
//! and schedule.

use crate::workflow::{ScheduleExpression, registered_launch_plans};

/// Prints the `launch plans:` section of `list`.
pub(crate) fn print() {
    let plans = registered_launch_plans();
    println!("launch plans:");
    for lp in &plans {
        let schedule = match lp.schedule_spec().map(|s| s.expression()) {
            Some(Ok(ScheduleExpression::Cron { schedule, .. })) => format!(", schedule {schedule}"),
            Some(Ok(ScheduleExpression::Rate { value, unit })) => format!(
                ", every {value} {}{}",
                unit.as_str_name().to_lowercase(),
                if *value == 1 { "" } else { "s" }
            ),
            _ => String::new(),
        };
        println!(
            "  {}  (workflow {}{schedule})",
            lp.name(),
            lp.workflow().name()
        );
    }
    if plans.is_empty() {
        println!("  (none)");
    }
}
