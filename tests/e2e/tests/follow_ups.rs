//! A dossier's follow-ups across the real intake, receipt and signing services: intake has receipt
//! issue the acknowledgement slip (and the fee receipt of a procedure that charges at intake) in the
//! background, shows each with its number, lookup code and signature in `GetDossier`, never issues
//! twice, waits for a receipt that is down or a branch without an open series, and reporting counts
//! what it issued.

use std::{net::SocketAddr, time::Duration};

use motcua_chassis::{jobs::JobSettings, server::RunningServer};
use motcua_intake::settings::ENV_INTAKE_RECEIPT_URL;
use motcua_proto::motcua::{
    common::v1::Channel, intake::v1 as pb, jobs::v1 as jobs_pb, receipt::v1 as receipt_pb,
    reporting::v1 as reporting_pb,
};
use motcua_testkit::{
    TestDatabase,
    authorities::BranchDeployment,
    calendar::around_today,
    clients,
    dossiers::{create, filing, required_components},
    on_every_database,
    series::open_series,
    services::{Sources, another_database, intake_config, receipt_config, reporting_config, start_signing, url_of},
    start_service_with,
    wait::{eventually, free_loopback_address},
};
use sea_orm::{ConnectionTrait, Statement};

/// A procedure of the built-in catalogue that charges a fee (8,000 đồng) when the dossier is received.
const FEE_AT_INTAKE_PROCEDURE: &str = "2.000635";

/// Intake's runner with short waits and `max_attempts`, so a failing job is retried (and, with few
/// attempts, dead-lettered) within the test.
fn quick_jobs(max_attempts: u32) -> JobSettings {
    JobSettings {
        max_attempts,
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        lease: Duration::from_secs(20),
    }
}

/// Attempts enough to outlast any test: a failing job stays pending.
const MANY_ATTEMPTS: u32 = 10_000;

/// Signing (with officer CB001 of CN01 able to sign), receipt calling it (started now, or later where
/// intake expects it), and intake on its test database calling both.
struct Suite {
    signing: RunningServer,
    _signing_database: TestDatabase,
    receipt_addr: SocketAddr,
    receipt: Option<(RunningServer, TestDatabase)>,
    intake: RunningServer,
    intake_database: TestDatabase,
}

impl Suite {
    async fn start(intake_database: TestDatabase, receipt_up: bool, max_attempts: u32) -> Self {
        let signing_database = another_database(&intake_database).await;
        let signing = start_signing(&signing_database).await;
        BranchDeployment::of("CN01").officer("CB001").deploy(&mut clients::signing(signing.local_addr).await).await;
        let receipt_addr = free_loopback_address();
        let mut config = intake_config(&intake_database, &url_of(&signing));
        config.service_variables.insert(ENV_INTAKE_RECEIPT_URL, format!("http://{receipt_addr}"));
        config.jobs = quick_jobs(max_attempts);
        let intake = start_service_with::<motcua_intake::Intake>(config).await;
        let mut suite =
            Self { signing, _signing_database: signing_database, receipt_addr, receipt: None, intake, intake_database };
        if receipt_up {
            suite.start_receipt().await;
        }
        suite
    }

    /// Starts receipt, on a database of its own, where intake expects it.
    async fn start_receipt(&mut self) -> &RunningServer {
        let database = another_database(&self.intake_database).await;
        let mut config = receipt_config(&database, &url_of(&self.signing));
        config.listen_addr = self.receipt_addr;
        let server = start_service_with::<motcua_receipt::Receipt>(config).await;
        &self.receipt.insert((server, database)).0
    }

    fn receipt(&self) -> &RunningServer {
        &self.receipt.as_ref().expect("receipt is up").0
    }

    async fn file(&self, procedure_code: &str) -> pb::Dossier {
        let mut intake = clients::intake(self.intake.local_addr).await;
        let mut request = filing(&mut intake, "CN01", Channel::InPerson, "001099012345").await;
        request.procedure_code = procedure_code.to_owned();
        request.components = required_components(&mut intake, procedure_code).await;
        create(&mut intake, request).await
    }

    async fn dossier(&self, name: &str) -> pb::Dossier {
        let mut intake = clients::intake(self.intake.local_addr).await;
        let request = pb::GetDossierRequest { name: name.to_owned(), view: pb::DossierView::Full as i32 };
        intake.get_dossier(request).await.expect("the dossier").into_inner()
    }

    /// Waits until the follow-up `kind` of dossier `name` satisfies `holds`, and returns it.
    async fn follow_up_once(
        &self,
        name: &str,
        kind: pb::FollowUpKind,
        holds: impl Fn(&pb::FollowUpJob) -> bool,
    ) -> pb::FollowUpJob {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let dossier = self.dossier(name).await;
            if let Some(job) = dossier.follow_ups.into_iter().find(|job| job.kind() == kind && holds(job)) {
                return job;
            }
            assert!(tokio::time::Instant::now() < deadline, "follow-up {kind:?} of {name}: not so within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn done(job: &pb::FollowUpJob) -> bool {
    job.state() == pb::FollowUpState::Done
}

async fn receipts_of(receipt: &RunningServer, dossier_code: &str) -> Vec<receipt_pb::Receipt> {
    let mut receipts = clients::receipt(receipt.local_addr).await;
    let request = receipt_pb::ListReceiptsRequest { dossier_code: dossier_code.to_owned(), ..Default::default() };
    receipts.list_receipts(request).await.expect("receipts").into_inner().receipts
}

#[tokio::test]
async fn a_received_dossier_gets_its_slip_and_intake_fee_receipt_with_numbers_lookup_codes_and_signatures() {
    on_every_database(|database| async move {
        let backend = database.backend;
        let suite = Suite::start(database, true, MANY_ATTEMPTS).await;
        let receipt = suite.receipt();
        open_series(receipt.local_addr, "CN01").await;

        let dossier = suite.file(FEE_AT_INTAKE_PROCEDURE).await;
        let slip = suite.follow_up_once(&dossier.name, pb::FollowUpKind::AcknowledgementSlip, done).await;
        assert_eq!(slip.receipt_number, "0000001", "{backend}");
        assert!(!slip.lookup_code.is_empty() && slip.result.starts_with("receipts/"), "{slip:?}");
        assert!(slip.job.starts_with("jobs/"));
        let fee = suite.follow_up_once(&dossier.name, pb::FollowUpKind::FeeReceipt, done).await;
        assert_eq!(fee.receipt_number, "0000001", "fee receipts are numbered in their own series");

        // The signatures follow: their log indexes reach the dossier.
        for kind in [pb::FollowUpKind::AcknowledgementSlip, pb::FollowUpKind::FeeReceipt] {
            suite.follow_up_once(&dossier.name, kind, |job| job.signature_log_index.is_some()).await;
        }
        let shown = suite.dossier(&dossier.name).await;
        assert_eq!(shown.receipts.len(), 2, "{:?}", shown.receipts);
        let issued = receipts_of(receipt, &dossier.dossier_code).await;
        assert_eq!(issued.len(), 2, "one slip and one fee receipt, nothing twice");
        let fee_receipt = issued.iter().find(|issued| issued.name == fee.result).expect("the fee receipt");
        assert_eq!(fee_receipt.total.as_ref().map(|total| total.dong), Some(8_000));
    })
    .await;
}

/// Runs `sql` with `values` on the database at `url`, as a crash or an operator would leave it.
async fn execute(url: &str, sql: &str, values: Vec<sea_orm::Value>) {
    let db = motcua_chassis::db::connect(url, Some(1)).await.expect("the test database");
    let backend = db.get_database_backend();
    let sql = motcua_chassis::db::placeholders(backend, sql);
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.expect("the statement");
}

fn job_id(job: &pb::FollowUpJob) -> i64 {
    job.job.trim_start_matches("jobs/").parse().expect("jobs/{id}")
}

#[tokio::test]
async fn a_slip_job_run_again_after_its_record_was_lost_gets_the_same_receipt_and_no_second_number() {
    on_every_database(|database| async move {
        let suite = Suite::start(database, true, MANY_ATTEMPTS).await;
        open_series(suite.receipt().local_addr, "CN01").await;
        let dossier = suite.file(motcua_testkit::dossiers::PROCEDURE).await;
        let first = suite.follow_up_once(&dossier.name, pb::FollowUpKind::AcknowledgementSlip, done).await;

        // As if intake had crashed after receipt issued but before its own record committed: the
        // record is gone and the job runs again.
        execute(
            &suite.intake_database.url,
            "DELETE FROM follow_ups WHERE dossier_code = $1",
            vec![dossier.dossier_code.clone().into()],
        )
        .await;
        execute(&suite.intake_database.url, "UPDATE jobs SET state = 4 WHERE id = $1", vec![job_id(&first).into()])
            .await;
        let mut jobs = clients::jobs(suite.intake.local_addr).await;
        jobs.retry_job(jobs_pb::RetryJobRequest { name: first.job.clone() }).await.expect("retried");

        let again = suite.follow_up_once(&dossier.name, pb::FollowUpKind::AcknowledgementSlip, done).await;
        assert_eq!(again.result, first.result, "the same request id gives the same receipt");
        assert_eq!(again.receipt_number, first.receipt_number);
        let issued = receipts_of(suite.receipt(), &dossier.dossier_code).await;
        assert_eq!(issued.len(), 1, "no second slip: {issued:?}");
    })
    .await;
}

#[tokio::test]
async fn without_an_open_series_the_slip_is_dead_lettered_with_its_reason_and_issued_after_retry_job() {
    on_every_database(|database| async move {
        let suite = Suite::start(database, true, 3).await;
        let dossier = suite.file(motcua_testkit::dossiers::PROCEDURE).await;
        let dead = suite
            .follow_up_once(&dossier.name, pb::FollowUpKind::AcknowledgementSlip, |job| {
                job.state() == pb::FollowUpState::DeadLettered
            })
            .await;
        assert_eq!(dead.last_error_reason, "NO_OPEN_SERIES");
        assert_eq!(dead.attempts, 3);
        assert!(suite.dossier(&dossier.name).await.receipts.is_empty());

        open_series(suite.receipt().local_addr, "CN01").await;
        let mut jobs = clients::jobs(suite.intake.local_addr).await;
        jobs.retry_job(jobs_pb::RetryJobRequest { name: dead.job.clone() }).await.expect("retried");
        let slip = suite.follow_up_once(&dossier.name, pb::FollowUpKind::AcknowledgementSlip, done).await;
        assert_eq!(slip.receipt_number, "0000001");
        assert!(slip.last_error_reason.is_empty(), "{slip:?}");
    })
    .await;
}

#[tokio::test]
async fn with_receipt_down_the_slip_waits_with_its_last_error_and_is_issued_when_receipt_is_back() {
    on_every_database(|database| async move {
        let mut suite = Suite::start(database, false, MANY_ATTEMPTS).await;
        let dossier = suite.file(motcua_testkit::dossiers::PROCEDURE).await;
        let waiting = suite
            .follow_up_once(&dossier.name, pb::FollowUpKind::AcknowledgementSlip, |job| {
                !job.last_error_reason.is_empty()
            })
            .await;
        assert_eq!(waiting.state(), pb::FollowUpState::Pending, "{waiting:?}");
        assert!(waiting.result.is_empty());

        let receipt = suite.start_receipt().await;
        open_series(receipt.local_addr, "CN01").await;
        let slip = suite.follow_up_once(&dossier.name, pb::FollowUpKind::AcknowledgementSlip, done).await;
        assert!(!slip.lookup_code.is_empty());
    })
    .await;
}

#[tokio::test]
async fn reporting_counts_the_slips_and_fee_receipts_intake_issued_by_branch_and_procedure() {
    on_every_database(|database| async move {
        let suite = Suite::start(database, true, MANY_ATTEMPTS).await;
        open_series(suite.receipt().local_addr, "CN01").await;
        let reporting_database = another_database(&suite.intake_database).await;
        let (intake_url, signing_url, receipt_url) =
            (url_of(&suite.intake), url_of(&suite.signing), url_of(suite.receipt()));
        let sources = Sources { intake: &intake_url, signing: &signing_url, receipt: &receipt_url };
        let reporting_server =
            start_service_with::<motcua_reporting::Reporting>(reporting_config(&reporting_database, &sources)).await;

        let dossier = suite.file(FEE_AT_INTAKE_PROCEDURE).await;
        suite.follow_up_once(&dossier.name, pb::FollowUpKind::FeeReceipt, done).await;
        suite.follow_up_once(&dossier.name, pb::FollowUpKind::AcknowledgementSlip, done).await;

        let reporting_addr = reporting_server.local_addr;
        eventually("reporting counts the dossier's slip and fee receipt", || async move {
            let mut reporting = clients::reporting(reporting_addr).await;
            let request = reporting_pb::GetSummaryRequest {
                period: Some(around_today()),
                branch_code: "CN01".to_owned(),
                procedure_code: FEE_AT_INTAKE_PROCEDURE.to_owned(),
                ..Default::default()
            };
            let counters = reporting.get_summary(request).await.expect("summary").into_inner().counters;
            counters
                .is_some_and(|counters| counters.dossier_slips_issued == 1 && counters.dossier_fee_receipts_issued == 1)
        })
        .await;
    })
    .await;
}
