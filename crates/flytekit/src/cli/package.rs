//! `package`: writes `flyte-package.tgz`, the archive `pyflyte package` writes and
//! `flytectl register files` reads — `<i>_<name>_1.pb` (admin `TaskSpec`), `_2.pb` (admin
//! `WorkflowSpec`), `_3.pb` (admin `LaunchPlan`), and with `--fast` the code bundle
//! `fast<digest>.tar.gz` holding this binary, whose location `flytectl` fills into the
//! `{{ .remote_package_path }}` placeholder of each task's `fast-execute` command.
//!
//! Identifiers are left for the registrar to fill unless `-p`/`-d`/`--version` are given, and
//! the content version (a hash of this binary, or with `--fast` of the bundle, and of the images,
//! environment and entities) is printed with the `flytectl register files` command that uses it
//! ([`super::serialize`]'s module docs, [`super::registrar`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::registration::RegistrationArgs;
use super::serialize::{SerializedEntity, current_binary_digest, serialize_versioned};

/// Arguments of `package`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Write a flyte-package.tgz for `flytectl register files`")]
pub struct PackageArgs {
    /// Workflows to package, registered or declared by instance providers (default: every
    /// workflow and task in this binary and every instance and workflow the providers declare).
    pub workflows: Vec<String>,
    /// The archive to write.
    #[arg(long, short, default_value = "flyte-package.tgz")]
    pub output: PathBuf,
    /// Ship this binary beside the image as a fast-registration bundle.
    #[arg(long)]
    pub fast: bool,
    /// Where the bundle is unpacked in the container (with `--fast`).
    #[arg(long, default_value = "/root")]
    pub dest_dir: String,
    /// Build and push the images the tasks name first (as `build` does); the archive is
    /// written only when every image exists.
    #[arg(long)]
    pub build_images: bool,
    /// Identifiers, images and environment.
    #[command(flatten)]
    pub registration: RegistrationArgs,
    /// Instance payloads: the payload store, placement, provider arguments.
    #[command(flatten)]
    pub payloads: super::instances::PayloadArgs,
}

/// Entry point of `package`.
pub async fn package(args: PackageArgs) -> ExitCode {
    match write_package(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn write_package(args: &PackageArgs) -> Result<(), String> {
    let fast_dest = args.fast.then_some(args.dest_dir.as_str());
    let (mut settings, spec_images) =
        super::registration::registration_settings(&args.registration, fast_dest)?;
    let (mut workflows, mut tasks) =
        super::instances::select(&args.workflows, &args.payloads.instances, "package")?;
    // The instances providers declare join the selection, and their payloads are in the
    // payload store before the archive names them.
    let everything = args.workflows.is_empty();
    let plan =
        super::instances::plan_and_store(&args.payloads, everything, &mut workflows, &mut tasks)
            .await
            .map_err(|e| format!("{e}; no archive was written"))?;
    super::instances::apply(plan.as_ref(), &mut settings);
    if args.build_images {
        let rows = super::build::ensure_images(&workflows, &tasks, &settings, &spec_images).await?;
        eprint!("{}", super::build::table(&rows));
    }
    let scratch =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let mut bundle = None;
    if args.fast {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let name = Path::new(&settings.binary)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| settings.binary.clone());
        let b = crate::fast::FastBundle::create(&[(exe, name)], scratch.path())
            .map_err(|e| e.to_string())?;
        bundle = Some(b);
    }
    // The code that ships: the bundle with --fast, else this binary (baked into its image).
    let code = || match &bundle {
        Some(b) => Ok(format!("fast-bundle:md5:{}", b.digest)),
        None => current_binary_digest(),
    };
    let versioned = serialize_versioned(
        &workflows,
        &tasks,
        &mut settings,
        &args.registration.versioning(),
        code,
    )?;
    let n = versioned.files.len();
    let output = args.output.clone();
    let versioned = tokio::task::spawn_blocking(move || {
        write_tgz(
            &output,
            &versioned.files,
            bundle.as_ref().map(|b| b.path.as_path()),
        )
        .map(|()| versioned)
    })
    .await
    .map_err(|e| e.to_string())??;
    eprintln!("wrote {} ({n} entities)", args.output.display());
    super::registrar::print_registration(
        super::registrar::RegisterTarget::Archive(&args.output),
        &args.registration,
        &versioned.version,
        versioned.written,
    );
    Ok(())
}

/// Writes the archive atomically (temporary file, then rename); entries carry no timestamps so
/// equal inputs give equal bytes.
fn write_tgz(
    output: &Path,
    files: &[SerializedEntity],
    bundle: Option<&Path>,
) -> Result<(), String> {
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    {
        let gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(tmp.as_file(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mut append = |name: &str, data: &[u8]| -> Result<(), String> {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut h, name, data)
                .map_err(|e| format!("cannot add {name}: {e}"))
        };
        for f in files {
            append(&f.file_name, &f.bytes)?;
        }
        if let Some(b) = bundle {
            let data = std::fs::read(b).map_err(|e| format!("cannot read {}: {e}", b.display()))?;
            let name = b
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            append(&name, &data)?;
        }
        let gz = tar.into_inner().map_err(|e| e.to_string())?;
        let mut f = gz.finish().map_err(|e| e.to_string())?;
        f.flush().map_err(|e| e.to_string())?;
    }
    tmp.persist(output)
        .map_err(|e| format!("cannot write {}: {}", output.display(), e.error))?;
    Ok(())
}
