//! The one scheduler: runs a graph of units of work in dependency order, a bounded number at a
//! time, under a failure policy, until done or cancelled.
//!
//! The local engine's workflows and sub-workflows, the sandbox's `futures.pb` graphs and the
//! elements of map tasks (as lanes that each take elements from a shared counter, see
//! `elements::run_indexed`) all run through [`run`]; it knows nothing of tasks or literals. A unit is
//! started by the caller's `exec` function, which runs *on the scheduler's worker thread*: the
//! first worker is the calling thread, more are started (up to `limit`) only while more units are
//! ready than workers are busy. A chain of units therefore runs on one thread with no hand-off
//! between units; a fan-out spreads over the workers. Each worker takes the next ready unit from
//! a queue (no scan of the graph), and a finished unit releases its dependents by a counter per
//! unit.
//!
//! `exec` is synchronous: it may block (a task body runs in place) or drive a future with the
//! runtime handle's `block_on` — so the scheduler must be called from a thread that is not
//! already inside `block_on` (a blocking-pool thread, or a worker of an enclosing run). Every
//! worker is in the tokio runtime context of the calling thread, if it has one, so `exec` may
//! poll futures that need it (timers, I/O) directly.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use tokio::sync::Notify;

/// What happens to the rest of a graph when a unit fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// Stop at the first failure: no further unit starts (Flyte's default failure policy).
    FailImmediately,
    /// Keep running every unit that does not depend on a failed one
    /// (`fail_after_executable_nodes_complete`).
    AfterExecutable,
}

/// A cancellation signal shared by a run and everything it starts (Ctrl-C, a dropped run).
#[derive(Clone, Debug, Default)]
pub(crate) struct Cancel(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    cancelled: AtomicBool,
    notify: Notify,
}

impl Cancel {
    /// A new, not yet cancelled signal.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Cancels: no unit starts any more, and [`cancelled`](Self::cancelled) wakes.
    pub(crate) fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Completes once cancelled.
    pub(crate) async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// A guard that cancels when dropped (a run whose caller went away).
    pub(crate) fn drop_guard(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Cancels its [`Cancel`] when dropped.
#[derive(Debug)]
pub(crate) struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// The outputs of finished units, readable while the graph runs (each set once).
pub(crate) struct Outputs<T>(Vec<OnceLock<T>>);

impl<T> Outputs<T> {
    /// The output of unit `i`, once it finished.
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.0.get(i).and_then(OnceLock::get)
    }
}

/// How a run ended.
#[derive(Debug)]
pub(crate) struct Report<T, E> {
    /// Each unit's output, `None` where it failed or never ran.
    pub outputs: Vec<Option<T>>,
    /// The failed units and why, by index.
    pub failures: Vec<(usize, E)>,
    /// Whether the run was cancelled before every unit ran.
    pub cancelled: bool,
}

impl<T, E> Report<T, E> {
    /// Units that neither finished nor failed (skipped after a failure, or cancelled).
    pub(crate) fn not_run(&self) -> Vec<usize> {
        let failed: Vec<usize> = self.failures.iter().map(|(i, _)| *i).collect();
        (0..self.outputs.len())
            .filter(|i| self.outputs[*i].is_none() && !failed.contains(i))
            .collect()
    }
}

struct State<E> {
    ready: VecDeque<usize>,
    waiting: Vec<usize>,
    failures: Vec<(usize, E)>,
    running: usize,
    idle: usize,
    workers: usize,
    stopped: bool,
}

struct Shared<'a, T, E> {
    dependents: Vec<Vec<usize>>,
    outputs: Outputs<T>,
    state: Mutex<State<E>>,
    wake: Condvar,
    policy: Policy,
    limit: usize,
    cancel: &'a Cancel,
}

/// Runs units `0..upstream.len()`, unit `i` once every unit in `upstream[i]` finished, at most
/// `limit` at a time, each as `exec(i, &outputs)`; a panic in `exec` is the unit's failure
/// `aborted(i, reason)`. Units downstream of a failed unit never run. Returns when no unit can
/// run any more.
pub(crate) fn run<T, E, X, A>(
    upstream: &[Vec<usize>],
    policy: Policy,
    limit: usize,
    cancel: &Cancel,
    exec: X,
    aborted: A,
) -> Report<T, E>
where
    T: Send + Sync,
    E: Send,
    X: Fn(usize, &Outputs<T>) -> Result<T, E> + Sync,
    A: Fn(usize, String) -> E + Sync,
{
    let n = upstream.len();
    let mut dependents = vec![Vec::new(); n];
    let mut waiting = vec![0usize; n];
    for (i, ups) in upstream.iter().enumerate() {
        for &u in ups {
            if u < n && u != i {
                dependents[u].push(i);
                waiting[i] += 1;
            }
        }
    }
    let ready: VecDeque<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let shared = Shared {
        dependents,
        outputs: Outputs((0..n).map(|_| OnceLock::new()).collect()),
        state: Mutex::new(State {
            ready,
            waiting,
            failures: Vec::new(),
            running: 0,
            idle: 0,
            workers: 1,
            stopped: false,
        }),
        wake: Condvar::new(),
        policy,
        limit: limit.max(1),
        cancel,
    };
    std::thread::scope(|scope| worker(&shared, scope, &exec, &aborted));
    let state = shared
        .state
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut failures = state.failures;
    failures.sort_by_key(|(i, _)| *i);
    Report {
        outputs: shared
            .outputs
            .0
            .into_iter()
            .map(|c| c.into_inner())
            .collect(),
        failures,
        cancelled: cancel.is_cancelled(),
    }
}

fn lock<E>(m: &Mutex<State<E>>) -> std::sync::MutexGuard<'_, State<E>> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One worker: takes ready units until none can become ready any more.
fn worker<'scope, 'env, T, E, X, A>(
    shared: &'scope Shared<'env, T, E>,
    scope: &'scope std::thread::Scope<'scope, 'env>,
    exec: &'scope X,
    aborted: &'scope A,
) where
    T: Send + Sync,
    E: Send,
    X: Fn(usize, &Outputs<T>) -> Result<T, E> + Sync,
    A: Fn(usize, String) -> E + Sync,
{
    let mut st = lock(&shared.state);
    loop {
        if shared.cancel.is_cancelled() {
            st.stopped = true;
        }
        let next = if st.stopped {
            None
        } else {
            st.ready.pop_front()
        };
        let Some(i) = next else {
            if st.running == 0 {
                // Nothing runs, so nothing can become ready any more.
                shared.wake.notify_all();
                return;
            }
            st.idle += 1;
            st = shared
                .wake
                .wait(st)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            st.idle -= 1;
            continue;
        };
        st.running += 1;
        // More ready work than busy workers: start a helper (up to the limit).
        if !st.ready.is_empty() && st.idle == 0 && st.workers < shared.limit {
            st.workers += 1;
            let context = tokio::runtime::Handle::try_current().ok();
            scope.spawn(move || {
                // A helper runs in the runtime context of the worker that started it.
                let _context = context.as_ref().map(tokio::runtime::Handle::enter);
                worker(shared, scope, exec, aborted)
            });
        } else if !st.ready.is_empty() && st.idle > 0 {
            shared.wake.notify_one();
        }
        drop(st);
        let result = match catch_unwind(AssertUnwindSafe(|| exec(i, &shared.outputs))) {
            Ok(r) => r,
            Err(payload) => Err(aborted(i, panic_message(payload.as_ref()))),
        };
        st = lock(&shared.state);
        st.running -= 1;
        match result {
            Ok(out) => {
                let _ = shared.outputs.0[i].set(out);
                for &d in &shared.dependents[i] {
                    st.waiting[d] -= 1;
                    if st.waiting[d] == 0 {
                        st.ready.push_back(d);
                    }
                }
            }
            Err(e) => {
                st.failures.push((i, e));
                st.stopped |= shared.policy == Policy::FailImmediately;
            }
        }
        if st.stopped || st.ready.len() > 1 || st.running == 0 {
            shared.wake.notify_all();
        }
    }
}

/// What a panic's payload says, as a unit's failure reason (`panicked: ...`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string());
    format!("panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn chain(n: usize) -> Vec<Vec<usize>> {
        (0..n)
            .map(|i| if i == 0 { vec![] } else { vec![i - 1] })
            .collect()
    }

    #[test]
    fn a_chain_runs_in_order_on_one_thread() {
        let seen = Mutex::new(Vec::new());
        let threads = Mutex::new(std::collections::HashSet::new());
        let report: Report<usize, String> = run(
            &chain(100),
            Policy::FailImmediately,
            4,
            &Cancel::new(),
            |i, out| {
                seen.lock().unwrap().push(i);
                threads.lock().unwrap().insert(std::thread::current().id());
                Ok(if i == 0 {
                    0
                } else {
                    out.get(i - 1).unwrap() + 1
                })
            },
            |_, r| r,
        );
        assert_eq!(*seen.lock().unwrap(), (0..100).collect::<Vec<_>>());
        assert_eq!(threads.lock().unwrap().len(), 1);
        assert_eq!(report.outputs[99], Some(99));
        assert!(report.failures.is_empty());
    }

    #[test]
    fn a_fan_out_respects_the_limit_and_gathers() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let mut up: Vec<Vec<usize>> = vec![vec![]; 50];
        up.push((0..50).collect());
        let report: Report<usize, String> = run(
            &up,
            Policy::FailImmediately,
            3,
            &Cancel::new(),
            |i, out| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(2));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(if i == 50 {
                    (0..50).map(|j| *out.get(j).unwrap()).sum()
                } else {
                    1
                })
            },
            |_, r| r,
        );
        assert_eq!(report.outputs[50], Some(50));
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert!(
            peak.load(Ordering::SeqCst) >= 2,
            "the fan-out used several workers"
        );
    }

    #[test]
    fn failure_policies() {
        // 0 fails; 1 depends on 0; 2 and 3 are independent.
        let up = vec![vec![], vec![0], vec![], vec![2]];
        let exec = |i: usize, _: &Outputs<u8>| {
            if i == 0 {
                Err(format!("boom {i}"))
            } else {
                Ok(1)
            }
        };
        let fast: Report<u8, String> = run(
            &up,
            Policy::FailImmediately,
            1,
            &Cancel::new(),
            exec,
            |_, r| r,
        );
        assert_eq!(fast.failures, vec![(0, "boom 0".to_string())]);
        assert!(
            fast.outputs.iter().all(Option::is_none),
            "nothing after the failure"
        );
        let after: Report<u8, String> = run(
            &up,
            Policy::AfterExecutable,
            1,
            &Cancel::new(),
            exec,
            |_, r| r,
        );
        assert_eq!(after.outputs, vec![None, None, Some(1), Some(1)]);
        assert_eq!(after.not_run(), vec![1]);
    }

    #[test]
    fn a_panic_is_the_units_failure() {
        let report: Report<u8, String> = run(
            &vec![vec![]; 3],
            Policy::AfterExecutable,
            2,
            &Cancel::new(),
            |i, _| {
                if i == 1 {
                    panic!("unit one");
                }
                Ok(1)
            },
            |i, r| format!("aborted {i}: {r}"),
        );
        assert_eq!(
            report.failures,
            vec![(1, "aborted 1: panicked: unit one".to_string())]
        );
        assert_eq!(report.outputs, vec![Some(1), None, Some(1)]);
    }

    #[test]
    fn helper_workers_have_the_callers_runtime_context() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _context = rt.enter();
        let in_context = AtomicUsize::new(0);
        let threads = Mutex::new(std::collections::HashSet::new());
        let report: Report<u8, String> = run(
            &vec![vec![]; 8],
            Policy::FailImmediately,
            4,
            &Cancel::new(),
            |_, _| {
                threads.lock().unwrap().insert(std::thread::current().id());
                std::thread::sleep(std::time::Duration::from_millis(5));
                if tokio::runtime::Handle::try_current().is_ok() {
                    in_context.fetch_add(1, Ordering::SeqCst);
                }
                Ok(1)
            },
            |_, r| r,
        );
        assert!(report.failures.is_empty());
        assert!(threads.lock().unwrap().len() > 1, "no helper started");
        assert_eq!(in_context.load(Ordering::SeqCst), 8);
    }

    #[test]
    fn cancelled_runs_start_nothing_more() {
        let cancel = Cancel::new();
        let report: Report<u8, String> = run(
            &chain(10),
            Policy::FailImmediately,
            1,
            &cancel,
            |i, _| {
                if i == 2 {
                    cancel.cancel();
                }
                Ok(1)
            },
            |_, r| r,
        );
        assert!(report.cancelled);
        assert_eq!(report.outputs.iter().flatten().count(), 3);
    }
}
