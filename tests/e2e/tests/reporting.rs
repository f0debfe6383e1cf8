//! Reporting over the real intake, signing and receipt services: a known scenario of 240 dossiers on
//! fixed dates in March and April 2026 (intake on a manual clock) — on time, late after two supplements,
//! withdrawn, left open past their appointments; results signed and sealed, ratings, complaints and fee
//! receipts — gives exactly the counts, rates and index worked out by hand here, per month, quarter and
//! year; a rebuild gives the same numbers; a follower killed and restarted many times mid-stream, and two
//! replicas side by side, still count every event once.

use std::time::Duration;

use chrono::{Datelike, NaiveDate};
use motcua_chassis::{ServiceConfig, ServiceKind, clock::Clock, server::RunningServer};
use motcua_intake::settings::ENV_INTAKE_SIGNING_URL;
use motcua_proto::{
    google::r#type::Date,
    motcua::{
        common::v1::{Applicant, Channel, Citizen, Money, applicant::Kind},
        intake::v1 as pb,
        receipt::v1 as receipt_pb,
        reporting::v1 as reporting_pb,
    },
};
use motcua_receipt::settings::ENV_RECEIPT_SIGNING_URL;
use motcua_reporting::settings::{ENV_REPORTING_INTAKE_URL, ENV_REPORTING_RECEIPT_URL, ENV_REPORTING_SIGNING_URL};
use motcua_testkit::{
    TestDatabase,
    authorities::BranchDeployment,
    calendar::{around_today, today},
    clients,
    dossiers::{PROCEDURE, required_components},
    on_every_database,
    people::actor,
    request_id_for,
    services::another_database,
    start_service, start_service_with,
};

/// Dossiers in the scenario; their fate is `index % 6`.
const DOSSIERS: usize = 240;
/// Fee receipts issued, of which the first is cancelled and the last two paid through the national portal.
const RECEIPTS: usize = 10;
const RECEIPT_TOTAL: i64 = 1_050_000;

/// The three sources and reporting, each on its own database of one backend.
struct Suite {
    /// The clock intake files and moves dossiers by, and reporting measures "now" by.
    clock: Clock,
    signing: RunningServer,
    intake: RunningServer,
    receipt: RunningServer,
    reporting_database: TestDatabase,
    _databases: Vec<TestDatabase>,
}

async fn start_sources(intake_database: TestDatabase, clock: Clock) -> Suite {
    let signing_database = another_database(&intake_database).await;
    let receipt_database = another_database(&intake_database).await;
    let reporting_database = another_database(&intake_database).await;
    let signing = start_service::<motcua_signing::Signing>(&signing_database).await;
    let signing_url = format!("http://{}", signing.local_addr);
    let mut signing_client = clients::signing(signing.local_addr).await;
    BranchDeployment::of("CN01").officer("CB001").leader("LD001").deploy(&mut signing_client).await;
    let mut config = ServiceConfig::for_local(ServiceKind::Intake, intake_database.url.clone());
    config.service_variables.insert(ENV_INTAKE_SIGNING_URL, signing_url.clone());
    config.clock = clock.clone();
    let intake = start_service_with::<motcua_intake::Intake>(config).await;
    let mut config = ServiceConfig::for_local(ServiceKind::Receipt, receipt_database.url.clone());
    config.service_variables.insert(ENV_RECEIPT_SIGNING_URL, signing_url);
    let receipt = start_service_with::<motcua_receipt::Receipt>(config).await;
    Suite {
        clock,
        signing,
        intake,
        receipt,
        reporting_database,
        _databases: vec![intake_database, signing_database, receipt_database],
    }
}

impl Suite {
    async fn start_reporting(&self) -> RunningServer {
        let mut config = ServiceConfig::for_local(ServiceKind::Reporting, self.reporting_database.url.clone());
        config.clock = self.clock.clone();
        for (variable, server) in [
            (ENV_REPORTING_INTAKE_URL, &self.intake),
            (ENV_REPORTING_SIGNING_URL, &self.signing),
            (ENV_REPORTING_RECEIPT_URL, &self.receipt),
        ] {
            config.service_variables.insert(variable, format!("http://{}", server.local_addr));
        }
        start_service_with::<motcua_reporting::Reporting>(config).await
    }

    async fn intake(&self) -> clients::Intake {
        clients::intake(self.intake.local_addr).await
    }

    async fn receipt(&self) -> clients::Receipt {
        clients::receipt(self.receipt.local_addr).await
    }

    async fn stop(self) {
        for server in [self.intake, self.receipt, self.signing] {
            server.stop().await.expect("a source stops");
        }
    }
}

async fn reporting_client(server: &RunningServer) -> clients::Reporting {
    clients::reporting(server.local_addr).await
}

fn applicant(index: usize) -> Applicant {
    Applicant {
        kind: Some(Kind::Citizen(Citizen {
            identity_number: format!("0010990{index:05}"),
            full_name: "Phạm Minh Châu".to_owned(),
            ..Default::default()
        })),
    }
}

/// Files dossier `index` (online when `index % 4 == 0`, then accepted) and returns its resource name.
async fn file(intake: &mut clients::Intake, components: &[pb::SubmittedComponent], index: usize) -> String {
    let online = index % 4 == 0;
    let request = pb::CreateDossierRequest {
        request_id: request_id_for(&format!("create-{index}")),
        branch_code: "CN01".to_owned(),
        procedure_code: PROCEDURE.to_owned(),
        channel: if online { Channel::Online } else { Channel::InPerson } as i32,
        applicant: Some(applicant(index)),
        receiving_officer: actor("CB001"),
        components: components.to_vec(),
    };
    let dossier = intake.create_dossier(request).await.expect("filed").into_inner().dossier.expect("dossier");
    if online {
        let request = pb::AcceptDossierRequest {
            request_id: request_id_for("accept"),
            name: dossier.name.clone(),
            actor: actor("CB001"),
            reason: String::new(),
        };
        intake.accept_dossier(request).await.expect("accepted");
    }
    dossier.name
}

async fn sign_and_seal(intake: &mut clients::Intake, name: &str) {
    intake
        .resolve_dossier(pb::ResolveDossierRequest {
            request_id: request_id_for("resolve"),
            name: name.to_owned(),
            actor: actor("CB001"),
            result_content: Some(pb::resolve_dossier_request::ResultContent::File(pb::DocumentFile {
                file_name: "ket-qua.pdf".to_owned(),
                media_type: "application/pdf".to_owned(),
                content: format!("%PDF-1.7 result of {name}").into_bytes(),
                ..Default::default()
            })),
            electronic: true,
            reason: String::new(),
        })
        .await
        .expect("signed by the officer");
    let request = pb::ApproveResultRequest {
        request_id: request_id_for("approve"),
        name: name.to_owned(),
        actor: actor("LD001"),
        reason: String::new(),
    };
    intake.approve_result(request).await.expect("approved and sealed");
}

/// Drives dossier `index` to its fate: 0–2 resolved on time and returned (0 rated satisfied, 1
/// dissatisfied), 3 late after two supplement rounds and complained about, 4 withdrawn, 5 left in
/// processing.
async fn drive(intake: &mut clients::Intake, components: &[pb::SubmittedComponent], index: usize) {
    let name = file(intake, components, index).await;
    if index % 6 == 4 {
        let request = pb::WithdrawDossierRequest {
            request_id: request_id_for("withdraw"),
            name,
            actor: actor("CB001"),
            reason: "Công dân rút".to_owned(),
        };
        intake.withdraw_dossier(request).await.expect("withdrawn");
        return;
    }
    let request = pb::StartProcessingRequest {
        request_id: request_id_for("start"),
        name: name.clone(),
        actor: actor("CB001"),
        ..Default::default()
    };
    intake.start_processing(request).await.expect("processing");
    match index % 6 {
        5 => {}
        3 => {
            for round in 0..2 {
                let request = pb::RequestSupplementRequest {
                    request_id: request_id_for(&format!("supplement-{round}")),
                    name: name.clone(),
                    actor: actor("CB001"),
                    reason: "Thiếu bản sao".to_owned(),
                    requested_components: vec![pb::RequestedComponent {
                        component_code: components[0].component_code.clone(),
                        note: "Bản sao có chứng thực".to_owned(),
                    }],
                };
                intake.request_supplement(request).await.expect("supplement requested");
                let request = pb::SupplementDossierRequest {
                    request_id: request_id_for(&format!("supplemented-{round}")),
                    name: name.clone(),
                    actor: actor("CB001"),
                    components: components.to_vec(),
                    reason: String::new(),
                };
                intake.supplement_dossier(request).await.expect("supplemented");
            }
            sign_and_seal(intake, &name).await;
            let request = pb::CreateFeedbackRequest {
                request_id: request_id_for("complaint"),
                parent: name.clone(),
                kind: pb::FeedbackKind::Complaint as i32,
                content: "Giải quyết chậm".to_owned(),
                recorded_by: actor("CB001"),
            };
            intake.create_feedback(request).await.expect("complaint recorded");
        }
        _ => {
            sign_and_seal(intake, &name).await;
            let request = pb::ReturnResultRequest {
                request_id: request_id_for("return"),
                name: name.clone(),
                actor: actor("CB001"),
                return_method: pb::ReturnMethod::Electronic as i32,
                reason: String::new(),
            };
            intake.return_result(request).await.expect("returned");
            let rating = match index % 6 {
                0 => pb::Rating::Satisfied,
                1 => pb::Rating::Dissatisfied,
                _ => return,
            };
            let request = pb::RateDossierRequest {
                request_id: request_id_for("rate"),
                name,
                rating: rating as i32,
                comment: String::new(),
            };
            intake.rate_dossier(request).await.expect("rated");
        }
    }
}

/// Issues the scenario's fee receipts, cancels the first, and waits until signing has signed them all.
async fn issue_receipts(receipt: &mut clients::Receipt) {
    let year = today().year();
    let series = receipt
        .create_series(receipt_pb::CreateSeriesRequest {
            request_id: request_id_for("series"),
            series_id: String::new(),
            branch_code: "CN01".to_owned(),
            year,
            kind: receipt_pb::ReceiptKind::FeeReceipt as i32,
            template_symbol: "01BLP0-001".to_owned(),
            series_symbol: format!("{}E", year % 100),
        })
        .await
        .expect("series")
        .into_inner()
        .series
        .expect("a series");
    let mut names = Vec::new();
    for index in 0..RECEIPTS {
        let payment_method = if index >= RECEIPTS - 2 {
            receipt_pb::PaymentMethod::NationalPortal
        } else {
            receipt_pb::PaymentMethod::Cash
        };
        let content = receipt_pb::ReceiptContent {
            collecting_organisation: "Trung tâm Phục vụ hành chính công Hà Nội".to_owned(),
            collecting_tax_code: "0101234567".to_owned(),
            payer: Some(applicant(index)),
            dossier_code: String::new(),
            procedure_code: PROCEDURE.to_owned(),
            items: vec![
                receipt_pb::ReceiptItem { name: "Lệ phí".to_owned(), amount: Some(Money { dong: 1_000_000 }) },
                receipt_pb::ReceiptItem { name: "Phí".to_owned(), amount: Some(Money { dong: 50_000 }) },
            ],
            payment_method: payment_method as i32,
            issue_date: None,
            collector: Some(receipt_pb::Collector {
                officer_id: "CB001".to_owned(),
                display_name: "Lê Thu Trang".to_owned(),
            }),
            acknowledgement: None,
        };
        let request = receipt_pb::IssueReceiptRequest {
            request_id: request_id_for("issue"),
            series: series.name.clone(),
            content: Some(content),
        };
        names.push(receipt.issue_receipt(request).await.expect("issued").into_inner().receipt.expect("receipt").name);
    }
    let request = receipt_pb::CancelReceiptRequest {
        request_id: request_id_for("cancel"),
        name: names[0].clone(),
        reason: "Thu nhầm".to_owned(),
        officer_id: "CB001".to_owned(),
    };
    receipt.cancel_receipt(request).await.expect("cancelled");
    for _ in 0..600 {
        let listed = receipt
            .list_receipts(receipt_pb::ListReceiptsRequest {
                page_size: 100,
                series: series.name.clone(),
                ..Default::default()
            })
            .await
            .expect("listed")
            .into_inner();
        let signed = |receipt: &receipt_pb::Receipt| {
            receipt.signature.as_ref().is_some_and(|signature| signature.state() == receipt_pb::SignatureState::Signed)
        };
        if listed.receipts.iter().all(signed) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("signing did not sign the receipts within a minute");
}

/// The head of each source's feed, read from the first heartbeat of a `WatchEvents` from its end.
async fn source_heads(suite: &Suite) -> [i64; 3] {
    use tokio_stream::StreamExt;
    let mut intake = suite.intake().await;
    let mut receipt = suite.receipt().await;
    let mut signing = clients::signing(suite.signing.local_addr).await;
    let far = i64::MAX / 2;
    let mut heads = [0; 3];
    let mut stream =
        intake.watch_events(pb::WatchEventsRequest { after_sequence: far }).await.expect("intake feed").into_inner();
    while let Some(Ok(event)) = stream.next().await {
        if let Some(pb::intake_event::Payload::Heartbeat(heartbeat)) = event.payload {
            heads[0] = heartbeat.head_sequence;
            break;
        }
    }
    let request = motcua_proto::motcua::signing::v1::WatchEventsRequest { after_sequence: far };
    let mut stream = signing.watch_events(request).await.expect("signing feed").into_inner();
    while let Some(Ok(event)) = stream.next().await {
        if let Some(motcua_proto::motcua::signing::v1::signing_event::Payload::Heartbeat(heartbeat)) = event.payload {
            heads[1] = heartbeat.head_sequence;
            break;
        }
    }
    let mut stream = receipt
        .watch_events(receipt_pb::WatchEventsRequest { after_sequence: far })
        .await
        .expect("receipt feed")
        .into_inner();
    while let Some(Ok(event)) = stream.next().await {
        if let Some(receipt_pb::receipt_event::Payload::Heartbeat(heartbeat)) = event.payload {
            heads[2] = heartbeat.head_sequence;
            break;
        }
    }
    heads
}

/// Waits until reporting's cursors reach the sources' heads.
async fn caught_up(suite: &Suite, reporting: &mut clients::Reporting) {
    let heads = source_heads(suite).await;
    for _ in 0..1200 {
        let status = reporting
            .get_ingestion_status(reporting_pb::GetIngestionStatusRequest {})
            .await
            .expect("status")
            .into_inner();
        let cursors: Vec<i64> = status.feeds.iter().map(|feed| feed.cursor).collect();
        if cursors == heads {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("reporting did not catch up with the feeds' heads {heads:?} within a minute");
}

async fn summary(reporting: &mut clients::Reporting) -> reporting_pb::GetSummaryResponse {
    let request = reporting_pb::GetSummaryRequest { period: Some(around_today()), ..Default::default() };
    reporting.get_summary(request).await.expect("summary").into_inner()
}

/// When dossier `index` is filed and handled: the first half on days of March 2026, the second on days
/// of April 2026, at 09:00 in Hanoi.
fn filing_time(index: usize) -> chrono::DateTime<chrono::Utc> {
    let (month, first_day) = if index < DOSSIERS / 2 { (3, 2) } else { (4, 1) };
    let day = NaiveDate::from_ymd_opt(2026, month, first_day + (index % 20) as u32).expect("a date of the scenario");
    day.and_hms_opt(2, 0, 0).expect("09:00 in Hanoi is 02:00 UTC").and_utc()
}

/// A whole month of 2026, or a quarter, as a period.
fn period(kind: reporting_pb::PeriodKind, month: u32) -> reporting_pb::Period {
    reporting_pb::Period {
        kind: kind as i32,
        date: Some(Date { year: 2026, month: month as i32, day: 15 }),
        end_date: None,
    }
}

/// What the scenario's dossiers `indexes` must add up to, worked out from their fates.
struct Expected {
    received: i64,
    online: i64,
    on_time: i64,
    late: i64,
    withdrawn: i64,
    open: i64,
    satisfied: i64,
    dissatisfied: i64,
}

impl Expected {
    fn of(indexes: std::ops::Range<usize>) -> Self {
        let fate = |wanted: usize| indexes.clone().filter(|index| index % 6 == wanted).count() as i64;
        Self {
            received: indexes.len() as i64,
            online: indexes.clone().filter(|index| index % 4 == 0).count() as i64,
            on_time: fate(0) + fate(1) + fate(2),
            late: fate(3),
            withdrawn: fate(4),
            open: fate(5),
            satisfied: fate(0),
            dissatisfied: fate(1),
        }
    }

    fn resolved(&self) -> i64 {
        self.on_time + self.late
    }

    /// Checks the dossier counters of `counters`, with every open dossier past its appointment.
    fn check(&self, counters: &reporting_pb::Counters, what: &str) {
        assert_eq!(counters.received, self.received, "{what}: received");
        assert_eq!(counters.received_online, self.online, "{what}: received online");
        assert_eq!(counters.accepted, self.online, "{what}: accepted");
        assert_eq!(counters.resolved_on_time, self.on_time, "{what}: on time");
        assert_eq!(counters.resolved_late, self.late, "{what}: late");
        assert_eq!(counters.returned, self.on_time, "{what}: returned");
        assert_eq!(counters.withdrawn, self.withdrawn, "{what}: withdrawn");
        assert_eq!((counters.refused, counters.stopped, counters.apologies), (0, 0, 0), "{what}");
        assert_eq!(counters.in_processing_now, self.open, "{what}: in processing now");
        assert_eq!(counters.overdue_now, self.open, "{what}: every open dossier is past its appointment in July");
        assert_eq!(counters.supplement_requests, 2 * self.late, "{what}: supplement requests");
        assert_eq!(counters.ratings_satisfied, self.satisfied, "{what}");
        assert_eq!(counters.ratings_dissatisfied, self.dissatisfied, "{what}");
        assert_eq!(counters.complaints, self.late, "{what}: complaints");
        assert_eq!(counters.complained_or_dissatisfied_dossiers, self.dissatisfied + self.late, "{what}");
        assert_eq!(counters.resolved_signed_and_sealed, self.resolved(), "{what}");
        assert_eq!(counters.electronic_results, self.resolved(), "{what}");
        assert_eq!(counters.digitized_dossiers, 0, "{what}: every component was filed on paper");
        let processing = counters.processing_time.clone().expect("processing time");
        assert_eq!(processing.count, self.resolved(), "{what}");
        assert_eq!(processing.buckets.iter().map(|bucket| bucket.count).sum::<i64>(), self.resolved(), "{what}");
    }

    /// Indicator 5.4 as the test works it out.
    fn satisfaction_percent(&self) -> f64 {
        let overdue_rate = 100.0 * (self.late + self.open) as f64 / (self.resolved() + self.open) as f64;
        let complaint_rate = 100.0 * (self.dissatisfied + self.late) as f64 / self.received as f64;
        (100.0 - overdue_rate - complaint_rate).max(0.0)
    }
}

async fn summary_of(
    reporting: &mut clients::Reporting,
    period: reporting_pb::Period,
) -> reporting_pb::GetSummaryResponse {
    let request = reporting_pb::GetSummaryRequest { period: Some(period), ..Default::default() };
    reporting.get_summary(request).await.expect("summary").into_inner()
}

#[tokio::test]
async fn a_known_scenario_gives_the_hand_counted_summary_and_index_and_a_rebuild_gives_the_same() {
    on_every_database(|intake_database| async move {
        let backend = intake_database.backend;
        let suite = start_sources(intake_database, Clock::manual(filing_time(0))).await;
        let reporting_server = suite.start_reporting().await;
        let mut reporting = reporting_client(&reporting_server).await;
        let mut intake = suite.intake().await;
        let components = required_components(&mut intake, PROCEDURE).await;
        for index in 0..DOSSIERS {
            suite.clock.set(filing_time(index));
            drive(&mut intake, &components, index).await;
        }
        // July: the dossiers left in processing are all past their appointments.
        suite
            .clock
            .set(NaiveDate::from_ymd_opt(2026, 7, 1).expect("a date").and_hms_opt(2, 0, 0).expect("a time").and_utc());
        issue_receipts(&mut suite.receipt().await).await;
        caught_up(&suite, &mut reporting).await;

        let (march, april) = (Expected::of(0..DOSSIERS / 2), Expected::of(DOSSIERS / 2..DOSSIERS));
        let all = Expected::of(0..DOSSIERS);
        use reporting_pb::PeriodKind::{Month, Quarter, Year};
        let in_march = summary_of(&mut reporting, period(Month, 3)).await;
        march.check(in_march.counters.as_ref().expect("counters"), &format!("{backend}: March"));
        april.check(
            summary_of(&mut reporting, period(Month, 4)).await.counters.as_ref().expect("counters"),
            &format!("{backend}: April"),
        );
        march.check(
            summary_of(&mut reporting, period(Quarter, 2)).await.counters.as_ref().expect("counters"),
            &format!("{backend}: Q1"),
        );
        april.check(
            summary_of(&mut reporting, period(Quarter, 5)).await.counters.as_ref().expect("counters"),
            &format!("{backend}: Q2"),
        );
        let year = summary_of(&mut reporting, period(Year, 6)).await;
        all.check(year.counters.as_ref().expect("counters"), &format!("{backend}: 2026"));
        let nothing = summary_of(&mut reporting, period(Month, 5)).await.counters.expect("counters");
        assert_eq!(
            (nothing.received, nothing.resolved_on_time, nothing.in_processing_now),
            (0, 0, 0),
            "{backend}: May"
        );

        let rates = in_march.rates.expect("rates");
        assert!((rates.on_time_percent - 100.0 * march.on_time as f64 / march.resolved() as f64).abs() < 1e-9);
        assert!((rates.online_submission_percent - 100.0 * march.online as f64 / march.received as f64).abs() < 1e-9);
        assert!((rates.satisfaction_percent - march.satisfaction_percent()).abs() < 1e-9, "{rates:?}");

        // Signatures, seals and receipts are dated by signing's and receipt's own (system) clocks: today.
        let today_counters = summary(&mut reporting).await.counters.expect("counters");
        assert_eq!(today_counters.seals, all.resolved(), "{backend}");
        assert_eq!(
            today_counters.signatures,
            all.resolved() + RECEIPTS as i64,
            "the officers' signatures and the receipts'"
        );
        assert_eq!(today_counters.fee_receipts_issued, RECEIPTS as i64);
        assert_eq!(today_counters.fee_receipts_cancelled, 1);
        assert_eq!(today_counters.fee_receipts_paid_online, 2);
        assert_eq!(today_counters.amount_collected.expect("amount").dong, (RECEIPTS as i64 - 1) * RECEIPT_TOTAL);
        assert_eq!(today_counters.received, 0, "no dossier was filed today by intake's clock");

        let index = reporting
            .get_service_index(reporting_pb::GetServiceIndexRequest {
                period: Some(period(Month, 3)),
                branch_code: "CN01".to_owned(),
            })
            .await
            .expect("index")
            .into_inner()
            .service_index
            .expect("an index");
        let indicator = |code: &str| {
            index
                .groups
                .iter()
                .flat_map(|group| &group.indicators)
                .find(|indicator| indicator.code == code)
                .cloned()
                .expect("indicator")
        };
        // Default points: 2.1 is worth 12, in proportion; 3.2 is worth 8, full at 50 % online; 4.1 is worth
        // 6; 5.4 is worth 12, full at 90 %.
        assert!((indicator("2.1").score - 12.0 * march.on_time as f64 / march.resolved() as f64).abs() < 1e-9);
        assert!(
            (indicator("3.2").score - 8.0 * (100.0 * march.online as f64 / march.received as f64 / 50.0).min(1.0))
                .abs()
                < 1e-9
        );
        assert!((indicator("4.1").score - 6.0).abs() < 1e-9, "every result is electronic");
        assert!((indicator("5.4").score - 12.0 * (march.satisfaction_percent() / 90.0).min(1.0)).abs() < 1e-9);
        assert!(!indicator("1.3").available);
        let group_sum: f64 = index.groups.iter().map(|group| group.score).sum();
        assert!((index.score - group_sum).abs() < 1e-9);

        let branches = reporting
            .list_branch_stats(reporting_pb::ListBranchStatsRequest {
                period: Some(period(Year, 1)),
                order_by: "received desc".to_owned(),
                ..Default::default()
            })
            .await
            .expect("branch stats")
            .into_inner();
        assert_eq!(branches.branch_stats.len(), 1);
        assert_eq!(branches.branch_stats[0].counters, year.counters);
        let branch_name = branches.branch_stats[0].branch_name.clone();
        assert!(branch_name.starts_with("Chi nhánh số 1"), "named as intake's catalogue names it: {branch_name}");

        let mut export = reporting
            .export_report(reporting_pb::ExportReportRequest {
                kind: reporting_pb::ReportKind::BranchStats as i32,
                period: Some(period(Year, 1)),
                ..Default::default()
            })
            .await
            .expect("export")
            .into_inner();
        let mut csv = Vec::new();
        while let Some(chunk) = export.message().await.expect("a chunk") {
            csv.extend(chunk.data);
        }
        assert!(csv.starts_with(b"\xEF\xBB\xBFbranch_code,branch_name,received,"));
        let text = String::from_utf8(csv).expect("UTF-8");
        assert!(text.contains(&format!("\r\nCN01,{branch_name},{DOSSIERS},")), "{text}");

        // The rebuild replays every feed and swaps in the same numbers.
        let request_id = motcua_testkit::request_id();
        let started = reporting
            .rebuild_projections(reporting_pb::RebuildProjectionsRequest { request_id: request_id.clone() })
            .await
            .expect("rebuild started")
            .into_inner()
            .rebuild
            .expect("rebuild");
        let retried = reporting
            .rebuild_projections(reporting_pb::RebuildProjectionsRequest { request_id })
            .await
            .expect("retry answered")
            .into_inner()
            .rebuild
            .expect("rebuild");
        assert_eq!(retried.rebuild_id, started.rebuild_id, "a retry starts no second rebuild");
        let mut finished = None;
        for _ in 0..1200 {
            let status = reporting
                .get_ingestion_status(reporting_pb::GetIngestionStatusRequest {})
                .await
                .expect("status")
                .into_inner();
            let rebuild = status.rebuild.expect("the rebuild");
            if rebuild.state != reporting_pb::RebuildState::Running as i32 {
                finished = Some(rebuild);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let finished = finished.expect("the rebuild ends within a minute");
        assert_eq!(finished.state, reporting_pb::RebuildState::Succeeded as i32, "{finished:?}");
        assert!(finished.events_applied > 0);
        let rebuilt = summary_of(&mut reporting, period(Year, 1)).await;
        assert_eq!(rebuilt.counters, year.counters, "{backend}: the rebuild equals the incremental result");
        assert_eq!(summary(&mut reporting).await.counters, Some(today_counters), "{backend}: and so do today's");

        reporting_server.stop().await.expect("reporting stops");
        suite.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_follower_killed_and_restarted_mid_stream_still_counts_every_event_once() {
    on_every_database(|intake_database| async move {
        let backend = intake_database.backend;
        let suite = start_sources(intake_database, Clock::system()).await;
        let mut intake = suite.intake().await;
        let components = required_components(&mut intake, PROCEDURE).await;
        const ROUNDS: usize = 12;
        const PER_ROUND: usize = 10;
        let mut filed = 0;
        for round in 0..ROUNDS {
            let reporting_server = suite.start_reporting().await;
            // Dossiers filed while the follower runs; it is killed after a varying moment, mid-stream.
            for _ in 0..PER_ROUND {
                // Fate 5: received and left in processing, two events each.
                drive(&mut intake, &components, filed * 6 + 5).await;
                filed += 1;
            }
            tokio::time::sleep(Duration::from_millis(10 * (round as u64 % 5))).await;
            reporting_server.stop().await.expect("reporting stops");
        }
        let reporting_server = suite.start_reporting().await;
        let mut reporting = reporting_client(&reporting_server).await;
        caught_up(&suite, &mut reporting).await;
        let counters = summary(&mut reporting).await.counters.expect("counters");
        assert_eq!(counters.received, (ROUNDS * PER_ROUND) as i64, "{backend}");
        assert_eq!(counters.in_processing_now, (ROUNDS * PER_ROUND) as i64, "{backend}");
        reporting_server.stop().await.expect("reporting stops");
        suite.stop().await;
    })
    .await;
}

#[tokio::test]
async fn two_reporting_replicas_follow_each_feed_once_between_them() {
    on_every_database(|intake_database| async move {
        let backend = intake_database.backend;
        let suite = start_sources(intake_database, Clock::system()).await;
        let (first, second) = (suite.start_reporting().await, suite.start_reporting().await);
        let mut intake = suite.intake().await;
        let components = required_components(&mut intake, PROCEDURE).await;
        const FILED: usize = 40;
        for index in 0..FILED {
            // Fates 0 and 5 alternately: resolved on time and returned, or left in processing.
            drive(&mut intake, &components, index * 6 + 5 * (index % 2)).await;
        }
        for server in [&first, &second] {
            let mut reporting = reporting_client(server).await;
            caught_up(&suite, &mut reporting).await;
            let counters = summary(&mut reporting).await.counters.expect("counters");
            assert_eq!(counters.received, FILED as i64, "{backend}");
            assert_eq!(counters.resolved_on_time, FILED as i64 / 2, "{backend}");
            assert_eq!(counters.in_processing_now, FILED as i64 / 2, "{backend}");
            assert_eq!(counters.seals, FILED as i64 / 2, "{backend}");
            let status = reporting
                .get_ingestion_status(reporting_pb::GetIngestionStatusRequest {})
                .await
                .expect("status")
                .into_inner();
            assert!(status.feeds.iter().all(|feed| feed.leader.starts_with("reporting-")), "{status:?}");
        }
        first.stop().await.expect("reporting stops");
        second.stop().await.expect("reporting stops");
        suite.stop().await;
    })
    .await;
}
