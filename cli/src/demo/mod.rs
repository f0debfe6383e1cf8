//! `motcua demo`: one dossier through the running suite (`motcua up`) over the public gRPC API, as a
//! counter application would take it — filed, its slip and fee receipt issued by intake, processed,
//! a supplement asked for and supplied, the result rendered by receipt, signed by the officer, approved
//! and sealed by the leader, returned, rated, and counted by reporting — and, with `--out`, the files
//! anyone can verify with OpenSSL (artifacts.rs).

mod artifacts;
mod follow_ups;
pub(crate) mod signers;

use std::{path::Path, time::Duration};

use anyhow::Context;
use motcua_chassis::peer::{self, PeerChannel};
use motcua_proto::{
    google::r#type::Date,
    motcua::{
        common::v1::{Applicant, Channel, Citizen, CopyKind, applicant::Kind},
        intake::v1::{self as intake, intake_service_client::IntakeServiceClient},
        receipt::v1::{self as receipt, receipt_service_client::ReceiptServiceClient},
        reporting::v1::{self as reporting, reporting_service_client::ReportingServiceClient},
        signing::v1::signing_service_client::SigningServiceClient,
    },
};

/// The demo's branch, procedure (permanent residence registration: commune level, 7 working days, a
/// 20,000 đồng fee at intake) and officers.
pub(crate) const BRANCH: &str = "CN01";
const BRANCH_NAME: &str = "Chi nhánh số 1 – Trung tâm Phục vụ hành chính công thành phố Hà Nội";
pub(crate) const PROCEDURE: &str = "1.004222";
pub(crate) const OFFICER: &str = "CB001";
pub(crate) const LEADER: &str = "LD001";

/// How long intake's follow-ups, the receipts' signatures, the log's checkpoint and reporting may take
/// to follow.
const FOLLOW_WAIT: Duration = Duration::from_secs(30);

fn officer(officer_id: &str) -> Option<intake::Officer> {
    Some(intake::Officer { officer_id: officer_id.to_owned(), ..Default::default() })
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Runs the demo against the services on `host`'s default ports, writing the artifacts into `out`.
pub async fn run(host: &str, out: Option<&Path>) -> anyhow::Result<()> {
    let url = |port: u16| format!("http://{host}:{port}");
    let channel = |port| peer::connect_lazy(&url(port)).context("a service URL");
    let mut intake = IntakeServiceClient::new(channel(50051)?);
    let mut signing = SigningServiceClient::new(channel(50052)?);
    let mut receipts = ReceiptServiceClient::new(channel(50053)?);
    let mut reporting = ReportingServiceClient::new(channel(50054)?);

    signers::set_up(&mut signing).await.context("is `motcua up` running?")?;
    println!(" 1. signers of {BRANCH}: officer {OFFICER}, leader {LEADER} (approver), the branch seal");
    let today = local_today();
    let before = summary_today(&mut reporting, &today).await?.counters.unwrap_or_default();

    let procedure = intake
        .get_procedure(intake::GetProcedureRequest { name: format!("procedures/{PROCEDURE}"), version: 0 })
        .await
        .context("intake: the procedure")?
        .into_inner();
    let components = required_components(&procedure);
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
            components: components.clone(),
        })
        .await
        .context("intake: CreateDossier")?
        .into_inner()
        .dossier
        .context("a dossier in the answer")?;
    let name = filed.name.clone();
    let code = filed.dossier_code.clone();
    println!(" 2. filed at {BRANCH}: {code} ({}), status {:?}", procedure.display_name, filed.status());

    let issued = follow_ups::wait_for_receipts(&mut intake, &mut receipts, &name).await?;
    let slip = &issued.slip;
    println!(
        " 3. intake issued the acknowledgement slip {}/{} No. {} (lookup code {}), signed at log index {}",
        slip.template_symbol,
        slip.series_symbol,
        slip.number_text,
        slip.lookup_code,
        log_index(slip)
    );
    let fee = &issued.fee_receipt;
    println!(
        " 4. intake issued fee receipt {}/{} No. {}: {} đồng ({}), lookup code {}, signed at log index {}",
        fee.template_symbol,
        fee.series_symbol,
        fee.number_text,
        fee.total.map_or(0, |money| money.dong),
        fee.total_in_words,
        fee.lookup_code,
        log_index(fee)
    );

    let request = intake::StartProcessingRequest {
        request_id: new_id(),
        name: name.clone(),
        actor: officer(OFFICER),
        ..Default::default()
    };
    intake.start_processing(request).await.context("intake: StartProcessing")?;
    println!(" 5. processing started");
    let request = intake::RequestSupplementRequest {
        request_id: new_id(),
        name: name.clone(),
        actor: officer(OFFICER),
        reason: "Bổ sung bản sao giấy tờ chứng minh chỗ ở hợp pháp".to_owned(),
        requested_components: vec![intake::RequestedComponent {
            component_code: String::new(),
            note: "Bản sao có chứng thực".to_owned(),
        }],
    };
    intake.request_supplement(request).await.context("intake: RequestSupplement")?;
    let request = intake::SupplementDossierRequest {
        request_id: new_id(),
        name: name.clone(),
        actor: officer(OFFICER),
        components,
        reason: String::new(),
    };
    let supplemented = intake.supplement_dossier(request).await.context("intake: SupplementDossier")?.into_inner();
    let status = supplemented.dossier.map(|dossier| dossier.status()).unwrap_or_default();
    println!(" 6. a supplement was asked for and supplied; status {status:?}");

    let rendered = receipts
        .render_result_document(receipt::RenderResultDocumentRequest {
            dossier_code: code.clone(),
            title: "XÁC NHẬN ĐĂNG KÝ THƯỜNG TRÚ".to_owned(),
            procedure_code: PROCEDURE.to_owned(),
            procedure_name: procedure.display_name.clone(),
            decision_text: format!(
                "Hồ sơ {code} đã được giải quyết: đồng ý đăng ký thường trú cho người nộp hồ sơ.\n\
                 Kết quả được trả dưới dạng văn bản điện tử có chữ ký số."
            ),
            branch_code: BRANCH.to_owned(),
            branch_name: BRANCH_NAME.to_owned(),
            issue_date: None,
        })
        .await
        .context("receipt: RenderResultDocument")?
        .into_inner();
    let resolved = intake
        .resolve_dossier(intake::ResolveDossierRequest {
            request_id: new_id(),
            name: name.clone(),
            actor: officer(OFFICER),
            result_content: Some(intake::resolve_dossier_request::ResultContent::File(intake::DocumentFile {
                file_name: rendered.file_name.clone(),
                media_type: rendered.media_type.clone(),
                content: rendered.content.clone(),
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
        " 7. receipt rendered the result ({} bytes of PDF, QR code {}); intake stored it as {} and the officer signed it: {} (log index {})",
        rendered.content.len(),
        rendered.verification_url,
        result.document,
        result.officer_signature,
        result.officer_signature_log_index
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
        " 8. the leader approved and the seal was applied: {} (log index {}); status {:?}, {:?}",
        sealed.seal_signature,
        sealed.seal_log_index,
        approved.status(),
        approved.timeliness()
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
    println!(" 9. the result was returned electronically and the applicant rated it satisfied");

    let summary = counted(&mut reporting, &today, &before).await?;
    let counters = summary.counters.clone().unwrap_or_default();
    let rates = summary.rates.unwrap_or_default();
    println!(
        "10. reporting today at {BRANCH}: {} received, {} resolved on time, {} signed and sealed, {} returned, {} slips, {} fee receipts, {:.0}% on time",
        counters.received,
        counters.resolved_on_time,
        counters.resolved_signed_and_sealed,
        counters.returned,
        counters.acknowledgement_slips_issued,
        counters.fee_receipts_issued,
        rates.on_time_percent
    );

    if let Some(out) = out {
        let clients = artifacts::Clients { intake: &mut intake, signing: &mut signing, receipts: &mut receipts };
        let made = artifacts::Made {
            result: &sealed,
            fee_receipt: &issued.fee_receipt,
            slip: &issued.slip,
            summary: &summary,
        };
        artifacts::write(out, clients, made).await?;
        println!(
            "11. wrote the result, its signatures, the receipts, the chain, a checkpoint and proofs to {}: see VERIFY.md",
            out.display()
        );
    }
    Ok(())
}

fn log_index(receipt: &receipt::Receipt) -> i64 {
    receipt.signature.as_ref().map_or(-1, |signature| signature.log_index)
}

/// The day's summary once reporting has counted the dossier: its rating (intake's last event), its
/// slip and its fee receipt (receipt's) all beyond `before`.
async fn counted(
    reporting: &mut ReportingServiceClient<PeerChannel>,
    today: &Date,
    before: &reporting::Counters,
) -> anyhow::Result<reporting::GetSummaryResponse> {
    let deadline = tokio::time::Instant::now() + FOLLOW_WAIT;
    loop {
        let summary = summary_today(reporting, today).await?;
        let now = summary.counters.clone().unwrap_or_default();
        if now.ratings_satisfied > before.ratings_satisfied
            && now.acknowledgement_slips_issued > before.acknowledgement_slips_issued
            && now.fee_receipts_issued > before.fee_receipts_issued
        {
            return Ok(summary);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "reporting did not count the dossier within {FOLLOW_WAIT:?}"
        );
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

/// Today in Asia/Ho_Chi_Minh.
pub(crate) fn local_today() -> Date {
    use chrono::Datelike;
    let day = motcua_chassis::timestamps::local_date(motcua_chassis::clock::Clock::system().now());
    Date { year: day.year(), month: day.month() as i32, day: day.day() as i32 }
}

/// One original of each component `procedure` requires: what the demo and the bench file.
pub(crate) fn required_components(procedure: &intake::Procedure) -> Vec<intake::SubmittedComponent> {
    procedure
        .components
        .iter()
        .filter(|component| component.required)
        .map(|component| intake::SubmittedComponent {
            component_code: component.code.clone(),
            copy_kind: CopyKind::Original as i32,
            copies: 1,
            ..Default::default()
        })
        .collect()
}
