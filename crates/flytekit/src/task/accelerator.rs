//! GPU accelerators (flytekit's `flytekit.extras.accelerators`) and shared memory: the task's
//! extended resources.

use std::borrow::Cow;

use flytekit_idl::core::{self, gpu_accelerator::PartitionSizeValue};

/// A GPU device, optionally a MIG partition of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accelerator {
    device: Cow<'static, str>,
    partition: Partition,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Partition {
    Unset,
    Unpartitioned,
    Size(String),
}

impl Accelerator {
    /// Any device by its Kubernetes label value, e.g. `"nvidia-tesla-t4"`.
    pub const fn new(device: &'static str) -> Self {
        Self {
            device: Cow::Borrowed(device),
            partition: Partition::Unset,
        }
    }

    /// A device named at run time.
    pub fn device(device: impl Into<String>) -> Self {
        Self {
            device: Cow::Owned(device.into()),
            partition: Partition::Unset,
        }
    }

    /// The whole device, explicitly unpartitioned (`A100.unpartitioned`).
    pub fn unpartitioned(mut self) -> Self {
        self.partition = Partition::Unpartitioned;
        self
    }

    /// A MIG partition, e.g. `"1g.5gb"` or `"2g.10gb"` (`A100.partition_2g_10gb`).
    pub fn partition(mut self, size: impl Into<String>) -> Self {
        self.partition = Partition::Size(size.into());
        self
    }

    /// The IDL form.
    pub fn to_idl(&self) -> core::GpuAccelerator {
        core::GpuAccelerator {
            device: self.device.to_string(),
            partition_size_value: match &self.partition {
                Partition::Unset => None,
                Partition::Unpartitioned => Some(PartitionSizeValue::Unpartitioned(true)),
                Partition::Size(s) => Some(PartitionSizeValue::PartitionSize(s.clone())),
            },
        }
    }
}

/// NVIDIA T4.
pub const T4: Accelerator = Accelerator::new("nvidia-tesla-t4");
/// NVIDIA A10G.
pub const A10G: Accelerator = Accelerator::new("nvidia-a10g");
/// NVIDIA L4.
pub const L4: Accelerator = Accelerator::new("nvidia-l4");
/// NVIDIA A100 (40 GB); partition with [`Accelerator::partition`].
pub const A100: Accelerator = Accelerator::new("nvidia-tesla-a100");
/// NVIDIA A100 80 GB.
pub const A100_80GB: Accelerator = Accelerator::new("nvidia-a100-80gb");
/// NVIDIA H100.
pub const H100: Accelerator = Accelerator::new("nvidia-h100");
/// NVIDIA H200.
pub const H200: Accelerator = Accelerator::new("nvidia-h200");

/// Shared memory mounted at `/dev/shm`: unbounded, or limited to a size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SharedMemory {
    /// `shared_memory=True`: no size limit.
    Unlimited,
    /// A size limit, a Kubernetes quantity such as `"2Gi"`.
    Limit(String),
}

impl SharedMemory {
    /// The IDL form, with flytekit's mount name and path.
    pub fn to_idl(&self) -> core::SharedMemory {
        core::SharedMemory {
            mount_path: "/dev/shm".into(),
            mount_name: "flyte-shared-memory".into(),
            size_limit: match self {
                SharedMemory::Unlimited => String::new(),
                SharedMemory::Limit(s) => s.clone(),
            },
        }
    }
}
