//! Serde helpers that write a `std::time::Duration` struct field the way flytekit's mashumaro
//! writes a `timedelta` dataclass field: a float number of seconds.
//!
//! Reading rounds to the microsecond, the resolution of Python's `timedelta` (a float number of
//! seconds does not hold nanoseconds exactly).
//!
//! ```
//! use std::time::Duration;
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Job {
//!     #[serde(with = "flytekit::type_engine::serde_duration")]
//!     timeout: Duration,
//!     #[serde(with = "flytekit::type_engine::serde_duration::option", default)]
//!     grace: Option<Duration>,
//! }
//! ```

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// Serializes as seconds (`f64`).
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Deserializes from seconds (an integer or a float); negative or non-finite values are errors.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    from_secs::<D::Error>(f64::deserialize(d)?)
}

/// Seconds to a duration, rounded to the microsecond.
fn from_secs<E: serde::de::Error>(secs: f64) -> Result<Duration, E> {
    let micros = (secs * 1e6).round();
    if !micros.is_finite() || micros < 0.0 || micros >= u64::MAX as f64 {
        return Err(E::custom(format!(
            "duration of {secs} seconds cannot be a std::time::Duration (it must be finite and non-negative)"
        )));
    }
    // In range per the check above.
    Ok(Duration::from_micros(micros as u64))
}

/// The same for `Option<Duration>` (`None` is `null`/`nil`).
pub mod option {
    use super::*;

    /// Serializes `Some` as seconds (`f64`) and `None` as null.
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    /// Deserializes from seconds or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<f64>::deserialize(d)? {
            None => Ok(None),
            Some(secs) => from_secs(secs).map(Some),
        }
    }
}
