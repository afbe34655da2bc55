//! A client of FlyteAdmin for flytekit-rs: register what `package` serializes, launch and
//! watch executions, read their outputs, relaunch, terminate and signal them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use flytekit_remote::{PlatformConfig, Remote};
//! let remote = Remote::new(PlatformConfig::load(None)?)?; // ~/.flyte/config.yaml, FLYTE_* env
//! let uploaded = remote
//!     .upload_file("flytesnacks", "development", "fast.tar.gz".as_ref())
//!     .await?;
//! println!("bundle at {}", uploaded.native_url);
//! # Ok(()) }
//! ```
//!
//! * [`config`]: the settings flytectl and pyflyte read (`~/.flyte/config.yaml`,
//!   `FLYTECTL_CONFIG`, `FLYTE_PLATFORM_URL`, ...), each remembering where it came from.
//! * [`Remote`]: the gRPC connection (tonic over the hand-written messages of `flytekit-idl`,
//!   TLS by rustls) and one method per call of AdminService, DataProxyService,
//!   AuthMetadataService and SignalService that this client uses.
//! * [`auth`]: tokens as flytekit gets them, discovered through `AuthMetadataService`.
//! * [`register`]: registration of serialized entities; [`upload`]: files through signed URLs;
//!   [`execution`]: launching and following executions.
//!
//! The crate knows nothing of tasks and workflows as Rust values: it takes serialized entities
//! and literals, so the SDK's CLI (`register`, `run --remote`, `execution`) sits on top of it.

#![warn(missing_docs)]

pub mod auth;
mod client;
pub mod config;
mod error;
pub mod execution;
pub mod register;
mod services;
mod transport;
pub mod upload;

pub use client::Remote;
pub use config::{AuthMode, PlatformConfig, Setting};
pub use error::RemoteError;
pub use execution::{Outputs, WatchEvent};
pub use register::{Entity, Outcome, RegisterError, Registered, RegistrationReport};
pub use upload::Uploaded;
