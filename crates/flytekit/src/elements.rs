//! The elements of a map task at run time: the element count, each element's inputs, the
//! gathered outputs, and running them through the scheduler under the success criterion. Used by
//! the entrypoint (`map-execute`), the local engine and a map task dispatched on its own.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// An element's outputs, in the order of `names` (a `None` literal for an output it did not
/// produce), taken out of its output map so that the map is freed by the worker that ran the
/// element, not by the one gathering.
pub(crate) fn element_outputs(names: &[String], mut outputs: LiteralMap) -> Vec<Literal> {
    names
        .iter()
        .map(|name| outputs.literals.remove(name).unwrap_or_else(none_literal))
        .collect()
}

/// The map's outputs `names` from the elements' ([`element_outputs`]; `None` for a failed
/// element): one list per output, a `None` literal in place of each failed element.
pub(crate) fn gather_named(names: &[String], results: Vec<Option<Vec<Literal>>>) -> LiteralMap {
    let mut lists: Vec<Vec<Literal>> = names
        .iter()
        .map(|_| Vec::with_capacity(results.len()))
        .collect();
    for r in results {
        match r {
            Some(values) => {
                for (list, value) in lists.iter_mut().zip(values) {
                    list.push(value);
                }
            }
            None => lists.iter_mut().for_each(|list| list.push(none_literal())),
        }
    }
    LiteralMap {
        literals: names
            .iter()
            .cloned()
            .zip(lists)
            .map(|(name, literals)| {
                (
                    name,
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

/// A lane's element index, alone on its cache line: lanes write theirs for every element.
#[derive(Default)]
#[repr(align(128))]
struct LaneSlot(AtomicUsize);

/// How long a lane of [`run_indexed`] keeps its lease before giving it back and taking it again.
pub(crate) const LEASE_TERM: Duration = Duration::from_millis(1);

/// Runs `n` elements through the scheduler, at most `limit` at once, each as `exec(i)`, under
/// the success criterion: once more elements failed than it allows, the rest are not started
/// (unless `run_all`). The outputs come back by index, `None` for failed elements; a panic in
/// `exec` is the element's failure `aborted(i, reason)`.
///
/// The elements do not depend on each other, so they are not units of the scheduler one by one:
/// the scheduler runs `limit` lanes, and each lane takes the next element from a shared counter
/// until none is left. Elements are thus spread over the workers as they free up, with no lock
/// and no hand-off between workers per element.
///
/// A lane runs its elements holding a lease from `lease` (the engine's task slot; `()` where
/// there is none), renewed before an element once it is [`LEASE_TERM`] old: given back first,
/// so that whoever waits for it gets its turn, then taken again. A lease that cannot be taken
/// (the run was cancelled) is the failure of the element that waited for it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_indexed<T, E, G, L, X, A>(
    n: usize,
    criterion: SuccessCriterion,
    run_all: bool,
    limit: usize,
    cancel: &Cancel,
    lease: L,
    exec: X,
    aborted: A,
) -> Result<Vec<Option<T>>, MapFailure<E>>
where
    T: Send + Sync,
    E: Send,
    L: Fn() -> Result<G, E> + Sync,
    X: Fn(usize) -> Result<T, E> + Sync,
    A: Fn(usize, String) -> E + Sync,
{
    let allowed = n - criterion.required(n);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let outputs: Vec<OnceLock<T>> = (0..n).map(|_| OnceLock::new()).collect();
    let failures: Mutex<Vec<(usize, E)>> = Mutex::new(Vec::new());
    let lanes = limit.clamp(1, n.max(1));
    // The element each lane runs, to name it should the lane itself fail.
    let current: Vec<LaneSlot> = (0..lanes).map(|_| LaneSlot::default()).collect();
    // Lanes take indices a few at a time (fewer trips to the shared counter, and lanes write
    // the outputs of ranges of their own), fewer as the end nears so that lanes finish together.
    let take = |lanes: usize| {
        let left = n.saturating_sub(next.load(Ordering::Relaxed));
        (left / (lanes * 8)).clamp(1, 16)
    };
    let fail = |i: usize, e: E| {
        let mut failed = failures.lock().unwrap_or_else(|p| p.into_inner());
        failed.push((i, e));
        if failed.len() > allowed && !run_all {
            stop.store(true, Ordering::Relaxed);
        }
    };
    let lane = |l: usize, _: &scheduler::Outputs<()>| -> Result<(), String> {
        let mut held: Option<(G, Instant)> = None;
        let mut range = 0..0;
        while !stop.load(Ordering::Relaxed) && !cancel.is_cancelled() {
            let i = match range.next() {
                Some(i) => i,
                None => {
                    let k = take(lanes);
                    let start = next.fetch_add(k, Ordering::Relaxed);
                    if start >= n {
                        break;
                    }
                    range = start + 1..(start + k).min(n);
                    start
                }
            };
            current[l].0.store(i, Ordering::Relaxed);
            if held
                .as_ref()
                .is_some_and(|(_, since)| since.elapsed() >= LEASE_TERM)
            {
                held = None;
            }
            if held.is_none() {
                match lease() {
                    Ok(g) => held = Some((g, Instant::now())),
                    Err(e) => {
                        fail(i, e);
                        continue;
                    }
                }
            }
            match catch_unwind(AssertUnwindSafe(|| exec(i))) {
                Ok(Ok(out)) => {
                    let _ = outputs[i].set(out);
                }
                Ok(Err(e)) => fail(i, e),
                Err(payload) => fail(i, aborted(i, scheduler::panic_message(&*payload))),
            }
        }
        Ok(())
    };
    let report: scheduler::Report<(), String> = scheduler::run(
        &vec![Vec::new(); lanes],
        Policy::AfterExecutable,
        lanes,
        cancel,
        lane,
        |_, reason| reason,
    );
    // Only a panic outside an element's body (taking the lease, recording the result) fails a
    // lane: the element it was at failed.
    for (l, reason) in report.failures {
        let i = current[l].0.load(Ordering::Relaxed);
        fail(i, aborted(i, reason));
    }
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by_key(|(i, _)| *i);
    if failures.len() > allowed {
        return Err(MapFailure {
            total: n,
            required: n - allowed,
            failures,
        });
    }
    Ok(outputs.into_iter().map(OnceLock::into_inner).collect())
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
    let names = spec.output_names();
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
            || Ok(()),
            |i| {
                let element = element_inputs(&spec, &inputs, i)?;
                handle
                    .block_on(on_blocking_thread(
                        spec.inner().call_body_owned(element, &cx),
                    ))
                    .map(|outputs| element_outputs(&names, outputs))
            },
            |_, reason| TaskError::system(reason),
        )
        .map(|results| gather_named(&names, results))
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

#[cfg(test)]
mod tests {
    use super::*;
    use flytekit_idl::core::Literal;
    use std::sync::atomic::AtomicUsize;

    /// `run_indexed` with a lease always granted and failures reported as they are.
    fn run(
        n: usize,
        criterion: SuccessCriterion,
        run_all: bool,
        limit: usize,
        cancel: &Cancel,
        exec: impl Fn(usize) -> Result<Literal, String> + Sync,
    ) -> Result<Vec<Option<Literal>>, MapFailure<String>> {
        run_indexed(
            n,
            criterion,
            run_all,
            limit,
            cancel,
            || Ok(()),
            exec,
            |_, r| r,
        )
    }

    fn out(i: usize) -> Literal {
        Literal {
            hash: i.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn every_element_runs_once_and_comes_back_by_index() {
        let calls: Vec<AtomicUsize> = (0..1000).map(|_| AtomicUsize::new(0)).collect();
        let results = run(1000, SuccessCriterion::All, false, 4, &Cancel::new(), |i| {
            calls[i].fetch_add(1, Ordering::SeqCst);
            Ok::<_, String>(out(i))
        })
        .unwrap();
        assert!(calls.iter().all(|c| c.load(Ordering::SeqCst) == 1));
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.as_ref().unwrap().hash, i.to_string());
        }
    }

    #[test]
    fn at_most_limit_elements_run_at_once() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let results = run(40, SuccessCriterion::All, false, 3, &Cancel::new(), |i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, String>(out(i))
        })
        .unwrap();
        assert_eq!(results.len(), 40);
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= 3, "{peak} elements ran at once");
        assert!(peak >= 2, "the elements ran on one lane only");
    }

    #[test]
    fn tolerated_failures_and_panics_leave_holes() {
        // Elements 3 and 7 fail (7 by panicking); two failures are allowed.
        let results = run_indexed(
            10,
            SuccessCriterion::MinSuccesses(8),
            false,
            2,
            &Cancel::new(),
            || Ok::<(), String>(()),
            |i| match i {
                3 => Err(format!("e{i}")),
                7 => panic!("element seven"),
                _ => Ok(out(i)),
            },
            |i, r| format!("aborted {i}: {r}"),
        )
        .unwrap();
        let holes: Vec<usize> = (0..10).filter(|i| results[*i].is_none()).collect();
        assert_eq!(holes, vec![3, 7]);
    }

    #[test]
    fn too_many_failures_stop_the_rest_unless_run_all() {
        let ran = AtomicUsize::new(0);
        let exec = |i: usize| {
            ran.fetch_add(1, Ordering::SeqCst);
            if i < 4 {
                Err(format!("e{i}"))
            } else {
                Ok(out(i))
            }
        };
        let failure = run(1000, SuccessCriterion::All, false, 1, &Cancel::new(), exec).unwrap_err();
        assert_eq!(failure.failures, vec![(0, "e0".to_string())]);
        assert_eq!(
            ran.load(Ordering::SeqCst),
            1,
            "nothing started after the failure"
        );
        assert!(failure.summary().contains("1 of 1000 elements failed"));

        ran.store(0, Ordering::SeqCst);
        let failure = run(1000, SuccessCriterion::All, true, 2, &Cancel::new(), exec).unwrap_err();
        assert_eq!(failure.failures.len(), 4);
        assert_eq!(
            ran.load(Ordering::SeqCst),
            1000,
            "run_all ran every element"
        );
    }

    #[test]
    fn the_lease_is_renewed_and_its_failure_is_the_elements() {
        let leases = AtomicUsize::new(0);
        let results = run_indexed(
            20,
            SuccessCriterion::All,
            false,
            1,
            &Cancel::new(),
            || {
                leases.fetch_add(1, Ordering::SeqCst);
                Ok::<(), String>(())
            },
            |i| {
                std::thread::sleep(LEASE_TERM * 2);
                Ok::<_, String>(out(i))
            },
            |_, r| r,
        )
        .unwrap();
        assert_eq!(results.len(), 20);
        // Each element outlasts the lease's term, so the next one renews it.
        assert!(
            leases.load(Ordering::SeqCst) == 20,
            "the lease was not renewed"
        );

        let failure = run_indexed(
            3,
            SuccessCriterion::All,
            false,
            1,
            &Cancel::new(),
            || Err::<(), String>("no slot".to_string()),
            |i| Ok::<_, String>(out(i)),
            |_, r| r,
        )
        .unwrap_err();
        assert_eq!(failure.failures[0], (0, "no slot".to_string()));
    }

    #[test]
    fn cancelled_maps_start_no_more_elements() {
        let cancel = Cancel::new();
        let ran = AtomicUsize::new(0);
        let results = run(100, SuccessCriterion::ratio(0.0), false, 1, &cancel, |i| {
            if ran.fetch_add(1, Ordering::SeqCst) == 4 {
                cancel.cancel();
            }
            Ok::<_, String>(out(i))
        })
        .unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 5);
        assert_eq!(results.iter().flatten().count(), 5);
    }

    #[test]
    fn outputs_are_gathered_by_name_with_none_for_failed_elements() {
        let names = vec!["o0".to_string(), "o1".to_string()];
        let mut map = LiteralMap::default();
        map.literals.insert("o1".into(), out(1));
        let first = element_outputs(&names, map);
        assert_eq!(first.len(), 2);
        assert_eq!(first[0], none_literal(), "a missing output is None");
        let gathered = gather_named(&names, vec![Some(first), None]);
        let Some(literal::Value::Collection(o1)) = &gathered.literals["o1"].value else {
            panic!("o1 is not a list");
        };
        assert_eq!(o1.literals, vec![out(1), none_literal()]);
    }
}
