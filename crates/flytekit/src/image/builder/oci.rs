//! The daemonless `oci` builder: no Docker, no root, no container runtime.
//!
//! 1. Pull the base image's manifest (choosing the spec's platform from an index) and config
//!    with the registry API. `scratch` means no base: an empty filesystem.
//! 2. Write one deterministic layer (a gzipped tar, see [`Layer`]) holding the binary and the
//!    copied files, with their parent directories.
//! 3. Write a new config: the base config with the spec's env, then `_F_IMG_ID=<spec id>` last,
//!    the entrypoint (which resets the base's `Cmd`, as in a Dockerfile), the working directory,
//!    the platform, the new layer's diff id and a history entry. Timestamps are fixed
//!    (1980-01-01), so the same inputs give the same image digest.
//! 4. Push: every base layer the target repository lacks (mounted from the base repository when
//!    both are on one registry, else downloaded and uploaded), the new layer and the config
//!    (each skipped when a HEAD finds it), then the OCI manifest under the tag.
//!
//! It cannot run `apt_packages` or `commands` (that needs a container runtime): put them in the
//! base image, or use the `dockerfile` builder.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::ImageBuilder;
use crate::fast::{gzip_writer, normalized_header};
use crate::image::ImageError;
use crate::image::registry::{
    BlobSource, Descriptor, Index, MEDIA_DOCKER_LAYER_GZIP, MEDIA_OCI_CONFIG, MEDIA_OCI_LAYER_GZIP,
    MEDIA_OCI_MANIFEST, Manifest, Platform, Reference, RegistryClient,
};
use crate::image::spec::{ImageSpec, ResolvedSpec, ShippedFile};

/// The `created` timestamp of built configs and history entries.
const FIXED_CREATED: &str = "1980-01-01T00:00:00Z";

/// The daemonless builder (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct OciBuilder {
    /// Directory for temporary layer files; the system temp dir when `None`.
    pub temp_dir: Option<PathBuf>,
}

/// What an [`OciBuilder::build`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciBuildReport {
    /// `registry/name:tag`.
    pub image_name: String,
    /// Digest of the pushed manifest.
    pub manifest_digest: String,
    /// Digest of the new layer.
    pub layer_digest: String,
    /// Compressed size of all layers plus the config, in bytes.
    pub image_size: u64,
    /// Blobs uploaded.
    pub blobs_pushed: usize,
    /// Blobs the repository already had (HEAD) or that were mounted from the base repository.
    pub blobs_skipped: usize,
    /// Bytes uploaded.
    pub bytes_pushed: u64,
}

/// A gzipped tar layer in a temporary file, with its digests.
///
/// Deterministic: entries sorted by path, parent directories included (mode 0755), files 0755
/// or 0644 by their executable bit, owner 0:0 with empty names, mtime 1980-01-01, gzip mtime 0.
#[derive(Debug)]
pub struct Layer {
    /// `sha256:` of the compressed bytes (the blob digest).
    pub digest: String,
    /// `sha256:` of the uncompressed tar (the config's diff id).
    pub diff_id: String,
    /// Compressed size in bytes.
    pub size: u64,
    file: tempfile::TempPath,
}

impl Layer {
    /// Writes a layer with `files` at their `dest` paths into a temp file in `dir` (or the
    /// system temp dir).
    pub fn from_files(files: &[ShippedFile], dir: Option<&Path>) -> Result<Layer, ImageError> {
        let temp = match dir {
            Some(d) => tempfile::NamedTempFile::new_in(d),
            None => tempfile::NamedTempFile::new(),
        }
        .map_err(|source| ImageError::Io {
            path: dir.map_or_else(std::env::temp_dir, Path::to_path_buf),
            source,
        })?;
        let io_err = |source| ImageError::Io {
            path: temp.path().to_path_buf(),
            source,
        };
        let mut dirs = std::collections::BTreeSet::new();
        for f in files {
            let mut path = f.dest.trim_start_matches('/');
            while let Some((parent, _)) = path.rsplit_once('/') {
                dirs.insert(parent.to_string());
                path = parent;
            }
        }
        enum Item<'a> {
            Dir,
            File(&'a ShippedFile),
        }
        let mut items: Vec<(String, Item)> = dirs.into_iter().map(|d| (d, Item::Dir)).collect();
        items.extend(
            files
                .iter()
                .map(|f| (f.dest.trim_start_matches('/').to_string(), Item::File(f))),
        );
        items.sort_by(|a, b| a.0.cmp(&b.0));

        let compressed = HashWriter::new(BufWriter::new(temp.as_file()));
        let uncompressed = HashWriter::new(gzip_writer(compressed));
        let mut tar = tar::Builder::new(uncompressed);
        for (path, item) in &items {
            match item {
                Item::Dir => {
                    let mut header = normalized_header(tar::EntryType::Directory, 0, 0o755);
                    tar.append_data(&mut header, format!("{path}/"), io::empty())
                        .map_err(io_err)?;
                }
                Item::File(f) => {
                    let src = std::fs::File::open(&f.src).map_err(|source| ImageError::Io {
                        path: f.src.clone(),
                        source,
                    })?;
                    let len = src
                        .metadata()
                        .map_err(|source| ImageError::Io {
                            path: f.src.clone(),
                            source,
                        })?
                        .len();
                    if len != f.size {
                        return Err(ImageError::Build(format!(
                            "{} changed while the image was being built; build again",
                            f.src.display()
                        )));
                    }
                    let mut header = normalized_header(tar::EntryType::Regular, len, f.mode);
                    tar.append_data(&mut header, path, io::BufReader::new(src))
                        .map_err(|source| ImageError::Io {
                            path: f.src.clone(),
                            source,
                        })?;
                }
            }
        }
        let uncompressed = tar.into_inner().map_err(io_err)?;
        let (gz, diff_hasher, _) = uncompressed.into_parts();
        let compressed = gz.finish().map_err(io_err)?;
        let (mut buf, hasher, size) = compressed.into_parts();
        buf.flush().map_err(io_err)?;
        drop(buf);
        Ok(Layer {
            digest: format!("sha256:{}", hex::encode(hasher.finalize())),
            diff_id: format!("sha256:{}", hex::encode(diff_hasher.finalize())),
            size,
            file: temp.into_temp_path(),
        })
    }

    /// The layer file (deleted when the `Layer` is dropped).
    pub fn path(&self) -> &Path {
        &self.file
    }
}

/// A writer that hashes and counts what passes through.
struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashWriter<W> {
    fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    fn into_parts(self) -> (W, Sha256, u64) {
        (self.inner, self.hasher, self.count)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The base image, pulled: where it lives, its manifest and its config.
struct Base {
    reference: Option<Reference>,
    manifest_digest: Option<String>,
    layers: Vec<Descriptor>,
    config: Map<String, Value>,
}

impl OciBuilder {
    /// Builds and pushes `spec` unconditionally (the engine checks existence first).
    pub async fn build(&self, spec: &ImageSpec) -> Result<OciBuildReport, ImageError> {
        let started = Instant::now();
        let resolved = spec.resolve()?;
        if !spec.apt_packages.is_empty() || !spec.commands.is_empty() {
            return Err(ImageError::Build(format!(
                "the oci builder cannot install apt packages or run commands (image {}): put them \
                 in the base image, or use the dockerfile builder (ImageSpec::with_builder(\"dockerfile\"))",
                resolved.image_name
            )));
        }
        let client = RegistryClient::new()?.insecure(spec.insecure_registry);
        let target = Reference::parse(&resolved.image_name)?;
        let base = self.pull_base(&client, &resolved).await?;

        let files = resolved.files.clone();
        let temp_dir = self.temp_dir.clone();
        let layer =
            tokio::task::spawn_blocking(move || Layer::from_files(&files, temp_dir.as_deref()))
                .await
                .map_err(|e| ImageError::Build(format!("the layer writer panicked: {e}")))??;

        let config = new_config(base.config, &resolved, &layer.diff_id)?;
        let config =
            Bytes::from(serde_json::to_vec(&Value::Object(config)).map_err(|e| {
                ImageError::Build(format!("cannot serialize the image config: {e}"))
            })?);
        let config_digest = crate::image::registry::sha256_digest(&config);
        let mut layers: Vec<Descriptor> = base.layers.iter().map(oci_layer).collect();
        layers.push(Descriptor {
            media_type: MEDIA_OCI_LAYER_GZIP.into(),
            digest: layer.digest.clone(),
            size: layer.size,
            platform: None,
            annotations: None,
        });
        let mut annotations = std::collections::BTreeMap::new();
        annotations.insert(
            "org.opencontainers.image.base.name".to_string(),
            resolved.base_image.clone(),
        );
        if let Some(d) = &base.manifest_digest {
            annotations.insert(
                "org.opencontainers.image.base.digest".to_string(),
                d.clone(),
            );
        }
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MEDIA_OCI_MANIFEST.into()),
            config: Descriptor {
                media_type: MEDIA_OCI_CONFIG.into(),
                digest: config_digest.clone(),
                size: config.len() as u64,
                platform: None,
                annotations: None,
            },
            layers,
            annotations: Some(annotations),
        };

        let mut report = OciBuildReport {
            image_name: resolved.image_name.clone(),
            manifest_digest: String::new(),
            layer_digest: layer.digest.clone(),
            image_size: config.len() as u64 + manifest.layers.iter().map(|l| l.size).sum::<u64>(),
            blobs_pushed: 0,
            blobs_skipped: 0,
            bytes_pushed: 0,
        };
        for d in &base.layers {
            self.copy_base_blob(&client, &target, base.reference.as_ref(), d, &mut report)
                .await?;
        }
        if client.blob_exists(&target, &layer.digest).await? {
            report.blobs_skipped += 1;
        } else {
            client
                .push_blob(
                    &target,
                    &layer.digest,
                    BlobSource::File(layer.path(), layer.size),
                )
                .await?;
            report.blobs_pushed += 1;
            report.bytes_pushed += layer.size;
        }
        if client.blob_exists(&target, &config_digest).await? {
            report.blobs_skipped += 1;
        } else {
            let n = config.len() as u64;
            client
                .push_blob(&target, &config_digest, BlobSource::Bytes(config))
                .await?;
            report.blobs_pushed += 1;
            report.bytes_pushed += n;
        }
        let body = serde_json::to_vec(&manifest)
            .map_err(|e| ImageError::Build(format!("cannot serialize the manifest: {e}")))?;
        report.manifest_digest = client
            .put_manifest(&target, Bytes::from(body), MEDIA_OCI_MANIFEST)
            .await?;
        tracing::info!(
            "pushed {} ({}, {} blobs pushed, {} skipped, {:.1} MiB) in {:.1?}",
            report.image_name,
            report.manifest_digest,
            report.blobs_pushed,
            report.blobs_skipped,
            report.bytes_pushed as f64 / (1u64 << 20) as f64,
            started.elapsed()
        );
        Ok(report)
    }

    async fn pull_base(
        &self,
        client: &RegistryClient,
        resolved: &ResolvedSpec,
    ) -> Result<Base, ImageError> {
        if resolved.base_image == "scratch" {
            return Ok(Base {
                reference: None,
                manifest_digest: None,
                layers: Vec::new(),
                config: Map::new(),
            });
        }
        let base_ref = Reference::parse(&resolved.base_image)?;
        let (body, _media_type, digest) = client.get_manifest(&base_ref).await?;
        let parsed: Value = serde_json::from_slice(&body).map_err(|e| bad_base(&base_ref, e))?;
        let (body, digest) = if parsed.get("manifests").is_some() {
            let index: Index =
                serde_json::from_value(parsed).map_err(|e| bad_base(&base_ref, e))?;
            let want = &resolved.platform;
            let chosen = index
                .manifests
                .iter()
                .find(|d| d.platform.as_ref().is_some_and(|p| platform_matches(p, want)))
                .ok_or_else(|| {
                    ImageError::Build(format!(
                        "the base image {base_ref} has no {}/{} variant; choose another base or platform",
                        want.os, want.architecture
                    ))
                })?;
            let (body, _, digest) = client
                .get_manifest(&base_ref.with_digest(&chosen.digest))
                .await?;
            (body, digest)
        } else {
            (body, digest)
        };
        let manifest: Manifest =
            serde_json::from_slice(&body).map_err(|e| bad_base(&base_ref, e))?;
        let config = client.get_blob(&base_ref, &manifest.config.digest).await?;
        let config: Value = serde_json::from_slice(&config).map_err(|e| bad_base(&base_ref, e))?;
        let Value::Object(config) = config else {
            return Err(ImageError::Build(format!(
                "the config of the base image {base_ref} is not a JSON object"
            )));
        };
        let os = config.get("os").and_then(Value::as_str).unwrap_or_default();
        let arch = config
            .get("architecture")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if os != resolved.platform.os || arch != resolved.platform.architecture {
            return Err(ImageError::Build(format!(
                "the base image {base_ref} is {os}/{arch}, but the spec's platform is {}; \
                 choose a base image for that platform",
                resolved.spec.platform
            )));
        }
        Ok(Base {
            reference: Some(base_ref),
            manifest_digest: Some(digest),
            layers: manifest.layers,
            config,
        })
    }

    async fn copy_base_blob(
        &self,
        client: &RegistryClient,
        target: &Reference,
        base: Option<&Reference>,
        d: &Descriptor,
        report: &mut OciBuildReport,
    ) -> Result<(), ImageError> {
        if client.blob_exists(target, &d.digest).await? {
            report.blobs_skipped += 1;
            return Ok(());
        }
        let Some(base) = base else {
            return Err(ImageError::Build(format!(
                "blob {} has no source repository",
                d.digest
            )));
        };
        if base.registry == target.registry
            && client
                .mount_blob(target, &d.digest, &base.repository)
                .await?
        {
            report.blobs_skipped += 1;
            return Ok(());
        }
        let temp = match &self.temp_dir {
            Some(dir) => tempfile::NamedTempFile::new_in(dir),
            None => tempfile::NamedTempFile::new(),
        }
        .map_err(|source| ImageError::Io {
            path: std::env::temp_dir(),
            source,
        })?
        .into_temp_path();
        client.download_blob(base, &d.digest, d.size, &temp).await?;
        client
            .push_blob(target, &d.digest, BlobSource::File(&temp, d.size))
            .await?;
        report.blobs_pushed += 1;
        report.bytes_pushed += d.size;
        Ok(())
    }
}

#[async_trait]
impl ImageBuilder for OciBuilder {
    async fn build_image(&self, spec: &ImageSpec) -> Result<Option<String>, ImageError> {
        self.build(spec).await?;
        Ok(None)
    }
}

fn bad_base(r: &Reference, e: serde_json::Error) -> ImageError {
    ImageError::Build(format!(
        "the base image {r} has an unreadable manifest or config: {e}"
    ))
}

fn platform_matches(have: &Platform, want: &Platform) -> bool {
    have.os == want.os
        && have.architecture == want.architecture
        && (want.variant.is_none() || have.variant == want.variant)
}

/// A base layer descriptor with Docker media types mapped to their OCI equivalents.
fn oci_layer(d: &Descriptor) -> Descriptor {
    let media_type = match d.media_type.as_str() {
        MEDIA_DOCKER_LAYER_GZIP => MEDIA_OCI_LAYER_GZIP,
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        }
        other => other,
    };
    Descriptor {
        media_type: media_type.to_string(),
        platform: None,
        ..d.clone()
    }
}

/// The new image config (module docs, step 3).
fn new_config(
    mut cfg: Map<String, Value>,
    r: &ResolvedSpec,
    diff_id: &str,
) -> Result<Map<String, Value>, ImageError> {
    cfg.insert("architecture".into(), json!(r.platform.architecture));
    cfg.insert("os".into(), json!(r.platform.os));
    match &r.platform.variant {
        Some(v) => cfg.insert("variant".into(), json!(v)),
        None => cfg.remove("variant"),
    };
    cfg.insert("created".into(), json!(FIXED_CREATED));

    let inner = cfg.entry("config").or_insert_with(|| json!({}));
    if !inner.is_object() {
        *inner = json!({});
    }
    let Value::Object(inner) = inner else {
        return Err(ImageError::Build("unreachable: config is an object".into()));
    };
    let mut ours: Vec<(String, String)> = r
        .spec
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    ours.push((crate::image::spec::IMAGE_ID_ENV.to_string(), r.id.clone()));
    let mut env: Vec<String> = inner
        .get("Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    env.retain(|e| {
        let key = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
        !ours.iter().any(|(k, _)| k == key)
    });
    env.extend(ours.iter().map(|(k, v)| format!("{k}={v}")));
    inner.insert("Env".into(), json!(env));
    if let Some(entrypoint) = &r.spec.entrypoint {
        inner.insert("Entrypoint".into(), json!(entrypoint));
        inner.remove("Cmd");
    }
    inner.insert("WorkingDir".into(), json!(r.workdir));

    let rootfs = cfg
        .entry("rootfs")
        .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
    if !rootfs.is_object() {
        *rootfs = json!({"type": "layers", "diff_ids": []});
    }
    let diff_ids = rootfs
        .as_object_mut()
        .map(|o| o.entry("diff_ids").or_insert_with(|| json!([])));
    match diff_ids.and_then(Value::as_array_mut) {
        Some(ids) => ids.push(json!(diff_id)),
        None => {
            return Err(ImageError::Build(
                "the base image config has a malformed rootfs.diff_ids".into(),
            ));
        }
    }
    let history = cfg.entry("history").or_insert_with(|| json!([]));
    if let Some(h) = history.as_array_mut() {
        let what = r
            .binary_dest
            .as_deref()
            .map_or_else(|| "files".to_string(), |b| format!("binary {b}"));
        h.push(json!({
            "created": FIXED_CREATED,
            "created_by": format!("flytekit-rs oci builder: {what} and {} file(s)", r.files.len()),
        }));
    }
    Ok(cfg)
}
