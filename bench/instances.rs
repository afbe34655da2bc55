//! Instance-task payload figures (issue 4): `TaskTemplate` size and `loader_args` length against
//! payload size (1 KiB, 1 MiB, 64 MiB) for the inline (auto), offloaded and naive modes; load
//! latency cold (download + verify + decode) and warm (on-disk cache), median of N; whether
//! re-registering an unchanged payload uploads anything; and a bundle's load latency, which
//! includes checking the binary's identity.
//!
//! Payloads are `Greeting` values (`crates/flytekit/examples/instances/types.rs`) whose template
//! is pseudo-random lowercase text, which zlib shrinks to about 60%. Offloaded payloads go to the
//! S3 test server when `FLYTEKIT_TEST_S3_*` is set (`eval "$(scripts/s3-server env)"`), else to a
//! local directory.
//!
//! `cargo bench -p flytekit --bench instances -- [RUNS]` (default 5 runs per latency figure).

#[path = "../crates/flytekit/examples/instances/types.rs"]
mod types;

use std::time::{Duration, Instant};

use flytekit::SerializationSettings;
use flytekit::bundle::{BUNDLE_RESOLVER, BundleBuilder};
use flytekit::idl::Message;
use flytekit::instance::{
    INSTANCE_RESOLVER, INSTANCE_RESOLVER_LOCATION, InstanceTask, PayloadCache, PayloadSettings,
    Placement, UploadOutcome, encode_payload, inline_loader_args, instance_task,
};
use flytekit::storage::{Storage, StorageConfig};
use flytekit::task::TaskBuilder;
use types::{Greeting, pseudo_random_text};

fn store() -> (Storage, String, &'static str) {
    let var = |n: &str| std::env::var(n).ok();
    match (
        var("FLYTEKIT_TEST_S3_ENDPOINT"),
        var("FLYTEKIT_TEST_S3_ACCESS_KEY_ID"),
        var("FLYTEKIT_TEST_S3_SECRET_ACCESS_KEY"),
        var("FLYTEKIT_TEST_S3_BUCKET"),
    ) {
        (Some(endpoint), Some(key), Some(secret), Some(bucket)) => {
            let region = var("FLYTEKIT_TEST_S3_REGION").unwrap_or_else(|| "garage".into());
            let env = [
                ("FLYTE_AWS_ENDPOINT", endpoint),
                ("FLYTE_AWS_ACCESS_KEY_ID", key),
                ("FLYTE_AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_REGION", region),
                ("AWS_ALLOW_HTTP", "true".to_string()),
            ];
            let config = StorageConfig::from_lookup(|name| {
                env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
            })
            .expect("S3 settings");
            let prefix = format!(
                "s3://{bucket}/bench-instances/{}",
                uuid::Uuid::new_v4().simple()
            );
            (
                Storage::from_config(config),
                prefix,
                "S3 test server (Garage, 127.0.0.1)",
            )
        }
        _ => {
            let dir = std::env::temp_dir().join(format!(
                "flytekit-bench-instances-{}",
                uuid::Uuid::new_v4().simple()
            ));
            (
                Storage::new(),
                dir.display().to_string(),
                "local directory (set FLYTEKIT_TEST_S3_* for the S3 server)",
            )
        }
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn human(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5)
        .max(1);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (storage, prefix, where_) = store();
    let settings = SerializationSettings::new("p", "d", "v1")
        .with_default_image("ghcr.io/example/instances:1");
    let scratch = tempfile::tempdir().expect("tempdir");
    println!("store: {where_}; latency: median of {runs} runs\n");
    println!(
        "| payload | encoded | mode | placement | loader_args | TaskTemplate | upload | re-upload | GET alone | load cold | load warm |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");

    let mut notes = Vec::new();
    for (label, size) in [
        ("1 KiB", 1usize << 10),
        ("1 MiB", 1 << 20),
        ("64 MiB", 64 << 20),
    ] {
        let value = Greeting {
            id: format!("bench_{}", size),
            template: pseudo_random_text(size, size as u64),
        };
        let t0 = Instant::now();
        let encoded = encode_payload(&value).expect("encode");
        let encode_time = t0.elapsed();
        let modes: [(&str, PayloadSettings); 3] = [
            (
                "inline (auto)",
                PayloadSettings::default().offload_to(&prefix),
            ),
            (
                "offloaded",
                PayloadSettings::default()
                    .offload_to(&prefix)
                    .always_offload(),
            ),
            ("naive", PayloadSettings::default().naive()),
        ];
        for (mode, ps) in modes {
            let prepared = match instance_task(&value, &ps) {
                Ok(p) => p,
                Err(e) => {
                    // What the seed's resolver would have put in the template: measure it anyway.
                    let args = inline_loader_args(Greeting::TYPE_TAG, &encoded);
                    let len: usize = args.iter().map(String::len).sum();
                    let task: TaskBuilder = value.task();
                    let task = task
                        .resolver(INSTANCE_RESOLVER_LOCATION, args)
                        .build()
                        .expect("task");
                    let template = task.template(&settings).expect("template").encoded_len();
                    println!(
                        "| {label} | {} | {mode} | refused | ({}) | ({}) | - | - | - | - | - |",
                        human(encoded.len()),
                        human(len),
                        human(template),
                    );
                    let msg = e.to_string();
                    eprintln!("  {label} {mode}: {}", &msg[..msg.len().min(160)]);
                    continue;
                }
            };
            let args_len: usize = prepared.loader_args().iter().map(String::len).sum();
            let template = prepared
                .task()
                .template(&settings)
                .expect("template")
                .encoded_len();
            let placement = match prepared.placement() {
                Placement::Inline => "inline",
                Placement::Offloaded { .. } => "offloaded",
            };
            let (upload, reupload) = if matches!(prepared.placement(), Placement::Offloaded { .. })
            {
                let t = Instant::now();
                let first = rt.block_on(prepared.upload(&storage)).expect("upload");
                let first_t = t.elapsed();
                let t = Instant::now();
                let second = rt.block_on(prepared.upload(&storage)).expect("re-upload");
                let second_t = t.elapsed();
                let tag = |o: &UploadOutcome| match o {
                    UploadOutcome::Uploaded { .. } => "uploaded",
                    UploadOutcome::AlreadyPresent { .. } => "skipped",
                    UploadOutcome::Inline => "-",
                };
                (
                    format!("{} {}", tag(&first), ms(first_t)),
                    format!("{} {}", tag(&second), ms(second_t)),
                )
            } else {
                ("-".into(), "-".into())
            };
            let get = match prepared.placement() {
                Placement::Offloaded { uri, .. } => ms(median(
                    (0..runs)
                        .map(|_| {
                            let t = Instant::now();
                            rt.block_on(storage.get(uri)).expect("get");
                            t.elapsed()
                        })
                        .collect(),
                )),
                Placement::Inline => "-".into(),
            };
            let args = prepared.loader_args().to_vec();
            let load = |cache: &PayloadCache| {
                let t = Instant::now();
                let task = rt
                    .block_on(INSTANCE_RESOLVER.load_with(&storage, cache, &args))
                    .expect("load");
                let d = t.elapsed();
                assert_eq!(task.name(), prepared.task().name());
                d
            };
            let cold: Vec<Duration> = (0..runs)
                .map(|i| {
                    load(&PayloadCache::new(
                        scratch.path().join(format!("{label}-{mode}-{i}")),
                    ))
                })
                .collect();
            let warm_cache = PayloadCache::new(scratch.path().join(format!("{label}-{mode}-warm")));
            load(&warm_cache);
            let warm: Vec<Duration> = (0..runs).map(|_| load(&warm_cache)).collect();
            let (cold, warm) = (median(cold), median(warm));
            let (cold_s, warm_s) = if placement == "inline" {
                (format!("{} (no I/O)", ms(cold)), ms(warm))
            } else {
                (ms(cold), ms(warm))
            };
            println!(
                "| {label} | {} | {mode} | {placement} | {} | {} | {upload} | {reupload} | {get} | {cold_s} | {warm_s} |",
                human(encoded.len()),
                human(args_len),
                human(template),
            );
            // Free the cache files of big payloads as we go.
            let _ = std::fs::remove_dir_all(warm_cache.dir());
        }
        // Where a warm load's time goes: verify, decompress, deserialize and build.
        let t = Instant::now();
        let digest = flytekit::instance::sha256_hex(&encoded);
        let sha_t = t.elapsed();
        let t = Instant::now();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&encoded[..]), &mut raw)
            .expect("decompress");
        let inflate_t = t.elapsed();
        let t = Instant::now();
        let ty = flytekit::instance::find_type(Greeting::TYPE_TAG).expect("type");
        let task = ty
            .builder_from_payload(&raw)
            .expect("decode")
            .build()
            .expect("build");
        let decode_t = t.elapsed();
        drop((task, raw, digest));
        notes.push(format!(
            "{label}: serialize + compress {} ({} -> {}); a load spends: sha256 {}, inflate {}, \
             deserialize + build {}",
            ms(encode_time),
            human(size),
            human(encoded.len()),
            ms(sha_t),
            ms(inflate_t),
            ms(decode_t),
        ));
        eprintln!(
            "  {label}: serialize + compress {} ({} -> {})",
            ms(encode_time),
            human(size),
            human(encoded.len())
        );
    }

    println!();
    for n in &notes {
        println!("{n}");
    }

    // A bundle: one upload for many entities. Loads check the binary's identity, the SHA-256 of
    // the executable, computed once per process (here already at `prepare`); a task's container
    // is one process, so each task pays for hashing its binary once.
    let exe = std::env::current_exe().expect("current exe");
    let t = Instant::now();
    flytekit::bundle::BinaryIdentity::of_file(&exe).expect("hash");
    let hash_t = t.elapsed();
    let mut b = BundleBuilder::new();
    for i in 0..100 {
        b.add(&Greeting {
            id: format!("b{i}"),
            template: pseudo_random_text(1 << 10, i),
        })
        .expect("add");
    }
    let t = Instant::now();
    let bundle = b.prepare(&prefix).expect("bundle");
    let prepare_t = t.elapsed();
    rt.block_on(bundle.upload(&storage)).expect("upload bundle");
    let args = bundle
        .task("instances.greeting_b7")
        .expect("entity")
        .explicit_loader_args()
        .expect("args")
        .to_vec();
    let load = |cache: &PayloadCache| {
        let t = Instant::now();
        rt.block_on(BUNDLE_RESOLVER.load_with(&storage, cache, &args))
            .expect("load");
        t.elapsed()
    };
    let get = median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                rt.block_on(storage.get(bundle.uri())).expect("get");
                t.elapsed()
            })
            .collect(),
    );
    let cold = median(
        (0..runs)
            .map(|i| {
                load(&PayloadCache::new(
                    scratch.path().join(format!("bundle-{i}")),
                ))
            })
            .collect(),
    );
    let warm_cache = PayloadCache::new(scratch.path().join("bundle-warm"));
    load(&warm_cache);
    let warm = median((0..runs).map(|_| load(&warm_cache)).collect());
    let args_len: usize = args.iter().map(String::len).sum();
    println!(
        "\nbundle of 100 entities (1 KiB text each): {} file, prepared in {}; loader_args {}; \
         GET alone {}, load cold {} / warm {}; hashing the {} executable for its identity: {} \
         (once per process)",
        human(bundle.len()),
        ms(prepare_t),
        human(args_len),
        ms(get),
        ms(cold),
        ms(warm),
        human(
            std::fs::metadata(&exe)
                .map(|m| m.len() as usize)
                .unwrap_or(0)
        ),
        ms(hash_t),
    );
    // Leave nothing behind in the store.
    if prefix.starts_with('/') {
        let _ = std::fs::remove_dir_all(&prefix);
    } else if let Ok(uris) = rt.block_on(storage.list(&prefix)) {
        for uri in uris {
            let _ = rt.block_on(storage.delete(&uri));
        }
    }
}
