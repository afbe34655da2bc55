//! Compute resources of a task: Kubernetes quantities for requests and limits, validated when the
//! task is defined (flytekit defers that to registration; a typo should fail at once).

use std::sync::LazyLock;

use flytekit_idl::core::{self, resources::ResourceName};
use regex::Regex;

use super::ConfigError;

/// One resource value: a request alone, or a `(request, limit)` pair (only meaningful in
/// [`TaskBuilder::resources`](super::TaskBuilder::resources), like flytekit's `resources=`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// A single quantity, e.g. `"500m"` or `"2Gi"`.
    One(String),
    /// A request and a limit, e.g. `("1", "2")`.
    Pair(String, String),
}

impl From<&str> for Quantity {
    fn from(v: &str) -> Self {
        Quantity::One(v.to_string())
    }
}

impl From<String> for Quantity {
    fn from(v: String) -> Self {
        Quantity::One(v)
    }
}

impl From<u32> for Quantity {
    fn from(v: u32) -> Self {
        Quantity::One(v.to_string())
    }
}

impl From<(&str, &str)> for Quantity {
    fn from((r, l): (&str, &str)) -> Self {
        Quantity::Pair(r.to_string(), l.to_string())
    }
}

impl From<(String, String)> for Quantity {
    fn from((r, l): (String, String)) -> Self {
        Quantity::Pair(r, l)
    }
}

/// CPU, memory, GPU and ephemeral storage quantities (flytekit's `Resources`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU cores, e.g. `"500m"`, `"2"`.
    pub cpu: Option<Quantity>,
    /// Memory, e.g. `"512Mi"`, `"4Gi"`.
    pub mem: Option<Quantity>,
    /// GPUs, e.g. `"1"`.
    pub gpu: Option<Quantity>,
    /// Ephemeral storage, e.g. `"10Gi"`.
    pub ephemeral_storage: Option<Quantity>,
}

impl Resources {
    /// No resources set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the CPU quantity.
    pub fn cpu(mut self, q: impl Into<Quantity>) -> Self {
        self.cpu = Some(q.into());
        self
    }

    /// Sets the memory quantity.
    pub fn mem(mut self, q: impl Into<Quantity>) -> Self {
        self.mem = Some(q.into());
        self
    }

    /// Sets the GPU quantity.
    pub fn gpu(mut self, q: impl Into<Quantity>) -> Self {
        self.gpu = Some(q.into());
        self
    }

    /// Sets the ephemeral storage quantity.
    pub fn ephemeral_storage(mut self, q: impl Into<Quantity>) -> Self {
        self.ephemeral_storage = Some(q.into());
        self
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self == &Resources::default()
    }

    /// The fields in flytekit's entry order: ephemeral storage, CPU, GPU, memory.
    fn fields(&self) -> [(ResourceName, &'static str, &Option<Quantity>); 4] {
        [
            (
                ResourceName::EphemeralStorage,
                "ephemeral_storage",
                &self.ephemeral_storage,
            ),
            (ResourceName::Cpu, "cpu", &self.cpu),
            (ResourceName::Gpu, "gpu", &self.gpu),
            (ResourceName::Memory, "mem", &self.mem),
        ]
    }
}

/// Requests and limits of a task, validated (flytekit's `ResourceSpec`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceSpec {
    /// Requested quantities, in flytekit's order.
    pub requests: Vec<(ResourceName, String)>,
    /// Limits, in flytekit's order.
    pub limits: Vec<(ResourceName, String)>,
}

impl ResourceSpec {
    /// From separate requests and limits; a pair inside either is an error (as in flytekit).
    pub fn from_requests_limits(
        requests: &Resources,
        limits: &Resources,
    ) -> Result<Self, ConfigError> {
        let side = |r: &Resources,
                    which: &str|
         -> Result<Vec<(ResourceName, String)>, ConfigError> {
            let mut out = Vec::new();
            for (name, field, q) in r.fields() {
                match q {
                    None => {}
                    Some(Quantity::One(v)) => {
                        validate_quantity(field, v)?;
                        out.push((name, v.clone()));
                    }
                    Some(Quantity::Pair(a, b)) => {
                        return Err(ConfigError::Resources(format!(
                            "{which}.{field} = (\"{a}\", \"{b}\"): a request/limit pair is only \
                             accepted in `resources`; in `{which}` give a single quantity"
                        )));
                    }
                }
            }
            Ok(out)
        };
        Ok(Self {
            requests: side(requests, "requests")?,
            limits: side(limits, "limits")?,
        })
    }

    /// From `resources`: a pair sets request and limit, a single value **only the request**
    /// (what flytekit does, whatever its docstring says).
    pub fn from_pairs(resources: &Resources) -> Result<Self, ConfigError> {
        let mut spec = ResourceSpec::default();
        for (name, field, q) in resources.fields() {
            match q {
                None => {}
                Some(Quantity::One(v)) => {
                    validate_quantity(field, v)?;
                    spec.requests.push((name, v.clone()));
                }
                Some(Quantity::Pair(r, l)) => {
                    validate_quantity(field, r)?;
                    validate_quantity(field, l)?;
                    spec.requests.push((name, r.clone()));
                    spec.limits.push((name, l.clone()));
                }
            }
        }
        Ok(spec)
    }

    /// Whether neither requests nor limits are set.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty() && self.limits.is_empty()
    }

    /// The IDL `Resources` of a container.
    pub fn to_idl(&self) -> core::Resources {
        let entries = |v: &[(ResourceName, String)]| {
            v.iter()
                .map(|(n, q)| core::resources::ResourceEntry {
                    name: *n as i32,
                    value: q.clone(),
                })
                .collect()
        };
        core::Resources {
            requests: entries(&self.requests),
            limits: entries(&self.limits),
        }
    }
}

static QUANTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$",
    )
    .expect("static regex")
});

/// Checks that `value` is a non-negative Kubernetes quantity (`500m`, `2`, `1.5Gi`, `1e3`).
pub fn validate_quantity(field: &str, value: &str) -> Result<(), ConfigError> {
    if QUANTITY.is_match(value) {
        Ok(())
    } else {
        Err(ConfigError::Resources(format!(
            "{field} = \"{value}\" is not a Kubernetes quantity; write e.g. \"500m\" or \"2\" \
             for CPU, \"512Mi\" or \"4Gi\" for memory"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for ok in ["1", "500m", "2Gi", "1.5", ".5", "1e3", "10Ki", "+1"] {
            validate_quantity("cpu", ok).unwrap();
        }
        for bad in ["", "-1", "1GB", "one", "1 Gi", "1.2.3", "Gi"] {
            assert!(validate_quantity("cpu", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pairs_set_request_and_limit_single_values_only_the_request() {
        let spec = ResourceSpec::from_pairs(&Resources::new().cpu(("1", "2")).mem("1Gi")).unwrap();
        assert_eq!(
            spec.requests,
            vec![
                (ResourceName::Cpu, "1".into()),
                (ResourceName::Memory, "1Gi".into())
            ]
        );
        assert_eq!(spec.limits, vec![(ResourceName::Cpu, "2".into())]);
        assert!(
            ResourceSpec::from_requests_limits(
                &Resources::new().cpu(("1", "2")),
                &Resources::new()
            )
            .is_err()
        );
    }
}
