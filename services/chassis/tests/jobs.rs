//! The job runner across replicas, on SQLite and PostgreSQL: two runners over one database never run
//! one job at the same time, and the job of a replica that dies mid-attempt is taken again once its
//! lease expires.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use motcua_chassis::{
    clock::Clock,
    db,
    jobs::{self, Job, JobFailure, JobSettings, JobState, NewJob, Runner},
    testing::{TestDatabase, on_every_database},
};
use sea_orm::{DatabaseConnection, TransactionTrait};
use sea_orm_migration::{MigrationTrait, MigratorTrait, SchemaManager, prelude::*};
use tokio::sync::Notify;

const KIND: &str = "test.work";

struct JobsOnly;

#[derive(DeriveMigrationName)]
struct CreateJobs;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CreateJobs {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        jobs::schema::create_table(manager).await
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for JobsOnly {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateJobs)]
    }
}

/// One replica's connection pool.
async fn open(database: &TestDatabase) -> DatabaseConnection {
    let connections = if database.backend == "sqlite" { 2 } else { 8 };
    db::connect(&database.url, Some(connections)).await.expect("database opens")
}

fn settings(lease: Duration) -> JobSettings {
    JobSettings {
        max_attempts: 5,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        lease,
    }
}

/// Records `count` jobs, `things/0` ..., committed together.
async fn enqueue(db: &DatabaseConnection, count: usize) {
    let transaction = db.begin().await.expect("a transaction");
    for index in 0..count {
        let job = NewJob {
            kind: KIND,
            subject: format!("things/{index}"),
            payload: vec![index as u8],
            request_id: format!("request-{index}"),
        };
        jobs::enqueue(&transaction, motcua_chassis::clock::Clock::system().now(), job).await.expect("job recorded");
    }
    transaction.commit().await.expect("committed");
}

/// What the handlers saw, shared by both replicas (they run in one test process).
#[derive(Default)]
struct Observed {
    /// Jobs in an attempt right now.
    running: Mutex<HashSet<i64>>,
    /// Attempts that began while another attempt of the same job was running.
    overlaps: Mutex<Vec<i64>>,
    /// Successful attempts per job.
    successes: Mutex<HashMap<i64, u32>>,
    /// Attempts per replica.
    by_replica: Mutex<HashMap<&'static str, u32>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Fails every job's first attempt (so each is leased twice), succeeds on the second; each attempt
/// takes a little while, so overlapping attempts would be seen.
async fn work(observed: Arc<Observed>, job: Job, replica: &'static str) -> Result<(), JobFailure> {
    if !lock(&observed.running).insert(job.id) {
        lock(&observed.overlaps).push(job.id);
    }
    *lock(&observed.by_replica).entry(replica).or_default() += 1;
    tokio::time::sleep(Duration::from_millis(15)).await;
    lock(&observed.running).remove(&job.id);
    if job.attempt < 2 {
        return Err(JobFailure::Retry { reason: "FIRST_ATTEMPT_FAILS".to_owned() });
    }
    *lock(&observed.successes).entry(job.id).or_default() += 1;
    Ok(())
}

/// Every job of `things/0..count`, as stored.
async fn stored(db: &DatabaseConnection, count: usize) -> Vec<jobs::JobRecord> {
    let mut records = Vec::with_capacity(count);
    for index in 0..count {
        records.extend(jobs::for_subject(db, &format!("things/{index}")).await.expect("jobs read"));
    }
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_never_run_one_job_at_once_and_each_job_succeeds_once() {
    on_every_database(|database| async move {
        const JOBS: usize = 60;
        let first = open(&database).await;
        db::migrate::<JobsOnly>(&first).await.expect("jobs table");
        let second = open(&database).await;
        let observed = Arc::new(Observed::default());
        let bells = [Arc::new(Notify::new()), Arc::new(Notify::new())];
        for ((replica, connection), bell) in [("first", first.clone()), ("second", second)].into_iter().zip(&bells) {
            Runner::new(connection, settings(Duration::from_secs(30)), Clock::system(), bell.clone())
                .handle(KIND, move |observed, job| work(observed, job, replica))
                .spawn(Arc::downgrade(&observed));
        }
        enqueue(&first, JOBS).await;
        for bell in &bells {
            bell.notify_one();
        }

        let mut records = stored(&first, JOBS).await;
        for _ in 0..300 {
            if records.iter().all(|record| record.state == JobState::Succeeded) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            records = stored(&first, JOBS).await;
        }
        assert_eq!(records.len(), JOBS, "{}", database.backend);
        for record in &records {
            assert_eq!(record.state, JobState::Succeeded, "{}: {record:?}", database.backend);
            assert_eq!(record.attempts, 2, "{}: one failed attempt, one success: {record:?}", database.backend);
            assert!(record.last_error.is_empty(), "a success clears the error");
        }
        assert!(
            lock(&observed.overlaps).is_empty(),
            "{}: jobs run twice at once: {:?}",
            database.backend,
            lock(&observed.overlaps)
        );
        let successes = lock(&observed.successes).clone();
        assert_eq!(successes.len(), JOBS);
        assert!(successes.values().all(|count| *count == 1), "{}: a job succeeded twice", database.backend);
        let by_replica = lock(&observed.by_replica).clone();
        assert!(by_replica.len() == 2, "{}: both replicas took jobs: {by_replica:?}", database.backend);
        drop(observed);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_replicas_job_is_taken_again_by_another_once_its_lease_expires() {
    on_every_database(|database| async move {
        let survivor_db = open(&database).await;
        db::migrate::<JobsOnly>(&survivor_db).await.expect("jobs table");

        // The replica that dies: a runtime of its own, shut down in the middle of its attempt, as a
        // killed process would stop, without recording anything.
        let doomed = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the doomed replica");
        let started = Arc::new(Notify::new());
        let url = database.url.clone();
        let signal = started.clone();
        doomed.spawn(async move {
            let connection = db::connect(&url, Some(1)).await.expect("database opens");
            let owner = Arc::new(());
            Runner::new(connection, settings(Duration::from_millis(1500)), Clock::system(), Arc::new(Notify::new()))
                .handle(KIND, move |_owner: Arc<()>, _job| {
                    let signal = signal.clone();
                    async move {
                        signal.notify_one();
                        std::future::pending::<Result<(), JobFailure>>().await
                    }
                })
                .spawn(Arc::downgrade(&owner));
            std::future::pending::<()>().await;
            drop(owner);
        });
        enqueue(&survivor_db, 1).await;
        tokio::time::timeout(Duration::from_secs(10), started.notified())
            .await
            .expect("the doomed replica starts the job");
        doomed.shutdown_background();
        let leased = stored(&survivor_db, 1).await;
        assert_eq!(leased[0].state, JobState::Running, "{}: the dead replica's lease stands", database.backend);

        let observed = Arc::new(Observed::default());
        Runner::new(survivor_db.clone(), settings(Duration::from_secs(30)), Clock::system(), Arc::new(Notify::new()))
            .handle(KIND, |observed, job| work(observed, job, "survivor"))
            .spawn(Arc::downgrade(&observed));
        let mut records = stored(&survivor_db, 1).await;
        for _ in 0..100 {
            if records[0].state == JobState::Succeeded {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            records = stored(&survivor_db, 1).await;
        }
        assert_eq!(records[0].state, JobState::Succeeded, "{}: {:?}", database.backend, records[0]);
        // The dead replica's attempt counts: the survivor's took the job as its second.
        assert_eq!(records[0].attempts, 2, "{}", database.backend);
        assert_eq!(lock(&observed.by_replica).get("survivor"), Some(&1));
        drop(observed);
    })
    .await;
}
