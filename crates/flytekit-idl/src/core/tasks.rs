//! `flyteidl/core/tasks.proto`: task templates and what they run on (containers, pods, SQL,
//! resources).

use super::{Identifier, KeyValuePair, RetryStrategy, SecurityContext, TypedInterface};

/// Compute resources requested by and limited for a container.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Resources {
    /// Minimum resources the container is scheduled with.
    #[prost(message, repeated, tag = "1")]
    pub requests: Vec<resources::ResourceEntry>,
    /// Maximum resources the container may use.
    #[prost(message, repeated, tag = "2")]
    pub limits: Vec<resources::ResourceEntry>,
}
/// Nested types of [`Resources`].
pub mod resources {
    /// One resource quantity, e.g. `cpu` = `500m`.
    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct ResourceEntry {
        /// Which resource.
        #[prost(enumeration = "ResourceName", tag = "1")]
        pub name: i32,
        /// Quantity in Kubernetes notation, e.g. `2`, `500m`, `4Gi`.
        #[prost(string, tag = "2")]
        pub value: String,
    }

    /// The resource kinds a task can ask for.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum ResourceName {
        /// Not set.
        Unknown = 0,
        /// CPU cores.
        Cpu = 1,
        /// GPU devices.
        Gpu = 2,
        /// Memory.
        Memory = 3,
        /// Persistent storage.
        Storage = 4,
        /// Node-local scratch storage.
        EphemeralStorage = 5,
    }
    impl ResourceName {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Unknown => "UNKNOWN",
                Self::Cpu => "CPU",
                Self::Gpu => "GPU",
                Self::Memory => "MEMORY",
                Self::Storage => "STORAGE",
                Self::EphemeralStorage => "EPHEMERAL_STORAGE",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNKNOWN" => Some(Self::Unknown),
                "CPU" => Some(Self::Cpu),
                "GPU" => Some(Self::Gpu),
                "MEMORY" => Some(Self::Memory),
                "STORAGE" => Some(Self::Storage),
                "EPHEMERAL_STORAGE" => Some(Self::EphemeralStorage),
                _ => None,
            }
        }
    }
}

/// Which GPU model (and which slice of it) a task needs.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct GpuAccelerator {
    /// Accelerator type, e.g. `nvidia-tesla-a100`.
    #[prost(string, tag = "1")]
    pub device: String,
    /// Whether to use a whole GPU or a partition; unset leaves it to the platform.
    #[prost(oneof = "gpu_accelerator::PartitionSizeValue", tags = "2, 3")]
    pub partition_size_value: Option<gpu_accelerator::PartitionSizeValue>,
}
/// Nested types of [`GpuAccelerator`].
pub mod gpu_accelerator {
    /// Whether to use a whole GPU or a partition; unset leaves it to the platform.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum PartitionSizeValue {
        /// Request a whole, unpartitioned GPU.
        #[prost(bool, tag = "2")]
        Unpartitioned(bool),
        /// Request a GPU partition of this size, e.g. the MIG profile `1g.5gb`.
        #[prost(string, tag = "3")]
        PartitionSize(String),
    }
}

/// A shared-memory (`/dev/shm`-like) volume mounted into the task's pod.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SharedMemory {
    /// Path the volume is mounted at.
    #[prost(string, tag = "1")]
    pub mount_path: String,
    /// Name of the volume.
    #[prost(string, tag = "2")]
    pub mount_name: String,
    /// Size limit in Kubernetes quantity notation; empty means no limit.
    #[prost(string, tag = "3")]
    pub size_limit: String,
}

/// Resources beyond CPU and memory: GPU accelerators and shared memory.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExtendedResources {
    /// GPU type and partitioning.
    #[prost(message, optional, tag = "1")]
    pub gpu_accelerator: Option<GpuAccelerator>,
    /// Shared-memory volume.
    #[prost(message, optional, tag = "2")]
    pub shared_memory: Option<SharedMemory>,
}

/// Which SDK (and version) produced a task.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct RuntimeMetadata {
    /// Kind of runtime.
    #[prost(enumeration = "runtime_metadata::RuntimeType", tag = "1")]
    pub r#type: i32,
    /// Version of the SDK, e.g. `1.16.0`.
    #[prost(string, tag = "2")]
    pub version: String,
    /// Language or flavor of the SDK, e.g. `python`.
    #[prost(string, tag = "3")]
    pub flavor: String,
}
/// Nested types of [`RuntimeMetadata`].
pub mod runtime_metadata {
    /// Kind of runtime that produced a task.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum RuntimeType {
        /// Anything else.
        Other = 0,
        /// A Flyte SDK (flytekit or compatible).
        FlyteSdk = 1,
    }
    impl RuntimeType {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Other => "OTHER",
                Self::FlyteSdk => "FLYTE_SDK",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "OTHER" => Some(Self::Other),
                "FLYTE_SDK" => Some(Self::FlyteSdk),
                _ => None,
            }
        }
    }
}

/// Execution settings of a task: caching, retries, timeout, interruptibility, tags.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskMetadata {
    /// Whether outputs are cached and looked up in the cache ("discovery").
    #[prost(bool, tag = "1")]
    pub discoverable: bool,
    /// SDK that created the task.
    #[prost(message, optional, tag = "2")]
    pub runtime: Option<RuntimeMetadata>,
    /// Maximum duration of one attempt; unset or zero means no timeout.
    #[prost(message, optional, tag = "4")]
    pub timeout: Option<::prost_types::Duration>,
    /// Retry policy for failures.
    #[prost(message, optional, tag = "5")]
    pub retries: Option<RetryStrategy>,
    /// Cache version; bumping it invalidates cached outputs.
    #[prost(string, tag = "6")]
    pub discovery_version: String,
    /// If non-empty, the task is deprecated and this message is shown to users.
    #[prost(string, tag = "7")]
    pub deprecated_error_message: String,
    /// Serialize concurrent executions with the same cache key so only one computes the result.
    #[prost(bool, tag = "9")]
    pub cache_serializable: bool,
    /// Arbitrary string tags.
    #[prost(btree_map = "string, string", tag = "11")]
    pub tags: ::std::collections::BTreeMap<String, String>,
    /// Name of a `PodTemplate` resource to base the task's pod on.
    #[prost(string, tag = "12")]
    pub pod_template_name: String,
    /// Input names left out when computing the cache key.
    #[prost(string, repeated, tag = "13")]
    pub cache_ignore_input_vars: Vec<String>,
    /// Whether this is an eager (async, driver-style) task.
    #[prost(bool, tag = "14")]
    pub is_eager: bool,
    /// Whether the task writes a Flyte Deck; `None` when the SDK did not say.
    #[prost(message, optional, tag = "15")]
    pub generates_deck: Option<bool>,
    /// Labels and annotations to add to the task's Kubernetes resources.
    #[prost(message, optional, tag = "16")]
    pub metadata: Option<K8sObjectMetadata>,
    /// Interruptibility; unset leaves it to the workflow or platform default.
    #[prost(oneof = "task_metadata::InterruptibleValue", tags = "8")]
    pub interruptible_value: Option<task_metadata::InterruptibleValue>,
}
/// Nested types of [`TaskMetadata`].
pub mod task_metadata {
    /// Interruptibility; unset leaves it to the workflow or platform default.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum InterruptibleValue {
        /// Whether the task may run on interruptible (spot/preemptible) capacity.
        #[prost(bool, tag = "8")]
        Interruptible(bool),
    }
}

/// The full, registrable definition of a task: identity, interface, settings and what to run.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskTemplate {
    /// Registered id of the task.
    #[prost(message, optional, tag = "1")]
    pub id: Option<Identifier>,
    /// Task type, which selects the backend plugin (e.g. `python-task`, `sidecar`, `spark`).
    #[prost(string, tag = "2")]
    pub r#type: String,
    /// Execution settings (caching, retries, timeout, ...).
    #[prost(message, optional, tag = "3")]
    pub metadata: Option<TaskMetadata>,
    /// Typed inputs and outputs.
    #[prost(message, optional, tag = "4")]
    pub interface: Option<TypedInterface>,
    /// Plugin-specific configuration, interpreted by the plugin for `type`.
    #[prost(message, optional, tag = "5")]
    pub custom: Option<::prost_types::Struct>,
    /// Version of the plugin's `custom` format, so plugins can evolve it.
    #[prost(int32, tag = "7")]
    pub task_type_version: i32,
    /// Identity, secrets and tokens the task runs with.
    #[prost(message, optional, tag = "8")]
    pub security_context: Option<SecurityContext>,
    /// GPU accelerator and shared-memory settings.
    #[prost(message, optional, tag = "9")]
    pub extended_resources: Option<ExtendedResources>,
    /// Plugin configuration as plain key-value strings.
    #[prost(btree_map = "string, string", tag = "16")]
    pub config: ::std::collections::BTreeMap<String, String>,
    /// What the task runs; plugins that only call an external service set none.
    #[prost(oneof = "task_template::Target", tags = "6, 17, 18")]
    pub target: Option<task_template::Target>,
}
/// Nested types of [`TaskTemplate`].
pub mod task_template {
    /// What the task runs; plugins that only call an external service set none.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Target {
        /// A single container.
        #[prost(message, tag = "6")]
        Container(super::Container),
        /// A full Kubernetes pod spec.
        #[prost(message, tag = "17")]
        K8sPod(super::K8sPod),
        /// A SQL statement.
        #[prost(message, tag = "18")]
        Sql(super::Sql),
    }
}

/// A network port exposed by a container.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ContainerPort {
    /// Port number, 1 to 65535.
    #[prost(uint32, tag = "1")]
    pub container_port: u32,
    /// Optional port name.
    #[prost(string, tag = "2")]
    pub name: String,
}

/// A container to run: image, command line, environment and resources.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Container {
    /// Image reference, e.g. `ghcr.io/org/app:tag`.
    #[prost(string, tag = "1")]
    pub image: String,
    /// Entrypoint override; may contain input/output placeholders.
    #[prost(string, repeated, tag = "2")]
    pub command: Vec<String>,
    /// Arguments; may contain placeholders such as `{{.inputs.x}}` and `{{.outputPrefix}}`.
    #[prost(string, repeated, tag = "3")]
    pub args: Vec<String>,
    /// CPU, memory and GPU requests and limits.
    #[prost(message, optional, tag = "4")]
    pub resources: Option<Resources>,
    /// Environment variables.
    #[prost(message, repeated, tag = "5")]
    pub env: Vec<KeyValuePair>,
    /// Deprecated: use [`TaskTemplate::config`] instead.
    #[deprecated]
    #[prost(message, repeated, tag = "6")]
    pub config: Vec<KeyValuePair>,
    /// Ports to expose.
    #[prost(message, repeated, tag = "7")]
    pub ports: Vec<ContainerPort>,
    /// How inputs and outputs are passed to the container (for containers that do not use the SDK).
    #[prost(message, optional, tag = "9")]
    pub data_config: Option<DataLoadingConfig>,
    /// CPU architecture the image is built for.
    #[prost(enumeration = "container::Architecture", tag = "10")]
    pub architecture: i32,
}
/// Nested types of [`Container`].
pub mod container {
    /// CPU architectures a container image can target.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Architecture {
        /// Not set.
        Unknown = 0,
        /// x86-64.
        Amd64 = 1,
        /// 64-bit ARM.
        Arm64 = 2,
        /// 32-bit ARMv6.
        ArmV6 = 3,
        /// 32-bit ARMv7.
        ArmV7 = 4,
    }
    impl Architecture {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Unknown => "UNKNOWN",
                Self::Amd64 => "AMD64",
                Self::Arm64 => "ARM64",
                Self::ArmV6 => "ARM_V6",
                Self::ArmV7 => "ARM_V7",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNKNOWN" => Some(Self::Unknown),
                "AMD64" => Some(Self::Amd64),
                "ARM64" => Some(Self::Arm64),
                "ARM_V6" => Some(Self::ArmV6),
                "ARM_V7" => Some(Self::ArmV7),
                _ => None,
            }
        }
    }
}

/// When inputs are downloaded and outputs uploaded for a raw container.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct IoStrategy {
    /// How inputs are fetched.
    #[prost(enumeration = "io_strategy::DownloadMode", tag = "1")]
    pub download_mode: i32,
    /// How outputs are stored.
    #[prost(enumeration = "io_strategy::UploadMode", tag = "2")]
    pub upload_mode: i32,
}
/// Nested types of [`IoStrategy`].
pub mod io_strategy {
    /// Input download behavior.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum DownloadMode {
        /// Download all inputs before the container starts.
        DownloadEager = 0,
        /// Stream inputs as the container reads them.
        DownloadStream = 1,
        /// Do not download; the container fetches inputs itself.
        DoNotDownload = 2,
    }
    impl DownloadMode {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::DownloadEager => "DOWNLOAD_EAGER",
                Self::DownloadStream => "DOWNLOAD_STREAM",
                Self::DoNotDownload => "DO_NOT_DOWNLOAD",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "DOWNLOAD_EAGER" => Some(Self::DownloadEager),
                "DOWNLOAD_STREAM" => Some(Self::DownloadStream),
                "DO_NOT_DOWNLOAD" => Some(Self::DoNotDownload),
                _ => None,
            }
        }
    }

    /// Output upload behavior.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum UploadMode {
        /// Upload all outputs when the container exits.
        UploadOnExit = 0,
        /// Upload outputs as soon as they are written.
        UploadEager = 1,
        /// Do not upload; the container stores outputs itself.
        DoNotUpload = 2,
    }
    impl UploadMode {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::UploadOnExit => "UPLOAD_ON_EXIT",
                Self::UploadEager => "UPLOAD_EAGER",
                Self::DoNotUpload => "DO_NOT_UPLOAD",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UPLOAD_ON_EXIT" => Some(Self::UploadOnExit),
                "UPLOAD_EAGER" => Some(Self::UploadEager),
                "DO_NOT_UPLOAD" => Some(Self::DoNotUpload),
                _ => None,
            }
        }
    }
}

/// Makes Flyte copy inputs into and outputs out of a container that does not use an SDK.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct DataLoadingConfig {
    /// Turns the data loading on.
    #[prost(bool, tag = "1")]
    pub enabled: bool,
    /// Directory in the container where inputs are written.
    #[prost(string, tag = "2")]
    pub input_path: String,
    /// Directory in the container where outputs are expected.
    #[prost(string, tag = "3")]
    pub output_path: String,
    /// Serialization of the inputs and outputs metadata files.
    #[prost(enumeration = "data_loading_config::LiteralMapFormat", tag = "4")]
    pub format: i32,
    /// When to download and upload.
    #[prost(message, optional, tag = "5")]
    pub io_strategy: Option<IoStrategy>,
}
/// Nested types of [`DataLoadingConfig`].
pub mod data_loading_config {
    /// File formats for a serialized [`LiteralMap`](crate::core::LiteralMap).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum LiteralMapFormat {
        /// JSON.
        Json = 0,
        /// YAML.
        Yaml = 1,
        /// Protobuf binary.
        Proto = 2,
    }
    impl LiteralMapFormat {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Json => "JSON",
                Self::Yaml => "YAML",
                Self::Proto => "PROTO",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "JSON" => Some(Self::Json),
                "YAML" => Some(Self::Yaml),
                "PROTO" => Some(Self::Proto),
                _ => None,
            }
        }
    }
}

/// A task target given as a full Kubernetes pod spec (e.g. for sidecar tasks).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct K8sPod {
    /// Labels and annotations for the pod.
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<K8sObjectMetadata>,
    /// The `PodSpec`, as the JSON structure of the Kubernetes API.
    #[prost(message, optional, tag = "2")]
    pub pod_spec: Option<::prost_types::Struct>,
    /// Data loading for containers that do not use an SDK.
    #[prost(message, optional, tag = "3")]
    pub data_config: Option<DataLoadingConfig>,
    /// Name of the container whose completion decides the task's outcome.
    #[prost(string, tag = "4")]
    pub primary_container_name: String,
}

/// Labels and annotations for a Kubernetes object.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct K8sObjectMetadata {
    /// Kubernetes labels.
    #[prost(btree_map = "string, string", tag = "1")]
    pub labels: ::std::collections::BTreeMap<String, String>,
    /// Kubernetes annotations.
    #[prost(btree_map = "string, string", tag = "2")]
    pub annotations: ::std::collections::BTreeMap<String, String>,
}

/// A task target given as a SQL statement.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Sql {
    /// The query; may contain input placeholders.
    #[prost(string, tag = "1")]
    pub statement: String,
    /// SQL dialect of `statement`.
    #[prost(enumeration = "sql::Dialect", tag = "2")]
    pub dialect: i32,
}
/// Nested types of [`Sql`].
pub mod sql {
    /// Supported SQL dialects.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Dialect {
        /// Not set.
        Undefined = 0,
        /// ANSI SQL.
        Ansi = 1,
        /// HiveQL.
        Hive = 2,
        /// Another dialect, known to the plugin.
        Other = 3,
    }
    impl Dialect {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Undefined => "UNDEFINED",
                Self::Ansi => "ANSI",
                Self::Hive => "HIVE",
                Self::Other => "OTHER",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNDEFINED" => Some(Self::Undefined),
                "ANSI" => Some(Self::Ansi),
                "HIVE" => Some(Self::Hive),
                "OTHER" => Some(Self::Other),
                _ => None,
            }
        }
    }
}

impl_name! {
    Resources => "Resources",
    resources::ResourceEntry => "Resources.ResourceEntry",
    GpuAccelerator => "GPUAccelerator",
    SharedMemory => "SharedMemory",
    ExtendedResources => "ExtendedResources",
    RuntimeMetadata => "RuntimeMetadata",
    TaskMetadata => "TaskMetadata",
    TaskTemplate => "TaskTemplate",
    ContainerPort => "ContainerPort",
    Container => "Container",
    IoStrategy => "IOStrategy",
    DataLoadingConfig => "DataLoadingConfig",
    K8sPod => "K8sPod",
    K8sObjectMetadata => "K8sObjectMetadata",
    Sql => "Sql",
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn hex(s: &str) -> Result<Vec<u8>, std::num::ParseIntError> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16))
            .collect()
    }

    #[test]
    fn generates_deck_is_bool_value_field_15() {
        let md = TaskMetadata {
            generates_deck: Some(true),
            ..Default::default()
        };
        // Key (15 << 3 | 2), length 2, then the BoolValue's own field 1 = true.
        assert_eq!(md.encode_to_vec(), vec![0x7a, 0x02, 0x08, 0x01]);
        // An explicit  is still sent, unlike a plain bool.
        let md = TaskMetadata {
            generates_deck: Some(false),
            ..Default::default()
        };
        assert_eq!(md.encode_to_vec(), vec![0x7a, 0x00]);
    }

    #[test]
    fn extended_resources_and_pod_fields() {
        let ext = ExtendedResources {
            shared_memory: Some(SharedMemory {
                mount_path: "/dev/shm".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(ext.encode_to_vec().first(), Some(&((2 << 3) | 2)));
        let pod = K8sPod {
            primary_container_name: "main".to_owned(),
            ..Default::default()
        };
        assert_eq!(pod.encode_to_vec(), b"\x22\x04main".to_vec());
    }

    /// A `TaskTemplate` with most fields set, serialized by the Python `flyteidl` package. Every
    /// map has a single entry so that re-encoding is byte-for-byte deterministic.
    const PYTHON_TASK: &str = "0a340801120b666c797465736e61636b731a0b646576656c6f706d656e74220c77662e7361795f68656c6c6f2a027631320461636d65120b707974686f6e2d7461736b1a4f0801121208011206312e31362e381a06707974686f6e220308d8042a0228033203312e30400148015a0a0a047465616d12026d6c6204746d706c6a01616a01627a0208018201080a060a016c12017622240a0b0a090a017812040a02080112150a130a026f30120d0a0b1a0922072a050a036373762a0a0a080a016b12031a017632620a05696d673a31120f7079666c7974652d657865637574651a082d2d696e707574731a0a7b7b2e696e7075747d7d22130a08080112043530306d1207080312033147692a060a01411201313a0908903f1204687474704a08080120022a02100150023802421b0a041202736112130a01671a016b20012a094d595f5345435245544a2e0a1b0a116e76696469612d7465736c612d613130301a0631672e356762120f0a082f6465762f73686d1a033247698201060a0163120164";

    #[test]
    fn decodes_python_task_template_and_reencodes_identically()
    -> Result<(), Box<dyn std::error::Error>> {
        let bytes = hex(PYTHON_TASK)?;
        let task = TaskTemplate::decode(bytes.as_slice())?;
        assert_eq!(task.r#type, "python-task");
        let md = task.metadata.as_ref().ok_or("metadata missing")?;
        assert_eq!(md.generates_deck, Some(true));
        assert_eq!(
            md.interruptible_value,
            Some(task_metadata::InterruptibleValue::Interruptible(true))
        );
        assert_eq!(md.cache_ignore_input_vars, vec!["a", "b"]);
        let Some(task_template::Target::Container(container)) = &task.target else {
            panic!("expected a container target");
        };
        assert_eq!(container.architecture(), container::Architecture::Arm64);
        let ext = task
            .extended_resources
            .as_ref()
            .ok_or("extended resources missing")?;
        assert_eq!(
            ext.shared_memory.as_ref().map(|s| s.size_limit.as_str()),
            Some("2Gi")
        );
        let secret = &task
            .security_context
            .as_ref()
            .ok_or("security context missing")?
            .secrets[0];
        assert_eq!(secret.env_var, "MY_SECRET");
        assert_eq!(task.encode_to_vec(), bytes);
        Ok(())
    }
}
