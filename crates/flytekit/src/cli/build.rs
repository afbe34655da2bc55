//! `build`: builds and pushes every image the selected workflows' tasks name, with exactly the
//! settings `package` uses (the same `--image`, `--binary` and `--fast`, so the same copy
//! handling and tags), and prints a table of image, tag, compressed size and what happened.
//!
//! ```text
//! <binary> build [WORKFLOW...] --image spec.yaml [--fast]
//! <binary> package --build-images -o flyte-package.tgz --image spec.yaml
//! ```
//!
//! - An image an [`ImageSpec`] makes (a task's `image_spec`, or `--image [NAME=]spec.yaml`) is
//!   built and pushed when its registry lacks it (or `FLYTE_FORCE_PUSH_IMAGE_SPEC` is set),
//!   after the [preflight checks](crate::image::preflight) pass; when present it is left alone.
//! - An image given by name must already be in its registry.
//! - `package --build-images` writes the archive only after every image it names exists.
//!
//! `--image` values that are ImageSpec YAML files ([`crate::image::spec_file`]) are replaced by
//! the spec's image name for `package`, `serialize`, `build` and `run --in-image` alike.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::Duration;

use super::registration::{RegistrationArgs, SpecImages, registration_settings};
use crate::image::preflight;
use crate::image::registry::{Platform, Reference, RegistryClient};
use crate::image::rootfs::{RootfsCache, resolve_manifest};
use crate::image::spec::{BaseImage, BuildSwitches};
use crate::image::{ImageBuildEngine, ImageError, ImageSpec};
use crate::settings::SerializationSettings;
use crate::task::Task;
use crate::workflow::Workflow;

/// Arguments of `build`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Build and push the images the tasks name (ImageSpecs), check that the others exist"
)]
pub struct BuildArgs {
    /// Workflows whose images to build, registered or declared by instance providers (default:
    /// every workflow and task in this binary and every instance the providers declare).
    pub workflows: Vec<String>,
    /// The images `package --fast` names: the binary is copied but its content is not in the
    /// tag, so a code change keeps the image.
    #[arg(long)]
    pub fast: bool,
    /// Where `package --fast` unpacks the bundle in the container.
    #[arg(long, default_value = "/root")]
    pub dest_dir: String,
    /// Identifiers, images and environment, as for `package`.
    #[command(flatten)]
    pub registration: RegistrationArgs,
    /// Arguments of the instance providers, whose instance tasks' images are built too.
    #[command(flatten)]
    pub instances: super::instances::InstanceArgs,
}

/// Entry point of `build`.
pub async fn build(args: BuildArgs) -> ExitCode {
    let result = async {
        let fast = args.fast.then_some(args.dest_dir.as_str());
        let (settings, specs) = registration_settings(&args.registration, fast)?;
        let (mut workflows, mut tasks) =
            super::instances::select(&args.workflows, &args.instances, "build")?;
        if args.workflows.is_empty() {
            super::instances::add_declared(&args.instances, &mut workflows, &mut tasks)?;
        }
        ensure_images(&workflows, &tasks, &settings, &specs).await
    }
    .await;
    match result {
        Ok(rows) => {
            print!("{}", table(&rows));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The in-image runs of `run --sandbox --in-image` for `entity`: its tasks serialized with the
/// images of `images` (`--image` values, as for `package`, without fast registration) and the
/// in-image binary name `binary`; images that an ImageSpec makes are built and pushed first
/// when their registry lacks them, and every image must exist.
pub(crate) async fn in_image_runs(
    entity: &crate::workflow::Entity,
    images: &[String],
    binary: Option<&str>,
    quiet: bool,
) -> Result<std::sync::Arc<crate::engine::isolate::InImage>, String> {
    let reg = RegistrationArgs {
        project: Some("sandbox".into()),
        domain: Some("local".into()),
        version: Some("sandbox".into()),
        content_version: false,
        image: images.to_vec(),
        binary: binary.map(str::to_string),
        env: Vec::new(),
    };
    let (settings, specs) = registration_settings(&reg, None)?;
    let (workflows, tasks) = match entity {
        crate::workflow::Entity::Workflow(w) => (vec![w.clone()], Vec::new()),
        crate::workflow::Entity::Task(t) => (Vec::new(), vec![t.clone()]),
        crate::workflow::Entity::LaunchPlan(lp) => (vec![lp.workflow().clone()], Vec::new()),
        other => {
            return Err(format!(
                "'{}' is a {}; run --in-image runs workflows, launch plans and tasks",
                other.name(),
                other.kind()
            ));
        }
    };
    let rows = ensure_images(&workflows, &tasks, &settings, &specs).await?;
    if !quiet {
        eprint!("{}", table(&rows));
    }
    let runs = crate::engine::isolate::InImage::new(settings, RootfsCache::default_location())
        .map_err(|e| e.to_string())?;
    Ok(std::sync::Arc::new(runs))
}

/// An image the selected tasks name: the spec that makes it (if any), the container args
/// that start in it, and the tasks that run in it.
#[derive(Debug, Clone)]
pub(crate) struct NamedImage {
    /// `registry/name:tag`.
    pub name: String,
    /// The spec that builds it.
    pub spec: Option<ImageSpec>,
    /// Container args of the tasks that run in it.
    pub argvs: Vec<Vec<String>>,
    /// The tasks.
    pub tasks: BTreeSet<String>,
}

/// Every image the selected workflows and tasks name with `settings`, with what makes it.
pub(crate) fn images_of(
    workflows: &[Workflow],
    tasks: &[Task],
    settings: &SerializationSettings,
    specs: &SpecImages,
) -> Result<Vec<NamedImage>, String> {
    let mut templates = Vec::new();
    for wf in workflows {
        templates.extend(wf.closure(settings).map_err(|e| e.to_string())?.tasks);
    }
    for t in tasks {
        templates.push(t.template(settings).map_err(|e| e.to_string())?);
    }
    // Images made by the specs of tasks in code (unless configured under the spec's id).
    let engine = ImageBuildEngine::global();
    let mut code_specs: BTreeMap<String, ImageSpec> = BTreeMap::new();
    for t in crate::task::registered() {
        if let Some(spec) = t.image_spec_for(settings) {
            let configured = spec
                .id()
                .ok()
                .and_then(|id| settings.image_config.find_image(&id))
                .is_some();
            if !configured {
                let name = engine.image_name(&spec).map_err(|e| e.to_string())?;
                code_specs.insert(name, spec);
            }
        }
    }
    let mut images: BTreeMap<String, NamedImage> = BTreeMap::new();
    for t in &templates {
        let task = t.id.as_ref().map(|i| i.name.clone()).unwrap_or_default();
        let Ok(crate::serialization::PrimaryContainer { image, args, .. }) =
            crate::serialization::primary_container(t)
        else {
            continue;
        };
        if image.is_empty() {
            continue;
        }
        let entry = images.entry(image.clone()).or_insert_with(|| NamedImage {
            spec: specs
                .get(&image)
                .cloned()
                .or_else(|| code_specs.get(&image).cloned()),
            name: image,
            argvs: Vec::new(),
            tasks: BTreeSet::new(),
        });
        if !entry.argvs.contains(&args) {
            entry.argvs.push(args);
        }
        entry.tasks.insert(task);
    }
    Ok(images.into_values().collect())
}

/// What `build` did with one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    /// Built and pushed now.
    Built,
    /// Its spec's image was already in the registry.
    AlreadyPresent,
    /// Given by name, and in its registry.
    Present,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// `registry/name`.
    pub repository: String,
    /// The tag (or digest).
    pub tag: String,
    /// Compressed size of config and layers, in bytes.
    pub size: u64,
    /// What happened.
    pub status: Status,
}

/// Makes sure every image the selection names exists: builds (after the preflight checks)
/// and pushes those a spec makes and the registry lacks, checks the others.
pub(crate) async fn ensure_images(
    workflows: &[Workflow],
    tasks: &[Task],
    settings: &SerializationSettings,
    specs: &SpecImages,
) -> Result<Vec<Row>, String> {
    let images = images_of(workflows, tasks, settings, specs)?;
    let cache = RootfsCache::default_location();
    let mut rows = Vec::new();
    for image in &images {
        rows.push(
            ensure_image(image, &cache)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    Ok(rows)
}

async fn ensure_image(image: &NamedImage, cache: &RootfsCache) -> Result<Row, ImageError> {
    let reference = Reference::parse(&image.name)?;
    let insecure = image.spec.as_ref().is_some_and(|s| s.insecure_registry);
    let client = RegistryClient::new()?.insecure(insecure);
    let platform = image
        .spec
        .as_ref()
        .map(|s| Platform::parse(&s.platform))
        .transpose()?
        .unwrap_or_else(|| Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        });
    let step = Step::new(&format!("checking {}", image.name));
    let present = client.head_manifest(&reference).await?.is_some();
    let force = BuildSwitches::from_env().force_push;
    let status = match &image.spec {
        None if present => Status::Present,
        None => {
            return Err(ImageError::Build(format!(
                "image {} (tasks {}) is not in its registry, and no ImageSpec makes it: build \
                 and push it, or pass --image with an ImageSpec YAML file that makes it",
                image.name,
                image.tasks.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        Some(_) if present && !force => Status::AlreadyPresent,
        Some(spec) => {
            let engine = ImageBuildEngine::global();
            if let Some(BaseImage::Spec(base)) = &spec.base_image {
                step.say(&format!("building the base of {}", image.name));
                engine.build(base).await?;
            }
            step.say(&format!("preflight checks of {}", image.name));
            preflight::check_spec(spec, &image.argvs, &client, cache).await?;
            step.say(&format!("building and pushing {}", image.name));
            let mut spec = spec.clone();
            if force {
                // The engine rebuilds present images only when forced; it reads the switch.
                tracing::info!(
                    "FLYTE_FORCE_PUSH_IMAGE_SPEC is set: rebuilding {}",
                    image.name
                );
            }
            if let Some(BaseImage::Spec(base)) = &spec.base_image {
                spec.base_image = Some(BaseImage::Name(engine.image_name(base)?));
            }
            engine.build(&spec).await?;
            Status::Built
        }
    };
    step.say(&format!("measuring {}", image.name));
    let (manifest, _) = resolve_manifest(&client, &reference, &platform).await?;
    step.done();
    Ok(Row {
        repository: format!("{}/{}", reference.registry, reference.repository),
        tag: reference
            .tag
            .clone()
            .or(reference.digest.clone())
            .unwrap_or_else(|| "latest".into()),
        size: manifest.config.size + manifest.layers.iter().map(|l| l.size).sum::<u64>(),
        status,
    })
}

/// The table `build` prints: image, tag, compressed size, status.
pub(crate) fn table(rows: &[Row]) -> String {
    let header = ["IMAGE", "TAG", "SIZE", "STATUS"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.repository.clone(),
                r.tag.clone(),
                format!("{:.1} MiB", r.size as f64 / (1u64 << 20) as f64),
                match r.status {
                    Status::Built => "built and pushed",
                    Status::AlreadyPresent => "already present",
                    Status::Present => "present (not built here)",
                }
                .to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: [&str; 4]| {
        format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
    };
    let mut out = line(header);
    for row in &cells {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    out
}

/// A spinner on stderr for a long step (hidden when stderr is not a terminal).
struct Step(indicatif::ProgressBar);

impl Step {
    fn new(message: &str) -> Step {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        let step = Step(bar);
        step.say(message);
        step
    }

    fn say(&self, message: &str) {
        tracing::info!("{message}");
        self.0.set_message(message.to_string());
    }

    fn done(self) {
        self.0.finish_and_clear();
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let rows = vec![
            Row {
                repository: "127.0.0.1:5000/a/quickstart".into(),
                tag: "abc".into(),
                size: 15 << 20,
                status: Status::Built,
            },
            Row {
                repository: "ghcr.io/x".into(),
                tag: "v1".into(),
                size: 512 << 10,
                status: Status::Present,
            },
        ];
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("IMAGE"));
        assert!(lines[1].contains("15.0 MiB") && lines[1].ends_with("built and pushed"));
        assert!(lines[2].contains(" 0.5 MiB") && lines[2].ends_with("present (not built here)"));
        assert_eq!(lines[0].find("TAG"), lines[1].find("abc"));
    }
}
