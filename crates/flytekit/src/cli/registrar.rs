//! What `serialize` and `package` tell the user about registering their output with
//! `flytectl register files`.
//!
//! flytectl hydrates every identifier it reads (the entity's own id, every `TaskNode`
//! reference, sub-workflow and launch-plan references, a launch plan's `workflow_id`): an empty
//! project or domain, or one holding `{{ registration.project }}` / `{{ registration.domain }}`,
//! takes the value of its `-p` / `-d`; an empty version, or `{{ registration.version }}`, takes
//! its `--version`, and with `--force` the version is replaced whatever it is. So identifiers
//! written empty (the default, as `pyflyte package` writes them) land where flytectl's flags say;
//! identifiers written with a version keep it unless `--force` is given.

use std::path::Path;

use super::registration::RegistrationArgs;

/// What was written: an archive (`package`) or a directory of files (`serialize`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum RegisterTarget<'a> {
    /// A `.tgz` archive, registered with `--archive`.
    Archive(&'a Path),
    /// A directory of `.pb` files, registered by a glob (flytectl expands it itself).
    Files(&'a Path),
}

/// The `flytectl register files` command that registers `target` in `project`/`domain` under
/// `version`, each argument quoted for a POSIX shell.
pub(crate) fn flytectl_command(
    target: RegisterTarget<'_>,
    project: &str,
    domain: &str,
    version: &str,
) -> String {
    let (path, archive) = match target {
        RegisterTarget::Archive(p) => (p.display().to_string(), true),
        RegisterTarget::Files(d) => (d.join("*").display().to_string(), false),
    };
    let mut words = vec![
        "flytectl".to_string(),
        "register".to_string(),
        "files".to_string(),
        path,
    ];
    if archive {
        words.push("--archive".to_string());
    }
    for (flag, value) in [("-p", project), ("-d", domain), ("--version", version)] {
        words.push(flag.to_string());
        words.push(value.to_string());
    }
    words
        .iter()
        .map(|w| match shlex::try_quote(w) {
            Ok(q) => q.into_owned(),
            // Only a NUL byte cannot be quoted; no path or flag value holds one.
            Err(_) => w.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prints (to stderr) the version, what the files carry, and the `flytectl register files`
/// command that registers them. Without `-p`/`-d` the command names `PROJECT`/`DOMAIN` for the
/// user to fill in.
pub(crate) fn print_registration(
    target: RegisterTarget<'_>,
    args: &RegistrationArgs,
    version: &str,
    written: bool,
) {
    let given = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
    let project = given(args.project.as_deref());
    let domain = given(args.domain.as_deref());
    eprintln!("version: {}", version);
    if written {
        eprintln!(
            "the identifiers carry version {}: flytectl keeps it (its --version applies only with --force)",
            version
        );
    } else {
        eprintln!(
            "the identifiers carry no version: flytectl's --version decides (below: the content version)"
        );
    }
    let missing: Vec<&str> = [("project", &project, "-p"), ("domain", &domain, "-d")]
        .into_iter()
        .filter(|(_, given, _)| given.is_none())
        .map(|(what, _, _)| what)
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "the identifiers carry no {}: flytectl fills it from its flags",
            missing.join(" or ")
        );
    }
    eprintln!(
        "register with: {}",
        flytectl_command(
            target,
            project.as_deref().unwrap_or("PROJECT"),
            domain.as_deref().unwrap_or("DOMAIN"),
            version
        )
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_quoted_for_the_shell() {
        assert_eq!(
            flytectl_command(
                RegisterTarget::Archive(Path::new("flyte-package.tgz")),
                "ml",
                "production",
                "abc"
            ),
            "flytectl register files flyte-package.tgz --archive -p ml -d production --version abc"
        );
        assert_eq!(
            flytectl_command(RegisterTarget::Files(Path::new("my out")), "p", "d", "v1"),
            "flytectl register files 'my out/*' -p p -d d --version v1"
        );
    }
}
