//! The benchmark's work written directly against the `parquet` and `arrow` crates, with no SDK:
//! what `bench/datasets.sh` compares the SDK task (`datasets` example, `summarize`) with.
//!
//! ```text
//! dataset_raw <input file> <threshold> <output file>
//! ```
//!
//! Reads columns `name` and `value` of the Parquet file, keeps values at least the threshold,
//! counts and sums them per name (the same code as the task: `datasets/kernel.rs`), and writes
//! the result as Parquet (snappy, like the SDK).

use std::fs::File;

use arrow::record_batch::RecordBatchReader;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

#[path = "datasets/kernel.rs"]
mod kernel;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, threshold, output] = args.as_slice() else {
        return Err("usage: dataset_raw <input file> <threshold> <output file>".into());
    };
    let threshold: f64 = threshold.parse()?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(input)?)?;
    let schema = builder.schema().clone();
    let roots = [schema.index_of("name")?, schema.index_of("value")?];
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(8192)
        .build()?;
    // The reader yields the projected columns in file order; the kernel takes (name, value).
    let projected = reader.schema();
    let order = [projected.index_of("name")?, projected.index_of("value")?];
    let mut groups = kernel::Groups::default();
    for batch in reader {
        kernel::aggregate(&batch?.project(&order)?, threshold, &mut groups);
    }
    let result = kernel::result(&groups)?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer =
        ArrowWriter::try_new(File::create(output)?, result.schema(), Some(properties))?;
    writer.write(&result)?;
    writer.close()?;
    Ok(())
}
