//! The container contract shared by the entrypoint (the container's side) and the sandbox
//! (Propeller's side): the names of the files a task attempt leaves under its output prefix, and
//! how an ArrayNode tells each container its element.

/// The outputs file name.
pub const OUTPUTS_FILE: &str = "outputs.pb";
/// The error file name (without a distributed error strategy).
pub const ERROR_FILE: &str = "error.pb";
/// The deck file name.
pub const DECK_FILE: &str = "deck.html";
/// The futures file name (a dynamic task's `DynamicJobSpec`).
pub const FUTURES_FILE: &str = "futures.pb";

/// The element index of a map-task container: `BATCH_JOB_ARRAY_INDEX_OFFSET` plus the value of
/// the variable named by `BATCH_JOB_ARRAY_INDEX_VAR_NAME` (Propeller: `FLYTE_K8S_ARRAY_INDEX`),
/// each `0` when unset (flytekit's `_compute_array_job_index`, which looks up a variable named
/// `0` when no name is given).
pub(crate) fn array_job_index(env: impl Fn(&str) -> Option<String>) -> Result<usize, String> {
    let parse = |what: &str, v: Option<String>| -> Result<i64, String> {
        match v {
            None => Ok(0),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("{what} is {s:?}, not an integer")),
        }
    };
    let offset = parse(
        "BATCH_JOB_ARRAY_INDEX_OFFSET",
        env("BATCH_JOB_ARRAY_INDEX_OFFSET"),
    )?;
    let var = env("BATCH_JOB_ARRAY_INDEX_VAR_NAME").unwrap_or_else(|| "0".to_string());
    let index = parse(&var, env(&var))?;
    offset
        .checked_add(index)
        .and_then(|i| usize::try_from(i).ok())
        .ok_or_else(|| format!("the element index {offset} + {index} is out of range"))
}

/// The environment Propeller gives the container of element `index` of an ArrayNode:
/// `BATCH_JOB_ARRAY_INDEX_VAR_NAME=FLYTE_K8S_ARRAY_INDEX` and `FLYTE_K8S_ARRAY_INDEX=<index>`.
pub(crate) fn element_env(index: usize) -> Vec<(String, String)> {
    vec![
        (
            "BATCH_JOB_ARRAY_INDEX_VAR_NAME".to_string(),
            "FLYTE_K8S_ARRAY_INDEX".to_string(),
        ),
        ("FLYTE_K8S_ARRAY_INDEX".to_string(), index.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_from_env() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(array_job_index(env(&[])), Ok(0));
        assert_eq!(
            array_job_index(env(&[
                ("BATCH_JOB_ARRAY_INDEX_OFFSET", "1"),
                ("BATCH_JOB_ARRAY_INDEX_VAR_NAME", "MYIDX"),
                ("MYIDX", "1")
            ])),
            Ok(2)
        );
        assert_eq!(array_job_index(env(&[("0", "3")])), Ok(3));
        assert!(array_job_index(env(&[("BATCH_JOB_ARRAY_INDEX_OFFSET", "x")])).is_err());
        assert!(array_job_index(env(&[("BATCH_JOB_ARRAY_INDEX_OFFSET", "-2")])).is_err());
        assert!(
            array_job_index(env(&[
                ("BATCH_JOB_ARRAY_INDEX_OFFSET", "9223372036854775807"),
                ("0", "1")
            ]))
            .is_err()
        );
    }
}
