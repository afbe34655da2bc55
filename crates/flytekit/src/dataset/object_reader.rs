//! Parquet's async reader over an object in a [`Storage`]: the footer by one suffix range
//! request, column chunks by range requests (`object_store` coalesces nearby ranges).
//!
//! Store failures are classified by the storage (missing object, bucket, credentials, network)
//! and travel inside Parquet's error as a [`StorageError`], so the reader can report them as
//! storage failures rather than as damaged data.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::{AsyncFileReader, MetadataSuffixFetch};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::storage::{Storage, StorageError};

/// One object, read by range.
#[derive(Clone)]
pub(crate) struct ObjectReader {
    storage: Storage,
    uri: Arc<str>,
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
}

impl ObjectReader {
    /// A reader of the object at `uri`.
    pub(crate) fn new(storage: &Storage, uri: &str) -> Result<Self, StorageError> {
        let (store, path) = storage.object_store(uri)?;
        Ok(Self {
            storage: storage.clone(),
            uri: uri.into(),
            store,
            path,
        })
    }

    fn failed(&self, source: object_store::Error) -> ParquetError {
        ParquetError::External(Box::new(
            self.storage.store_error(&self.uri, "read", source),
        ))
    }
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(|e| self.failed(e))
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(|e| self.failed(e))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let reader = ParquetMetaDataReader::new()
                .with_metadata_options(options.map(|o| o.metadata_options().clone()))
                // One request usually holds the whole footer.
                .with_prefetch_hint(Some(64 * 1024));
            Ok(Arc::new(reader.load_via_suffix_and_finish(self).await?))
        }
        .boxed()
    }
}

impl MetadataSuffixFetch for &mut ObjectReader {
    fn fetch_suffix(&mut self, suffix: usize) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            let options = GetOptions {
                range: Some(GetRange::Suffix(suffix as u64)),
                ..Default::default()
            };
            let result = self
                .store
                .get_opts(&self.path, options)
                .await
                .map_err(|e| self.failed(e))?;
            result.bytes().await.map_err(|e| self.failed(e))
        }
        .boxed()
    }
}
