//! `flyteidl.service`: the request and response messages of FlyteAdmin's service-specific APIs.
//!
//! The messages of `auth.proto` (OAuth2 discovery through `AuthMetadataService`) and
//! `dataproxy.proto` (signed upload and download URLs through `DataProxyService`). The admin and
//! signal services take their messages from [`crate::admin`]. One submodule per `.proto` file,
//! re-exported flat here.

/// Implements [`prost::Name`] for `flyteidl.service` messages.
macro_rules! impl_name {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(
            impl ::prost::Name for $ty {
                const NAME: &'static str = $name;
                const PACKAGE: &'static str = "flyteidl.service";
                fn full_name() -> String {
                    concat!("flyteidl.service.", $name).into()
                }
                fn type_url() -> String {
                    concat!("/flyteidl.service.", $name).into()
                }
            }
        )*
    };
}

mod auth;
mod dataproxy;

pub use auth::*;
pub use dataproxy::*;
