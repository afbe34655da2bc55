//! The benchmark's work, shared verbatim by the SDK task (`examples/datasets.rs`, `summarize`) and
//! the no-SDK program (`examples/dataset_raw.rs`): keep the values of a column `value` that are at
//! least a threshold, then count and sum them per `name`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use arrow::error::ArrowError;

/// Count and sum per name.
pub type Groups = HashMap<String, (i64, f64)>;

/// Folds one batch of columns (`name`: Utf8, `value`: Float64) into `groups`. Never inlined, so
/// both programs run the same machine code.
#[inline(never)]
pub fn aggregate(batch: &RecordBatch, threshold: f64, groups: &mut Groups) {
    let names = batch.column(0).as_string::<i32>();
    let values = batch.column(1).as_primitive::<Float64Type>();
    for (i, &v) in values.values().iter().enumerate() {
        if v >= threshold && values.is_valid(i) && names.is_valid(i) {
            let name = names.value(i);
            match groups.get_mut(name) {
                Some(g) => {
                    g.0 += 1;
                    g.1 += v;
                }
                None => {
                    groups.insert(name.to_string(), (1, v));
                }
            }
        }
    }
}

/// The result: one row per name, sorted by name (`name`, `count`, `total`).
pub fn result(groups: &Groups) -> Result<RecordBatch, ArrowError> {
    let mut names: Vec<&String> = groups.keys().collect();
    names.sort();
    let schema = Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("count", DataType::Int64, false),
        Field::new("total", DataType::Float64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(StringArray::from_iter_values(
                names.iter().map(|n| n.as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                names.iter().map(|n| groups[*n].0),
            )),
            Arc::new(Float64Array::from_iter_values(
                names.iter().map(|n| groups[*n].1),
            )),
        ],
    )
}
