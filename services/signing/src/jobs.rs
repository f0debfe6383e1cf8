//! Signing's background work: the checkpointer, which signs a checkpoint of the transparency log at
//! least every second while there are new leaves, and stops when the service stops.

use std::{sync::Arc, time::Duration};

use crate::transparency::TransparencyLog;

/// How often the checkpointer looks for new leaves when no signing act of this replica woke it.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(300);

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
            let _ = tokio::time::timeout(CHECKPOINT_INTERVAL, woken.notified()).await;
        }
    });
}
