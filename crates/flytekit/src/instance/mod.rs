//! Instance tasks: tasks whose definition is data, the Rust answer to flytekit's
//! `ExperimentalNaiveCloudPickleResolver` (contract §3) done right.
//!
//! Rust cannot pickle closures. The honest equivalent is *registered code plus serialized data*:
//! an instance task is a value of a registered serde type plus the code that runs over it. The
//! value (the *payload*) travels with the task — in its loader args, or in a content-addressed
//! payload store — and inside the container the [`InstanceResolver`] finds the registered type by
//! its tag, deserializes the value and rebuilds the task. Payloads are data, never code: nothing
//! in them is executed, and a payload can only select code that the binary already holds.
//!
//! # The typed form
//! `#[instance_task]` makes a typed function over an instance value a task per value, with the
//! options of `#[task]`:
//!
//! ```no_run
//! use flytekit::instance::{Instances, ProviderArgs};
//! use flytekit::prelude::*;
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! pub struct Table { name: String, rows: std::collections::BTreeMap<String, i64> }
//!
//! /// Looks a key up in a table (one task per table, named after it).
//! #[instance_task(name = "myapp.lookup_{name}", retries = 2, requests(cpu = "500m"))]
//! pub fn lookup(table: &Table, key: String) -> Result<i64, UserError> {
//!     table.rows.get(&key).copied().ok_or_else(|| UserError::new("USER:KeyNotFound", key))
//! }
//!
//! /// The tables to register, computed when `package` (or `list`, `run`) runs.
//! fn tables(args: &ProviderArgs) -> Result<Instances, flytekit::task::BoxError> {
//!     let text = std::fs::read_to_string(args.get_or("config", "tables.yaml"))?;
//!     let tables: Vec<Table> = serde_yaml::from_str(&text)?;
//!     Ok(tables.iter().map(lookup::task).collect::<Result<Instances, _>>()?)
//! }
//! flytekit::register_instances!(tables);
//! # fn main() {}
//! ```
//!
//! `lookup` stays a plain function; `lookup::task(&table)` is the task of one table
//! ([`task_of`]: its payload is placed when the task is serialized); `lookup(&table, key)` in a
//! `#[workflow]` or `#[dynamic]` body is a node (`lookup::node`), and so is
//! `lookup::node(&wf, &table, key)` on a [`WorkflowBuilder`](crate::workflow::WorkflowBuilder)
//! when the graph comes from configuration. A provider registered with
//! [`register_instances!`](crate::register_instances) declares the instances (and workflows) to
//! register: `list` shows them, `serialize` and `package` write their `TaskSpec`s, and `package
//! --payload-store s3://...` uploads the offloaded payloads and bundles (a provider's
//! [`Instances::bundled`], or `--bundle`) before it writes the archive
//! ([`PayloadPlan`](crate::payload_plan::PayloadPlan)).
//!
//! # The builder form
//! For interfaces known only at run time, implement [`InstanceTask`] (its
//! [`task`](InstanceTask::task) returns a [`TaskBuilder`](crate::task::TaskBuilder)), register
//! the type with [`register_instance_type!`](crate::register_instance_type), and make tasks with
//! [`task_of`] (placed at serialization) or [`instance_task`] (placed now, uploaded by
//! [`PreparedTask::upload`]):
//!
//! ```no_run
//! use flytekit::instance::{InstanceTask, PayloadSettings, instance_task};
//! use flytekit::task::{TaskBuilder, read_input, write_output};
//! use flytekit::idl::core::LiteralMap;
//!
//! /// One task per configured factor.
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Scale { factor: i64 }
//!
//! impl InstanceTask for Scale {
//!     const TYPE_TAG: &'static str = "myapp.Scale";
//!     fn task(&self) -> TaskBuilder {
//!         let factor = self.factor;
//!         TaskBuilder::new(format!("myapp.scale_{factor}"))
//!             .input::<i64>("x", "the number to scale")
//!             .output::<i64>("o0", "x times the factor")
//!             .body(move |cx, inputs| async move {
//!                 let name = format!("myapp.scale_{factor}");
//!                 let x: i64 = read_input(&name, &inputs, "x", cx.conversion()).await?;
//!                 let mut out = LiteralMap::default();
//!                 write_output(&name, &mut out, "o0", &(x * factor), cx.conversion()).await?;
//!                 Ok(out)
//!             })
//!     }
//! }
//! flytekit::register_instance_type!(Scale);
//!
//! # async fn demo(storage: flytekit::storage::Storage) -> Result<(), Box<dyn std::error::Error>> {
//! let settings = PayloadSettings::default().offload_to("s3://my-bucket/flytekit-payloads");
//! let prepared = instance_task(&Scale { factor: 3 }, &settings)?;
//! prepared.upload(&storage).await?; // before Task::template / registration
//! let task = prepared.task();
//! # let _ = task; Ok(()) }
//! ```
//!
//! # Where the payload goes
//! The payload is the value in MessagePack with field names (so added fields with
//! `#[serde(default)]` and reordered fields keep old payloads loadable), compressed with zlib.
//! [`PayloadSettings`] (for `package` and `run --sandbox`: `--payload-store`, `--payload-mode`,
//! `--inline-threshold`) choose where it travels:
//!
//! | mode | loader args | when |
//! |------|-------------|------|
//! | [`PayloadMode::Auto`] (default) | `type <tag> inline <base64url>` | encoded payload up to the inline threshold ([`DEFAULT_INLINE_THRESHOLD`], 4 KiB) |
//! | | `type <tag> uri <uri> sha256 <hex>` | larger: uploaded to `<prefix>/sha256-<hex>` |
//! | [`PayloadMode::Offload`] | `type <tag> uri <uri> sha256 <hex>` | always |
//! | [`PayloadMode::Naive`] | `type <tag> inline <base64url>` | always, with a warning, up to [`INLINE_HARD_LIMIT`] |
//!
//! Offloaded loader args stay under [`MAX_OFFLOADED_LOADER_ARGS`] (512) bytes whatever the
//! payload size, so the `TaskTemplate` stays small in FlyteAdmin and in Propeller's memory. Inline
//! payloads are refused above [`INLINE_HARD_LIMIT`] (100 KiB): Linux does not even start a
//! process with a 128 KiB argument, and Propeller's 2 MiB send limit and gRPC's 4 MiB default
//! message size have left real workflows stuck in RUNNING when templates grew.
//!
//! # Loading
//! [`InstanceResolver::load_with`] downloads an offloaded payload through an on-disk
//! [`PayloadCache`] keyed by digest (safe under concurrent tasks on one node: files are written
//! to a temporary name and renamed), verifies its SHA-256 *before* deserializing it, and fails
//! with a [`InstanceError`] that says what to do: a missing object names its URI, a digest
//! mismatch names both digests, an unknown type tag lists the registered ones, and a payload that
//! no longer deserializes names the type and the field.

mod cache;
mod codec;
mod deferred;
mod error;
mod loader_args;
mod payload;
mod provider;
mod registry;
mod resolver;
mod typed;

pub use crate::settings::{DEFAULT_INLINE_THRESHOLD, PayloadMode, PayloadSettings};
pub use cache::{CACHE_MAX_BYTES_ENV, DEFAULT_CACHE_MAX_BYTES, Fetched, PayloadCache};
pub(crate) use codec::{compress, decompress, valid_sha256};
pub use codec::{decode_value, encode_payload, encode_value, sha256_hex};
pub use deferred::{
    InstancePayload, instance_tasks_in, stage, stage_workflow, task_of, task_of_encoded,
};
pub use error::InstanceError;
pub(crate) use loader_args::shorten;
pub use loader_args::{LoaderArgs, inline_loader_args, offloaded_loader_args};
pub(crate) use payload::put_if_absent;
pub(crate) use payload::warn_naive;
pub use payload::{
    Placement, PreparedTask, UploadOutcome, content_uri, instance_task, instance_task_uploaded,
    upload_payloads,
};
pub use provider::{
    InstanceProvider, Instances, ProviderArgs, ProviderError, declared, registered_providers,
};
pub(crate) use registry::check_registered;
pub use registry::{InstanceTask, InstanceType, find_type, registered_types};
pub use resolver::{INSTANCE_RESOLVER, InstanceResolver};
#[doc(hidden)]
pub use typed::{arc_value, failed_node_task};

/// The `--resolver` location of the instance resolver.
pub const INSTANCE_RESOLVER_LOCATION: &str = "flytekit.resolver.instance";

/// No payload is ever inlined above this many base64 characters, in any mode (naive included).
/// Two limits set it: Linux refuses to start a process with a single argument of 128 KiB or more
/// (`MAX_ARG_STRLEN`), so the container would fail with `E2BIG` before any code runs; and the
/// `TaskTemplate` must stay far below Propeller's 2 MiB send limit and gRPC's 4 MiB default.
pub const INLINE_HARD_LIMIT: usize = 100 * 1024;

/// Offloaded loader args (all elements, bytes) never exceed this.
pub const MAX_OFFLOADED_LOADER_ARGS: usize = 512;

/// A payload never decompresses to more than this many bytes (a guard against corrupt or hostile
/// payloads that would exhaust memory).
pub const MAX_DECODED_PAYLOAD: u64 = 2 * 1024 * 1024 * 1024;

/// The environment variable naming the cache directory (shared with the local engine's cache);
/// payloads go to its `payloads/` subdirectory.
pub const CACHE_DIR_ENV: &str = crate::disk_cache::CACHE_DIR_ENV;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Storage;
    use crate::task::TaskBuilder;
    use flytekit_idl::core::LiteralMap;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Unit {
        factor: i64,
        note: String,
    }

    impl InstanceTask for Unit {
        const TYPE_TAG: &'static str = "flytekit.tests.Unit";
        fn task(&self) -> TaskBuilder {
            TaskBuilder::new(format!("tests.unit_{}", self.factor))
                .body(|_, _| async { Ok(LiteralMap::default()) })
        }
    }
    crate::register_instance_type!(Unit);

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Unregistered {
        x: i64,
    }

    impl InstanceTask for Unregistered {
        const TYPE_TAG: &'static str = "flytekit.tests.Unregistered";
        fn task(&self) -> TaskBuilder {
            TaskBuilder::new("tests.unregistered").body(|_, _| async { Ok(LiteralMap::default()) })
        }
    }

    fn unit(note_len: usize) -> Unit {
        // Incompressible-ish text so sizes are predictable.
        let mut s = 0x9e3779b97f4a7c15u64;
        let note = (0..note_len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (b'a' + (s % 26) as u8) as char
            })
            .collect();
        Unit { factor: 3, note }
    }

    /// The cache keeps at most its bound, dropping the least recently used objects first; the
    /// object just downloaded stays even when it alone exceeds the bound.
    #[tokio::test]
    async fn the_payload_cache_evicts_least_recently_used_objects() {
        let storage = Storage::new();
        let dir = tempfile::tempdir().unwrap();
        let cache = PayloadCache::new(dir.path()).with_max_bytes(2500);
        let mut objects = Vec::new();
        for i in 0..4u8 {
            let data = vec![i; 1000];
            let uri = format!("memory://cache-test/{i}");
            storage.put(&uri, data.clone()).await.unwrap();
            objects.push((uri, sha256_hex(&data)));
        }
        let fetch = |i: usize| {
            let (uri, sha) = objects[i].clone();
            let (storage, cache) = (storage.clone(), cache.clone());
            async move { cache.fetch(&storage, &uri, &sha).await.unwrap().1 }
        };
        let cached = |i: usize| cache.path(&objects[i].1).exists();
        assert_eq!(fetch(0).await, Fetched::Download);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(fetch(1).await, Fetched::Download);
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Using 0 again makes 1 the least recently used.
        assert_eq!(fetch(0).await, Fetched::Cache);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(fetch(2).await, Fetched::Download);
        assert!(cached(0) && !cached(1) && cached(2));
        assert_eq!(fetch(1).await, Fetched::Download);

        let tiny = PayloadCache::new(dir.path()).with_max_bytes(10);
        let (uri, sha) = objects[3].clone();
        assert_eq!(
            tiny.fetch(&storage, &uri, &sha).await.unwrap().1,
            Fetched::Download
        );
        assert!((0..3).all(|i| !cached(i)) && cached(3));
    }

    #[tokio::test]
    async fn small_payloads_inline_large_ones_offload_and_round_trip() {
        let storage = Storage::new();
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = PayloadCache::new(cache_dir.path());
        let settings = PayloadSettings::default().offload_to("memory://payloads");

        let small = instance_task(&unit(10), &settings).unwrap();
        assert_eq!(small.placement(), &Placement::Inline);
        assert_eq!(small.loader_args()[..3], ["type", Unit::TYPE_TAG, "inline"]);
        assert_eq!(small.upload(&storage).await.unwrap(), UploadOutcome::Inline);
        let t = INSTANCE_RESOLVER
            .load_with(&storage, &cache, small.loader_args())
            .await
            .unwrap();
        assert_eq!(t.name(), "tests.unit_3");
        assert_eq!(t.explicit_loader_args(), Some(small.loader_args()));

        let big = instance_task(&unit(100_000), &settings).unwrap();
        let Placement::Offloaded { uri, sha256 } = big.placement().clone() else {
            panic!("not offloaded")
        };
        assert!(uri.ends_with(&format!("sha256-{sha256}")));
        let len: usize = big.loader_args().iter().map(String::len).sum();
        assert!(len < MAX_OFFLOADED_LOADER_ARGS, "{len}");
        assert!(matches!(
            big.upload(&storage).await.unwrap(),
            UploadOutcome::Uploaded { .. }
        ));
        assert!(matches!(
            big.upload(&storage).await.unwrap(),
            UploadOutcome::AlreadyPresent { .. }
        ));
        let (_, how) = cache.fetch(&storage, &uri, &sha256).await.unwrap();
        assert_eq!(how, Fetched::Download);
        let (_, how) = cache.fetch(&storage, &uri, &sha256).await.unwrap();
        assert_eq!(how, Fetched::Cache);
        INSTANCE_RESOLVER
            .load_with(&storage, &cache, big.loader_args())
            .await
            .unwrap();
    }

    #[test]
    fn placement_rules_and_their_errors() {
        // Auto without a prefix: fine while small, an error naming the fix when large.
        let none = PayloadSettings::default();
        assert!(instance_task(&unit(10), &none).is_ok());
        let e = instance_task(&unit(10_000), &none).unwrap_err();
        assert!(e.to_string().contains("offload_to"), "{e}");
        // Threshold is configurable.
        let p = instance_task(&unit(10_000), &none.clone().inline_threshold(1 << 15)).unwrap();
        assert_eq!(p.placement(), &Placement::Inline);
        // Forced offload.
        let e = instance_task(&unit(1), &none.clone().always_offload()).unwrap_err();
        assert!(
            matches!(e, InstanceError::NeedsOffload { forced: true, .. }),
            "{e}"
        );
        // Naive: inline whatever the threshold, refused past the hard limit.
        let p = instance_task(&unit(50_000), &none.clone().naive()).unwrap();
        assert_eq!(p.placement(), &Placement::Inline);
        let e = instance_task(&unit(200_000), &none.clone().naive()).unwrap_err();
        assert!(matches!(e, InstanceError::NaiveTooLarge { .. }), "{e}");
        assert!(e.to_string().contains("offload"), "{e}");
        // Too long a prefix.
        let long = none.offload_to(format!("s3://b/{}", "p".repeat(500)));
        let e = instance_task(&unit(1), &long.always_offload()).unwrap_err();
        assert!(matches!(e, InstanceError::LoaderArgsTooLong { .. }), "{e}");
        // Unregistered types are refused at registration.
        let e = instance_task(&Unregistered { x: 1 }, &PayloadSettings::default()).unwrap_err();
        assert!(e.to_string().contains("register_instance_type!"), "{e}");
    }

    /// The builder form in a workflow built at run time: the nodes' instance tasks are found,
    /// their payloads placed when the workflow is serialized and staged where their args say.
    #[tokio::test]
    async fn instance_tasks_in_built_workflows_are_placed_at_serialization() {
        use crate::workflow::WorkflowBuilder;
        let small = task_of(&unit(10)).unwrap();
        let mut big_value = unit(100_000);
        big_value.factor = 4;
        let big = task_of(&big_value).unwrap();
        assert_eq!(small.instance_payload().unwrap().type_tag(), Unit::TYPE_TAG);
        let wf = WorkflowBuilder::new("tests.built");
        wf.add_node(small.clone(), vec![]);
        wf.add_node(big.clone(), vec![]);
        let wf = wf.build().unwrap();
        let found: Vec<String> = instance_tasks_in(std::slice::from_ref(&wf))
            .iter()
            .map(|t| t.name().to_string())
            .collect();
        assert_eq!(found, ["tests.unit_3", "tests.unit_4"]);

        // Without a payload store the large payload cannot be placed.
        let none = crate::settings::SerializationSettings::new("p", "d", "v")
            .with_default_image("ghcr.io/a/b:1");
        let e = wf.closure(&none).unwrap_err().to_string();
        assert!(e.contains("tests.unit_4") && e.contains("offload"), "{e}");

        let settings = none.with_payloads(PayloadSettings::default().offload_to("memory://built"));
        let closure = wf.closure(&settings).unwrap();
        let args: Vec<Vec<String>> = closure
            .tasks
            .iter()
            .map(|t| match &t.target {
                Some(flytekit_idl::core::task_template::Target::Container(c)) => c.args.clone(),
                _ => panic!("container"),
            })
            .collect();
        assert!(args[0].iter().any(|a| a == "inline"), "{:?}", args[0]);
        let uri = content_uri("memory://built", big.instance_payload().unwrap().sha256());
        assert!(args[1].contains(&uri), "{:?}", args[1]);

        let storage = Storage::new();
        let staged = stage_workflow(&wf, &settings, &storage).await.unwrap();
        assert_eq!(staged[0], UploadOutcome::Inline);
        assert!(matches!(staged[1], UploadOutcome::Uploaded { .. }));
        let cache = PayloadCache::new(tempfile::tempdir().unwrap().keep());
        let i = args[1].iter().position(|a| a == "--").unwrap();
        let loaded = INSTANCE_RESOLVER
            .load_with(&storage, &cache, &args[1][i + 1..])
            .await
            .unwrap();
        assert_eq!(loaded.name(), "tests.unit_4");
    }

    #[tokio::test]
    async fn load_errors_say_what_is_wrong() {
        let storage = Storage::new();
        let cache = PayloadCache::new(tempfile::tempdir().unwrap().keep());
        let load = |args: Vec<String>| {
            let storage = storage.clone();
            let cache = cache.clone();
            async move { INSTANCE_RESOLVER.load_with(&storage, &cache, &args).await }
        };
        let payload = encode_payload(&unit(5)).unwrap();

        let e = load(inline_loader_args("no.such.Type", &payload))
            .await
            .unwrap_err();
        assert!(e.to_string().contains(Unit::TYPE_TAG), "{e}");

        #[derive(serde::Serialize)]
        struct Old {
            factor: String,
        }
        let old = encode_payload(&Old { factor: "x".into() }).unwrap();
        let e = load(inline_loader_args(Unit::TYPE_TAG, &old))
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`factor`") && msg.contains("Unit"), "{msg}");

        let e = load(vec![
            "type".into(),
            Unit::TYPE_TAG.into(),
            "inline".into(),
            "@@".into(),
        ])
        .await
        .unwrap_err();
        assert!(matches!(e, InstanceError::Corrupt { .. }), "{e}");
        let e = load(inline_loader_args(Unit::TYPE_TAG, b"not zlib"))
            .await
            .unwrap_err();
        assert!(matches!(e, InstanceError::Corrupt { .. }), "{e}");

        let sha = sha256_hex(&payload);
        let uri = "memory://payloads/missing";
        let e = load(offloaded_loader_args(Unit::TYPE_TAG, uri, &sha))
            .await
            .unwrap_err();
        assert!(
            matches!(e, InstanceError::Missing { .. }) && e.to_string().contains(uri),
            "{e}"
        );

        storage
            .put("memory://payloads/tampered", b"other".to_vec())
            .await
            .unwrap();
        let e = load(offloaded_loader_args(
            Unit::TYPE_TAG,
            "memory://payloads/tampered",
            &sha,
        ))
        .await
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&sha) && msg.contains(&sha256_hex(b"other")),
            "{msg}"
        );

        // A digest that is not one (it would become a cache file name) is refused.
        let e = load(offloaded_loader_args(
            Unit::TYPE_TAG,
            uri,
            "../../etc/passwd",
        ))
        .await
        .unwrap_err();
        assert!(matches!(e, InstanceError::BadLoaderArgs { .. }), "{e}");
        let e = load(vec!["type".into()]).await.unwrap_err();
        assert!(matches!(e, InstanceError::BadLoaderArgs { .. }), "{e}");
    }
}
