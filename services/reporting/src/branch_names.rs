//! The branch names in reporting's answers, asked of intake's `ListBranches` when a report needs one it
//! does not know, and kept. A failed request is loud: an error in the log and the reason in
//! `GetIngestionStatus`, because a name left empty in a report looks like data, not like a refusal.

use std::{collections::BTreeMap, sync::Mutex};

use motcua_chassis::{
    ServiceKind,
    clock::Clock,
    peer::{PeerChannel, PeerError},
    timestamps,
};
use motcua_proto::motcua::{
    intake::v1::{ListBranchesRequest, intake_service_client::IntakeServiceClient},
    reporting::v1 as pb,
};
use tokio::sync::RwLock;

/// The names of intake's catalogue, as last read.
pub struct BranchNames {
    intake: IntakeServiceClient<PeerChannel>,
    source: String,
    clock: Clock,
    known: RwLock<BTreeMap<String, String>>,
    last_failure: Mutex<Option<(PeerError, prost_types::Timestamp)>>,
}

impl BranchNames {
    /// Names asked of `intake`, at `source` (its URL, for the status).
    pub fn new(intake: IntakeServiceClient<PeerChannel>, source: String, clock: Clock) -> Self {
        Self { intake, source, clock, known: RwLock::default(), last_failure: Mutex::new(None) }
    }

    /// The name of `branch_code`, asked of intake when not known yet; empty while intake cannot or
    /// will not answer.
    pub async fn name(&self, branch_code: &str) -> String {
        if let Some(name) = self.known.read().await.get(branch_code) {
            return name.clone();
        }
        let mut known = self.known.write().await;
        // Another request may have read the names while this one waited for the lock.
        if let Some(name) = known.get(branch_code) {
            return name.clone();
        }
        let mut client = self.intake.clone();
        let mut page_token = String::new();
        loop {
            let request = ListBranchesRequest { page_size: 1000, page_token: page_token.clone() };
            let response = match client.list_branches(request).await {
                Ok(response) => response.into_inner(),
                Err(status) => {
                    let error = PeerError::from_status(ServiceKind::Intake, &status);
                    tracing::error!(
                        source = %self.source,
                        reason = %error.reason,
                        error = %error,
                        "intake did not give the branch names: reports show branch codes without names"
                    );
                    *self.failure() = Some((error, timestamps::to_proto(self.clock.now())));
                    break;
                }
            };
            for branch in response.branches {
                known.insert(branch.branch_code, branch.display_name);
            }
            if response.next_page_token.is_empty() {
                *self.failure() = None;
                break;
            }
            page_token = response.next_page_token;
        }
        known.get(branch_code).cloned().unwrap_or_default()
    }

    /// Where the names come from and whether intake last answered, for `GetIngestionStatus`.
    pub async fn status(&self) -> pb::BranchNamesStatus {
        let known_branches = i32::try_from(self.known.read().await.len()).unwrap_or(i32::MAX);
        let failure = self.failure().clone();
        let (last_error_reason, last_error_message, last_error_time) = match failure {
            Some((error, time)) => (error.reason, error.message, Some(time)),
            None => (String::new(), String::new(), None),
        };
        pb::BranchNamesStatus {
            source: self.source.clone(),
            known_branches,
            last_error_reason,
            last_error_message,
            last_error_time,
        }
    }

    fn failure(&self) -> std::sync::MutexGuard<'_, Option<(PeerError, prost_types::Timestamp)>> {
        // The guarded value is replaced whole, so a panic elsewhere cannot leave it half-written.
        self.last_failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
