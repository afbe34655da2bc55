//! Propeller's rule for passing a structured dataset of one type where another is declared.

use flytekit_idl::core::StructuredDatasetType;

use super::render::describe_type;

/// Whether a dataset of type `upstream` may be passed where `downstream` is declared, by
/// Propeller's rule (`structuredDatasetChecker`): formats agree (or one is empty), and when both
/// declare columns, every downstream column exists upstream with the same type. `Err` says why not.
pub fn dataset_casts_from(
    upstream: &StructuredDatasetType,
    downstream: &StructuredDatasetType,
) -> Result<(), String> {
    if !upstream.format.is_empty()
        && !downstream.format.is_empty()
        && !upstream.format.eq_ignore_ascii_case(&downstream.format)
    {
        return Err(format!(
            "the format \"{}\" is not \"{}\"",
            upstream.format, downstream.format
        ));
    }
    if upstream.columns.is_empty() || downstream.columns.is_empty() {
        return Ok(());
    }
    for column in &downstream.columns {
        let Some(up) = upstream.columns.iter().find(|c| c.name == column.name) else {
            let names: Vec<&str> = upstream.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "column '{}' is not among the upstream columns [{}]",
                column.name,
                names.join(", ")
            ));
        };
        if up.literal_type != column.literal_type {
            return Err(format!(
                "column '{}' is {} upstream but {} here",
                column.name,
                describe_type(&up.literal_type.clone().unwrap_or_default()),
                describe_type(&column.literal_type.clone().unwrap_or_default()),
            ));
        }
    }
    Ok(())
}
