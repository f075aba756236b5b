//! The store, operation by operation, against both databases through the `Store` trait alone:
//! submission and idempotency, reading and paging, cancelling, finishing with a result and
//! its retention, deleting, the outbox, models, keys and secrets, workers. (`store.rs` has the
//! lease rules: fencing and requeueing.)

use std::time::Duration;

use chrono::Utc;
use rusk::domain::{
    Capabilities, ColumnSchema, DeliveryAttempt, DeliveryState, EventType, JobState, ModelInfo,
    Progress, StoredFile, StoredResult, TaskSpan, WorkerInfo, WorkerLoad,
};
use rusk::spec::{Estimator, JobSpec, OutputFormat};
use rusk::store::{
    self, Cancelled, DeliveryNext, ListFilter, ModelFilter, NewJob, Outcome, Store, Submitted,
    TaskFilter,
};
use uuid::Uuid;

use crate::helpers::{Backend, TestDatabase, settings_for};
use crate::on_both_backends;

on_both_backends!(
    submission_and_idempotency,
    reading_paging_and_cancelling,
    a_result_its_bytes_and_its_expiry,
    deleting_ended_jobs,
    the_outbox_follows_terminal_states,
    models_are_recorded_listed_and_deleted,
    keys_tenants_and_secrets,
    workers_report_and_leave,
    task_spans_are_upserted_paged_and_deleted_with_the_job,
    gpu_jobs_go_to_gpu_workers_only,
    changes_are_announced_once_committed,
);

async fn open(
    backend: Backend,
) -> (
    std::sync::Arc<dyn Store>,
    tempfile::TempDir,
    Option<TestDatabase>,
) {
    let dir = tempfile::tempdir().unwrap();
    let (settings, db) = settings_for(backend, dir.path()).await;
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let store = store::connect(&settings.database_url()).await.unwrap();
    (store, dir, db)
}

fn spec(extra: &str) -> JobSpec {
    let body = format!(
        r#"{{"sources": {{"t": {{"format": "csv", "path": "t.csv"}}}}, "sql": "select 1"{extra}}}"#
    );
    JobSpec::from_json(body.as_bytes()).unwrap()
}

async fn submit(store: &dyn Store, tenant: &str, spec: JobSpec, key: Option<&str>) -> Submitted {
    store
        .submit(NewJob {
            tenant: tenant.into(),
            spec,
            idempotency: key.map(|k| (k.to_string(), format!("hash-of-{k}"))),
        })
        .await
        .unwrap()
}

async fn created(store: &dyn Store, tenant: &str, spec: JobSpec) -> Uuid {
    match submit(store, tenant, spec, None).await {
        Submitted::Created(job) => job.id,
        _ => panic!("a new job"),
    }
}

fn result(bytes: u64) -> StoredResult {
    StoredResult {
        format: OutputFormat::Parquet,
        rows: 3,
        bytes,
        schema: vec![ColumnSchema {
            name: "x".into(),
            data_type: "Int64".into(),
            nullable: false,
        }],
        files: vec![StoredFile {
            key: "results/x/1/part-00000.parquet".into(),
            rows: 3,
            bytes,
        }],
        ml: None,
        destination: None,
    }
}

/// Claims the next job and ends it as `outcome`.
async fn run(store: &dyn Store, outcome: Outcome) -> Uuid {
    let claimed = store
        .claim("w", Duration::from_secs(30), false)
        .await
        .unwrap()
        .unwrap();
    assert!(store.finish(&claimed.lease, &outcome).await.unwrap());
    claimed.job.id
}

fn succeeded(bytes: u64, keep_for: Option<Duration>) -> Outcome {
    Outcome::Succeeded {
        result: Box::new(result(bytes)),
        progress: Progress::default(),
        model: None,
        keep_for,
    }
}

async fn submission_and_idempotency(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    let Submitted::Created(first) = submit(store, "a", spec(""), Some("k")).await else {
        panic!("a new job");
    };
    assert_eq!(first.state, JobState::Queued);
    assert_eq!(first.tenant, "a");
    // The same key and request: the first job, not a second one.
    match submit(store, "a", spec(""), Some("k")).await {
        Submitted::Existing(again) => assert_eq!(again.id, first.id),
        _ => panic!("the first job"),
    }
    // The same key for another request is refused; another tenant's key is its own.
    let other = store
        .submit(NewJob {
            tenant: "a".into(),
            spec: spec(""),
            idempotency: Some(("k".into(), "another-hash".into())),
        })
        .await
        .unwrap();
    assert!(matches!(other, Submitted::KeyReused));
    assert!(matches!(
        submit(store, "b", spec(""), Some("k")).await,
        Submitted::Created(_)
    ));
    assert_eq!(
        store.list("a", &filter(None, 10)).await.unwrap().len(),
        1,
        "one job for a"
    );
}

fn filter(state: Option<JobState>, limit: u32) -> ListFilter {
    ListFilter {
        state,
        limit,
        before: None,
    }
}

async fn reading_paging_and_cancelling(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(created(store, "a", spec("")).await);
    }
    // Tenant-scoped reads; `None` reads any tenant's.
    assert!(store.get(Some("b"), ids[0]).await.unwrap().is_none());
    assert_eq!(store.get(None, ids[0]).await.unwrap().unwrap().id, ids[0]);
    // Newest first, in pages.
    let page = store.list("a", &filter(None, 2)).await.unwrap();
    assert_eq!(
        page.iter().map(|j| j.id).collect::<Vec<_>>(),
        [ids[4], ids[3]]
    );
    let next = store
        .list(
            "a",
            &ListFilter {
                state: None,
                limit: 2,
                before: Some(ids[3]),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|j| j.id).collect::<Vec<_>>(),
        [ids[2], ids[1]]
    );

    // Cancel: a queued job once; an ended job is reported as such; another tenant's is absent.
    assert!(matches!(
        store.cancel("b", ids[0]).await.unwrap(),
        Cancelled::NotFound
    ));
    match store.cancel("a", ids[0]).await.unwrap() {
        Cancelled::Done(job) => assert_eq!(job.state, JobState::Cancelled),
        _ => panic!("cancelled"),
    }
    assert!(matches!(
        store.cancel("a", ids[0]).await.unwrap(),
        Cancelled::AlreadyFinished(_)
    ));
    let cancelled = store
        .list("a", &filter(Some(JobState::Cancelled), 10))
        .await
        .unwrap();
    assert_eq!(cancelled.len(), 1);
    // The cancelled job is never claimed: the oldest queued one is.
    let claimed = store
        .claim("w", Duration::from_secs(30), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, ids[1]);
}

async fn a_result_its_bytes_and_its_expiry(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    created(store, "a", spec("")).await;
    created(store, "a", spec("")).await;
    let expiring = run(store, succeeded(1000, Some(Duration::from_millis(300)))).await;
    let kept = run(store, succeeded(500, None)).await;
    assert_eq!(store.stored_bytes("a").await.unwrap(), 1500);
    assert_eq!(store.stored_bytes("b").await.unwrap(), 0);
    let job = store.get(Some("a"), expiring).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!(job.result.unwrap().rows, 3);
    let until = job.result_expires_at.expect("an expiry");
    assert!(until > Utc::now() - chrono::Duration::seconds(5));
    assert!(
        store
            .get(Some("a"), kept)
            .await
            .unwrap()
            .unwrap()
            .result_expires_at
            .is_none()
    );

    assert!(
        store.expire_results(10).await.unwrap().is_empty(),
        "not yet"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(store.expire_results(10).await.unwrap(), [expiring]);
    assert!(
        store.expire_results(10).await.unwrap().is_empty(),
        "only once"
    );
    let job = store.get(Some("a"), expiring).await.unwrap().unwrap();
    assert!(job.result_expired_at.is_some());
    assert_eq!(store.stored_bytes("a").await.unwrap(), 500);
}

async fn deleting_ended_jobs(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    let ended = created(store, "a", spec("")).await;
    run(store, succeeded(10, None)).await;
    let queued = created(store, "a", spec("")).await;
    // Not another tenant's, not a queued one.
    assert!(store.delete("b", ended).await.unwrap().is_none());
    assert!(store.delete("a", queued).await.unwrap().is_none());
    let deleted = store.delete("a", ended).await.unwrap().unwrap();
    assert_eq!(deleted.id, ended);
    assert!(store.get(None, ended).await.unwrap().is_none());
    assert!(
        store.attempts(ended).await.unwrap().is_empty(),
        "attempts go too"
    );
    assert!(store.delete("a", ended).await.unwrap().is_none());

    // By age: only ended jobs older than it.
    run(store, succeeded(10, None)).await;
    assert!(
        store
            .delete_ended(Duration::from_secs(3600), 10)
            .await
            .unwrap()
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        store
            .delete_ended(Duration::from_millis(10), 10)
            .await
            .unwrap(),
        [queued]
    );
}

async fn the_outbox_follows_terminal_states(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    let hooked = r#", "webhook": {"url": "https://example.com/hook"}"#;
    let job = created(store, "a", spec(hooked)).await;
    created(store, "a", spec("")).await;
    assert!(
        store
            .claim_delivery(Duration::from_secs(30))
            .await
            .unwrap()
            .is_none()
    );
    run(store, succeeded(1, None)).await;
    run(store, succeeded(1, None)).await;
    let delivery = store
        .claim_delivery(Duration::from_secs(30))
        .await
        .unwrap()
        .expect("a delivery for the job with a webhook");
    assert_eq!(delivery.job_id, job);
    assert_eq!(delivery.event, EventType::JobSucceeded);
    assert_eq!(delivery.url, "https://example.com/hook");
    assert_eq!(delivery.attempts, 1);
    assert!(
        store
            .claim_delivery(Duration::from_secs(30))
            .await
            .unwrap()
            .is_none(),
        "held, and the other job has no webhook"
    );
    let attempt = DeliveryAttempt {
        attempt: 1,
        at: Utc::now(),
        duration_ms: 12,
        status: Some(200),
        error: None,
    };
    store
        .record_delivery(
            &delivery.id,
            &attempt,
            DeliveryNext::Done(DeliveryState::Delivered),
        )
        .await
        .unwrap();
    let listed = store.deliveries(job).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, DeliveryState::Delivered);
    assert_eq!(listed[0].attempt_log.len(), 1);
    assert_eq!(listed[0].attempt_log[0].status, Some(200));
}

fn model(id: &str, tenant: &str, job: Uuid) -> ModelInfo {
    ModelInfo {
        id: id.into(),
        tenant: tenant.into(),
        estimator: Estimator::LinearRegression,
        params: Default::default(),
        features: vec!["x".into()],
        target: Some("y".into()),
        classes: Vec::new(),
        metrics: [("r2".to_string(), 0.9)].into(),
        job_id: job,
        created_at: Utc::now(),
    }
}

async fn models_are_recorded_listed_and_deleted(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    assert!(!store.has_models().await.unwrap());
    created(store, "a", spec("")).await;
    let trained = model("model_0001", "a", Uuid::nil());
    let claimed = store
        .claim("w", Duration::from_secs(30), false)
        .await
        .unwrap()
        .unwrap();
    let mut info = trained.clone();
    info.job_id = claimed.job.id;
    let outcome = Outcome::Succeeded {
        result: Box::new(result(1)),
        progress: Progress::default(),
        model: Some(Box::new(info.clone())),
        keep_for: None,
    };
    assert!(store.finish(&claimed.lease, &outcome).await.unwrap());
    assert!(store.has_models().await.unwrap());
    assert_eq!(
        store
            .model("a", "model_0001")
            .await
            .unwrap()
            .unwrap()
            .job_id,
        claimed.job.id
    );
    assert!(store.model("b", "model_0001").await.unwrap().is_none());

    // Imported records: new ids added, known ones left alone.
    let older = model("model_0000", "a", Uuid::now_v7());
    assert_eq!(
        store.import_models(&[older, info.clone()]).await.unwrap(),
        1
    );
    let page = store
        .models(
            "a",
            &ModelFilter {
                limit: 10,
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["model_0001", "model_0000"]
    );

    assert_eq!(
        store.delete_models_of(claimed.job.id).await.unwrap(),
        ["model_0001"]
    );
    assert!(store.model("a", "model_0001").await.unwrap().is_none());
}

async fn keys_tenants_and_secrets(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    assert_eq!(store.ensure_secret("s", "first").await.unwrap(), "first");
    assert_eq!(
        store.ensure_secret("s", "second").await.unwrap(),
        "first",
        "one value"
    );
    assert_eq!(
        store.ensure_tenant("acme", "whsec_1").await.unwrap(),
        "whsec_1"
    );
    assert_eq!(
        store.ensure_tenant("acme", "whsec_2").await.unwrap(),
        "whsec_1"
    );
    assert_eq!(
        store.tenant_secret("acme").await.unwrap().as_deref(),
        Some("whsec_1")
    );
    assert!(store.tenant_secret("nobody").await.unwrap().is_none());

    assert!(!store.has_keys().await.unwrap());
    store.create_key("key1", "acme", "hash1").await.unwrap();
    assert!(store.has_keys().await.unwrap());
    assert_eq!(
        store.key_tenant("hash1").await.unwrap().as_deref(),
        Some("acme")
    );
    assert!(store.key_tenant("hash2").await.unwrap().is_none());
    let keys = store.list_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].id.as_str(), keys[0].tenant.as_str()),
        ("key1", "acme")
    );
    assert!(store.revoke_key("key1").await.unwrap());
    assert!(!store.revoke_key("key1").await.unwrap(), "once");
    assert!(store.key_tenant("hash1").await.unwrap().is_none());
    assert!(!store.has_keys().await.unwrap());
    assert!(store.list_keys().await.unwrap()[0].revoked_at.is_some());
}

async fn workers_report_and_leave(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    let mut worker = WorkerInfo {
        id: "w1".into(),
        hostname: "host".into(),
        started_at: Utc::now(),
        last_seen: Utc::now(),
        slots: 4,
        busy: 0,
        capabilities: Capabilities {
            cores: 2,
            memory_limit: 1 << 30,
            gpus: Vec::new(),
        },
        current_jobs: Vec::new(),
        load: WorkerLoad::default(),
    };
    store.report_worker(&worker).await.unwrap();
    worker.busy = 1;
    worker.load = WorkerLoad {
        memory_reserved: 123,
        spilled_bytes: 45,
        cpu_percent: Some(150.5),
    };
    worker.current_jobs = vec![Uuid::now_v7()];
    store.report_worker(&worker).await.unwrap();
    let live = store.live_workers(Duration::from_secs(60)).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!((live[0].busy, live[0].slots), (1, 4));
    assert_eq!(live[0].current_jobs, worker.current_jobs);
    assert_eq!(live[0].load, worker.load);
    store.remove_worker("w1").await.unwrap();
    assert!(
        store
            .live_workers(Duration::from_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
}

fn span(seq: u32, ended: bool) -> TaskSpan {
    let started_at = Utc::now();
    TaskSpan {
        seq,
        node: seq / 2,
        operator: "AggregateExec".into(),
        partition: seq % 2,
        detail: None,
        started_at,
        ended_at: ended.then(|| started_at + chrono::Duration::microseconds(1500)),
        rows: u64::from(seq) * 10,
        bytes: Some(99),
        compute_ns: 1_234_567,
        spill_count: 1,
        spilled_bytes: 4096,
        memory_peak: Some(1 << 20),
    }
}

/// Times are kept to the microsecond.
fn to_micros(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

fn micros(mut s: TaskSpan) -> TaskSpan {
    s.started_at = to_micros(s.started_at);
    s.ended_at = s.ended_at.map(to_micros);
    s
}

async fn task_spans_are_upserted_paged_and_deleted_with_the_job(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    let job = created(store, "a", spec("")).await;
    let running: Vec<TaskSpan> = (0..5).map(|s| span(s, false)).collect();
    store.record_tasks(job, 1, "w1", &running).await.unwrap();
    // The same spans again, ended and grown: updated in place, not added.
    let ended: Vec<TaskSpan> = running
        .iter()
        .map(|s| TaskSpan {
            rows: s.rows + 1,
            ended_at: Some(s.started_at + chrono::Duration::milliseconds(3)),
            ..s.clone()
        })
        .collect();
    store.record_tasks(job, 1, "w1", &ended).await.unwrap();
    store
        .record_tasks(job, 2, "w2", &running[..1])
        .await
        .unwrap();
    let filter = |attempt, after, limit| TaskFilter {
        attempt,
        after,
        limit,
    };
    let all = store.tasks(job, &filter(None, None, 100)).await.unwrap();
    assert_eq!(all.len(), 6);
    let firsts: Vec<TaskSpan> = all[..5].iter().map(|t| t.span.clone()).collect();
    assert_eq!(firsts, ended.into_iter().map(micros).collect::<Vec<_>>());
    assert!(all[..5].iter().all(|t| t.attempt == 1 && t.worker == "w1"));
    assert_eq!((all[5].attempt, all[5].worker.as_str()), (2, "w2"));
    assert_eq!(all[5].span, micros(running[0].clone()));

    let page = store
        .tasks(job, &filter(None, Some((1, 3)), 100))
        .await
        .unwrap();
    let at: Vec<(i32, u32)> = page.iter().map(|t| (t.attempt, t.span.seq)).collect();
    assert_eq!(at, [(1, 4), (2, 0)]);
    let second = store.tasks(job, &filter(Some(2), None, 100)).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(
        store
            .tasks(job, &filter(None, None, 2))
            .await
            .unwrap()
            .len(),
        2
    );

    // Spans go with their job.
    run(store, succeeded(1, None)).await;
    store.delete("a", job).await.unwrap().unwrap();
    assert!(
        store
            .tasks(job, &filter(None, None, 100))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn gpu_jobs_go_to_gpu_workers_only(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    let ttl = Duration::from_secs(30);
    let gpu = created(store, "a", spec(r#", "resources": {"gpu": true}"#)).await;
    let prefer = created(store, "a", spec(r#", "resources": {"gpu": "prefer"}"#)).await;
    let cpu = created(store, "a", spec("")).await;
    // A CPU worker passes over the GPU job and takes the others, oldest first.
    let first = store.claim("cpu", ttl, false).await.unwrap().unwrap();
    assert_eq!(first.job.id, prefer);
    let second = store.claim("cpu", ttl, false).await.unwrap().unwrap();
    assert_eq!(second.job.id, cpu);
    assert!(store.claim("cpu", ttl, false).await.unwrap().is_none());
    // A GPU worker takes it, and takes GPU jobs before older ones of the same priority.
    let later_cpu = created(store, "a", spec("")).await;
    let claimed = store.claim("gpu", ttl, true).await.unwrap().unwrap();
    assert_eq!(claimed.job.id, gpu);
    assert_eq!(claimed.job.spec.resources.gpu, rusk::spec::GpuUse::Require);
    let next = store.claim("gpu", ttl, true).await.unwrap().unwrap();
    assert_eq!(next.job.id, later_cpu);

    // A GPU job nobody claims fails once it has waited its timeout_s; one without a timeout,
    // and a claimed one, wait on.
    let waits = created(store, "a", spec(r#", "resources": {"gpu": true}"#)).await;
    let times_out = created(
        store,
        "a",
        spec(r#", "resources": {"gpu": true}, "timeout_s": 1"#),
    )
    .await;
    assert_eq!(store.fail_unclaimed_gpu_jobs().await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(store.fail_unclaimed_gpu_jobs().await.unwrap(), 1);
    let failed = store.get(None, times_out).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.error.unwrap().code, rusk::domain::ErrorCode::Timeout);
    assert!(failed.finished_at.is_some());
    assert_eq!(
        store.get(None, waits).await.unwrap().unwrap().state,
        JobState::Queued
    );
    assert_eq!(
        store.get(None, gpu).await.unwrap().unwrap().state,
        JobState::Running
    );
}

/// Every change a job's watcher shows is announced on `changes()` once committed (claim,
/// progress, finish, cancel), and only those: a failed renewal or finish, a read, announces
/// nothing.
async fn changes_are_announced_once_committed(backend: Backend) {
    let (store, _dir, _db) = open(backend).await;
    let store = store.as_ref();
    let mut changes = store.changes();
    let ran = created(store, "a", spec("")).await;
    let cancelled = created(store, "a", spec("")).await;
    let claimed = store
        .claim("w", Duration::from_secs(30), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.job.id, ran);
    let progress = Progress::default();
    assert!(
        store
            .heartbeat(&claimed.lease, Duration::from_secs(30), &progress)
            .await
            .unwrap()
    );
    assert!(
        store
            .finish(&claimed.lease, &succeeded(10, None))
            .await
            .unwrap()
    );
    // Fenced: the lease is gone, so nothing changes and nothing is announced.
    assert!(
        !store
            .heartbeat(&claimed.lease, Duration::from_secs(30), &progress)
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish(&claimed.lease, &succeeded(10, None))
            .await
            .unwrap()
    );
    store.get(Some("a"), ran).await.unwrap();
    assert!(matches!(
        store.cancel("a", cancelled).await.unwrap(),
        Cancelled::Done(_)
    ));
    assert!(matches!(
        store.cancel("a", cancelled).await.unwrap(),
        Cancelled::AlreadyFinished(_)
    ));
    let mut heard = Vec::new();
    while let Ok(id) = changes.try_recv() {
        heard.push(id);
    }
    assert_eq!(
        heard,
        [ran, ran, ran, cancelled],
        "claim, progress, finish, cancel"
    );
}
