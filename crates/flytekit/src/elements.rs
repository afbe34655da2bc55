//! The elements of a map task at run time: the element count, each element's inputs, the
//! gathered outputs, and running them through the scheduler under the success criterion. Used by
//! the entrypoint (`map-execute`), the local engine and a map task dispatched on its own.

use std::collections::HashMap;

use flytekit_idl::core::{Literal, LiteralCollection, LiteralMap, literal};

use crate::execution::ExecutionContext;
use crate::map::{MapSpec, SuccessCriterion};
use crate::scheduler::{self, Cancel, Policy};
use crate::task::{TaskError, on_blocking_thread};
use crate::type_engine::literals::none_literal;

/// Why an element's inputs could not be formed.
fn input_error(spec: &MapSpec, message: String) -> TaskError {
    TaskError::InputConversion {
        task: spec.inner().name().to_string(),
        message,
    }
}

/// The number of elements: the length of the mapped inputs, which must all be lists of the same
/// length (`0` when nothing is mapped, as in flytekit).
pub(crate) fn map_size(spec: &MapSpec, inputs: &LiteralMap) -> Result<usize, TaskError> {
    common_length(&spec.mapped_inputs(), inputs).map_err(|m| input_error(spec, m))
}

/// The common length of the list inputs `names` (`0` for no names); an input that is missing or
/// not a list, or lists of different lengths, is an error saying which.
pub(crate) fn common_length(names: &[String], inputs: &LiteralMap) -> Result<usize, String> {
    let mut size: Option<(&str, usize)> = None;
    for name in names {
        let lit = inputs
            .literals
            .get(name)
            .ok_or_else(|| format!("the map task input '{name}' is missing"))?;
        let len = match &lit.value {
            Some(literal::Value::Collection(c)) => c.literals.len(),
            _ => return Err(format!("Expected a list of literals for {name}")),
        };
        match size {
            Some((first, n)) if n != len => {
                return Err(format!(
                    "mapped inputs have different lengths: '{first}' has {n} elements, '{name}' has {len}"
                ));
            }
            Some(_) => {}
            None => size = Some((name, len)),
        }
    }
    Ok(size.map_or(0, |(_, n)| n))
}

/// The inputs of element `idx`: element `idx` of every mapped input, bound inputs whole
/// (flytekit's `_literal_map_to_python_input` in a container).
pub(crate) fn element_inputs(
    spec: &MapSpec,
    inputs: &LiteralMap,
    idx: usize,
) -> Result<LiteralMap, TaskError> {
    let mut out = LiteralMap::default();
    let declared = spec.inner().interface().inputs.as_ref();
    for name in declared.iter().flat_map(|d| d.variables.keys()) {
        let lit = inputs
            .literals
            .get(name)
            .ok_or_else(|| input_error(spec, format!("the map task input '{name}' is missing")))?;
        let value = if spec.bound_inputs().contains(name) {
            lit.clone()
        } else {
            match &lit.value {
                Some(literal::Value::Collection(c)) => {
                    c.literals.get(idx).cloned().ok_or_else(|| {
                        input_error(
                            spec,
                            format!(
                                "element index {idx} is out of range: input '{name}' has {} elements",
                                c.literals.len()
                            ),
                        )
                    })?
                }
                _ => {
                    return Err(input_error(
                        spec,
                        format!("Expected a list of literals for {name}"),
                    ));
                }
            }
        };
        out.literals.insert(name.clone(), value);
    }
    Ok(out)
}

/// The map's outputs from the elements' (`None` for a failed element): one list per output of
/// the inner task, a `None` literal in place of each failed element.
pub(crate) fn gather_outputs(spec: &MapSpec, results: Vec<Option<LiteralMap>>) -> LiteralMap {
    gather_named(&spec.output_names(), results)
}

/// [`gather_outputs`] for the outputs `names`.
pub(crate) fn gather_named(names: &[String], results: Vec<Option<LiteralMap>>) -> LiteralMap {
    let mut lists: HashMap<String, Vec<Literal>> = names
        .iter()
        .map(|n| (n.clone(), Vec::with_capacity(results.len())))
        .collect();
    for mut r in results {
        for name in names {
            let lit = r
                .as_mut()
                .and_then(|m| m.literals.remove(name))
                .unwrap_or_else(none_literal);
            if let Some(l) = lists.get_mut(name) {
                l.push(lit);
            }
        }
    }
    LiteralMap {
        literals: lists
            .into_iter()
            .map(|(k, literals)| {
                (
                    k,
                    Literal {
                        value: Some(literal::Value::Collection(LiteralCollection { literals })),
                        ..Default::default()
                    },
                )
            })
            .collect(),
    }
}

/// A failed map: fewer elements than required succeeded; the failures, by element index (all of
/// them, or those seen before the run was stopped).
#[derive(Debug)]
pub(crate) struct MapFailure<E> {
    /// Number of elements.
    pub total: usize,
    /// Elements required to succeed.
    pub required: usize,
    /// The failed elements and why.
    pub failures: Vec<(usize, E)>,
}

impl<E: std::fmt::Display> MapFailure<E> {
    /// A one-line summary naming the first failures.
    pub(crate) fn summary(&self) -> String {
        let mut shown: Vec<String> = self
            .failures
            .iter()
            .take(3)
            .map(|(i, e)| format!("element {i}: {e}"))
            .collect();
        if self.failures.len() > 3 {
            shown.push(format!("... and {} more", self.failures.len() - 3));
        }
        format!(
            "{} of {} elements failed ({} must succeed); {}",
            self.failures.len(),
            self.total,
            self.required,
            shown.join("; ")
        )
    }
}

/// Runs `n` elements through the scheduler, at most `limit` at once, each as `exec(i)`, under
/// the success criterion: once more elements failed than it allows, the rest are not started
/// (unless `run_all`). The outputs come back by index, `None` for failed elements.
pub(crate) fn run_indexed<E, X, A>(
    n: usize,
    criterion: SuccessCriterion,
    run_all: bool,
    limit: usize,
    cancel: &Cancel,
    exec: X,
    aborted: A,
) -> Result<Vec<Option<LiteralMap>>, MapFailure<E>>
where
    E: Send,
    X: Fn(usize) -> Result<LiteralMap, E> + Sync,
    A: Fn(usize, String) -> E + Sync,
{
    let required = criterion.required(n);
    let report = scheduler::run(
        &vec![Vec::new(); n],
        Policy::Tolerate {
            allowed: n - required,
            run_all,
        },
        limit,
        cancel,
        |i, _| exec(i),
        aborted,
    );
    if report.failures.len() > n - required {
        return Err(MapFailure {
            total: n,
            required,
            failures: report.failures,
        });
    }
    Ok(report.outputs)
}

/// A map task dispatched on its own (not in the engine, not in a container): the elements run
/// in place through the inner task, at most the map's concurrency (default: the CPUs, at least
/// 4) at once.
pub(crate) async fn run_in_process(
    spec: &MapSpec,
    inputs: LiteralMap,
    cx: ExecutionContext,
) -> Result<LiteralMap, TaskError> {
    let default_limit = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(4);
    let limit = match spec.concurrency() {
        Some(0) | None => default_limit,
        Some(k) => k as usize,
    };
    let n = map_size(spec, &inputs)?;
    let spec = spec.clone();
    let handle = tokio::runtime::Handle::current();
    let cancel = Cancel::new();
    let _stop = cancel.drop_guard();
    let run = move || {
        run_indexed(
            n,
            spec.criterion(),
            spec.run_all_sub_nodes(),
            limit,
            &cancel,
            |i| {
                let element = element_inputs(&spec, &inputs, i)?;
                handle.block_on(on_blocking_thread(spec.inner().call_body(&element, &cx)))
            },
            |_, reason| TaskError::system(reason),
        )
        .map(|results| gather_outputs(&spec, results))
        .map_err(|f| failure_to_task_error(&spec, f))
    };
    match tokio::task::spawn_blocking(run).await {
        Ok(r) => r,
        Err(e) => Err(TaskError::system(format!(
            "the map task's elements stopped: {e}"
        ))),
    }
}

/// A map failure as one task error: the first element's error, with the map's summary.
pub(crate) fn failure_to_task_error(spec: &MapSpec, f: MapFailure<TaskError>) -> TaskError {
    let summary = f.summary();
    let message = format!("map task over {}: {summary}", spec.inner().name());
    match f.failures.into_iter().next().map(|(_, e)| e) {
        Some(TaskError::User {
            code, recoverable, ..
        }) => TaskError::User {
            code,
            message,
            recoverable,
        },
        Some(TaskError::InputConversion { task, .. }) => {
            TaskError::InputConversion { task, message }
        }
        Some(TaskError::OutputConversion { task, .. }) => {
            TaskError::OutputConversion { task, message }
        }
        Some(TaskError::Load(_)) => TaskError::Load(message),
        _ => TaskError::system(message),
    }
}
