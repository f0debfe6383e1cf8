//! The center's counter application against the processes, under mutual TLS as `staff/counter`: it
//! opens the branch's receipt series, files dossiers from many concurrent clients, and checks the whole
//! path afterwards: one slip and one fee receipt per dossier, gap-free numbers per series, and
//! reporting's totals equal to a recount from intake and receipt.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    time::{Duration, Instant},
};

use motcua_chassis::ServiceKind;
use motcua_proto::motcua::{
    common::v1::Channel as FilingChannel,
    intake::v1::{self as intake_pb, intake_service_client::IntakeServiceClient},
    receipt::v1::{self as receipt_pb, receipt_service_client::ReceiptServiceClient},
    reporting::v1::{self as reporting_pb, reporting_service_client::ReportingServiceClient},
    signing::v1::signing_service_client::SigningServiceClient,
};
use motcua_testkit::{
    authorities::BranchDeployment, calendar::around_today, dossiers::required_components, people, pki::Issued,
    request_id,
};
use sea_orm::{ConnectionTrait, Statement};
use tonic::transport::Channel;

use super::processes::Cluster;

/// The identity of the counter application, which the shipped policy grants intake, receipt and
/// reporting.
pub const COUNTER: &str = "staff/counter";
/// The test's set-up: the shipped policy grants no one signing's administration (certificate
/// authorities are made by an operator), so one identity is added for it, and nothing else.
pub const SETUP_POLICY: &str = "  staff/e2e-setup:\n    rpcs:\n      - motcua.signing.v1.SigningService/*\n";
const SETUP: &str = "staff/e2e-setup";
/// The branch every dossier is filed at.
pub const BRANCH: &str = "CN01";
/// Permanent residence registration: the seed charges its 20,000 đồng fee at intake.
pub const FEE_AT_INTAKE_PROCEDURE: &str = "1.004222";
/// The receiving officer, who is the collector whose key signs the receipts.
pub const OFFICER: &str = "CB001";
/// The longest any one call here may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A client certificate for `identity` and channels to the processes with it.
pub struct Counter {
    client: Issued,
    setup: Issued,
}

impl Counter {
    pub fn new(cluster: &Cluster) -> Self {
        Self { client: cluster.pki.issue(Some(COUNTER), &[], false), setup: cluster.pki.issue(Some(SETUP), &[], false) }
    }

    async fn channel(&self, cluster: &Cluster, kind: ServiceKind, replica: usize, identity: &Issued) -> Channel {
        let addr = cluster.addr(kind, replica);
        cluster
            .pki
            .channel(addr.port(), "localhost", Some(identity.clone()))
            .await
            .unwrap_or_else(|error| panic!("{} #{replica} answers under mutual TLS: {error}", kind.name()))
    }

    pub async fn intake(&self, cluster: &Cluster, replica: usize) -> IntakeServiceClient<Channel> {
        IntakeServiceClient::new(self.channel(cluster, ServiceKind::Intake, replica, &self.client).await)
    }

    pub async fn receipt(&self, cluster: &Cluster, replica: usize) -> ReceiptServiceClient<Channel> {
        ReceiptServiceClient::new(self.channel(cluster, ServiceKind::Receipt, replica, &self.client).await)
    }

    pub async fn reporting(&self, cluster: &Cluster, replica: usize) -> ReportingServiceClient<Channel> {
        ReportingServiceClient::new(self.channel(cluster, ServiceKind::Reporting, replica, &self.client).await)
    }

    /// Signing, as the set-up identity.
    pub async fn signing(&self, cluster: &Cluster) -> SigningServiceClient<Channel> {
        SigningServiceClient::new(self.channel(cluster, ServiceKind::Signing, 0, &self.setup).await)
    }

    /// The branch's certificates in signing (officer CB001 signs the receipts) and an open series of
    /// each kind at receipt, as `motcua up` opens them; returns the components every filing carries.
    pub async fn set_up(&self, cluster: &Cluster) -> Vec<intake_pb::SubmittedComponent> {
        let mut signing = self.signing(cluster).await;
        BranchDeployment::of(BRANCH).officer(OFFICER).deploy(&mut signing).await;
        let year = chrono::Datelike::year(&motcua_chassis::timestamps::local_date(
            motcua_chassis::clock::Clock::system().now(),
        ));
        let mut receipt = self.receipt(cluster, 0).await;
        for (kind, template_symbol) in [
            (receipt_pb::ReceiptKind::FeeReceipt, "01BLP0-001"),
            (receipt_pb::ReceiptKind::AcknowledgementSlip, "01/TN"),
        ] {
            let request = receipt_pb::CreateSeriesRequest {
                request_id: request_id(),
                series_id: String::new(),
                branch_code: BRANCH.to_owned(),
                year,
                kind: kind as i32,
                template_symbol: template_symbol.to_owned(),
                series_symbol: format!("{BRANCH}-{}E", year % 100),
            };
            receipt.create_series(request).await.expect("an open series");
        }
        required_components(&mut self.intake(cluster, 0).await, FEE_AT_INTAKE_PROCEDURE).await
    }

    /// Files dossiers numbered `numbers` from `clients` concurrent clients spread over the intake
    /// replicas; every filing must be accepted. Returns the dossiers' codes.
    pub async fn file(
        &self,
        cluster: &Cluster,
        components: &[intake_pb::SubmittedComponent],
        numbers: std::ops::Range<usize>,
        clients: usize,
    ) -> Vec<String> {
        let replicas = cluster.processes.iter().filter(|process| process.kind == ServiceKind::Intake).count();
        let mut tasks = tokio::task::JoinSet::new();
        for client in 0..clients {
            let mut intake = self.intake(cluster, client % replicas).await;
            let components = components.to_vec();
            let mine: Vec<usize> = numbers.clone().skip(client).step_by(clients).collect();
            tasks.spawn(async move {
                let mut codes = Vec::new();
                for number in mine {
                    let mut request = tonic::Request::new(intake_pb::CreateDossierRequest {
                        request_id: request_id(),
                        branch_code: BRANCH.to_owned(),
                        procedure_code: FEE_AT_INTAKE_PROCEDURE.to_owned(),
                        channel: FilingChannel::InPerson as i32,
                        applicant: Some(people::citizen(&format!("001099{number:06}"))),
                        receiving_officer: people::actor(OFFICER),
                        components: components.clone(),
                    });
                    request.set_timeout(CALL_TIMEOUT);
                    let created = intake.create_dossier(request).await;
                    let dossier = created.unwrap_or_else(|status| panic!("dossier {number} is accepted: {status:?}"));
                    codes.push(dossier.into_inner().dossier.expect("a dossier").dossier_code);
                }
                codes
            });
        }
        let mut codes = Vec::new();
        while let Some(filed) = tasks.join_next().await {
            codes.extend(filed.expect("a filing client"));
        }
        codes
    }

    /// `code`'s dossier with its follow-ups, from intake replica `replica`.
    pub async fn dossier(&self, cluster: &Cluster, replica: usize, code: &str) -> intake_pb::Dossier {
        let request = intake_pb::GetDossierRequest {
            name: format!("dossiers/{code}"),
            view: intake_pb::DossierView::Full as i32,
        };
        self.intake(cluster, replica).await.get_dossier(request).await.expect("the dossier").into_inner()
    }
}

/// Waits until intake's database holds `expected` follow-ups done with their signature's log index,
/// for at most `limit`; returns how long it took.
pub async fn wait_until_signed(cluster: &Cluster, expected: i64, limit: Duration) -> Duration {
    let db = motcua_chassis::db::connect(&cluster.databases[&ServiceKind::Intake].url, Some(1))
        .await
        .expect("intake's database");
    let backend = db.get_database_backend();
    let sql = "SELECT COUNT(*) AS signed FROM follow_ups WHERE signature_log_index IS NOT NULL";
    let started = Instant::now();
    loop {
        let row = db.query_one_raw(Statement::from_string(backend, sql)).await.expect("the count");
        let signed = row.map(|row| row.try_get::<i64>("", "signed").expect("a count")).unwrap_or_default();
        if signed == expected {
            return started.elapsed();
        }
        assert!(signed < expected, "{signed} follow-ups for {expected} expected: some were done twice");
        assert!(started.elapsed() < limit, "{signed} of {expected} follow-ups done and signed within {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every receipt receipt holds, page by page.
async fn all_receipts(receipt: &mut ReceiptServiceClient<Channel>) -> Vec<receipt_pb::Receipt> {
    let (mut receipts, mut page_token) = (Vec::new(), String::new());
    for _page in 0..100 {
        let request = receipt_pb::ListReceiptsRequest { page_size: 1000, page_token, ..Default::default() };
        let page = receipt.list_receipts(request).await.expect("receipts").into_inner();
        receipts.extend(page.receipts);
        if page.next_page_token.is_empty() {
            return receipts;
        }
        page_token = page.next_page_token;
    }
    panic!("more than 100 pages of receipts");
}

/// Every dossier of the branch intake holds, page by page: its codes.
async fn all_dossiers(intake: &mut IntakeServiceClient<Channel>) -> HashSet<String> {
    let (mut codes, mut page_token) = (HashSet::new(), String::new());
    for _page in 0..100 {
        let request = intake_pb::ListDossiersRequest {
            page_size: 1000,
            page_token,
            branch_code: BRANCH.to_owned(),
            ..Default::default()
        };
        let page = intake.list_dossiers(request).await.expect("dossiers").into_inner();
        codes.extend(page.dossiers.into_iter().map(|dossier| dossier.dossier_code));
        if page.next_page_token.is_empty() {
            return codes;
        }
        page_token = page.next_page_token;
    }
    panic!("more than 100 pages of dossiers");
}

/// The whole path of `filed`, done: intake lists exactly those dossiers, each shows one slip and one
/// fee receipt done and signed; receipt holds exactly those receipts, numbered 1..n without gap or
/// repeat in each series, each signed; every reporting replica's totals equal that recount.
pub async fn check_whole_path(counter: &Counter, cluster: &Cluster, filed: &[String], replicas: usize) {
    let filed_set: HashSet<String> = filed.iter().cloned().collect();
    assert_eq!(filed_set.len(), filed.len(), "every filing made a dossier of its own");
    let listed = all_dossiers(&mut counter.intake(cluster, 0).await).await;
    assert_eq!(listed, filed_set, "intake holds exactly the dossiers filed: none lost, none doubled");

    // Every dossier's follow-ups, read from both intake replicas in turn.
    let mut shown: HashMap<String, Vec<String>> = HashMap::new();
    for (index, code) in filed.iter().enumerate() {
        let dossier = counter.dossier(cluster, index % replicas, code).await;
        let kinds: Vec<intake_pb::FollowUpKind> = dossier.follow_ups.iter().map(|job| job.kind()).collect();
        assert_eq!(
            kinds.len(),
            2,
            "{code}: one slip and one fee receipt, no return receipt yet: {:?}",
            dossier.follow_ups
        );
        for kind in [intake_pb::FollowUpKind::AcknowledgementSlip, intake_pb::FollowUpKind::FeeReceipt] {
            let job = dossier.follow_ups.iter().find(|job| job.kind() == kind);
            let job = job.unwrap_or_else(|| panic!("{code}: a {kind:?} follow-up: {:?}", dossier.follow_ups));
            assert_eq!(job.state(), intake_pb::FollowUpState::Done, "{code}: {job:?}");
            assert!(job.signature_log_index.is_some() && !job.lookup_code.is_empty(), "{code}: {job:?}");
        }
        shown.insert(code.clone(), dossier.receipts);
    }

    let receipts = all_receipts(&mut counter.receipt(cluster, 0).await).await;
    let mut per_dossier: HashMap<&str, Vec<&receipt_pb::Receipt>> = HashMap::new();
    let mut per_series: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for receipt in &receipts {
        let dossier_code = receipt.content.as_ref().map(|content| content.dossier_code.as_str()).unwrap_or_default();
        per_dossier.entry(dossier_code).or_default().push(receipt);
        per_series.entry(receipt.series.as_str()).or_default().push(receipt.number);
        let signature = receipt.signature.as_ref();
        assert!(signature.is_some_and(|signature| !signature.signature.is_empty()), "{} is signed", receipt.name);
    }
    assert_eq!(per_dossier.len(), filed.len(), "receipt issued for every dossier filed and no other");
    let mut amount = 0;
    for code in filed {
        let issued = per_dossier.get(code.as_str()).unwrap_or_else(|| panic!("{code}: receipts issued"));
        let count = |kind| issued.iter().filter(|receipt| receipt.kind() == kind).count();
        assert_eq!(count(receipt_pb::ReceiptKind::AcknowledgementSlip), 1, "{code}: one slip");
        assert_eq!(count(receipt_pb::ReceiptKind::FeeReceipt), 1, "{code}: one fee receipt");
        assert_eq!(issued.len(), 2, "{code}: nothing else");
        let mut names: Vec<&str> = issued.iter().map(|receipt| receipt.name.as_str()).collect();
        let mut in_intake: Vec<&str> = shown[code].iter().map(String::as_str).collect();
        names.sort_unstable();
        in_intake.sort_unstable();
        assert_eq!(names, in_intake, "{code}: intake shows the receipts receipt issued");
        amount += issued.iter().filter_map(|receipt| receipt.total.as_ref()).map(|total| total.dong).sum::<i64>();
    }
    assert_eq!(per_series.len(), 2, "one series of slips and one of fee receipts");
    for (series, numbers) in &mut per_series {
        numbers.sort_unstable();
        let expected: Vec<i64> = (1..=filed.len() as i64).collect();
        assert!(*numbers == expected, "{series}: numbers 1..={} without gap or repeat: {numbers:?}", filed.len());
    }

    let count = filed.len() as i64;
    let expected = (count, count, count, count, count, amount, 2 * count);
    for replica in 0..replicas {
        let mut reporting = counter.reporting(cluster, replica).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let request = reporting_pb::GetSummaryRequest { period: Some(around_today()), ..Default::default() };
            let counters = reporting.get_summary(request).await.expect("the summary").into_inner().counters;
            let counters = counters.expect("counters");
            let seen = (
                counters.received,
                counters.acknowledgement_slips_issued,
                counters.fee_receipts_issued,
                counters.dossier_slips_issued,
                counters.dossier_fee_receipts_issued,
                counters.amount_collected.map(|money| money.dong).unwrap_or_default(),
                counters.signatures,
            );
            if seen == expected {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "reporting #{replica} (received, slips, fee receipts, dossier slips, dossier fee receipts, amount, \
                 signatures) = {seen:?}, the recount {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
