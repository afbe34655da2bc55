//! Local paths, `file://` and `memory://` behave as before the object stores arrived: no server,
//! no configuration needed.

use bytes::Bytes;
use flytekit::storage::{self, Storage, StorageConfig, StorageError};

const MIB: usize = 1024 * 1024;

fn storage() -> Storage {
    Storage::from_config(StorageConfig::default())
}

#[tokio::test]
async fn local_paths_and_file_uris_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = storage();
    let plain = format!("{}/a/b.txt", dir.path().display());
    let uri = format!("file://{plain}");
    s.put(&uri, Bytes::from_static(b"hello"))
        .await
        .expect("put");
    assert_eq!(
        s.get(&plain).await.expect("get by path"),
        Bytes::from_static(b"hello")
    );
    assert!(s.exists(&plain).await.expect("exists"));
    assert_eq!(
        s.list(&format!("{}/a", dir.path().display()))
            .await
            .expect("list"),
        vec![format!("{}/a/b.txt", dir.path().display())]
    );
    assert!(
        s.list(&format!("{}/none", dir.path().display()))
            .await
            .expect("list missing")
            .is_empty()
    );
    let err = s
        .get(&format!("{}/nope", dir.path().display()))
        .await
        .expect_err("missing");
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");

    // Large local files go through the same calls; nothing partial is left next to them.
    let big: Vec<u8> = (0..(9 * MIB)).map(|i| (i % 251) as u8).collect();
    let src = dir.path().join("big.bin");
    std::fs::write(&src, &big).expect("write");
    let dest_uri = format!("{}/copy/big.bin", dir.path().display());
    s.upload_file(&src, &dest_uri).await.expect("upload");
    let back = dir.path().join("back/big.bin");
    s.download_file(&dest_uri, &back).await.expect("download");
    assert_eq!(std::fs::read(&back).expect("read"), big);
    assert_eq!(
        std::fs::read_dir(dir.path().join("back"))
            .expect("read dir")
            .count(),
        1
    );

    let (cas, digest) = s
        .put_file_content_addressed(&format!("{}/cas", dir.path().display()), &src)
        .await
        .expect("cas");
    assert!(cas.ends_with(&format!("/cas/sha256-{digest}")), "{cas}");
    assert_eq!(
        std::fs::read(storage::local_path(&cas).expect("path")).expect("read cas"),
        big
    );
}

#[tokio::test]
async fn memory_store_is_shared_by_clones_and_isolated_between_storages() {
    let s = storage();
    let clone = s.clone();
    s.put("memory://b/k", Bytes::from_static(b"v"))
        .await
        .expect("put");
    assert_eq!(
        clone.get("memory://b/k").await.expect("clone sees it"),
        Bytes::from_static(b"v")
    );
    assert!(
        !storage().exists("memory://b/k").await.expect("exists"),
        "a new Storage has its own memory store"
    );
    let (uri, _) = s
        .put_content_addressed("memory://b/cas", Bytes::from_static(b"x"))
        .await
        .expect("cas");
    assert_eq!(s.list("memory://b/cas").await.expect("list"), vec![uri]);
}

#[test]
fn helpers_are_unchanged() {
    assert_eq!(storage::join("s3://b/p/", "/x"), "s3://b/p/x");
    assert!(
        storage::is_local("/tmp/x")
            && storage::is_local("file:///tmp/x")
            && !storage::is_local("s3://b/x")
    );
    assert!(storage::local_path("rel").expect("path").is_absolute());
}

#[tokio::test]
async fn unsupported_and_invalid_uris_are_clear() {
    let err = storage()
        .get("ftp://host/x")
        .await
        .expect_err("unsupported");
    assert!(
        matches!(err, StorageError::UnsupportedScheme { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("ftp://host/x"), "{err}");
    let err = storage().get("s3:///key").await.expect_err("no bucket");
    assert!(matches!(err, StorageError::InvalidPath { .. }), "{err:?}");
}
