//! The options of a map task, in one type for the typed node API and for [`map_task`].
//!
//! [`map_task`]: super::map_task

use std::marker::PhantomData;

use super::spec::SuccessCriterion;

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::map::options::AllSucceed {}
    impl Sealed for crate::map::options::Partial {}
}

/// Whether a map may finish with failed elements, which decides its output type.
pub trait MapMode: sealed::Sealed {
    /// The type of one output element for an inner output of type `U`.
    type Out<U: crate::type_engine::FlyteType>: crate::type_engine::FlyteType;
    /// Whether elements may fail.
    const ALLOWS_FAILURES: bool;
}

/// Every element must succeed; outputs are `Vec<U>`.
#[derive(Debug)]
pub enum AllSucceed {}

/// Some elements may fail; outputs are `Vec<Option<U>>`, `None` for failed elements.
#[derive(Debug)]
pub enum Partial {}

impl MapMode for AllSucceed {
    type Out<U: crate::type_engine::FlyteType> = U;
    const ALLOWS_FAILURES: bool = false;
}

impl MapMode for Partial {
    type Out<U: crate::type_engine::FlyteType> = Option<U>;
    const ALLOWS_FAILURES: bool = true;
}

/// The options of a map task — concurrency, success criterion, whether all elements run — in
/// one type for the typed node API (`add::map_with(options, ...)`) and for [`map_task`]
/// ([`MapTaskBuilder::options`]). The type parameter records whether elements may fail, which
/// makes a typed map node's outputs optional.
#[derive(Debug)]
pub struct MapOptions<M = AllSucceed> {
    pub(super) concurrency: Option<u32>,
    pub(super) criterion: SuccessCriterion,
    pub(super) run_all_sub_nodes: bool,
    _mode: PhantomData<fn() -> M>,
}

impl<M> Clone for MapOptions<M> {
    fn clone(&self) -> Self {
        Self {
            concurrency: self.concurrency,
            criterion: self.criterion,
            run_all_sub_nodes: self.run_all_sub_nodes,
            _mode: PhantomData,
        }
    }
}

impl Default for MapOptions<AllSucceed> {
    fn default() -> Self {
        Self::new()
    }
}

impl MapOptions<AllSucceed> {
    /// Every element must succeed; no concurrency limit beyond the platform's.
    pub fn new() -> Self {
        Self {
            concurrency: None,
            criterion: SuccessCriterion::All,
            run_all_sub_nodes: false,
            _mode: PhantomData,
        }
    }
}

impl<M> MapOptions<M> {
    /// Runs at most `n` elements at once (`0`: no limit).
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = Some(n);
        self
    }

    /// Keeps running all elements after the success criterion can no longer be met.
    pub fn run_all_sub_nodes(mut self, on: bool) -> Self {
        self.run_all_sub_nodes = on;
        self
    }

    /// Succeeds when at least `n` elements succeed (flytekit's `min_successes=n,
    /// min_success_ratio=None`); outputs become optional.
    pub fn min_successes(self, n: u32) -> MapOptions<Partial> {
        self.with_criterion(SuccessCriterion::MinSuccesses(n))
    }

    /// Succeeds when at least this fraction (`0.0..=1.0`) of the elements succeed; outputs
    /// become optional. A ratio of 1 means every element: a typed map node then reports that its
    /// outputs need not be optional.
    pub fn min_success_ratio(self, ratio: f64) -> MapOptions<Partial> {
        self.with_criterion(SuccessCriterion::ratio(ratio))
    }

    /// The same options with another criterion (and the mode that goes with failures allowed).
    pub fn with_criterion(self, criterion: SuccessCriterion) -> MapOptions<Partial> {
        MapOptions {
            concurrency: self.concurrency,
            criterion,
            run_all_sub_nodes: self.run_all_sub_nodes,
            _mode: PhantomData,
        }
    }

    /// The concurrency limit (`Some(0)`: none; `None`: inherited).
    pub fn concurrency_limit(&self) -> Option<u32> {
        self.concurrency
    }

    /// The success criterion.
    pub fn criterion(&self) -> SuccessCriterion {
        self.criterion
    }
}
