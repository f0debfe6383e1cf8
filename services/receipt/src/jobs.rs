//! Receipt's jobs on the chassis's job runner: signing. Each issued receipt is committed with its
//! signature PENDING and a `receipt.sign` job in the same transaction; the job asks signing to sign the
//! receipt's canonical XML with the collector's key, under a request id derived from the issuing one
//! (so a retry never signs twice), and records the signature and its log index. Signing down is a
//! retry after the runner's backoff; signing refusing (no such signer, no certificate) dead-letters the
//! job for an operator, whose `RetryJob` signs it once the cause is fixed.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use motcua_chassis::{
    ApiError, ServiceConfig,
    clock::Clock,
    jobs::{Job, JobFailure, Runner},
    timestamps,
};
use motcua_proto::motcua::receipt::v1::{self as pb, receipt_event::Payload};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::{
    api::ReceiptState,
    peers::SignFailure,
    store::signatures::{self, SIGN},
};

/// How long one call to signing may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts receipt's job runner over `db`, woken by `bell` after a receipt commits; it stops when
/// `state` is dropped.
pub fn spawn(config: &ServiceConfig, db: DatabaseConnection, bell: Arc<Notify>, state: Weak<ReceiptState>) {
    let clock = config.clock.clone();
    Runner::new(db, config.jobs, clock.clone(), bell)
        .handle(SIGN, move |state, job| sign(state, job, clock.clone()))
        .spawn(state);
}

/// One attempt of a receipt's signing job.
async fn sign(state: Arc<ReceiptState>, job: Job, clock: Clock) -> Result<(), JobFailure> {
    let receipt_id = job
        .subject
        .strip_prefix("receipts/")
        .ok_or_else(|| JobFailure::Permanent { reason: "NOT_A_RECEIPT".to_owned() })?;
    let Some(receipt) = signatures::unsigned(&state.db, receipt_id).await.map_err(database)? else {
        // Signed by an earlier attempt whose outcome the runner did not get to record.
        return Ok(());
    };
    let attempts = receipt.attempts.saturating_add(1);
    let subject = job.subject.clone();
    let call = state.signing.sign(
        format!("{}/sign", receipt.request_id),
        &receipt.officer_id,
        receipt.xml.clone(),
        subject.clone(),
    );
    let outcome = tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| Err(SignFailure::Unavailable { reason: "DEADLINE_EXCEEDED".to_owned() }));
    match outcome {
        Ok(signature) => {
            let sign_time = clock.now();
            let payload = Payload::ReceiptSigned(pb::ReceiptSigned {
                receipt: subject.clone(),
                branch_code: receipt.branch_code.clone(),
                signature: signature.name.clone(),
                log_index: signature.log_index,
                sign_time: Some(timestamps::to_proto(sign_time)),
                attempts,
            });
            let event = crate::api::receipt_event(subject, &receipt.request_id, payload, sign_time);
            let recorded = signatures::record_signed(
                &state.db,
                &receipt.receipt_id,
                &signature.name,
                signature.log_index,
                sign_time,
                attempts,
                event,
            )
            .await
            .map_err(database)?;
            if recorded {
                state.feed.appended();
                tracing::info!(receipt = %receipt.receipt_id, log_index = signature.log_index, attempts, "receipt signed");
            }
            Ok(())
        }
        Err(SignFailure::Refused { reason }) => {
            tracing::warn!(receipt = %receipt.receipt_id, %reason, "signing refused the receipt; it needs an operator");
            signatures::record_failure(&state.db, &receipt.receipt_id, attempts, &reason, true)
                .await
                .map_err(database)?;
            Err(JobFailure::Permanent { reason })
        }
        Err(SignFailure::Unavailable { reason }) => {
            tracing::debug!(receipt = %receipt.receipt_id, %reason, attempts, "signing unavailable; the signature waits");
            signatures::record_failure(&state.db, &receipt.receipt_id, attempts, &reason, false)
                .await
                .map_err(database)?;
            Err(JobFailure::Retry { reason })
        }
    }
}

/// A database failure of the job's own reads and writes: tried again later.
fn database(error: ApiError) -> JobFailure {
    tracing::warn!(%error, "the signing job could not read or write its receipt");
    JobFailure::Retry { reason: error.reason().to_owned() }
}
