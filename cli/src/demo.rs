//! `motcua demo`: one dossier through the running suite (`motcua up`), step by step over the public
//! gRPC API — filed at a counter, signed by the receiving officer, approved and sealed by the branch
//! leader, its fee receipted and signed, returned, rated, and counted by reporting.

use std::time::Duration;

use anyhow::Context;
use motcua_chassis::peer::{self, PeerChannel};
use motcua_proto::{
    google::r#type::Date,
    motcua::{
        common::v1::{Applicant, Channel, Citizen, CopyKind, Money, applicant::Kind},
        intake::v1::{self as intake, intake_service_client::IntakeServiceClient},
        receipt::v1::{self as receipt, receipt_service_client::ReceiptServiceClient},
        reporting::v1::{self as reporting, reporting_service_client::ReportingServiceClient},
        signing::v1::{self as signing, signing_service_client::SigningServiceClient},
    },
};
use tonic::Code;

/// The demo's branch, procedure (commune level, 10 working days) and officers.
const BRANCH: &str = "CN01";
const PROCEDURE: &str = "1.012822";
const OFFICER: &str = "CB001";
const LEADER: &str = "LD001";

/// How long reporting and the receipt's signature may take to follow.
const FOLLOW_WAIT: Duration = Duration::from_secs(20);

fn officer(officer_id: &str) -> Option<intake::Officer> {
    Some(intake::Officer { officer_id: officer_id.to_owned(), ..Default::default() })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Runs the demo against the services on `host`'s default ports.
pub async fn run(host: &str) -> anyhow::Result<()> {
    let url = |port: u16| format!("http://{host}:{port}");
    let channel = |port| peer::connect_lazy(&url(port)).context("a service URL");
    let mut intake = IntakeServiceClient::new(channel(50051)?);
    let mut signing = SigningServiceClient::new(channel(50052)?);
    let mut receipts = ReceiptServiceClient::new(channel(50053)?);
    let mut reporting = ReportingServiceClient::new(channel(50054)?);

    set_up_signers(&mut signing).await?;
    println!("1. signers of {BRANCH}: officer {OFFICER}, leader {LEADER} (approver), the branch seal");
    let today = local_today();
    let before = rated_today(&mut reporting, &today).await?;

    let procedure = intake
        .get_procedure(intake::GetProcedureRequest { name: format!("procedures/{PROCEDURE}"), version: 0 })
        .await
        .context("intake: the procedure (is `motcua up` running?)")?
        .into_inner();
    let components = procedure
        .components
        .iter()
        .filter(|component| component.required)
        .map(|component| intake::SubmittedComponent {
            component_code: component.code.clone(),
            copy_kind: CopyKind::Original as i32,
            copies: 1,
            ..Default::default()
        })
        .collect();
    let filed = intake
        .create_dossier(intake::CreateDossierRequest {
            request_id: new_id(),
            branch_code: BRANCH.to_owned(),
            procedure_code: PROCEDURE.to_owned(),
            channel: Channel::InPerson as i32,
            applicant: Some(Applicant {
                kind: Some(Kind::Citizen(Citizen {
                    identity_number: "001099000001".to_owned(),
                    full_name: "Người dân thử nghiệm".to_owned(),
                    ..Default::default()
                })),
            }),
            receiving_officer: officer(OFFICER),
            components,
        })
        .await
        .context("intake: CreateDossier")?
        .into_inner()
        .dossier
        .context("a dossier in the answer")?;
    let name = filed.name.clone();
    let procedure_name: String = procedure.display_name.chars().take(60).collect();
    println!("2. filed at {BRANCH}: {} ({procedure_name}...), status {:?}", filed.dossier_code, filed.status());
    let request = intake::StartProcessingRequest {
        request_id: new_id(),
        name: name.clone(),
        actor: officer(OFFICER),
        ..Default::default()
    };
    intake.start_processing(request).await.context("intake: StartProcessing")?;
    println!("3. processing started");

    let resolved = intake
        .resolve_dossier(intake::ResolveDossierRequest {
            request_id: new_id(),
            name: name.clone(),
            actor: officer(OFFICER),
            result_content: Some(intake::resolve_dossier_request::ResultContent::File(intake::DocumentFile {
                file_name: "ket-qua.pdf".to_owned(),
                media_type: "application/pdf".to_owned(),
                content: format!("%PDF-1.7 result of {}", filed.dossier_code).into_bytes(),
                ..Default::default()
            })),
            electronic: true,
            reason: String::new(),
        })
        .await
        .context("intake: ResolveDossier (signs through signing)")?
        .into_inner()
        .dossier
        .context("a dossier in the answer")?;
    let result = resolved.result.unwrap_or_default();
    println!(
        "4. the officer signed the result: {} (log index {})",
        result.officer_signature, result.officer_signature_log_index
    );
    let request = intake::ApproveResultRequest {
        request_id: new_id(),
        name: name.clone(),
        actor: officer(LEADER),
        reason: String::new(),
    };
    let approved = intake
        .approve_result(request)
        .await
        .context("intake: ApproveResult (seals through signing)")?
        .into_inner()
        .dossier
        .context("a dossier")?;
    let sealed = approved.result.clone().unwrap_or_default();
    println!(
        "5. the leader approved and the seal was applied: {} (log index {}); status {:?}, {:?}",
        sealed.seal_signature,
        sealed.seal_log_index,
        approved.status(),
        approved.timeliness()
    );

    let issued = issue_fee_receipt(&mut receipts, &filed.dossier_code).await?;
    let signed = wait_for_signature(&mut receipts, &issued.name).await?;
    println!(
        "6. fee receipt {}/{} No. {}: {} đồng ({}), lookup code {}, signed at log index {}",
        issued.template_symbol,
        issued.series_symbol,
        issued.number_text,
        issued
            .content
            .as_ref()
            .and_then(|content| content.items.first())
            .and_then(|item| item.amount)
            .map_or(0, |money| money.dong),
        issued.total_in_words,
        issued.lookup_code,
        signed
    );

    let request = intake::ReturnResultRequest {
        request_id: new_id(),
        name: name.clone(),
        actor: officer(OFFICER),
        return_method: intake::ReturnMethod::Electronic as i32,
        reason: String::new(),
    };
    intake.return_result(request).await.context("intake: ReturnResult")?;
    let request = intake::RateDossierRequest {
        request_id: new_id(),
        name,
        rating: intake::Rating::Satisfied as i32,
        comment: String::new(),
    };
    intake.rate_dossier(request).await.context("intake: RateDossier")?;
    println!("7. the result was returned and the applicant rated it satisfied");

    // The rating is the dossier's last event: once reporting counts it, it has counted them all.
    let deadline = tokio::time::Instant::now() + FOLLOW_WAIT;
    loop {
        let now = rated_today(&mut reporting, &today).await?;
        if now > before {
            let summary = summary_today(&mut reporting, &today).await?;
            let counters = summary.counters.unwrap_or_default();
            let rates = summary.rates.unwrap_or_default();
            println!(
                "8. reporting today at {BRANCH}: {} received, {} resolved on time, {} signed and sealed, {} returned, {} fee receipts, {:.0}% on time",
                counters.received,
                counters.resolved_on_time,
                counters.resolved_signed_and_sealed,
                counters.returned,
                counters.fee_receipts_issued,
                rates.on_time_percent
            );
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "reporting did not count the dossier within {FOLLOW_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A root, branch CN01's intermediate, the officer, the leader and the seal. Fixed request ids make a
/// second run return what the first made.
async fn set_up_signers(signing: &mut SigningServiceClient<PeerChannel>) -> anyhow::Result<()> {
    let authority = |authority_id: &str, kind: signing::AuthorityKind, parent: &str, branch: &str, display: &str| {
        signing::CreateCertificateAuthorityRequest {
            request_id: format!("motcua-demo-authority-{authority_id}"),
            authority_id: authority_id.to_owned(),
            kind: kind as i32,
            branch_code: branch.to_owned(),
            parent: parent.to_owned(),
            display_name: display.to_owned(),
            key_algorithm: signing::KeyAlgorithm::EcdsaP256 as i32,
            ..Default::default()
        }
    };
    for request in [
        authority("demo-root", signing::AuthorityKind::Root, "", "", "motcua demo root"),
        authority(
            "demo-cn01",
            signing::AuthorityKind::Intermediate,
            "authorities/demo-root",
            BRANCH,
            "Chi nhánh số 1 (demo)",
        ),
    ] {
        tolerate_existing(signing.create_certificate_authority(request).await.map(drop))
            .context("signing: a demo CA")?;
    }
    for (kind, holder, display, roles) in [
        (signing::SubjectKind::Person, OFFICER, "Cán bộ tiếp nhận (demo)", vec![signing::SignerRole::Officer]),
        (
            signing::SubjectKind::Person,
            LEADER,
            "Lãnh đạo chi nhánh (demo)",
            vec![signing::SignerRole::Officer, signing::SignerRole::Approver],
        ),
        (signing::SubjectKind::Organisation, BRANCH, "Chi nhánh số 1", vec![]),
    ] {
        let request = signing::CreateCertificateRequest {
            request_id: format!("motcua-demo-certificate-{holder}"),
            issuer: "authorities/demo-cn01".to_owned(),
            subject_kind: kind as i32,
            holder_id: holder.to_owned(),
            display_name: display.to_owned(),
            branch_code: BRANCH.to_owned(),
            roles: roles.into_iter().map(|role| role as i32).collect(),
            key_algorithm: signing::KeyAlgorithm::EcdsaP256 as i32,
            validity_days: 0,
        };
        tolerate_existing(signing.create_certificate(request).await.map(drop))
            .context("signing: a demo certificate")?;
    }
    Ok(())
}

/// A create that finds its resource already there (an earlier run) is fine.
fn tolerate_existing(result: Result<(), tonic::Status>) -> Result<(), tonic::Status> {
    match result {
        Err(status) if status.code() == Code::AlreadyExists => Ok(()),
        other => other,
    }
}

async fn issue_fee_receipt(
    receipts: &mut ReceiptServiceClient<PeerChannel>,
    dossier_code: &str,
) -> anyhow::Result<receipt::Receipt> {
    use chrono::Datelike;
    let year = (motcua_chassis::clock::Clock::system().now() + chrono::Duration::hours(7)).year();
    let series = receipts
        .create_series(receipt::CreateSeriesRequest {
            request_id: format!("motcua-demo-series-{year}"),
            series_id: String::new(),
            branch_code: BRANCH.to_owned(),
            year,
            kind: receipt::ReceiptKind::FeeReceipt as i32,
            template_symbol: "01BLP0-001".to_owned(),
            series_symbol: format!("{}D", year % 100),
        })
        .await
        .context("receipt: the demo series")?
        .into_inner()
        .series
        .context("a series in the answer")?;
    let content = receipt::ReceiptContent {
        collecting_organisation: "Trung tâm Phục vụ hành chính công thành phố Hà Nội".to_owned(),
        collecting_tax_code: "0101234567".to_owned(),
        payer: Some(Applicant {
            kind: Some(Kind::Citizen(Citizen {
                identity_number: "001099000001".to_owned(),
                full_name: "Người dân thử nghiệm".to_owned(),
                ..Default::default()
            })),
        }),
        dossier_code: dossier_code.to_owned(),
        procedure_code: PROCEDURE.to_owned(),
        items: vec![receipt::ReceiptItem { name: "Lệ phí".to_owned(), amount: Some(Money { dong: 50_000 }) }],
        payment_method: receipt::PaymentMethod::Cash as i32,
        issue_date: None,
        collector: Some(receipt::Collector {
            officer_id: OFFICER.to_owned(),
            display_name: "Cán bộ tiếp nhận (demo)".to_owned(),
        }),
        acknowledgement: None,
    };
    let request = receipt::IssueReceiptRequest { request_id: new_id(), series: series.name, content: Some(content) };
    receipts
        .issue_receipt(request)
        .await
        .context("receipt: IssueReceipt")?
        .into_inner()
        .receipt
        .context("a receipt in the answer")
}

/// Waits until signing has signed the receipt (in receipt's background job); its log index.
async fn wait_for_signature(receipts: &mut ReceiptServiceClient<PeerChannel>, name: &str) -> anyhow::Result<i64> {
    let deadline = tokio::time::Instant::now() + FOLLOW_WAIT;
    loop {
        let current = receipts
            .get_receipt(receipt::GetReceiptRequest { name: name.to_owned() })
            .await
            .context("receipt: GetReceipt")?
            .into_inner();
        if let Some(signature) =
            current.signature.filter(|signature| signature.state() == receipt::SignatureState::Signed)
        {
            return Ok(signature.log_index);
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "the receipt was not signed within {FOLLOW_WAIT:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn summary_today(
    reporting: &mut ReportingServiceClient<PeerChannel>,
    today: &Date,
) -> anyhow::Result<reporting::GetSummaryResponse> {
    let request = reporting::GetSummaryRequest {
        period: Some(reporting::Period { kind: reporting::PeriodKind::Day as i32, date: Some(*today), end_date: None }),
        branch_code: BRANCH.to_owned(),
        ..Default::default()
    };
    Ok(reporting.get_summary(request).await.context("reporting: GetSummary")?.into_inner())
}

async fn rated_today(reporting: &mut ReportingServiceClient<PeerChannel>, today: &Date) -> anyhow::Result<i64> {
    Ok(summary_today(reporting, today).await?.counters.map_or(0, |counters| counters.ratings_satisfied))
}

/// Today in Asia/Ho_Chi_Minh.
fn local_today() -> Date {
    use chrono::Datelike;
    let day = motcua_chassis::timestamps::local_date(motcua_chassis::clock::Clock::system().now());
    Date { year: day.year(), month: day.month() as i32, day: day.day() as i32 }
}
