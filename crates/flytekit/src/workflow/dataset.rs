//! Datasets in workflows: a promise of a dataset seen with other declared columns, flytekit's
//! column subsetting between a producer and a consumer.

use super::{INPUT_NODE_ID, Promise, WorkflowError};
use crate::dataset::columns::dataset_type;
use crate::dataset::{DatasetColumns, StructuredDataset};
use crate::type_engine::{FlyteType, dataset_casts_from, describe_type};

impl<'w, C: DatasetColumns> Promise<'w, StructuredDataset<C>> {
    /// The same dataset declared with columns `D`, to pass a producer's output to a consumer that
    /// declares fewer (or differently typed) columns: `consumer(producer().with_columns())`.
    ///
    /// Checked by Propeller's rule when the workflow is built: formats agree and, when both sides
    /// declare columns, `D`'s columns are among `C`'s with the same types. A violation is reported
    /// by the workflow build.
    pub fn with_columns<D: DatasetColumns>(self) -> Promise<'w, StructuredDataset<D>> {
        if let Err(reason) = dataset_casts_from(&dataset_type::<C>(), &dataset_type::<D>()) {
            let r = self.reference();
            let place = if r.node_id == INPUT_NODE_ID {
                format!(
                    "workflow input '{}' viewed with other columns ({reason})",
                    r.var
                )
            } else {
                format!(
                    "output '{}' of node {} viewed with other columns ({reason})",
                    r.var, r.node_id
                )
            };
            self.builder().report_error(WorkflowError::TypeMismatch {
                place,
                expected: describe_type(&StructuredDataset::<D>::literal_type()),
                got: describe_type(&StructuredDataset::<C>::literal_type()),
            });
        }
        self.retyped()
    }
}
