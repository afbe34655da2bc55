//! Map tasks: run one task once per element of its list inputs, as a Flyte `ArrayNode` (flytekit's
//! `ArrayNodeMapTask`, contract §4.8).
//!
//! [`map_task`](crate::map_task()) turns a task `f(a: A, b: B) -> U` into a task `(a: Vec<A>, b: Vec<B>) -> Vec<U>`
//! that runs `f` on `(a[i], b[i])` for every `i`. Inputs can be *bound* instead: passed whole to
//! every element (flytekit's `functools.partial`), keeping their type. Options:
//!
//! - `concurrency`: at most this many elements run at once (`0`: no limit; unset: the platform's
//!   or engine's default);
//! - `min_successes` / `min_success_ratio`: the map succeeds when that many elements succeed; the
//!   failed elements' outputs are then `None`, so the output type becomes `Vec<Option<U>>`.
//!
//! In a `#[workflow]` (or `#[dynamic]`) body, every `#[task]` with at most one output can be mapped
//! through its companion module, typed:
//!
//! ```ignore
//! #[task]
//! fn add(a: i64, b: i64) -> i64 { a + b }
//!
//! #[workflow]
//! fn sums(xs: Vec<i64>, ys: Vec<i64>, k: i64) -> (Vec<i64>, Vec<Option<i64>>) {
//!     let all = add::map(xs, ys);                       // Promise<Vec<i64>>
//!     let some = add::map_with(
//!         MapOptions::new().concurrency(8).min_success_ratio(0.9),
//!         xs,
//!         Bound(k),                                      // b = k for every element
//!     );                                                 // Promise<Vec<Option<i64>>>
//!     (all, some)
//! }
//! ```
//!
//! Without the macros, [`map_task`](crate::map_task()) builds a [`MapTask`] and [`MapTask::add_node`] adds it to a
//! [`WorkflowBuilder`].
//!
//! **On Flyte** the map task serializes exactly like flytekit 1.16's `ArrayNodeMapTask`: a task
//! named `<module>.map_<function>_<md5>-arraynode` of the inner task's type with
//! `task_type_version = 1`, the inner task's container (or pod), resources, metadata and security
//! context, and the command `<binary> map-execute ... --resolver flytekit.resolver.map -- vars
//! <bound,inputs> resolver <inner resolver> <inner loader args>`; its node is an `ArrayNode` whose
//! sub-node runs that task. Propeller starts one container per element and tells it its index
//! through `BATCH_JOB_ARRAY_INDEX_VAR_NAME`/`BATCH_JOB_ARRAY_INDEX_OFFSET`
//! (the `map-execute` entrypoint).
//!
//! **Locally** the engine runs the elements in parallel, each with the inner task's retries,
//! timeout and cache, at most `concurrency` at a time.
//!
//! One deliberate difference from flytekit: with `min_successes` (and no ratio) flytekit keeps the
//! output type `List[T]` although failed elements produce `None`; here the output is
//! `List[Optional[T]]`, as flytekit itself does for `min_success_ratio < 1`.

mod builder;
mod interface;
mod node;
mod options;
mod resolver;
mod spec;

pub use builder::{MapTask, MapTaskBuilder, map_task};
pub use node::{Bound, MapArg, MapInput, map_node};
pub use options::{AllSucceed, MapMode, MapOptions, Partial};
pub(crate) use resolver::map_loader_args;
pub use resolver::{MAP_RESOLVER, MapTaskResolver};
pub use spec::{MAP_RESOLVER_LOCATION, MapSpec, SuccessCriterion};
