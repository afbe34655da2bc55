//! Registration packages read back: the task templates, workflows and launch plans of a
//! `flyte-package.tgz` (what `pyflyte package` and our `package` write) or of a directory of
//! `serialize` output, so that `run --sandbox --reference-package PKG` runs the reference
//! entities a workflow calls from *their* templates — a Python task under `pyflyte-execute`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flytekit_idl::Message;
use flytekit_idl::admin::{LaunchPlan, TaskSpec, WorkflowSpec};
use flytekit_idl::core::{Identifier, TaskTemplate, WorkflowTemplate};

/// Why a package could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The file or directory could not be read.
    #[error("cannot read the package {path}: {source}")]
    Io {
        /// The package.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An entry is not the protobuf message its name says.
    #[error("package {path}: {entry} is not a {message}: {reason}")]
    Decode {
        /// The package.
        path: PathBuf,
        /// The entry's name.
        entry: String,
        /// The expected message.
        message: &'static str,
        /// The decoding error.
        reason: String,
    },
    /// The package holds no entity.
    #[error(
        "package {path} holds no task, workflow or launch plan (expected `<i>_<name>_<1|2|3>.pb` \
         entries, as `pyflyte package` writes them)"
    )]
    Empty {
        /// The package.
        path: PathBuf,
    },
}

/// The entities of one registration package.
#[derive(Clone, Debug, Default)]
pub struct ReferencePackage {
    path: PathBuf,
    tasks: Vec<Arc<TaskTemplate>>,
    workflows: Vec<WorkflowTemplate>,
    launch_plans: Vec<LaunchPlan>,
}

impl ReferencePackage {
    /// Reads a `.tgz` package or a directory of `.pb` files.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, PackageError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| PackageError::Io {
            path: path.clone(),
            source,
        };
        let mut pkg = ReferencePackage {
            path: path.clone(),
            ..Default::default()
        };
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for p in entries {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if name.ends_with(".pb") {
                    let bytes = std::fs::read(&p).map_err(io)?;
                    pkg.add(&name, &bytes)?;
                }
            }
        } else {
            let file = std::fs::File::open(&path).map_err(io)?;
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
            for entry in archive.entries().map_err(io)? {
                let mut entry = entry.map_err(io)?;
                let name = entry
                    .path()
                    .map_err(io)?
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if !name.ends_with(".pb") {
                    continue;
                }
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(io)?;
                pkg.add(&name, &bytes)?;
            }
        }
        if pkg.tasks.is_empty() && pkg.workflows.is_empty() && pkg.launch_plans.is_empty() {
            return Err(PackageError::Empty { path });
        }
        Ok(pkg)
    }

    fn add(&mut self, entry: &str, bytes: &[u8]) -> Result<(), PackageError> {
        let decode_err = |message: &'static str, e: prost::DecodeError| PackageError::Decode {
            path: self.path.clone(),
            entry: entry.to_string(),
            message,
            reason: e.to_string(),
        };
        if entry.ends_with("_1.pb") {
            let spec = TaskSpec::decode(bytes).map_err(|e| decode_err("TaskSpec", e))?;
            self.tasks.extend(spec.template.map(Arc::new));
        } else if entry.ends_with("_2.pb") {
            let spec = WorkflowSpec::decode(bytes).map_err(|e| decode_err("WorkflowSpec", e))?;
            self.workflows.extend(spec.template);
            self.workflows.extend(spec.sub_workflows);
        } else if entry.ends_with("_3.pb") {
            let lp = LaunchPlan::decode(bytes).map_err(|e| decode_err("LaunchPlan", e))?;
            self.launch_plans.push(lp);
        }
        Ok(())
    }

    /// Where the package was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The task templates.
    pub fn tasks(&self) -> &[Arc<TaskTemplate>] {
        &self.tasks
    }

    /// The workflow templates (sub-workflows included).
    pub fn workflows(&self) -> &[WorkflowTemplate] {
        &self.workflows
    }

    /// The launch plans.
    pub fn launch_plans(&self) -> &[LaunchPlan] {
        &self.launch_plans
    }

    /// The names of every entity, for messages.
    pub fn names(&self) -> Vec<String> {
        let name =
            |id: &Option<Identifier>| id.as_ref().map(|i| i.name.clone()).unwrap_or_default();
        let mut v: Vec<String> = self
            .tasks
            .iter()
            .map(|t| format!("task {}", name(&t.id)))
            .chain(
                self.workflows
                    .iter()
                    .map(|w| format!("workflow {}", name(&w.id))),
            )
            .chain(
                self.launch_plans
                    .iter()
                    .map(|l| format!("launch plan {}", name(&l.id))),
            )
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The entity named like `id` among `items`: the one with `id`'s exact identifier when there
/// is one, else the only one of that name (packages are often written under another project,
/// domain or version than the reference names).
pub(crate) fn find_by_id<'a, T>(
    items: impl Iterator<Item = &'a T>,
    id_of: impl Fn(&T) -> Option<&Identifier>,
    id: &Identifier,
) -> Option<&'a T>
where
    T: 'a,
{
    let same_name: Vec<&T> = items
        .filter(|t| id_of(t).is_some_and(|i| i.name == id.name))
        .collect();
    let exact = same_name.iter().find(|t| {
        id_of(t).is_some_and(|i| {
            i.project == id.project && i.domain == id.domain && i.version == id.version
        })
    });
    exact.or(same_name.first()).copied()
}
