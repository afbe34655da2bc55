//! Payload plans: where the payload of every instance task of one registration (or one sandbox
//! run) goes — inline in its loader args, offloaded to the payload store, or in one uploaded
//! bundle — and the upload that puts every offloaded payload and the bundle in place before
//! anything names them.
//!
//! `package` plans the instance tasks it serializes (those its providers declare and those its
//! workflows use), uploads, and only then serializes with the plan [`apply`](PayloadPlan::apply)d
//! to its settings and writes the archive; `run --sandbox` does the same against its blob store.
//! Objects are content-addressed (`<store>/sha256-<hex>`), so an object already there is not
//! uploaded again.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use crate::bundle::{BUNDLE_RESOLVER_LOCATION, BundleBuilder, BundleError, PreparedBundle};
use crate::instance::{InstanceError, Placement, UploadOutcome, put_if_absent, warn_naive};
use crate::settings::{
    PayloadMode, PayloadPlacements, PayloadSettings, PlacedPayload, SerializationSettings,
};
use crate::storage::Storage;
use crate::task::Task;

/// Where one instance payload of a plan goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlannedPlacement {
    /// In the task's loader args.
    Inline,
    /// In its own content-addressed object.
    Offloaded {
        /// `<store>/sha256-<hex>`.
        uri: String,
    },
    /// In the plan's bundle.
    Bundled {
        /// The bundle's URI.
        uri: String,
    },
}

impl std::fmt::Display for PlannedPlacement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlannedPlacement::Inline => f.write_str("inline"),
            PlannedPlacement::Offloaded { uri } => write!(f, "offloaded {uri}"),
            PlannedPlacement::Bundled { uri } => write!(f, "bundle {uri}"),
        }
    }
}

/// One instance payload of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedPayload {
    /// The task's name.
    pub task: String,
    /// The instance type's tag.
    pub type_tag: String,
    /// The serialized (MessagePack) size in bytes.
    pub raw_len: usize,
    /// The encoded (compressed) size in bytes: what is uploaded or inlined (as base64).
    pub encoded_len: usize,
    /// The loader args' total size in bytes.
    pub loader_args_len: usize,
    /// Where it goes.
    pub placement: PlannedPlacement,
}

/// What an upload did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadReport {
    /// Objects written.
    pub uploaded: usize,
    /// Their bytes.
    pub uploaded_bytes: u64,
    /// Objects already in the store (same name and size), skipped.
    pub present: usize,
}

/// Where the payloads of a set of instance tasks go (see the module docs).
#[derive(Clone, Debug)]
pub struct PayloadPlan {
    settings: PayloadSettings,
    entries: Vec<PlannedPayload>,
    objects: BTreeMap<String, Bytes>,
    bundle: Option<PreparedBundle>,
    placements: PayloadPlacements,
}

/// Why a plan could not be made or uploaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A payload could not be placed (too large to inline without a store, ...).
    #[error(transparent)]
    Instance(#[from] InstanceError),
    /// The bundle could not be made.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Two different instances have the same task name.
    #[error(
        "two different instances are both named {task} (type {first} and type {second}); \
         instance task names must be unique: put a field that tells them apart in the name"
    )]
    Conflict {
        /// The task name.
        task: String,
        /// The first instance's type tag.
        first: String,
        /// The second's.
        second: String,
    },
    /// Bundling was asked for without a payload store.
    #[error(
        "{count} instance(s) are to travel in a bundle, but no payload store is set; pass \
         --payload-store s3://<bucket>/<prefix> (or set FLYTEKIT_PAYLOAD_STORE)"
    )]
    BundleNeedsStore {
        /// How many instances were to be bundled.
        count: usize,
    },
    /// An upload failed.
    #[error("cannot upload to the payload store: {source}")]
    Upload {
        /// The object.
        uri: String,
        /// Why.
        #[source]
        source: InstanceError,
    },
}

impl PayloadPlan {
    /// Plans the instance tasks among `tasks` (made by
    /// [`task_of`](crate::instance::task_of); other tasks are left out) under `settings`. Those for
    /// which `bundled` is true go together into one bundle in the payload store; the others are
    /// inline or offloaded as `settings` say. A task named twice must carry the same payload.
    pub fn new(
        tasks: &[Task],
        bundled: impl Fn(&Task) -> bool,
        settings: PayloadSettings,
    ) -> Result<Self, PlanError> {
        let mut seen: BTreeMap<&str, &Task> = BTreeMap::new();
        let mut unique: Vec<&Task> = Vec::new();
        for t in tasks {
            let Some(payload) = t.instance_payload() else {
                continue;
            };
            match seen.get(t.name()) {
                Some(first) => {
                    let first_payload = first.instance_payload().map(|p| p.key());
                    if first_payload.as_deref() != Some(payload.key().as_str()) {
                        return Err(PlanError::Conflict {
                            task: t.name().to_string(),
                            first: first
                                .instance_payload()
                                .map(|p| p.type_tag().to_string())
                                .unwrap_or_default(),
                            second: payload.type_tag().to_string(),
                        });
                    }
                }
                None => {
                    seen.insert(t.name(), t);
                    unique.push(t);
                }
            }
        }
        let (in_bundle, alone): (Vec<&Task>, Vec<&Task>) =
            unique.into_iter().partition(|t| bundled(t));
        let mut entries = Vec::with_capacity(in_bundle.len() + alone.len());
        let mut objects = BTreeMap::new();
        let mut placements = PayloadPlacements::default();
        let mut bundle = None;
        if !in_bundle.is_empty() {
            let Some(store) = settings.offload_prefix.as_deref() else {
                return Err(PlanError::BundleNeedsStore {
                    count: in_bundle.len(),
                });
            };
            let mut builder = BundleBuilder::new();
            for t in &in_bundle {
                builder.add_task(t)?;
            }
            let prepared = builder.prepare(store)?;
            for t in &in_bundle {
                let Some(payload) = t.instance_payload() else {
                    continue;
                };
                let args = prepared
                    .task(t.name())
                    .and_then(|bt| bt.explicit_loader_args().map(<[String]>::to_vec))
                    .unwrap_or_default();
                entries.push(PlannedPayload {
                    task: t.name().to_string(),
                    type_tag: payload.type_tag().to_string(),
                    raw_len: payload.raw_len(),
                    encoded_len: payload.encoded().len(),
                    loader_args_len: args.iter().map(String::len).sum(),
                    placement: PlannedPlacement::Bundled {
                        uri: prepared.uri().to_string(),
                    },
                });
                placements.insert(
                    payload.key(),
                    PlacedPayload {
                        resolver: BUNDLE_RESOLVER_LOCATION.to_string(),
                        loader_args: args,
                    },
                );
            }
            bundle = Some(prepared);
        }
        for t in alone {
            let Some(payload) = t.instance_payload() else {
                continue;
            };
            let (placement, args) = payload.place(t.name(), &settings)?;
            let placement = match placement {
                Placement::Inline => PlannedPlacement::Inline,
                Placement::Offloaded { uri, .. } => {
                    objects.insert(uri.clone(), payload.encoded().clone());
                    PlannedPlacement::Offloaded { uri }
                }
            };
            entries.push(PlannedPayload {
                task: t.name().to_string(),
                type_tag: payload.type_tag().to_string(),
                raw_len: payload.raw_len(),
                encoded_len: payload.encoded().len(),
                loader_args_len: args.iter().map(String::len).sum(),
                placement,
            });
        }
        entries.sort_by(|a, b| a.task.cmp(&b.task));
        if settings.mode == PayloadMode::Naive {
            for e in &entries {
                if e.placement == PlannedPlacement::Inline {
                    warn_naive(&e.task, e.encoded_len);
                }
            }
        }
        Ok(Self {
            settings,
            entries,
            objects,
            bundle,
            placements,
        })
    }

    /// Every planned payload, sorted by task name.
    pub fn entries(&self) -> &[PlannedPayload] {
        &self.entries
    }

    /// The bundle, when some payloads travel in one.
    pub fn bundle(&self) -> Option<&PreparedBundle> {
        self.bundle.as_ref()
    }

    /// The payload settings the plan was made under.
    pub fn settings(&self) -> &PayloadSettings {
        &self.settings
    }

    /// Every object [`upload`](Self::upload) puts in the store, with its size: the offloaded
    /// payloads and the bundle.
    pub fn objects(&self) -> Vec<(&str, usize)> {
        let mut out: Vec<(&str, usize)> = self
            .objects
            .iter()
            .map(|(uri, b)| (uri.as_str(), b.len()))
            .collect();
        if let Some(b) = &self.bundle {
            out.push((b.uri(), b.len()));
        }
        out
    }

    /// The explicit placements (the bundled payloads).
    pub fn placements(&self) -> &PayloadPlacements {
        &self.placements
    }

    /// Serializes with this plan: sets `settings`' payload settings and explicit placements.
    pub fn apply(&self, settings: &mut SerializationSettings) {
        settings.payloads = self.settings.clone();
        settings.placements = self.placements.clone();
    }

    /// Puts every offloaded payload and the bundle in the store, `concurrency` at a time, each
    /// unless an object of the same name and size is there. The first failure is returned (with
    /// the URI it concerns).
    pub async fn upload(
        &self,
        storage: &Storage,
        concurrency: usize,
    ) -> Result<UploadReport, PlanError> {
        let mut objects: Vec<(&str, Bytes)> = self
            .objects
            .iter()
            .map(|(u, b)| (u.as_str(), b.clone()))
            .collect();
        if let Some(b) = &self.bundle {
            objects.push((b.uri(), b.bytes().clone()));
        }
        let outcomes: Vec<UploadOutcome> = futures::stream::iter(objects)
            .map(|(uri, data)| async move {
                put_if_absent(storage, uri, data)
                    .await
                    .map_err(|source| PlanError::Upload {
                        uri: uri.to_string(),
                        source,
                    })
            })
            .buffer_unordered(concurrency.max(1))
            .try_collect()
            .await?;
        let mut report = UploadReport::default();
        for o in outcomes {
            match o {
                UploadOutcome::Uploaded { bytes, .. } => {
                    report.uploaded += 1;
                    report.uploaded_bytes += bytes;
                }
                UploadOutcome::AlreadyPresent { .. } => report.present += 1,
                UploadOutcome::Inline => {}
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::BUNDLE_RESOLVER;
    use crate::instance::{
        INSTANCE_RESOLVER, INSTANCE_RESOLVER_LOCATION, InstanceTask, MAX_OFFLOADED_LOADER_ARGS,
        PayloadCache, stage, task_of,
    };
    use crate::task::TaskBuilder;
    use flytekit_idl::core::LiteralMap;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Blob {
        id: u32,
        data: String,
    }

    impl InstanceTask for Blob {
        const TYPE_TAG: &'static str = "flytekit.tests.Blob";
        fn task(&self) -> TaskBuilder {
            TaskBuilder::new(format!("tests.blob_{}", self.id))
                .body(|_, _| async { Ok(LiteralMap::default()) })
        }
    }
    crate::register_instance_type!(Blob);

    fn blob(id: u32, len: usize) -> Task {
        let mut s = u64::from(id).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let data = (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (b'a' + (s % 26) as u8) as char
            })
            .collect();
        task_of(&Blob { id, data }).expect("task_of")
    }

    fn target(task: &Task, settings: &SerializationSettings) -> (String, Vec<String>) {
        crate::resolver::target(task, settings).expect("target")
    }

    #[tokio::test]
    async fn plans_place_inline_offloaded_and_bundled_payloads_and_upload_each_once() {
        let tasks = [blob(1, 10), blob(2, 1 << 20), blob(3, 10), blob(4, 50_000)];
        let store = "memory://plan-test/store";
        let bundled = |t: &Task| t.name() == "tests.blob_3" || t.name() == "tests.blob_4";
        let plan = PayloadPlan::new(
            &tasks,
            bundled,
            PayloadSettings::default().offload_to(store),
        )
        .expect("plan");
        let places: Vec<&PlannedPlacement> = plan.entries().iter().map(|e| &e.placement).collect();
        let bundle = plan.bundle().expect("a bundle").uri().to_string();
        let big = format!(
            "{store}/sha256-{}",
            tasks[1].instance_payload().unwrap().sha256()
        );
        assert_eq!(
            places,
            [
                &PlannedPlacement::Inline,
                &PlannedPlacement::Offloaded { uri: big.clone() },
                &PlannedPlacement::Bundled {
                    uri: bundle.clone()
                },
                &PlannedPlacement::Bundled {
                    uri: bundle.clone()
                },
            ]
        );
        for e in &plan.entries()[1..] {
            assert!(e.loader_args_len < MAX_OFFLOADED_LOADER_ARGS, "{e:?}");
        }

        let storage = Storage::new();
        let first = plan.upload(&storage, 4).await.expect("upload");
        assert_eq!((first.uploaded, first.present), (2, 0));
        let again = plan.upload(&storage, 4).await.expect("upload again");
        assert_eq!((again.uploaded, again.present), (0, 2));

        let mut settings = SerializationSettings::new("p", "d", "v");
        plan.apply(&mut settings);
        let (resolver, args) = target(&tasks[0], &settings);
        assert_eq!(
            (resolver.as_str(), &args[2][..]),
            (INSTANCE_RESOLVER_LOCATION, "inline")
        );
        let (resolver, args) = target(&tasks[1], &settings);
        assert_eq!(
            (resolver.as_str(), &args[3]),
            (INSTANCE_RESOLVER_LOCATION, &big)
        );
        assert!(matches!(
            stage(&tasks[1], &settings, &storage).await,
            Ok(UploadOutcome::AlreadyPresent { .. })
        ));
        let (resolver, args) = target(&tasks[3], &settings);
        assert_eq!(
            (resolver.as_str(), &args[1]),
            (BUNDLE_RESOLVER_LOCATION, &bundle)
        );

        // The containers' loaders find every task again.
        let cache = PayloadCache::new(tempfile::tempdir().unwrap().keep());
        let (_, args) = target(&tasks[1], &settings);
        let t = INSTANCE_RESOLVER.load_with(&storage, &cache, &args).await;
        assert_eq!(t.expect("offloaded loads").name(), "tests.blob_2");
        for i in [2, 3] {
            let (_, args) = target(&tasks[i], &settings);
            let t = BUNDLE_RESOLVER.load_with(&storage, &cache, &args).await;
            assert_eq!(t.expect("bundled loads").name(), tasks[i].name());
        }
    }

    #[test]
    fn offloaded_loader_args_stay_short_for_payloads_of_any_size() {
        let settings = PayloadSettings::default()
            .offload_to("s3://a-bucket-name/some/prefix/for/payloads")
            .always_offload();
        for len in [1, 5_000, 1 << 20, 8 << 20] {
            let plan = PayloadPlan::new(&[blob(7, len)], |_| false, settings.clone()).unwrap();
            let e = &plan.entries()[0];
            assert!(
                matches!(e.placement, PlannedPlacement::Offloaded { .. }),
                "{e:?}"
            );
            assert!(
                e.loader_args_len < MAX_OFFLOADED_LOADER_ARGS,
                "{len}: {e:?}"
            );
        }
    }

    #[test]
    fn conflicting_names_and_missing_stores_are_errors() {
        let e = PayloadPlan::new(
            &[blob(1, 10), blob(1, 11)],
            |_| false,
            PayloadSettings::new(),
        )
        .unwrap_err();
        assert!(matches!(e, PlanError::Conflict { .. }), "{e}");
        assert!(e.to_string().contains("tests.blob_1"), "{e}");
        let e = PayloadPlan::new(&[blob(1, 10)], |_| true, PayloadSettings::new()).unwrap_err();
        assert!(e.to_string().contains("--payload-store"), "{e}");
        let e =
            PayloadPlan::new(&[blob(1, 100_000)], |_| false, PayloadSettings::new()).unwrap_err();
        assert!(e.to_string().contains("no offload prefix"), "{e}");
        // Only instance tasks are planned.
        let plain = Task::builder("tests.plain")
            .body(|_, _| async { Ok(LiteralMap::default()) })
            .build()
            .unwrap();
        let plan = PayloadPlan::new(&[plain], |_| true, PayloadSettings::new()).unwrap();
        assert!(plan.entries().is_empty() && plan.objects().is_empty());
    }
}
