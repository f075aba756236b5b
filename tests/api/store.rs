//! The job store's lease rules, on both backends: a lapsed lease is requeued and reclaimed,
//! and the old holder can neither renew nor finish.

use std::time::Duration;

use rusk::domain::{ErrorCode, Job, JobError, JobState, Progress};
use rusk::spec::JobSpec;
use rusk::store::{self, NewJob, Outcome, Store, Submitted};

use crate::helpers::{Backend, settings_for};

fn spec() -> JobSpec {
    JobSpec::from_json(br#"{"sources": {"t": {"format": "csv", "path": "t.csv"}}, "sql": "select 1", "max_attempts": 2}"#)
        .unwrap()
}

/// Queues one job of tenant `t1`.
async fn submit_one(store: &dyn Store) -> Job {
    let submitted = store
        .submit(NewJob {
            tenant: "t1".into(),
            spec: spec(),
            idempotency: None,
        })
        .await
        .unwrap();
    let Submitted::Created(job) = submitted else {
        panic!("a new job")
    };
    job
}

async fn leases_are_fenced(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (settings, _db) = settings_for(backend, dir.path()).await;
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let store = store::connect(&settings.database_url()).await.unwrap();
    let job = submit_one(store.as_ref()).await;

    let first = store
        .claim("w1", Duration::from_millis(50), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.job.id, job.id);
    assert_eq!(first.lease.attempt, 1);
    assert!(
        store
            .claim("w2", Duration::from_secs(30), false)
            .await
            .unwrap()
            .is_none(),
        "one holder"
    );
    assert!(
        store
            .heartbeat(
                &first.lease,
                Duration::from_millis(50),
                &Progress::default()
            )
            .await
            .unwrap()
    );

    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(store.requeue_expired().await.unwrap(), 1);
    assert_eq!(
        store.get(Some("t1"), job.id).await.unwrap().unwrap().state,
        JobState::Queued
    );

    let second = store
        .claim("w2", Duration::from_secs(30), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.lease.attempt, 2);
    assert!(
        !store
            .heartbeat(&first.lease, Duration::from_secs(30), &Progress::default())
            .await
            .unwrap()
    );
    let zombie = Outcome::Failed(JobError {
        code: ErrorCode::Internal,
        message: "late".into(),
    });
    assert!(
        !store.finish(&first.lease, &zombie).await.unwrap(),
        "a zombie's finish changes nothing"
    );

    let retry = Outcome::Retry {
        error: JobError {
            code: ErrorCode::IoError,
            message: "flaky".into(),
        },
        after: Duration::ZERO,
    };
    assert!(store.finish(&second.lease, &retry).await.unwrap());
    let ended = store.get(Some("t1"), job.id).await.unwrap().unwrap();
    assert_eq!(
        ended.state,
        JobState::Failed,
        "out of attempts (2 of 2), so a retry fails"
    );
    assert_eq!(ended.error.unwrap().code, ErrorCode::IoError);
    assert!(
        store
            .get(Some("other-tenant"), job.id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn retries_requeue_until_attempts_run_out(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (settings, _db) = settings_for(backend, dir.path()).await;
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let store = store::connect(&settings.database_url()).await.unwrap();
    submit_one(store.as_ref()).await;
    let claimed = store
        .claim("w1", Duration::from_secs(30), false)
        .await
        .unwrap()
        .unwrap();
    let retry = Outcome::Retry {
        error: JobError {
            code: ErrorCode::IoError,
            message: "flaky".into(),
        },
        after: Duration::from_secs(3600),
    };
    assert!(store.finish(&claimed.lease, &retry).await.unwrap());
    let job = store
        .get(Some("t1"), claimed.job.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.state, JobState::Queued);
    assert!(
        store
            .claim("w1", Duration::from_secs(30), false)
            .await
            .unwrap()
            .is_none(),
        "backing off"
    );
}

#[tokio::test]
async fn sqlite_leases_are_fenced() {
    leases_are_fenced(Backend::Sqlite).await;
}

#[tokio::test]
#[ignore = "needs Postgres: set DATABASE_URL, run with --include-ignored"]
async fn postgres_leases_are_fenced() {
    leases_are_fenced(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_retries_requeue() {
    retries_requeue_until_attempts_run_out(Backend::Sqlite).await;
}

#[tokio::test]
#[ignore = "needs Postgres: set DATABASE_URL, run with --include-ignored"]
async fn postgres_retries_requeue() {
    retries_requeue_until_attempts_run_out(Backend::Postgres).await;
}

/// Postgres: a change made through one process's store (a worker's) reaches another's
/// `changes()` while it runs `watch_changes`, as an API process's job event streams need.
#[tokio::test]
#[ignore = "needs Postgres: set DATABASE_URL, run with --include-ignored"]
async fn postgres_changes_reach_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let (settings, _db) = settings_for(Backend::Postgres, dir.path()).await;
    std::fs::create_dir_all(&settings.data_dir).unwrap();
    let api = store::connect(&settings.database_url()).await.unwrap();
    let worker = store::connect(&settings.database_url()).await.unwrap();
    let job = submit_one(worker.as_ref()).await;
    let claimed = worker
        .claim("w1", Duration::from_secs(30), false)
        .await
        .unwrap()
        .unwrap();

    let mut changes = api.changes();
    let stop = tokio_util::sync::CancellationToken::new();
    let listening = tokio::spawn({
        let (api, stop) = (api.clone(), stop.clone());
        async move { api.watch_changes(stop).await }
    });
    // The listener starts in the background, so the worker reports progress until it is heard
    // (each report is a change); the api store changes nothing itself.
    let mut heard = None;
    for _ in 0..100 {
        assert!(
            worker
                .heartbeat(
                    &claimed.lease,
                    Duration::from_secs(30),
                    &Progress::default()
                )
                .await
                .unwrap()
        );
        if let Ok(Ok(id)) = tokio::time::timeout(Duration::from_millis(200), changes.recv()).await {
            heard = Some(id);
            break;
        }
    }
    assert_eq!(
        heard,
        Some(job.id),
        "the api store heard the worker's change"
    );
    stop.cancel();
    listening.await.unwrap();
}
