//! Fast-registration bundles: determinism, flytekit's digest, safe unpacking, upload-once.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use flytekit::fast::{self, FastBundle, FastError};
use flytekit::storage::Storage;

/// A small tree: an executable "binary", a config file and a nested data file.
fn tree(root: &Path, mtime: SystemTime) -> Vec<(PathBuf, String)> {
    let files = [
        ("bin/tasks", b"\x7fELF pretend binary".as_slice(), 0o755),
        ("config/app.yaml", b"a: 1\n".as_slice(), 0o644),
        ("data/deep/x.txt", b"hello\n".as_slice(), 0o600),
    ];
    let mut out = Vec::new();
    for (rel, data, mode) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        out.push((path, rel.to_string()));
    }
    out
}

#[test]
fn bundles_are_deterministic_across_mtimes_order_and_directories() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out_a = tempfile::tempdir().unwrap();
    let out_b = tempfile::tempdir().unwrap();
    let files_a = tree(
        a.path(),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000),
    );
    let mut files_b = tree(b.path(), SystemTime::now());
    files_b.reverse();
    let ba = FastBundle::create(&files_a, out_a.path()).unwrap();
    let bb = FastBundle::create(&files_b, out_b.path()).unwrap();
    assert_eq!(ba.digest, bb.digest);
    assert_eq!(ba.file_name(), format!("fast{}.tar.gz", ba.digest));
    assert_eq!(
        std::fs::read(&ba.path).unwrap(),
        std::fs::read(&bb.path).unwrap()
    );
    assert_eq!(fast::compute_digest(&files_a).unwrap(), ba.digest);

    // A content change changes the digest.
    std::fs::write(&files_a[1].0, b"a: 2\n").unwrap();
    let changed = FastBundle::create(&files_a, out_a.path()).unwrap();
    assert_ne!(changed.digest, ba.digest);

    // Bad declarations are refused with clear errors.
    let err = FastBundle::create(&[(&files_a[0].0, "../x")], out_a.path()).unwrap_err();
    assert!(matches!(err, FastError::InvalidArchivePath { .. }), "{err}");
    let err = FastBundle::create(
        &[(&files_a[0].0, "x"), (&files_a[1].0, "./x")],
        out_a.path(),
    )
    .unwrap_err();
    assert!(matches!(err, FastError::DuplicatePath(_)), "{err}");
    let err = FastBundle::create(&[(a.path(), "dir")], out_a.path()).unwrap_err();
    assert!(matches!(err, FastError::NotAFile { .. }), "{err}");
}

#[test]
fn digest_matches_flytekit_fast_package_and_flytekit_reads_the_archive() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let files = tree(src.path(), SystemTime::now());
    let bundle = FastBundle::create(&files, out.path()).unwrap();
    let code = r#"
import json, sys, tarfile, tempfile
from flytekit.constants import CopyFileDetection
from flytekit.tools.fast_registration import fast_package, FastPackageOptions
src, ours = sys.argv[1], sys.argv[2]
out = tempfile.mkdtemp()
opts = FastPackageOptions(ignores=[], keep_default_ignores=False, copy_style=CopyFileDetection.ALL)
path = fast_package(src, out, options=opts)
with tarfile.open(ours, "r:gz") as t:
    members = [[m.name, m.mode, m.mtime, m.uid, m.gid, m.uname, t.extractfile(m).read().decode()] for m in t.getmembers()]
json.dump({"name": str(path).rsplit("/", 1)[-1], "members": members}, sys.stdout)
"#;
    let out = flytekit_oracle::run_code(
        code,
        &[src.path().to_str().unwrap(), bundle.path.to_str().unwrap()],
        b"",
    );
    let oracle: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        oracle["name"],
        bundle.file_name(),
        "flytekit names the same tree differently"
    );
    assert_eq!(
        oracle["members"],
        serde_json::json!([
            [
                "bin/tasks",
                0o755,
                315532800,
                0,
                0,
                "",
                "\u{7f}ELF pretend binary"
            ],
            ["config/app.yaml", 0o644, 315532800, 0, 0, "", "a: 1\n"],
            ["data/deep/x.txt", 0o644, 315532800, 0, 0, "", "hello\n"],
        ])
    );
}

#[test]
fn unpack_round_trips_and_keeps_the_executable_bit() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    let files = tree(src.path(), SystemTime::now());
    let bundle = FastBundle::create(&files, out.path()).unwrap();
    // Pre-existing files are overwritten, like `tar -xf`.
    std::fs::create_dir_all(dest.path().join("config")).unwrap();
    std::fs::write(dest.path().join("config/app.yaml"), "old").unwrap();
    let entries = fast::unpack(&bundle.path, dest.path()).unwrap();
    assert_eq!(entries, ["bin/tasks", "config/app.yaml", "data/deep/x.txt"]);
    for (src, rel) in &files {
        assert_eq!(
            std::fs::read(src).unwrap(),
            std::fs::read(dest.path().join(rel)).unwrap()
        );
    }
    let mode = std::fs::metadata(dest.path().join("bin/tasks"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "the binary must stay executable");
    let err = fast::unpack(&bundle.path, &dest.path().join("missing")).unwrap_err();
    assert!(matches!(err, FastError::NotADirectory(_)), "{err}");
}

/// A raw archive entry: path, type, link target, data.
type RawEntry<'a> = (&'a str, tar::EntryType, &'a str, &'a [u8]);

/// Writes a .tar.gz whose entries are `(raw path, type, link target, data)`, bypassing the tar
/// crate's own path checks (a hostile archive would).
fn hostile(path: &Path, entries: &[RawEntry]) {
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    let mut builder = tar::Builder::new(gz);
    for (name, kind, link, data) in entries {
        let mut h = tar::Header::new_gnu();
        let raw = &mut h.as_gnu_mut().unwrap().name;
        raw[..name.len()].copy_from_slice(name.as_bytes());
        if !link.is_empty() {
            let raw = &mut h.as_gnu_mut().unwrap().linkname;
            raw[..link.len()].copy_from_slice(link.as_bytes());
        }
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append(&h, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn unpack_refuses_paths_that_escape_the_destination() {
    use tar::EntryType::{Regular, Symlink};
    let work = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<RawEntry>, &str)> = vec![
        (
            "absolute",
            vec![("/tmp/evil", Regular, "", b"x")],
            "absolute",
        ),
        ("dotdot", vec![("a/../../evil", Regular, "", b"x")], "`..`"),
        (
            "symlink-out",
            vec![("link", Symlink, "../../etc", b"")],
            "outside the destination",
        ),
        (
            "symlink-absolute",
            vec![("link", Symlink, "/etc", b"")],
            "outside the destination",
        ),
        (
            "fifo",
            vec![("pipe", tar::EntryType::Fifo, "", b"")],
            "only files, directories and links",
        ),
    ];
    for (name, entries, expect) in cases {
        let archive = work.path().join(format!("{name}.tar.gz"));
        hostile(&archive, &entries);
        let dest = work.path().join(format!("dest-{name}"));
        std::fs::create_dir(&dest).unwrap();
        let err = fast::unpack(&archive, &dest).unwrap_err();
        assert!(
            matches!(err, FastError::UnsafeEntry { .. }) && err.to_string().contains(expect),
            "{name}: {err}"
        );
        assert_eq!(
            std::fs::read_dir(&dest).unwrap().count(),
            0,
            "{name} wrote something"
        );
    }
    // A symlink already in the destination is not written through.
    let dest = work.path().join("dest-prelinked");
    std::fs::create_dir(&dest).unwrap();
    std::os::unix::fs::symlink(outside.path(), dest.join("esc")).unwrap();
    let archive = work.path().join("through.tar.gz");
    hostile(&archive, &[("esc/owned", Regular, "", b"x")]);
    let err = fast::unpack(&archive, &dest).unwrap_err();
    assert!(err.to_string().contains("through the symlink"), "{err}");
    assert!(!outside.path().join("owned").exists());
    // Relative links that stay inside are fine.
    let archive = work.path().join("inside.tar.gz");
    hostile(
        &archive,
        &[
            ("d/f", Regular, "", b"ok"),
            ("d/link", Symlink, "f", b""),
            ("up", Symlink, "d/../d/f", b""),
        ],
    );
    let dest = work.path().join("dest-inside");
    std::fs::create_dir(&dest).unwrap();
    fast::unpack(&archive, &dest).unwrap();
    assert_eq!(std::fs::read(dest.join("d/link")).unwrap(), b"ok");
}

#[tokio::test]
async fn upload_bundle_uploads_once_and_downloads_into_a_directory() {
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    let files = tree(src.path(), SystemTime::now());
    let bundle = FastBundle::create(&files, out.path()).unwrap();
    let storage = Storage::new();
    let prefix = format!("file://{}/fast", store.path().display());
    let uri = fast::upload_bundle(&storage, &prefix, &bundle)
        .await
        .unwrap();
    assert_eq!(uri, format!("{prefix}/{}", bundle.file_name()));
    // Present: the second upload is skipped (the marker survives).
    let stored = store.path().join("fast").join(bundle.file_name());
    let original = std::fs::read(&stored).unwrap();
    std::fs::write(&stored, b"marker").unwrap();
    assert_eq!(
        fast::upload_bundle(&storage, &prefix, &bundle)
            .await
            .unwrap(),
        uri
    );
    assert_eq!(std::fs::read(&stored).unwrap(), b"marker");
    std::fs::write(&stored, original).unwrap();

    let dest = tempfile::tempdir().unwrap();
    let local = fast::download_distribution(&storage, &uri, dest.path())
        .await
        .unwrap();
    assert!(local.ends_with(bundle.file_name()));
    assert_eq!(
        std::fs::read(dest.path().join("config/app.yaml")).unwrap(),
        b"a: 1\n"
    );
    let err = fast::download_distribution(&storage, &format!("{prefix}/x.zip"), dest.path())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Unrecognized additional distribution format for {prefix}/x.zip")
    );
}

/// Figures for the report: bundle creation for a real binary, changed vs unchanged.
#[test]
fn bundle_timing_for_a_real_binary() {
    let exe = std::env::current_exe().unwrap();
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("tasks");
    std::fs::copy(&exe, &bin).unwrap();
    let size = std::fs::metadata(&bin).unwrap().len();
    let out = work.path().join("out");
    let t = Instant::now();
    let first = FastBundle::create(&[(&bin, "tasks")], &out).unwrap();
    let created = t.elapsed();
    let t = Instant::now();
    let again = FastBundle::create(&[(&bin, "tasks")], &out).unwrap();
    let unchanged = t.elapsed();
    assert_eq!(first, again);
    let mut f = std::fs::OpenOptions::new().append(true).open(&bin).unwrap();
    std::io::Write::write_all(&mut f, b"changed").unwrap();
    drop(f);
    let t = Instant::now();
    let changed = FastBundle::create(&[(&bin, "tasks")], &out).unwrap();
    let changed_t = t.elapsed();
    assert_ne!(changed.digest, first.digest);
    eprintln!(
        "bundle of a {:.1} MiB binary: new {created:.2?}, unchanged (reused) {unchanged:.2?}, changed {changed_t:.2?}; archive {:.1} MiB",
        size as f64 / 1048576.0,
        std::fs::metadata(&changed.path).unwrap().len() as f64 / 1048576.0
    );
}
