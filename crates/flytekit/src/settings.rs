//! Serialization settings (flytekit's `SerializationSettings`): what serializing a task or
//! workflow needs beyond the entity itself — project, domain, version, images, environment, the
//! binary's name and fast registration — and their transport to dynamic tasks in `_F_SS_C`.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::image::{BuildOutcome, ImageBuildEngine, ImageConfig, ImageError, ImageSpec};
use crate::task::ResourceSpec;

/// Fast registration: the code bundle travels beside the image (contract §4.7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FastSerializationSettings {
    /// Where the bundle is unpacked in the container (`{{ .dest_dir }}` when unset).
    pub destination_dir: Option<String>,
    /// The bundle's URI (`{{ .remote_package_path }}` when unset, filled by `flytectl`).
    pub distribution_location: Option<String>,
}

/// What serialization needs beyond the task itself (flytekit's `SerializationSettings`).
#[derive(Clone, Debug)]
pub struct SerializationSettings {
    /// Flyte project of the identifiers.
    pub project: String,
    /// Flyte domain of the identifiers.
    pub domain: String,
    /// Version of the identifiers.
    pub version: String,
    /// The images tasks may name.
    pub image_config: ImageConfig,
    /// Registration-wide environment, before each task's own.
    pub env: Vec<(String, String)>,
    /// The binary's name (or path) inside the container; the first container arg.
    pub binary: String,
    /// Fast registration, when enabled.
    pub fast: Option<FastSerializationSettings>,
    /// Resources for tasks that set none.
    pub default_resources: Option<ResourceSpec>,
    /// Where the payloads of instance tasks travel (inline, or offloaded to a payload store).
    pub payloads: PayloadSettings,
    /// Instance payloads placed explicitly for this registration (e.g. in an uploaded bundle).
    pub placements: PayloadPlacements,
}

impl Default for SerializationSettings {
    fn default() -> Self {
        Self {
            project: String::new(),
            domain: String::new(),
            version: String::new(),
            image_config: ImageConfig::default(),
            env: Vec::new(),
            binary: current_binary_name(),
            fast: None,
            default_resources: None,
            payloads: PayloadSettings::default(),
            placements: PayloadPlacements::default(),
        }
    }
}

impl SerializationSettings {
    /// Settings for `project`/`domain`/`version` with defaults elsewhere.
    pub fn new(
        project: impl Into<String>,
        domain: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Self {
            project: project.into(),
            domain: domain.into(),
            version: version.into(),
            ..Self::default()
        }
    }

    /// Sets the image config.
    pub fn with_image_config(mut self, cfg: ImageConfig) -> Self {
        self.image_config = cfg;
        self
    }

    /// Uses `image` as the default image.
    pub fn with_default_image(self, image: &str) -> Self {
        match ImageConfig::from_images(Some(image), []) {
            Ok(cfg) => self.with_image_config(cfg),
            Err(_) => self,
        }
    }

    /// Sets the binary name used in container args.
    pub fn with_binary(mut self, binary: impl Into<String>) -> Self {
        self.binary = binary.into();
        self
    }

    /// Enables fast registration.
    pub fn with_fast(mut self, fast: FastSerializationSettings) -> Self {
        self.fast = Some(fast);
        self
    }

    /// Sets where instance payloads travel.
    pub fn with_payloads(mut self, payloads: PayloadSettings) -> Self {
        self.payloads = payloads;
        self
    }
}

/// The default inline threshold: encoded instance payloads (base64 characters) up to this size
/// travel in the loader args; larger ones are offloaded in [`PayloadMode::Auto`].
pub const DEFAULT_INLINE_THRESHOLD: usize = 4 * 1024;

/// Where instance-task payloads travel (see `flytekit::instance`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PayloadMode {
    /// Inline up to the inline threshold, offloaded above it (needs an offload prefix).
    #[default]
    Auto,
    /// Always offloaded (needs an offload prefix).
    Offload,
    /// Always inline, like flytekit's `ExperimentalNaiveCloudPickleResolver`: every registration
    /// logs a warning, and payloads over the hard limit (`flytekit::instance::INLINE_HARD_LIMIT`)
    /// are refused. Opt in explicitly.
    Naive,
}

impl PayloadMode {
    /// `auto`, `offload` or `naive`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PayloadMode::Auto => "auto",
            PayloadMode::Offload => "offload",
            PayloadMode::Naive => "naive",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s names.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(PayloadMode::Auto),
            "offload" => Some(PayloadMode::Offload),
            "naive" => Some(PayloadMode::Naive),
            _ => None,
        }
    }
}

/// How instance payloads are placed: the mode, the inline threshold and the payload store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadSettings {
    /// The mode.
    pub mode: PayloadMode,
    /// Inline payloads up to this many base64 characters in [`PayloadMode::Auto`] (default
    /// [`DEFAULT_INLINE_THRESHOLD`]; values over the hard limit act as the hard limit).
    pub inline_threshold: usize,
    /// The payload store: where offloaded payloads are uploaded (`s3://bucket/prefix`,
    /// `gs://...`, a local path), each to `<prefix>/sha256-<hex>`.
    pub offload_prefix: Option<String>,
}

impl Default for PayloadSettings {
    fn default() -> Self {
        Self {
            mode: PayloadMode::Auto,
            inline_threshold: DEFAULT_INLINE_THRESHOLD,
            offload_prefix: None,
        }
    }
}

impl PayloadSettings {
    /// The defaults: [`PayloadMode::Auto`], 4 KiB threshold, no payload store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offloads payloads to `prefix` (each to `<prefix>/sha256-<hex>`).
    pub fn offload_to(mut self, prefix: impl Into<String>) -> Self {
        self.offload_prefix = Some(prefix.into());
        self
    }

    /// Sets the inline threshold (base64 characters).
    pub fn inline_threshold(mut self, bytes: usize) -> Self {
        self.inline_threshold = bytes;
        self
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: PayloadMode) -> Self {
        self.mode = mode;
        self
    }

    /// Always offload (needs [`offload_to`](Self::offload_to)).
    pub fn always_offload(self) -> Self {
        self.mode(PayloadMode::Offload)
    }

    /// The naive mode: everything inline, with a warning and a hard size limit.
    pub fn naive(self) -> Self {
        self.mode(PayloadMode::Naive)
    }
}

/// The resolver and loader args an instance payload was placed under explicitly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacedPayload {
    /// The `--resolver` location.
    pub resolver: String,
    /// The loader args.
    pub loader_args: Vec<String>,
}

/// Instance payloads placed explicitly for one registration or sandbox run — e.g. bundled, so
/// that their tasks name the bundle resolver — keyed by payload (`<type tag>@<sha256>`, see
/// `flytekit::instance::InstancePayload::key`). Cheap to clone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayloadPlacements(Arc<BTreeMap<String, PlacedPayload>>);

impl PayloadPlacements {
    /// Places the payload `key` under `placed`.
    pub fn insert(&mut self, key: impl Into<String>, placed: PlacedPayload) {
        Arc::make_mut(&mut self.0).insert(key.into(), placed);
    }

    /// The placement of the payload `key`, if it has one.
    pub fn get(&self, key: &str) -> Option<&PlacedPayload> {
        self.0.get(key)
    }

    /// How many payloads are placed.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl ImageSpec {
    /// The spec as registered with `settings` (flytekit's `update_image_spec_copy_handling`):
    /// a copy with [`binary_copy`](Self::binary_copy) set to
    /// [`binary_copy_for`](Self::binary_copy_for)`(settings.fast.is_some())`. Its
    /// [`image_name`](Self::image_name) is the image a task with this spec serializes with, and
    /// building it ([`ImageBuildEngine::build_for`]) makes
    /// that image.
    ///
    /// ```
    /// use flytekit::image::{BinaryCopy, ImageSpec};
    /// use flytekit::settings::{FastSerializationSettings, SerializationSettings};
    /// let spec = ImageSpec::new("tasks").with_binary("target/release/tasks");
    /// let plain = SerializationSettings::new("p", "d", "v1");
    /// let fast = plain.clone().with_fast(FastSerializationSettings::default());
    /// assert_eq!(spec.for_settings(&plain).binary_copy, Some(BinaryCopy::Current));
    /// assert_eq!(spec.for_settings(&fast).binary_copy, Some(BinaryCopy::Stable));
    /// let pinned = spec.with_binary_copy(BinaryCopy::Current);
    /// assert_eq!(pinned.for_settings(&fast).binary_copy, Some(BinaryCopy::Current));
    /// ```
    pub fn for_settings(&self, settings: &SerializationSettings) -> ImageSpec {
        let mut spec = self.clone();
        spec.binary_copy = Some(self.binary_copy_for(settings.fast.is_some()));
        spec
    }
}

impl ImageBuildEngine {
    /// [`build`](Self::build) of the spec as registered with `settings`
    /// ([`ImageSpec::for_settings`]): with fast registration (and no explicit
    /// [`binary_copy`](ImageSpec::binary_copy)) the binary is copied but its content is not in
    /// the tag, so an existing image is reused when only the binary changed. The returned name
    /// is the one [`Task::image`](crate::task::Task::image) serializes with the same settings.
    pub async fn build_for(
        &self,
        spec: &ImageSpec,
        settings: &SerializationSettings,
    ) -> Result<BuildOutcome, ImageError> {
        self.build(&spec.for_settings(settings)).await
    }

    /// [`registerable_image`](Self::registerable_image) for the spec as registered with
    /// `settings` ([`ImageSpec::for_settings`]), looked up in `settings.image_config`.
    pub async fn registerable_image_for(
        &self,
        spec: &ImageSpec,
        settings: &SerializationSettings,
    ) -> Result<String, ImageError> {
        self.registerable_image(&spec.for_settings(settings), &settings.image_config)
            .await
    }
}

/// The current executable's file name (the default [`SerializationSettings::binary`]).
pub fn current_binary_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "flytekit-task".to_string())
}

// Serialization settings in transit (`_F_SS_C`)

/// The environment variable holding the serialized settings of a dynamic task.
pub const SERIALIZED_CONTEXT_ENV: &str = "_F_SS_C";

fn resources_json(spec: &ResourceSpec) -> Value {
    use flytekit_idl::core::resources::ResourceName;
    let side = |v: &[(ResourceName, String)]| {
        let get = |name: ResourceName| {
            v.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, q)| json!(q))
                .unwrap_or(Value::Null)
        };
        json!({
            "cpu": get(ResourceName::Cpu),
            "mem": get(ResourceName::Memory),
            "gpu": get(ResourceName::Gpu),
            "ephemeral_storage": get(ResourceName::EphemeralStorage),
        })
    };
    json!({"requests": side(&spec.requests), "limits": side(&spec.limits)})
}

fn resources_from_json(v: &Value) -> Option<ResourceSpec> {
    use flytekit_idl::core::resources::ResourceName;
    let side = |s: &Value| -> Vec<(ResourceName, String)> {
        // flytekit's entry order: ephemeral storage, cpu, gpu, memory.
        [
            ("ephemeral_storage", ResourceName::EphemeralStorage),
            ("cpu", ResourceName::Cpu),
            ("gpu", ResourceName::Gpu),
            ("mem", ResourceName::Memory),
        ]
        .into_iter()
        .filter_map(|(k, n)| s.get(k)?.as_str().map(|q| (n, q.to_string())))
        .collect()
    };
    let spec = ResourceSpec {
        requests: side(v.get("requests")?),
        limits: side(v.get("limits")?),
    };
    Some(spec)
}

/// `settings` as flytekit's `SerializationSettings.serialized_context`:
/// `base64(gzip(json))` with flytekit's keys (Python-only ones at flytekit's defaults), plus
/// `binary`.
pub fn to_transport(settings: &SerializationSettings) -> String {
    let env: serde_json::Map<String, Value> = settings
        .env
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    // Unset parts are null, as `pyflyte package` writes them; the container fills them in
    // (`runtime_settings`).
    let unset_is_null = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let doc = json!({
        "image_config": settings.image_config,
        "project": unset_is_null(&settings.project),
        "domain": unset_is_null(&settings.domain),
        "version": unset_is_null(&settings.version),
        "env": if env.is_empty() { Value::Null } else { Value::Object(env) },
        "default_resources": settings.default_resources.as_ref().map(resources_json),
        "git_repo": Value::Null,
        // flytekit's defaults, so that flytekit's `from_transport` reads these settings too.
        "python_interpreter": "/opt/venv/bin/python3",
        "flytekit_virtualenv_root": "/opt/venv",
        "fast_serialization_settings": settings.fast.as_ref().map(|f| json!({
            "enabled": true,
            "destination_dir": f.destination_dir,
            "distribution_location": f.distribution_location,
        })),
        "source_root": Value::Null,
        "binary": settings.binary,
        "instance_payloads": json!({
            "mode": settings.payloads.mode.as_str(),
            "inline_threshold": settings.payloads.inline_threshold,
            "store": settings.payloads.offload_prefix,
        }),
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = std::io::Write::write_all(&mut gz, doc.to_string().as_bytes());
    let bytes = gz.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Serialization settings in `_F_SS_C` that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{SERIALIZED_CONTEXT_ENV} {reason}; was the task registered by this SDK or by flytekit?")]
pub struct TransportError {
    reason: String,
}

fn bad(reason: String) -> TransportError {
    TransportError { reason }
}

/// Reads settings written by [`to_transport`] (or by flytekit).
pub fn from_transport(text: &str) -> Result<SerializationSettings, TransportError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| bad(format!("is not base64: {e}")))?;
    let mut json = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(bytes.as_slice()),
        &mut json,
    )
    .map_err(|e| bad(format!("is not gzip-compressed text: {e}")))?;
    let v: Value = serde_json::from_str(&json).map_err(|e| bad(format!("is not JSON: {e}")))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let image_config: ImageConfig = match v.get("image_config") {
        Some(Value::Null) | None => ImageConfig::default(),
        Some(ic) => serde_json::from_value(ic.clone()).map_err(|e| {
            bad(format!(
                "holds an image_config that is not an image config: {e}"
            ))
        })?,
    };
    let env = v
        .get("env")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, x)| (k.clone(), x.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let fast = v
        .get("fast_serialization_settings")
        .filter(|f| f.get("enabled").and_then(Value::as_bool) == Some(true))
        .map(|f| FastSerializationSettings {
            destination_dir: f
                .get("destination_dir")
                .and_then(Value::as_str)
                .map(str::to_string),
            distribution_location: f
                .get("distribution_location")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    let binary = v
        .get("binary")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .unwrap_or_else(current_binary_name);
    let payloads = v
        .get("instance_payloads")
        .map(|p| PayloadSettings {
            mode: p
                .get("mode")
                .and_then(Value::as_str)
                .and_then(PayloadMode::parse)
                .unwrap_or_default(),
            inline_threshold: p
                .get("inline_threshold")
                .and_then(Value::as_u64)
                .map_or(DEFAULT_INLINE_THRESHOLD, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                }),
            offload_prefix: p.get("store").and_then(Value::as_str).map(str::to_string),
        })
        .unwrap_or_default();
    Ok(SerializationSettings {
        project: s("project"),
        domain: s("domain"),
        version: s("version"),
        image_config,
        env,
        binary,
        fast,
        default_resources: v.get("default_resources").and_then(resources_from_json),
        payloads,
        placements: PayloadPlacements::default(),
    })
}

/// `settings` plus `_F_SS_C` in their env (flytekit's `with_serialized_context`).
pub fn with_serialized_context(settings: &SerializationSettings) -> SerializationSettings {
    let mut s = settings.clone();
    let transport = to_transport(&s);
    s.env.retain(|(k, _)| k != SERIALIZED_CONTEXT_ENV);
    s.env.push((SERIALIZED_CONTEXT_ENV.to_string(), transport));
    s
}

/// The settings sub-tasks of a dynamic task are serialized with in a container (contract §6.3):
/// `_F_SS_C` when set (else the default image config), the execution's project and domain when
/// the settings have none, the version from `FLYTE_INTERNAL_TASK_VERSION`, and the
/// fast-registration bundle from `--dynamic-addl-distro`/`--dynamic-dest-dir`.
pub fn runtime_settings(
    env: impl Fn(&str) -> Option<String>,
    dynamic_addl_distro: Option<&str>,
    dynamic_dest_dir: Option<&str>,
) -> Result<SerializationSettings, TransportError> {
    let one_of = |names: &[&str]| names.iter().find_map(|n| env(n)).unwrap_or_default();
    let mut s = match env(SERIALIZED_CONTEXT_ENV) {
        Some(t) if !t.is_empty() => from_transport(&t)?,
        _ => {
            let images =
                ImageConfig::auto(None, env(crate::image::FLYTE_INTERNAL_IMAGE_ENV).as_deref())
                    .unwrap_or_default();
            SerializationSettings::default().with_image_config(images)
        }
    };
    if s.project.is_empty() {
        s.project = one_of(&["FLYTE_INTERNAL_EXECUTION_PROJECT", "_F_PRJ"]);
    }
    if s.domain.is_empty() {
        s.domain = one_of(&["FLYTE_INTERNAL_EXECUTION_DOMAIN", "_F_DM"]);
    }
    s.version = one_of(&["FLYTE_INTERNAL_TASK_VERSION", "_F_TK_V"]);
    if let Some(distro) = dynamic_addl_distro {
        s.fast = Some(FastSerializationSettings {
            destination_dir: dynamic_dest_dir.map(str::to_string),
            distribution_location: Some(distro.to_string()),
        });
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_round_trips() {
        let s = SerializationSettings::new("p", "d", "v")
            .with_default_image("ghcr.io/org/app:v1")
            .with_binary("app")
            .with_fast(FastSerializationSettings {
                destination_dir: Some("/root".into()),
                distribution_location: Some("s3://b/fast.tar.gz".into()),
            });
        let s = s.with_payloads(
            PayloadSettings::default()
                .offload_to("s3://b/payloads")
                .inline_threshold(10),
        );
        let back = from_transport(&to_transport(&s)).expect("decodes");
        assert_eq!(back.payloads, s.payloads);
        assert_eq!(back.project, "p");
        assert_eq!(back.binary, "app");
        assert_eq!(back.image_config, s.image_config);
        assert_eq!(back.fast, s.fast);
        assert!(from_transport("not base64!").is_err());
    }

    #[test]
    fn runtime_settings_take_version_and_distro() {
        let t = to_transport(&SerializationSettings::new("", "d", "reg").with_binary("app"));
        let env = move |k: &str| match k {
            "_F_SS_C" => Some(t.clone()),
            "FLYTE_INTERNAL_EXECUTION_PROJECT" => Some("ep".to_string()),
            "FLYTE_INTERNAL_TASK_VERSION" => Some("run".to_string()),
            _ => None,
        };
        let s = runtime_settings(env, Some("s3://b/f.tgz"), Some("/root")).expect("settings");
        assert_eq!((s.project.as_str(), s.domain.as_str()), ("ep", "d"));
        assert_eq!(s.version, "run");
        assert_eq!(
            s.fast.and_then(|f| f.distribution_location).as_deref(),
            Some("s3://b/f.tgz")
        );
    }
}
