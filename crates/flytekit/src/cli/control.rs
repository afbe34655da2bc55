//! What `run` takes for workflows with gates and reference entities, besides their inputs:
//! answers to gates (`--signal NAME=VALUE`, `--approve NAME`; asked on the terminal otherwise)
//! and the packages whose templates run reference entities in the sandbox
//! (`--reference-package PKG`).

use std::io::IsTerminal;
use std::sync::Arc;

use crate::engine::{EngineOptions, GateAnswers, ReferencePackage};

/// `options` with gate answers (`signals` as `NAME=VALUE`, `approvals` by name) and the
/// reference packages at `packages`; an error says which flag is wrong and how.
pub(crate) fn apply(
    mut options: EngineOptions,
    signals: &[String],
    approvals: &[String],
    packages: &[std::path::PathBuf],
) -> Result<EngineOptions, String> {
    let mut gates = GateAnswers {
        interactive: std::io::stdin().is_terminal(),
        ..GateAnswers::default()
    };
    for s in signals {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| format!("--signal {s}: expected NAME=VALUE, e.g. --signal answer=42"))?;
        gates.signals.insert(name.to_string(), value.to_string());
    }
    gates.approvals.extend(approvals.iter().cloned());
    options.gates = gates;
    for path in packages {
        let pkg = ReferencePackage::load(path).map_err(|e| e.to_string())?;
        options.reference_packages.push(Arc::new(pkg));
    }
    if !options.reference_packages.is_empty() && options.sandbox.is_none() {
        return Err(
            "--reference-package runs reference entities from their templates, which only the \
             sandbox does; add --sandbox"
                .into(),
        );
    }
    Ok(options)
}
