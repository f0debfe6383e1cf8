//! Receipt's signing job on the chassis's job runner, over real gRPC with the real signing service:
//! each issued receipt's signing job is listed by `motcua.jobs.v1.JobService/ListJobs`; while signing
//! cannot be reached it is retried with backoff and then dead-lettered, keeping the receipt's number;
//! `RetryJob` brings it back and, signing being up, it completes and the receipt is signed.

mod common;

use std::time::Duration;

use common::*;
use motcua_chassis::{
    ServiceConfig, ServiceKind,
    jobs::JobSettings,
    server::RunningServer,
    testing::{TestDatabase, on_every_database, start_service_with},
};
use motcua_proto::motcua::{jobs::v1 as jobs_pb, receipt::v1 as pb};
use motcua_receipt::settings::ENV_RECEIPT_SIGNING_URL;
use motcua_testkit::{clients, services::start_signing_at};

/// Attempts before a signing job is dead-lettered in these tests.
const ATTEMPTS: u32 = 3;

/// Receipt on `database`, calling signing at `signing_url`, giving jobs [`ATTEMPTS`] quick attempts.
async fn start_receipt_with_quick_jobs(database: &TestDatabase, signing_url: &str) -> RunningServer {
    let mut config = ServiceConfig::for_local(ServiceKind::Receipt, database.url.clone());
    config.service_variables.insert(ENV_RECEIPT_SIGNING_URL, signing_url.to_owned());
    config.jobs = JobSettings {
        max_attempts: ATTEMPTS,
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        lease: Duration::from_secs(30),
    };
    start_service_with::<motcua_receipt::Receipt>(config).await
}

/// The signing jobs of receipt service `jobs`, in `state` when set.
async fn signing_jobs(jobs: &mut clients::Jobs, state: jobs_pb::JobState) -> Vec<jobs_pb::Job> {
    jobs.list_jobs(jobs_pb::ListJobsRequest {
        page_size: 0,
        page_token: String::new(),
        state: state as i32,
        kind: "receipt.sign".to_owned(),
    })
    .await
    .expect("jobs listed")
    .into_inner()
    .jobs
}

/// Polls job `name` until `done` holds, at most `polls` times 100 ms apart; returns it as last read.
async fn wait_for_job(
    jobs: &mut clients::Jobs,
    name: &str,
    polls: u32,
    done: impl Fn(&jobs_pb::Job) -> bool,
) -> jobs_pb::Job {
    let mut last = None;
    for _ in 0..polls {
        let listed = signing_jobs(jobs, jobs_pb::JobState::Unspecified).await;
        let job = listed.into_iter().find(|job| job.name == name).expect("the job stays listed");
        if done(&job) {
            return job;
        }
        last = Some(job);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last.expect("polled at least once")
}

#[tokio::test]
async fn a_signing_job_that_keeps_failing_is_dead_lettered_and_retry_job_completes_it_once_signing_is_up() {
    on_every_database(|database| async move {
        let (signing_database, signing_addr) = signing_down_with_the_collector().await;

        let server = start_receipt_with_quick_jobs(&database, &format!("http://{signing_addr}")).await;
        let mut receipt = client(server.local_addr).await;
        let mut jobs = clients::jobs(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN01", "AB-25E").await;
        let request = issue_request(&series, "000.01.12.H26-250301-0001");
        let issued = issue(&mut receipt, request.clone()).await;

        // The issuing transaction recorded the receipt's signing job.
        let listed = signing_jobs(&mut jobs, jobs_pb::JobState::Unspecified).await;
        assert_eq!(listed.len(), 1, "{}: one signing job per receipt: {listed:?}", database.backend);
        let job = listed[0].clone();
        assert_eq!(job.subject, issued.name, "{}", database.backend);
        assert_eq!(job.request_id, request.request_id, "the job names the call that caused it");
        assert!(job.name.starts_with("jobs/"));

        // Signing cannot be reached: each attempt fails, backs off, and after the last the job waits for
        // an operator. The receipt keeps its number, pending, saying why.
        let dead = wait_for_job(&mut jobs, &job.name, 100, |job| job.state() == jobs_pb::JobState::DeadLettered).await;
        assert_eq!(
            dead.state(),
            jobs_pb::JobState::DeadLettered,
            "{}: dead-lettered within 10 s: {dead:?}",
            database.backend
        );
        assert_eq!(dead.attempts, ATTEMPTS as i32, "{}: every configured attempt was made", database.backend);
        assert!(!dead.last_error_reason.is_empty(), "the dead letter says why");
        assert!(dead.next_attempt_time.is_none(), "a dead letter has no next attempt");
        let listed = signing_jobs(&mut jobs, jobs_pb::JobState::DeadLettered).await;
        assert_eq!(listed.iter().map(|job| job.name.clone()).collect::<Vec<_>>(), vec![job.name.clone()]);
        assert!(signing_jobs(&mut jobs, jobs_pb::JobState::Succeeded).await.is_empty());
        let read =
            receipt.get_receipt(pb::GetReceiptRequest { name: issued.name.clone() }).await.expect("read").into_inner();
        let signature = read.signature.expect("a signature state");
        assert_eq!(signature.state(), pb::SignatureState::Pending, "{}", database.backend);
        assert_eq!(signature.attempts, ATTEMPTS as i32);
        assert_eq!(read.number, 1);

        // Signing comes up; a dead letter stays dead until an operator retries it.
        let signing_server = start_signing_at(&signing_database, signing_addr).await;
        let retried = jobs
            .retry_job(jobs_pb::RetryJobRequest { name: job.name.clone() })
            .await
            .expect("a dead letter is retried")
            .into_inner()
            .job
            .expect("the job");
        assert_ne!(retried.state(), jobs_pb::JobState::DeadLettered, "{}: {retried:?}", database.backend);
        let done = wait_for_job(&mut jobs, &job.name, 100, |job| job.state() == jobs_pb::JobState::Succeeded).await;
        assert_eq!(
            done.state(),
            jobs_pb::JobState::Succeeded,
            "{}: completed after RetryJob: {done:?}",
            database.backend
        );
        assert_eq!(done.attempts, 1, "the retry starts the count again");
        assert!(done.last_error_reason.is_empty());
        let read =
            receipt.get_receipt(pb::GetReceiptRequest { name: issued.name.clone() }).await.expect("read").into_inner();
        let signature = read.signature.expect("a signature state");
        assert_eq!(signature.state(), pb::SignatureState::Signed, "{}", database.backend);
        assert!(signature.signature.starts_with("signatures/"));
        assert_eq!((read.number, read.xml_sha256), (issued.number, issued.xml_sha256));

        // A finished job has nothing to retry; an unknown one is not found.
        let refused = jobs.retry_job(jobs_pb::RetryJobRequest { name: job.name.clone() }).await.expect_err("done");
        assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
        let unknown =
            jobs.retry_job(jobs_pb::RetryJobRequest { name: "jobs/999999".to_owned() }).await.expect_err("no such job");
        assert_eq!(unknown.code(), tonic::Code::NotFound);
        let malformed =
            jobs.retry_job(jobs_pb::RetryJobRequest { name: "receipts/1".to_owned() }).await.expect_err("not a job");
        assert_eq!(malformed.code(), tonic::Code::InvalidArgument);

        // Signing has no background work of its own: its job service answers an empty page.
        let mut signing_jobs_client = clients::jobs(signing_addr).await;
        let empty =
            signing_jobs_client.list_jobs(jobs_pb::ListJobsRequest::default()).await.expect("listed").into_inner();
        assert!(empty.jobs.is_empty() && empty.next_page_token.is_empty(), "{}", database.backend);
        server.stop().await.expect("clean stop");
        signing_server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn every_issued_receipt_gets_its_own_signing_job_and_list_jobs_pages_through_them() {
    on_every_database(|database| async move {
        let server = start_receipt(&database, UNREACHABLE_SIGNING).await;
        let mut receipt = client(server.local_addr).await;
        let mut jobs = clients::jobs(server.local_addr).await;
        let series = fee_series(&mut receipt, "CN01", "AB-25E").await;
        // Concurrent calls, so that on SQLite they share numbering batches.
        let calls: Vec<_> = (0..7)
            .map(|index| {
                let mut receipt = receipt.clone();
                let request = issue_request(&series, &format!("000.01.12.H26-250301-{index:04}"));
                tokio::spawn(async move { issue(&mut receipt, request).await })
            })
            .collect();
        let mut issued = Vec::new();
        for call in calls {
            issued.push(call.await.expect("the call's task"));
        }

        let mut names = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = jobs
                .list_jobs(jobs_pb::ListJobsRequest {
                    page_size: 3,
                    page_token: page_token.clone(),
                    state: 0,
                    kind: "receipt.sign".to_owned(),
                })
                .await
                .expect("a page")
                .into_inner();
            assert!(page.jobs.len() <= 3);
            names.extend(page.jobs.into_iter().map(|job| (job.name, job.subject)));
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        let mut subjects: Vec<String> = names.iter().map(|(_, subject)| subject.clone()).collect();
        subjects.sort();
        let mut expected: Vec<String> = issued.iter().map(|receipt| receipt.name.clone()).collect();
        expected.sort();
        assert_eq!(subjects, expected, "{}: one job per receipt, each listed once", database.backend);
        let ids: Vec<i64> =
            names.iter().map(|(name, _)| name.trim_start_matches("jobs/").parse().expect("an id")).collect();
        assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "newest first: {ids:?}");

        let other_kind = jobs
            .list_jobs(jobs_pb::ListJobsRequest { kind: "intake.slip".to_owned(), ..Default::default() })
            .await
            .expect("listed")
            .into_inner();
        assert!(other_kind.jobs.is_empty());
        let bad_token = jobs
            .list_jobs(jobs_pb::ListJobsRequest { page_token: "not-a-token".to_owned(), ..Default::default() })
            .await
            .expect_err("a made-up token");
        assert_eq!(bad_token.code(), tonic::Code::InvalidArgument);
        server.stop().await.expect("clean stop");
    })
    .await;
}
