//! An example binary's `serialize` output, read back: the workflow specs and task templates.

use std::path::Path;
use std::process::Command;

use flytekit::idl::Message;
use flytekit::idl::admin::{TaskSpec, WorkflowSpec};
use flytekit::idl::core::TaskTemplate;

/// Runs `<bin> serialize -p p -d d -v v --image <image> -o <dir>` and decodes every `_2.pb`
/// (admin `WorkflowSpec`) and `_1.pb` (admin `TaskSpec`) it wrote.
pub fn serialize(bin: &Path, image: &str, dir: &Path) -> (Vec<WorkflowSpec>, Vec<TaskTemplate>) {
    let out = Command::new(bin)
        .args([
            "serialize",
            "-p",
            "p",
            "-d",
            "d",
            "-v",
            "v",
            "--image",
            image,
            "-o",
        ])
        .arg(dir)
        .output()
        .expect("serialize runs");
    assert!(out.status.success(), "{out:?}");
    let mut wfs = Vec::new();
    let mut tasks = Vec::new();
    for entry in std::fs::read_dir(dir).expect("serialized dir") {
        let path = entry.expect("entry").path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).expect("read");
        if file.ends_with("_1.pb") {
            let spec = TaskSpec::decode(bytes.as_slice()).expect("TaskSpec");
            tasks.extend(spec.template);
        } else if file.ends_with("_2.pb") {
            wfs.push(WorkflowSpec::decode(bytes.as_slice()).expect("WorkflowSpec"));
        }
    }
    (wfs, tasks)
}
