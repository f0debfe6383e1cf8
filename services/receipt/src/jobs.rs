//! Background work: the signing job. A receipt is committed with its signature PENDING; this job asks
//! signing to sign it, retrying with backoff and the same derived request id while signing is down,
//! and records the signature and its log index when it succeeds. It runs while the service runs: it
//! holds only a weak reference to the service's state, so dropping the service stops it.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use chrono::Utc;
use motcua_chassis::timestamps;
use motcua_proto::motcua::receipt::v1::{self as pb, receipt_event::Payload};
use tokio::sync::Notify;

use crate::{
    api::ReceiptState,
    peers::SignFailure,
    store::signatures::{self, DueSignature},
};

/// How long the job sleeps when nothing is due and nobody rings.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How many due signatures one pass leases.
const BATCH: u64 = 16;
/// How long a leased signature is left to this replica before another may take it.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// How long one call to signing may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The first and the longest wait after signing could not be reached.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Starts the signing job over `state`; it ends when the state is dropped.
pub fn spawn_signing(state: Weak<ReceiptState>, due: Arc<Notify>) {
    tokio::spawn(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let Some(strong) = state.upgrade() else { return };
            let wait = match sign_due(&strong).await {
                Ok(Pass::More) => {
                    backoff = FIRST_BACKOFF;
                    Duration::ZERO
                }
                Ok(Pass::Idle) => {
                    backoff = FIRST_BACKOFF;
                    POLL_INTERVAL
                }
                Ok(Pass::SigningDown) => {
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    // Signing is down: new receipts must not ring the job back into it sooner.
                    drop(strong);
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(error) => {
                    tracing::warn!(%error, "the signing job could not read or write receipts; retrying");
                    POLL_INTERVAL
                }
            };
            // Hold no strong reference while asleep, so dropping the service stops the job.
            drop(strong);
            if !wait.is_zero() {
                let _ = tokio::time::timeout(wait, due.notified()).await;
            }
        }
    });
}

/// What one pass found.
enum Pass {
    /// It signed a full batch: there may be more.
    More,
    /// Nothing more is due.
    Idle,
    /// Signing could not be reached.
    SigningDown,
}

async fn sign_due(state: &ReceiptState) -> Result<Pass, motcua_chassis::ApiError> {
    let now = Utc::now();
    let due = signatures::lease_due(&state.db, now, now + LEASE, BATCH).await?;
    let full = due.len() as u64 == BATCH;
    let mut due = due.into_iter();
    while let Some(receipt) = due.next() {
        match sign_one(state, &receipt).await? {
            Signed::Yes => {}
            Signed::Later(wait) => {
                // The rest of the batch waits too: the next pass asks again after the backoff.
                let retry_at = Utc::now() + wait;
                for rest in due {
                    signatures::record_failure(
                        &state.db,
                        &rest.receipt_id,
                        rest.attempts,
                        "NOT_TRIED",
                        retry_at,
                        false,
                    )
                    .await?;
                }
                return Ok(Pass::SigningDown);
            }
        }
    }
    Ok(if full { Pass::More } else { Pass::Idle })
}

enum Signed {
    Yes,
    Later(chrono::Duration),
}

async fn sign_one(state: &ReceiptState, receipt: &DueSignature) -> Result<Signed, motcua_chassis::ApiError> {
    let attempts = receipt.attempts.saturating_add(1);
    let subject = format!("receipts/{}", receipt.receipt_id);
    let call = state.signing.sign(
        format!("{}/sign", receipt.request_id),
        &receipt.officer_id,
        receipt.xml.clone(),
        subject.clone(),
    );
    let outcome = match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(outcome) => outcome,
        Err(_) => Err(SignFailure::Unavailable { reason: "DEADLINE_EXCEEDED".to_owned() }),
    };
    match outcome {
        Ok(signature) => {
            let sign_time = Utc::now();
            let payload = Payload::ReceiptSigned(pb::ReceiptSigned {
                receipt: subject.clone(),
                branch_code: receipt.branch_code.clone(),
                signature: signature.name.clone(),
                log_index: signature.log_index,
                sign_time: Some(timestamps::to_proto(sign_time)),
                attempts,
            });
            let event = crate::api::receipt_event(subject, &receipt.request_id, payload);
            if signatures::record_signed(
                &state.db,
                &receipt.receipt_id,
                &signature.name,
                signature.log_index,
                sign_time,
                attempts,
                event,
            )
            .await?
            {
                state.feed.appended();
                tracing::info!(receipt = %receipt.receipt_id, log_index = signature.log_index, attempts, "receipt signed");
            }
            Ok(Signed::Yes)
        }
        Err(SignFailure::Refused { reason }) => {
            tracing::warn!(receipt = %receipt.receipt_id, %reason, "signing refused the receipt; it needs an operator");
            signatures::record_failure(&state.db, &receipt.receipt_id, attempts, &reason, Utc::now(), true).await?;
            Ok(Signed::Yes)
        }
        Err(SignFailure::Unavailable { reason }) => {
            let wait = backoff(attempts);
            tracing::debug!(receipt = %receipt.receipt_id, %reason, attempts, "signing unavailable; the signature waits");
            signatures::record_failure(&state.db, &receipt.receipt_id, attempts, &reason, Utc::now() + wait, false)
                .await?;
            Ok(Signed::Later(wait))
        }
    }
}

/// The wait before attempt `attempts + 1` of one receipt (`attempts` is at least 1 here): two seconds
/// after the first failure, doubling, at most five minutes.
fn backoff(attempts: i32) -> chrono::Duration {
    let seconds = 1_i64 << attempts.clamp(0, 9);
    chrono::Duration::seconds(seconds.min(300))
}
