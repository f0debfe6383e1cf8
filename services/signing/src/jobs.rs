//! Signing's background work: the checkpointer, which integrates new leaves and signs a checkpoint
//! of the transparency log within a fraction of a second of a new one, at most five times a second, and the auditor, which
//! rehashes the stored leaves tile by tile; both stop when the service stops.

use std::{sync::Arc, time::Duration};

use crate::{
    auditor::{self, AuditStep},
    transparency::TransparencyLog,
};

/// How often the checkpointer looks for new leaves when no signing act of this replica woke it.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(300);

/// The least time between two passes of the checkpointer, however often signing acts wake it: under
/// load, one integration and one checkpoint cover every batch committed meanwhile, instead of one
/// each (measured on PostgreSQL: 30 integrations a second at 64 concurrent `Sign`s without it), and a
/// signature is still covered by a checkpoint well within the second the log promises.
const CHECKPOINT_MIN_GAP: Duration = Duration::from_millis(200);

/// The pause between two audit steps (one level-0 tile each): light on the database, so a log of
/// 10 million leaves is audited in about half an hour.
const AUDIT_STEP_INTERVAL: Duration = Duration::from_millis(40);

/// The pause between two passes of the auditor over the whole log.
const AUDIT_PASS_PAUSE: Duration = Duration::from_secs(2);

/// Starts the checkpointer of `log`. It holds the log weakly: when the service's handlers are dropped
/// (the server stopped), it ends.
pub fn spawn_checkpointer(log: &Arc<TransparencyLog>) {
    let weak_log = Arc::downgrade(log);
    tokio::spawn(async move {
        loop {
            let Some(log) = weak_log.upgrade() else { return };
            if let Err(error) = log.checkpoint_now().await {
                tracing::warn!(%error, "issuing a checkpoint failed; retrying");
            }
            let woken = log.woken();
            // Hold no strong reference while asleep, so dropping the service stops the checkpointer.
            drop(log);
            // A wake during the gap is kept by the `Notify` and ends the wait that follows at once.
            tokio::time::sleep(CHECKPOINT_MIN_GAP).await;
            let _ = tokio::time::timeout(CHECKPOINT_INTERVAL - CHECKPOINT_MIN_GAP, woken.notified()).await;
        }
    });
}

/// Starts the auditor of `log`, held weakly as the checkpointer is. It logs each pass and what it
/// found, and stops auditing once the log is inconsistent.
pub fn spawn_auditor(log: &Arc<TransparencyLog>) {
    let weak_log = Arc::downgrade(log);
    tokio::spawn(async move {
        let mut last_pass_size = None;
        loop {
            let Some(log) = weak_log.upgrade() else { return };
            let pause = match auditor::audit_step(&log).await {
                Ok(AuditStep::Checked { .. }) => AUDIT_STEP_INTERVAL,
                Ok(AuditStep::PassComplete { passes, leaves }) => {
                    if last_pass_size != Some(leaves) {
                        tracing::info!(pass = passes, leaves, "the log auditor rehashed every leaf: no mismatch");
                    }
                    last_pass_size = Some(leaves);
                    AUDIT_PASS_PAUSE
                }
                Ok(AuditStep::Inconsistent(_)) => return,
                Err(error) => {
                    tracing::warn!(%error, "an audit step of the log failed; retrying");
                    AUDIT_PASS_PAUSE
                }
            };
            drop(log);
            tokio::time::sleep(pause).await;
        }
    });
}
