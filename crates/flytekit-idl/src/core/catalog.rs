//! `flyteidl/core/catalog.proto`: cache (data catalog) status and metadata of task outputs.

use super::{Identifier, TaskExecutionIdentifier};

/// Result of the cache lookup or write for a task execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum CatalogCacheStatus {
    /// Caching is off for the task.
    CacheDisabled = 0,
    /// No cached outputs were found.
    CacheMiss = 1,
    /// Cached outputs were found and used.
    CacheHit = 2,
    /// The outputs were written to the cache.
    CachePopulated = 3,
    /// The cache lookup failed.
    CacheLookupFailure = 4,
    /// Writing to the cache failed.
    CachePutFailure = 5,
    /// The cache was bypassed, e.g. because caching was overridden.
    CacheSkipped = 6,
    /// The cache entry was evicted.
    CacheEvicted = 7,
}
impl CatalogCacheStatus {
    /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::CacheDisabled => "CACHE_DISABLED",
            Self::CacheMiss => "CACHE_MISS",
            Self::CacheHit => "CACHE_HIT",
            Self::CachePopulated => "CACHE_POPULATED",
            Self::CacheLookupFailure => "CACHE_LOOKUP_FAILURE",
            Self::CachePutFailure => "CACHE_PUT_FAILURE",
            Self::CacheSkipped => "CACHE_SKIPPED",
            Self::CacheEvicted => "CACHE_EVICTED",
        }
    }
    /// Parses a value from its `.proto` name; `None` if the name is unknown.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "CACHE_DISABLED" => Some(Self::CacheDisabled),
            "CACHE_MISS" => Some(Self::CacheMiss),
            "CACHE_HIT" => Some(Self::CacheHit),
            "CACHE_POPULATED" => Some(Self::CachePopulated),
            "CACHE_LOOKUP_FAILURE" => Some(Self::CacheLookupFailure),
            "CACHE_PUT_FAILURE" => Some(Self::CachePutFailure),
            "CACHE_SKIPPED" => Some(Self::CacheSkipped),
            "CACHE_EVICTED" => Some(Self::CacheEvicted),
            _ => None,
        }
    }
}

/// Tag of a cached artifact in the data catalog.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CatalogArtifactTag {
    /// Id of the artifact.
    #[prost(string, tag = "1")]
    pub artifact_id: String,
    /// Tag name.
    #[prost(string, tag = "2")]
    pub name: String,
}

/// Where cached outputs came from.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CatalogMetadata {
    /// Id of the catalog dataset (the task's cache namespace).
    #[prost(message, optional, tag = "1")]
    pub dataset_id: Option<Identifier>,
    /// Tag of the artifact holding the outputs.
    #[prost(message, optional, tag = "2")]
    pub artifact_tag: Option<CatalogArtifactTag>,
    /// The execution that originally produced the outputs.
    #[prost(oneof = "catalog_metadata::SourceExecution", tags = "3")]
    pub source_execution: Option<catalog_metadata::SourceExecution>,
}
/// Nested types of [`CatalogMetadata`].
pub mod catalog_metadata {
    /// The execution that originally produced the outputs.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum SourceExecution {
        /// The task execution that produced the outputs.
        #[prost(message, tag = "3")]
        SourceTaskExecution(super::TaskExecutionIdentifier),
    }
}

/// Namespace for cache reservation statuses (used by cache serialization).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CatalogReservation {}
/// Nested types of [`CatalogReservation`].
pub mod catalog_reservation {
    /// Outcome of trying to reserve a cache key.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Status {
        /// Serialization is off; no reservation was made.
        ReservationDisabled = 0,
        /// This execution holds the reservation.
        ReservationAcquired = 1,
        /// Another execution holds the reservation.
        ReservationExists = 2,
        /// The reservation was released.
        ReservationReleased = 3,
        /// Reserving failed.
        ReservationFailure = 4,
    }
    impl Status {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::ReservationDisabled => "RESERVATION_DISABLED",
                Self::ReservationAcquired => "RESERVATION_ACQUIRED",
                Self::ReservationExists => "RESERVATION_EXISTS",
                Self::ReservationReleased => "RESERVATION_RELEASED",
                Self::ReservationFailure => "RESERVATION_FAILURE",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "RESERVATION_DISABLED" => Some(Self::ReservationDisabled),
                "RESERVATION_ACQUIRED" => Some(Self::ReservationAcquired),
                "RESERVATION_EXISTS" => Some(Self::ReservationExists),
                "RESERVATION_RELEASED" => Some(Self::ReservationReleased),
                "RESERVATION_FAILURE" => Some(Self::ReservationFailure),
                _ => None,
            }
        }
    }
}

impl_name! {
    CatalogArtifactTag => "CatalogArtifactTag",
    CatalogMetadata => "CatalogMetadata",
    CatalogReservation => "CatalogReservation",
}
