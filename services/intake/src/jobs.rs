//! Intake's follow-ups on the chassis's job runner: the receipts a dossier's arrival and return leave
//! to issue (the acknowledgement slip, form 01; the fee receipts due at intake and at return), recorded
//! in the transaction that moves the dossier. Each job asks receipt to issue under a request id derived
//! from the dossier code and the job's kind, so a retry never takes a second number, and records what
//! it got once, with a `FollowUpDone` event, in its own transaction. A receipt whose signature is still
//! pending gets a second job that follows it up to its log index. Receipt down is a retry after the
//! runner's backoff; no open series for the branch is one too, until it dead-letters for an operator,
//! whose `RetryJob` issues once a series exists.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use chrono::Datelike;
use motcua_chassis::{
    ServiceConfig,
    feed::NewEvent,
    jobs::{Job, JobFailure, NewJob, Runner},
    peer::{
        PeerError, PeerFailure,
        receipt::{
            AcknowledgedComponent, Acknowledgement, Collector, IssuedReceipt, PaymentMethod, ReceiptContent,
            ReceiptItem, ReceiptKind, ReceiptSignature,
        },
    },
    timestamps,
};
use motcua_proto::motcua::{
    common::v1::Money,
    intake::v1::{self as pb, intake_event::Payload},
};
use prost::Message;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::{
    api::{IntakeState, convert},
    domain::{
        calendar::local_date,
        catalogue::{Branch, FeeItem, FeeMoment},
        dossier::{Dossier, Officer},
        lifecycle::{Move, Status},
    },
    store::{
        catalogue, dossiers,
        follow_ups::{self, FollowUpResult},
    },
};

/// The kind of the job that follows a receipt's pending signature to its log index; its payload is
/// the kind of the follow-up that issued the receipt.
pub const SIGNATURE: &str = "intake.receipt_signature";

/// How long one call to receipt may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A follow-up that issues a receipt for a dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// The acknowledgement slip with the appointment (form 01), when the dossier is received.
    Slip,
    /// The fee receipt of the procedure's fees collected at intake.
    FeeAtIntake,
    /// The fee receipt of the procedure's fees collected when the result is returned.
    FeeAtReturn,
}

impl FollowUp {
    /// Every follow-up.
    pub const ALL: [Self; 3] = [Self::Slip, Self::FeeAtIntake, Self::FeeAtReturn];

    /// The job kind that does it.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Slip => "intake.slip",
            Self::FeeAtIntake => "intake.fee_at_intake",
            Self::FeeAtReturn => "intake.fee_at_return",
        }
    }

    /// The follow-up of a job kind, if it is one.
    pub fn from_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|follow_up| follow_up.kind() == kind)
    }

    /// The contract's kind.
    pub fn to_proto(self) -> pb::FollowUpKind {
        match self {
            Self::Slip => pb::FollowUpKind::AcknowledgementSlip,
            Self::FeeAtIntake => pb::FollowUpKind::FeeReceipt,
            Self::FeeAtReturn => pb::FollowUpKind::ReturnFeeReceipt,
        }
    }

    /// The follow-ups a move to `status` leaves, given the procedure version's `fees`: a dossier that
    /// is received (at a counter or by post, or an online one accepted) gets its slip and the receipt of
    /// the fees due at intake; a returned result, the receipt of the fees due at return.
    pub fn due_after(dossier_move: Move, status: Status, fees: &[FeeItem]) -> Vec<Self> {
        let charges = |moment| fees.iter().any(|fee| fee.moment == moment);
        let received = (dossier_move == Move::Create && status == Status::Received) || dossier_move == Move::Accept;
        let mut due = Vec::new();
        if received {
            due.push(Self::Slip);
            if charges(FeeMoment::AtIntake) {
                due.push(Self::FeeAtIntake);
            }
        }
        if dossier_move == Move::Return && charges(FeeMoment::AtReturn) {
            due.push(Self::FeeAtReturn);
        }
        due
    }

    fn receipt_kind(self) -> ReceiptKind {
        match self {
            Self::Slip => ReceiptKind::AcknowledgementSlip,
            Self::FeeAtIntake | Self::FeeAtReturn => ReceiptKind::FeeReceipt,
        }
    }

    fn fee_moment(self) -> Option<FeeMoment> {
        match self {
            Self::Slip => None,
            Self::FeeAtIntake => Some(FeeMoment::AtIntake),
            Self::FeeAtReturn => Some(FeeMoment::AtReturn),
        }
    }
}

/// Starts intake's job runner over `db`, woken by `bell` after a commit that recorded follow-ups; it
/// stops when `state` is dropped.
pub fn spawn(config: &ServiceConfig, db: DatabaseConnection, bell: Arc<Notify>, state: Weak<IntakeState>) {
    let mut runner = Runner::new(db, config.jobs, config.clock.clone(), bell);
    for follow_up in FollowUp::ALL {
        runner = runner.handle(follow_up.kind(), move |state, job| issue(state, job, follow_up));
    }
    runner.handle(SIGNATURE, follow_signature).spawn(state);
}

/// One attempt of a follow-up: issue its receipt (or find it issued) and record it once.
async fn issue(state: Arc<IntakeState>, job: Job, follow_up: FollowUp) -> Result<(), JobFailure> {
    let code = dossier_code(&job)?;
    if follow_ups::find(&state.db, code, follow_up.kind()).await?.is_some() {
        // Recorded by an earlier attempt whose outcome the runner did not get to record.
        return Ok(());
    }
    let record = dossiers::find(&state.db, code)
        .await
        .map_err(|error| JobFailure::Retry { reason: error.reason().to_owned() })?
        .ok_or_else(|| permanent("DOSSIER_NOT_FOUND"))?;
    let dossier = record.dossier;
    let officer = collector(&state, record.id, &dossier, &job).await?;
    let branch =
        catalogue::get_branch(&state.db, &dossier.branch_code).await?.ok_or_else(|| permanent("UNKNOWN_BRANCH"))?;
    let content = match follow_up.fee_moment() {
        None => slip(&dossier, &branch, &officer),
        Some(moment) => {
            let procedure = catalogue::get(&state.db, &dossier.procedure_code, Some(dossier.procedure_version))
                .await?
                .ok_or_else(|| permanent("UNKNOWN_PROCEDURE"))?;
            let fees = procedure.spec.fee_items.into_iter().filter(|fee| fee.moment == moment).collect();
            fee_receipt(&dossier, &branch, &officer, fees, &state.collecting_tax_code)
        }
    };
    let now = state.clock.now();
    let year = local_date(now).year();
    let series = call(state.receipt.open_series(&dossier.branch_code, year, follow_up.receipt_kind()))
        .await?
        .ok_or_else(|| {
            tracing::warn!(dossier_code = %code, branch = %dossier.branch_code, year, kind = follow_up.kind(),
                "no open receipt series for the branch; the follow-up waits for one");
            JobFailure::Retry { reason: "NO_OPEN_SERIES".to_owned() }
        })?;
    let request_id = format!("{code}/{}", follow_up.kind());
    let issued = call(state.receipt.issue(request_id, series, content)).await?;
    let done = result_of(follow_up, &issued);
    let event = follow_up_done(&dossier, follow_up, &issued.name, job.attempt, now);
    let signature_job = (done.signature_log_index.is_none()).then(|| NewJob {
        kind: SIGNATURE,
        subject: job.subject.clone(),
        payload: follow_up.kind().as_bytes().to_vec(),
        request_id: job.request_id.clone(),
    });
    let follows = signature_job.is_some();
    if follow_ups::record_done(&state.db, code, &done, job.attempt, now, event, signature_job).await? {
        state.feed.appended();
        if follows {
            state.follow_ups_due.notify_one();
        }
        tracing::info!(dossier_code = %code, kind = follow_up.kind(), receipt = %issued.name, attempts = job.attempt, "follow-up done");
    }
    Ok(())
}

/// One attempt of following a receipt's pending signature: done once receipt has it signed.
async fn follow_signature(state: Arc<IntakeState>, job: Job) -> Result<(), JobFailure> {
    let code = dossier_code(&job)?;
    let kind = String::from_utf8(job.payload.clone()).map_err(|_| permanent("NOT_A_FOLLOW_UP"))?;
    let done = follow_ups::find(&state.db, code, &kind).await?.ok_or_else(|| permanent("FOLLOW_UP_NOT_DONE"))?;
    if done.signature_log_index.is_some() {
        return Ok(());
    }
    match call(state.receipt.get(&done.receipt)).await?.signature {
        ReceiptSignature::Signed { log_index } => {
            follow_ups::record_signature(&state.db, code, &kind, log_index).await?;
            Ok(())
        }
        ReceiptSignature::Pending => Err(JobFailure::Retry { reason: "SIGNATURE_PENDING".to_owned() }),
        ReceiptSignature::Refused => Err(permanent("SIGNATURE_REFUSED")),
    }
}

/// The officer who collects and signs: the one who made the move that left the job (its history
/// entry's sequence is the payload), else the receiving officer.
async fn collector(state: &IntakeState, row_id: i64, dossier: &Dossier, job: &Job) -> Result<Officer, JobFailure> {
    let sequence = std::str::from_utf8(&job.payload).ok().and_then(|text| text.parse::<u32>().ok());
    let history = dossiers::history(&state.db, row_id)
        .await
        .map_err(|error| JobFailure::Retry { reason: error.reason().to_owned() })?;
    Ok(history
        .into_iter()
        .find(|entry| Some(entry.sequence) == sequence)
        .map(|entry| entry.actor)
        .unwrap_or_else(|| dossier.receiving_officer.clone()))
}

fn dossier_code(job: &Job) -> Result<&str, JobFailure> {
    job.subject.strip_prefix("dossiers/").ok_or_else(|| permanent("NOT_A_DOSSIER"))
}

/// The slip (form 01): the receiving branch, the applicant, the procedure, the components and the
/// first appointment. A procedure without a legal time limit gives no appointment: the slip then
/// carries the time of receipt, as for a result given on the spot.
fn slip(dossier: &Dossier, branch: &Branch, officer: &Officer) -> ReceiptContent {
    let receive_time = dossier.receive_time.unwrap_or(dossier.create_time);
    let appointment = dossier.initial_appointment.unwrap_or(receive_time);
    ReceiptContent {
        acknowledgement: Some(Acknowledgement {
            procedure_name: dossier.procedure_name.clone(),
            receive_time: Some(timestamps::to_proto(receive_time)),
            appointment_time: Some(timestamps::to_proto(appointment)),
            components: dossier
                .components
                .iter()
                .map(|component| AcknowledgedComponent {
                    name: component.component_name.clone(),
                    copy_kind: component.copy_kind,
                    copies: i32::try_from(component.copies).unwrap_or(i32::MAX),
                })
                .collect(),
        }),
        ..common_content(dossier, branch, officer)
    }
}

/// A fee receipt of `fees`, paid at the counter.
fn fee_receipt(
    dossier: &Dossier,
    branch: &Branch,
    officer: &Officer,
    fees: Vec<FeeItem>,
    tax_code: &str,
) -> ReceiptContent {
    ReceiptContent {
        collecting_tax_code: tax_code.to_owned(),
        items: fees
            .into_iter()
            .map(|fee| ReceiptItem { name: fee.name, amount: Some(Money { dong: fee.amount_dong }) })
            .collect(),
        payment_method: PaymentMethod::Cash as i32,
        ..common_content(dossier, branch, officer)
    }
}

fn common_content(dossier: &Dossier, branch: &Branch, officer: &Officer) -> ReceiptContent {
    ReceiptContent {
        collecting_organisation: branch.display_name.clone(),
        payer: Some(convert::applicant_to_proto(&dossier.applicant)),
        dossier_code: dossier.code.printed(),
        procedure_code: dossier.procedure_code.clone(),
        collector: Some(Collector {
            officer_id: officer.officer_id.clone(),
            display_name: officer.display_name.clone(),
        }),
        ..ReceiptContent::default()
    }
}

fn result_of(follow_up: FollowUp, issued: &IssuedReceipt) -> FollowUpResult {
    FollowUpResult {
        kind: follow_up.kind().to_owned(),
        receipt: issued.name.clone(),
        receipt_number: issued.number_text.clone(),
        lookup_code: issued.lookup_code.clone(),
        signature_log_index: match issued.signature {
            ReceiptSignature::Signed { log_index } => Some(log_index),
            ReceiptSignature::Pending | ReceiptSignature::Refused => None,
        },
    }
}

/// The `FollowUpDone` event, for the feed.
fn follow_up_done(
    dossier: &Dossier,
    follow_up: FollowUp,
    receipt: &str,
    attempts: i32,
    now: chrono::DateTime<chrono::Utc>,
) -> NewEvent {
    let payload = Payload::FollowUpDone(pb::FollowUpDone {
        dossier: Some(convert::facts(dossier, None)),
        kind: follow_up.to_proto() as i32,
        result: receipt.to_owned(),
        attempts,
    });
    let event_type = convert::event_type(&payload).to_owned();
    let code = dossier.code.printed();
    NewEvent {
        occur_time: now,
        subject: format!("dossiers/{code}"),
        request_id: format!("{code}/{}", follow_up.kind()),
        event_type,
        payload: pb::IntakeEvent { envelope: None, payload: Some(payload) }.encode_to_vec(),
    }
}

/// A call to receipt, bounded; its failure as the runner acts on it: refused is for good (an operator
/// must act), anything else is for now.
async fn call<T>(call: impl Future<Output = Result<T, PeerError>>) -> Result<T, JobFailure> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            tracing::debug!(%error, "receipt did not issue");
            Err(match error.failure {
                PeerFailure::Refused => JobFailure::Permanent { reason: error.reason },
                PeerFailure::Unavailable => JobFailure::Retry { reason: error.reason },
            })
        }
        Err(_) => Err(JobFailure::Retry { reason: "DEADLINE_EXCEEDED".to_owned() }),
    }
}

fn permanent(reason: &str) -> JobFailure {
    JobFailure::Permanent { reason: reason.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fee(moment: FeeMoment) -> FeeItem {
        FeeItem { name: "Lệ phí".to_owned(), amount_dong: 50_000, moment }
    }

    #[test]
    fn a_received_dossier_gets_its_slip_and_the_receipt_of_fees_due_at_intake_only() {
        let fees = [fee(FeeMoment::AtIntake), fee(FeeMoment::AtReturn)];
        assert_eq!(FollowUp::due_after(Move::Create, Status::Received, &fees), [FollowUp::Slip, FollowUp::FeeAtIntake]);
        assert_eq!(FollowUp::due_after(Move::Accept, Status::Received, &[]), [FollowUp::Slip]);
        assert_eq!(FollowUp::due_after(Move::Return, Status::Returned, &fees), [FollowUp::FeeAtReturn]);
    }

    #[test]
    fn an_online_registration_and_other_moves_leave_no_follow_up() {
        let fees = [fee(FeeMoment::AtIntake), fee(FeeMoment::AtReturn)];
        assert!(FollowUp::due_after(Move::Create, Status::Registered, &fees).is_empty());
        assert!(FollowUp::due_after(Move::StartProcessing, Status::Processing, &fees).is_empty());
        assert!(FollowUp::due_after(Move::Return, Status::Returned, &[fee(FeeMoment::AtIntake)]).is_empty());
    }

    #[test]
    fn every_follow_up_is_found_by_its_job_kind_and_the_signature_job_is_none_of_them() {
        for follow_up in FollowUp::ALL {
            assert_eq!(FollowUp::from_kind(follow_up.kind()), Some(follow_up));
        }
        assert_eq!(FollowUp::from_kind(SIGNATURE), None);
    }
}
