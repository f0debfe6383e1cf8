//! The receipts intake issues for a dossier on its own (the acknowledgement slip, the fee receipt due
//! at intake): the demo waits for the dossier's follow-ups to be done, then reads the receipts.

use std::time::Duration;

use anyhow::Context;
use motcua_chassis::peer::PeerChannel;
use motcua_proto::motcua::{
    intake::v1::{self as intake, intake_service_client::IntakeServiceClient},
    receipt::v1::{self as receipt, receipt_service_client::ReceiptServiceClient},
};

use super::FOLLOW_WAIT;

/// The receipts of a dossier's follow-ups at intake, each signed.
pub struct IssuedAtIntake {
    /// The acknowledgement slip (form 01).
    pub slip: receipt::Receipt,
    /// The fee receipt of the fees collected at intake.
    pub fee_receipt: receipt::Receipt,
}

/// Waits until intake has issued the slip and the fee receipt of dossier `name` and receipt has had
/// each signed; a follow-up that dead-letters stops the demo with its reason.
pub async fn wait_for_receipts(
    intake: &mut IntakeServiceClient<PeerChannel>,
    receipts: &mut ReceiptServiceClient<PeerChannel>,
    name: &str,
) -> anyhow::Result<IssuedAtIntake> {
    let deadline = tokio::time::Instant::now() + FOLLOW_WAIT;
    let (slip, fee_receipt) = loop {
        let request = intake::GetDossierRequest { name: name.to_owned(), view: intake::DossierView::Full as i32 };
        let dossier = intake.get_dossier(request).await.context("intake: GetDossier")?.into_inner();
        let done = |kind: intake::FollowUpKind| -> anyhow::Result<Option<String>> {
            let Some(job) = dossier.follow_ups.iter().find(|job| job.kind() == kind) else { return Ok(None) };
            anyhow::ensure!(
                job.state() != intake::FollowUpState::DeadLettered,
                "intake's {kind:?} follow-up is dead-lettered: {}",
                job.last_error_reason
            );
            Ok((job.state() == intake::FollowUpState::Done && job.signature_log_index.is_some())
                .then(|| job.result.clone()))
        };
        if let (Some(slip), Some(fee_receipt)) =
            (done(intake::FollowUpKind::AcknowledgementSlip)?, done(intake::FollowUpKind::FeeReceipt)?)
        {
            break (slip, fee_receipt);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "intake did not issue the slip and the fee receipt within {FOLLOW_WAIT:?}: {:?}",
            dossier.follow_ups
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    Ok(IssuedAtIntake { slip: signed(receipts, &slip).await?, fee_receipt: signed(receipts, &fee_receipt).await? })
}

/// The receipt `name`, once receipt has had it signed.
async fn signed(receipts: &mut ReceiptServiceClient<PeerChannel>, name: &str) -> anyhow::Result<receipt::Receipt> {
    let deadline = tokio::time::Instant::now() + FOLLOW_WAIT;
    loop {
        let request = receipt::GetReceiptRequest { name: name.to_owned() };
        let current = receipts.get_receipt(request).await.context("receipt: GetReceipt")?.into_inner();
        if current.signature.as_ref().is_some_and(|signature| signature.state() == receipt::SignatureState::Signed) {
            return Ok(current);
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "{name} was not signed within {FOLLOW_WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
