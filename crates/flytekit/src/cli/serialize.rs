//! `serialize`: writes the registrable Flyte entities of the registered workflows as protobuf
//! files, in the layout `pyflyte serialize` and `pyflyte package` use: `<i>_<name>_1.pb` for a
//! task (`admin.TaskSpec`), `_2.pb` for a workflow (`admin.WorkflowSpec`, sub-workflows
//! included) and `_3.pb` for its default launch plan (`admin.LaunchPlan`).
//!
//! ```text
//! <binary> serialize -o out/ [-p PROJECT] [-d DOMAIN] [--version V | --content-version] [WORKFLOW...]
//! ```
//!
//! # Identifiers and versions
//! As `pyflyte serialize`/`package` do, identifiers (of tasks, workflows and launch plans, and
//! every reference to them) are written with an empty project, domain and version unless `-p`,
//! `-d` or `--version` are given: `flytectl register files` fills what is empty from its own
//! flags ([`super::registrar`]).
//!
//! The content version is a hash of what is shipped ([`content_version`]): the digest of the
//! code (this binary's BLAKE3, or the fast bundle's digest with `package --fast`), the images
//! (`--image`), the registration environment and the binary name, and every serialized entity
//! (serialized with an empty version). The same binary, images, environment and entities give
//! the same version on every machine, so registering unchanged code under it creates no new
//! versions; any change gives a new one. It is printed to stderr as `version: <v>`, with the
//! `flytectl register files ... --version <v>` command; `--content-version` also writes it into
//! the files ([`serialize_versioned`]). `register` is the registrar itself: it writes the
//! project and domain of its cluster and the content version (or `--version`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use flytekit_idl::Message;
use flytekit_idl::admin::TaskSpec;
use flytekit_idl::core::TaskTemplate;

use super::registration::{RegistrationArgs, Versioning};
use crate::serialization::WorkflowClosure;
use crate::settings::SerializationSettings;
use crate::workflow::{LaunchPlan, Workflow, WorkflowError};

/// Arguments of `serialize`.
#[derive(Debug, Clone, clap::Args)]
#[command(about = "Write workflows, their tasks and launch plans as Flyte protobuf files")]
pub struct SerializeArgs {
    /// Workflows to serialize (full names or unique suffixes), registered or declared by instance
    /// providers; default: every registered workflow and task and everything the providers
    /// declare.
    pub workflows: Vec<String>,
    /// Directory receiving the files (created if needed).
    #[arg(long, short, default_value = "flyte-serialized")]
    pub output_dir: PathBuf,
    /// Identifiers, images and environment.
    #[command(flatten)]
    pub registration: RegistrationArgs,
    /// Instance payloads: the payload store, placement, provider arguments (`serialize` uploads
    /// nothing; `package` does).
    #[command(flatten)]
    pub payloads: super::instances::PayloadArgs,
}

/// One file of the serialized output: its name and bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct SerializedEntity {
    /// `<i>_<name>_<1|2|3>.pb`.
    pub file_name: String,
    /// The encoded protobuf message.
    pub bytes: Vec<u8>,
}

/// The files being written, numbered in order, each task once.
#[derive(Default)]
struct Files {
    out: Vec<SerializedEntity>,
    seen_tasks: BTreeSet<String>,
}

impl Files {
    /// Adds `<i>_<name>_<kind>.pb`.
    fn push(&mut self, name: &str, kind: u8, bytes: Vec<u8>) {
        let file_name = format!("{}_{}_{}.pb", self.out.len(), name, kind);
        self.out.push(SerializedEntity { file_name, bytes });
    }

    /// Adds each task (a `TaskSpec`) not written yet.
    fn tasks(&mut self, templates: &[TaskTemplate]) {
        for t in templates {
            let name = t.id.as_ref().map(|i| i.name.clone()).unwrap_or_default();
            if self.seen_tasks.insert(name.clone()) {
                let spec = TaskSpec {
                    template: Some(t.clone()),
                    ..Default::default()
                };
                self.push(&name, 1, spec.encode_to_vec());
            }
        }
    }

    /// Adds workflow `wf` (its `WorkflowSpec` from `closure`) and its default launch plan.
    fn workflow(
        &mut self,
        wf: &Workflow,
        closure: &WorkflowClosure,
        settings: &SerializationSettings,
    ) -> Result<(), WorkflowError> {
        self.push(wf.name(), 2, closure.spec().encode_to_vec());
        let default_plan = LaunchPlan::default_for(wf).to_idl(settings)?;
        self.push(wf.name(), 3, default_plan.encode_to_vec());
        Ok(())
    }
}

/// [`serialize_workflows`], then each of `tasks` not already written (tasks registered in the
/// binary but used by no workflow).
pub fn serialize_entities(
    workflows: &[Workflow],
    tasks: &[crate::task::Task],
    settings: &SerializationSettings,
) -> Result<Vec<SerializedEntity>, WorkflowError> {
    let mut files = Files::default();
    let mut seen_workflows = BTreeSet::new();
    for wf in workflows {
        let closure = wf.closure(settings)?;
        files.tasks(&closure.tasks);
        for sub in crate::serialization::sub_workflows(wf) {
            if seen_workflows.insert(sub.name().to_string()) {
                let c = sub.closure(settings)?;
                files.workflow(&sub, &c, settings)?;
            }
        }
        if seen_workflows.insert(wf.name().to_string()) {
            files.workflow(wf, &closure, settings)?;
        }
    }
    // Launch plans: those the workflows' nodes call, and those registered for the workflows
    // written (each with its workflow, as flytekit registers the launch plans a workflow uses).
    let written: Vec<String> = seen_workflows.iter().cloned().collect();
    let mut plans: Vec<LaunchPlan> = workflows
        .iter()
        .flat_map(|w| w.launch_plans_used())
        .collect();
    plans.extend(
        crate::workflow::registered_launch_plans()
            .into_iter()
            .filter(|lp| written.iter().any(|w| w == lp.workflow().name())),
    );
    let mut seen_plans: BTreeSet<String> = seen_workflows.clone();
    for lp in plans {
        if !seen_plans.insert(lp.name().to_string()) {
            continue;
        }
        let wf = lp.workflow();
        if seen_workflows.insert(wf.name().to_string()) {
            let c = wf.closure(settings)?;
            files.tasks(&c.tasks);
            files.workflow(wf, &c, settings)?;
        }
        files.push(lp.name(), 3, lp.to_idl(settings)?.encode_to_vec());
    }
    for t in tasks {
        if !files.seen_tasks.contains(t.name()) {
            let template = t
                .template(settings)
                .map_err(|e| WorkflowError::Serialization {
                    entity: t.name().to_string(),
                    message: e.to_string(),
                })?;
            files.tasks(std::slice::from_ref(&template));
        }
    }
    Ok(files.out)
}

/// The content version of a registration: the lowercase base32 (RFC 4648 alphabet, no padding)
/// of the first 16 bytes of a SHA-256, 26 characters of `[a-z2-7]`, valid in any Flyte
/// identifier. The hash covers, each length-prefixed: `code` (a digest of the shipped code,
/// such as `binary:blake3:<hex>` or `fast-bundle:md5:<hex>`), the project and domain, the binary
/// name, the default and named images, the registration environment, and every entity's file
/// name and bytes (serialized with an empty version).
pub fn content_version(
    code: &str,
    settings: &SerializationSettings,
    entities: &[SerializedEntity],
) -> String {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(b"flytekit-rs content version 1");
    field(code.as_bytes());
    field(settings.project.as_bytes());
    field(settings.domain.as_bytes());
    field(settings.binary.as_bytes());
    let cfg = &settings.image_config;
    field(
        cfg.default_image
            .as_ref()
            .map(|i| i.full())
            .unwrap_or_default()
            .as_bytes(),
    );
    for image in &cfg.images {
        field(format!("{}={}", image.name, image.full()).as_bytes());
    }
    for (k, v) in &settings.env {
        field(format!("{k}={v}").as_bytes());
    }
    for e in entities {
        field(e.file_name.as_bytes());
        field(&e.bytes);
    }
    base32_lower(&h.finalize()[..16])
}

/// Lowercase RFC 4648 base32 without padding.
fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Entities serialized for registration, and the version to register them under.
#[derive(Clone, Debug)]
pub struct VersionedEntities {
    /// The files to write.
    pub files: Vec<SerializedEntity>,
    /// `--version`, or the content version.
    pub version: String,
    /// Whether `version` is written into the identifiers (else they carry none).
    pub written: bool,
}

/// [`serialize_entities`] with the version chosen by `versioning`: the given version, or the
/// [`content_version`] of the entities serialized with an empty version and of the code digest
/// `code()` (only computed then). With [`Versioning::ContentWritten`] the entities are
/// serialized again with the content version. `settings.version` is left as the files carry it.
pub fn serialize_versioned(
    workflows: &[Workflow],
    tasks: &[crate::task::Task],
    settings: &mut SerializationSettings,
    versioning: &Versioning,
    code: impl FnOnce() -> Result<String, String>,
) -> Result<VersionedEntities, String> {
    if let Versioning::Given(v) = versioning {
        settings.version = v.clone();
        let files = serialize_entities(workflows, tasks, settings).map_err(|e| e.to_string())?;
        return Ok(VersionedEntities {
            files,
            version: v.clone(),
            written: true,
        });
    }
    settings.version = String::new();
    let draft = serialize_entities(workflows, tasks, settings).map_err(|e| e.to_string())?;
    let version = content_version(&code()?, settings, &draft);
    if *versioning == Versioning::ContentPrinted {
        return Ok(VersionedEntities {
            files: draft,
            version,
            written: false,
        });
    }
    settings.version = version.clone();
    let files = serialize_entities(workflows, tasks, settings).map_err(|e| e.to_string())?;
    Ok(VersionedEntities {
        files,
        version,
        written: true,
    })
}

/// `binary:blake3:<hex>` of this executable: the code digest of a registration without a fast
/// bundle. BLAKE3 (memory-mapped) hashes a release binary of tens of MB in a few milliseconds.
pub fn current_binary_digest() -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_mmap(&exe)
        .map_err(|e| format!("cannot read {}: {e}", exe.display()))?;
    Ok(format!("binary:blake3:{}", hasher.finalize().to_hex()))
}

/// Entry point of `serialize`.
pub fn serialize(args: SerializeArgs) -> ExitCode {
    let (mut selected, mut standalone) =
        match super::instances::select(&args.workflows, &args.payloads.instances, "serialize") {
            Ok(selection) => selection,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
    // `--image spec.yaml` names the spec's image (cli/build.rs).
    let mut settings = match super::registration::registration_settings(&args.registration, None) {
        Ok((s, _)) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match super::instances::plan_registration(
        &args.payloads,
        false,
        args.workflows.is_empty(),
        &mut selected,
        &mut standalone,
    ) {
        Ok(plan) => super::instances::apply(plan.as_ref(), &mut settings),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let versioned = match serialize_versioned(
        &selected,
        &standalone,
        &mut settings,
        &args.registration.versioning(),
        current_binary_digest,
    ) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let files = &versioned.files;
    if let Err(e) = std::fs::create_dir_all(&args.output_dir) {
        eprintln!("error: cannot create {}: {e}", args.output_dir.display());
        return ExitCode::FAILURE;
    }
    for f in files {
        let path = args.output_dir.join(&f.file_name);
        if let Err(e) = std::fs::write(&path, &f.bytes) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    eprintln!(
        "wrote {} file(s) to {}",
        files.len(),
        args.output_dir.display()
    );
    super::registrar::print_registration(
        super::registrar::RegisterTarget::Files(&args.output_dir),
        &args.registration,
        &versioned.version,
        versioned.written,
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648() {
        // RFC 4648 §10 test vectors, lowercased, without padding.
        for (input, want) in [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ] {
            assert_eq!(base32_lower(input.as_bytes()), want, "{input}");
        }
    }

    /// Map fields (interface variables, config, labels, literal maps) are `BTreeMap`s in the wire
    /// types, so equal entities encode to equal bytes in every process: content versions and
    /// `package` archives depend on it.
    #[test]
    fn equal_maps_encode_to_equal_bytes() {
        use flytekit_idl::core::{Variable, VariableMap};
        let vars = |names: &[&str]| {
            VariableMap {
                variables: names
                    .iter()
                    .map(|n| (n.to_string(), Variable::default()))
                    .collect(),
            }
            .encode_to_vec()
        };
        assert_eq!(vars(&["p", "q", "r", "s"]), vars(&["s", "r", "q", "p"]));
        assert_ne!(vars(&["p", "q"]), vars(&["p", "r"]));
    }

    #[test]
    fn content_versions_follow_every_input() {
        let settings = SerializationSettings::new("p", "d", "");
        let entities = vec![SerializedEntity {
            file_name: "0_t_1.pb".into(),
            bytes: vec![1, 2, 3],
        }];
        let v = content_version("binary:sha256:aa", &settings, &entities);
        assert_eq!(v.len(), 26);
        assert!(
            v.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
        );
        assert_eq!(v, content_version("binary:sha256:aa", &settings, &entities));
        assert_ne!(v, content_version("binary:sha256:ab", &settings, &entities));
        let mut env = settings.clone();
        env.env.push(("A".into(), "1".into()));
        assert_ne!(v, content_version("binary:sha256:aa", &env, &entities));
        let images = settings.clone().with_default_image("ghcr.io/a/b:1");
        assert_ne!(v, content_version("binary:sha256:aa", &images, &entities));
        let mut changed = entities.clone();
        changed[0].bytes.push(4);
        assert_ne!(v, content_version("binary:sha256:aa", &settings, &changed));
    }
}
