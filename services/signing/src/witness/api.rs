//! The witness's gRPC handlers: `AddCheckpoint`, the tlog-witness `add-checkpoint` call with each of
//! the specification's HTTP refusals as a gRPC code and an ErrorInfo reason, and `GetWitness`. Every
//! refusal is logged at error level; the audit trail records every call with its code and reason.

use std::{collections::HashMap, sync::Arc};

use motcua_chassis::{
    ServiceKind,
    audit::{AuditNote, Classification, Kind},
    timestamps,
};
use motcua_proto::motcua::signing::v1::{self as pb, witness_service_server::WitnessService};
use prost::Message;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::{Witness, consistency, domain, store};
use crate::{
    api::{db_status, internal},
    domain::checkpoint,
    store::entities::witnessed_log,
};

/// Every method of `WitnessService`, with what its calls are recorded as.
pub const AUDIT: Classification = &[
    // A cosignature is a statement the deployment makes, and a refusal may be evidence of a fork.
    ("AddCheckpoint", Kind::Mutation),
    // The witness's key and what it cosigned are public.
    ("GetWitness", Kind::NotRecorded),
];

/// Why a checkpoint was not cosigned.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("{0}")]
    Malformed(String),
    #[error("old size {old_size} is beyond the checkpoint's size {tree_size}")]
    OldSizeBeyondCheckpoint { old_size: u64, tree_size: u64 },
    #[error("this witness does not witness the log {0:?}")]
    UnknownLog(String),
    #[error("no signature of a key trusted for {0:?} verifies")]
    SignatureInvalid(String),
    #[error("old size {old_size} is not {cosigned}, the size of the latest checkpoint cosigned")]
    OldSizeMismatch { old_size: u64, cosigned: i64 },
    #[error("the checkpoint has the size {0} of the latest one cosigned, with another root hash")]
    RootHashMismatch(u64),
    #[error("the consistency proof from {old_size} to {tree_size} does not verify against the root cosigned")]
    ConsistencyProofInvalid { old_size: u64, tree_size: u64 },
}

impl Refusal {
    fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "INVALID_ADD_CHECKPOINT_BODY",
            Self::OldSizeBeyondCheckpoint { .. } => "OLD_SIZE_BEYOND_CHECKPOINT",
            Self::UnknownLog(_) => "UNKNOWN_LOG",
            Self::SignatureInvalid(_) => "CHECKPOINT_SIGNATURE_INVALID",
            Self::OldSizeMismatch { .. } => "OLD_SIZE_MISMATCH",
            Self::RootHashMismatch(_) => "ROOT_HASH_MISMATCH",
            Self::ConsistencyProofInvalid { .. } => "CONSISTENCY_PROOF_INVALID",
        }
    }

    /// The status: the code of the specification's HTTP status, the reason, and the detail a client
    /// acts on (the cosigned size of a 409 in the ErrorInfo metadata `tree_size`).
    fn status(&self, origin: &str) -> Status {
        let mut details = ErrorDetails::new();
        let mut metadata = HashMap::new();
        let subject = format!("logs/{origin}");
        let code = match self {
            Self::Malformed(_) | Self::OldSizeBeyondCheckpoint { .. } => {
                details.add_bad_request_violation("body", self.to_string());
                Code::InvalidArgument
            }
            Self::UnknownLog(_) => {
                details.set_resource_info("motcua.signing.v1.WitnessedLog", origin, "", "not witnessed here");
                Code::NotFound
            }
            Self::SignatureInvalid(_) => Code::PermissionDenied,
            Self::OldSizeMismatch { cosigned, .. } => {
                metadata.insert("tree_size".to_owned(), cosigned.to_string());
                details.add_precondition_failure_violation("TREE_SIZE", subject, self.to_string());
                Code::FailedPrecondition
            }
            Self::RootHashMismatch(_) | Self::ConsistencyProofInvalid { .. } => {
                details.add_precondition_failure_violation("CONSISTENCY", subject, self.to_string());
                Code::FailedPrecondition
            }
        };
        details.set_error_info(self.reason(), ServiceKind::Signing.error_domain(), metadata);
        Status::with_error_details(code, self.to_string(), details)
    }
}

/// The witness's handlers.
#[derive(Clone)]
pub struct WitnessApi {
    witness: Arc<Witness>,
}

impl WitnessApi {
    /// Handlers of `witness`.
    pub fn new(witness: Arc<Witness>) -> Self {
        Self { witness }
    }
}

#[tonic::async_trait]
impl WitnessService for WitnessApi {
    async fn add_checkpoint(
        &self,
        request: Request<pb::AddCheckpointRequest>,
    ) -> Result<Response<pb::AddCheckpointResponse>, Status> {
        let note = AuditNote::of(&request);
        let body = request.into_inner().body;
        let submitted = domain::parse_add_checkpoint(&body).map_err(|error| Refusal::Malformed(error.to_string()));
        let submitted = submitted.and_then(|submitted| {
            let parsed = checkpoint::parse(&submitted.checkpoint)
                .map_err(|error| Refusal::Malformed(format!("the checkpoint: {error}")))?;
            Ok((submitted, parsed))
        });
        let (submitted, parsed) = match submitted {
            Ok(read) => read,
            Err(refusal) => return Err(refused(&refusal, "", 0)),
        };
        note.subject(&format!("logs/{}/checkpoints/{}", parsed.origin, parsed.tree_size));
        match cosign(&self.witness, &submitted, &parsed).await {
            Ok(Ok(cosignatures)) => Ok(Response::new(pb::AddCheckpointResponse { cosignatures })),
            Ok(Err(refusal)) => Err(refused(&refusal, &parsed.origin, parsed.tree_size)),
            Err(status) => Err(status),
        }
    }

    async fn get_witness(&self, _request: Request<pb::GetWitnessRequest>) -> Result<Response<pb::Witness>, Status> {
        let witness = &self.witness;
        let stored = store::witnessed_logs(&witness.db).await.map_err(db_status)?;
        let logs = witness
            .logs
            .values()
            .map(|log| {
                let row = stored.iter().find(|row| row.origin == log.name);
                pb::WitnessedLog {
                    origin: log.name.clone(),
                    verifier_key: log.to_string(),
                    tree_size: row.map_or(0, |row| row.tree_size),
                    root_hash: row.map(|row| row.root_hash.clone()).unwrap_or_default(),
                    cosign_time: row.map(|row| timestamps::to_proto(row.cosigned_at)),
                }
            })
            .collect();
        Ok(Response::new(pb::Witness {
            name: witness.name.clone(),
            verifier_key: witness.verifier_key().to_string(),
            logs,
        }))
    }
}

/// Logs a refusal at error level (it may be evidence of a fork) and makes its status.
fn refused(refusal: &Refusal, origin: &str, tree_size: u64) -> Status {
    tracing::error!(
        reason = refusal.reason(),
        origin,
        tree_size,
        error = %refusal,
        "WITNESS REFUSED A CHECKPOINT"
    );
    refusal.status(origin)
}

/// Checks the submitted checkpoint against the latest one cosigned of its log and, when it is
/// consistent, records it and answers its cosignature line; the check and the record are one
/// transaction, the record a compare on the state checked, so two concurrent calls never both win.
async fn cosign(
    witness: &Witness,
    submitted: &domain::AddCheckpoint,
    parsed: &checkpoint::Checkpoint,
) -> Result<Result<String, Refusal>, Status> {
    let Some(log) = witness.logs.get(&parsed.origin) else {
        return Ok(Err(Refusal::UnknownLog(parsed.origin.clone())));
    };
    if !parsed.verify(&log.name, &log.key) {
        return Ok(Err(Refusal::SignatureInvalid(parsed.origin.clone())));
    }
    let (old_size, tree_size) = (submitted.old_size, parsed.tree_size);
    if old_size > tree_size {
        return Ok(Err(Refusal::OldSizeBeyondCheckpoint { old_size, tree_size }));
    }
    let transaction = motcua_chassis::db::begin_write(&witness.db).await.map_err(db_status)?;
    let previous = store::witnessed_log(&transaction, &parsed.origin).await.map_err(db_status)?;
    let cosigned = previous.as_ref().map_or(0, |previous| previous.tree_size);
    if old_size as i64 != cosigned {
        return Ok(Err(Refusal::OldSizeMismatch { old_size, cosigned }));
    }
    let consistent = match &previous {
        // Nothing cosigned yet: the empty tree is a prefix of every tree, and the proof is empty.
        None => submitted.proof.is_empty(),
        Some(previous) => {
            let previous_root: consistency::Hash =
                previous.root_hash.as_slice().try_into().map_err(|_| internal("a stored root is not 32 bytes"))?;
            if old_size == tree_size && previous_root != parsed.root_hash {
                return Ok(Err(Refusal::RootHashMismatch(tree_size)));
            }
            consistency::verify(old_size, tree_size, &previous_root, &parsed.root_hash, &submitted.proof)
        }
    };
    if !consistent {
        return Ok(Err(Refusal::ConsistencyProofInvalid { old_size, tree_size }));
    }
    let now = crate::api::now(&witness.clock);
    let timestamp = now.timestamp().max(0) as u64;
    let cosignatures = domain::cosign(&witness.name, &witness.key, timestamp, &parsed.text);
    let next = witnessed_log::Model {
        origin: parsed.origin.clone(),
        tree_size: tree_size as i64,
        root_hash: parsed.root_hash.to_vec(),
        note: submitted.checkpoint.clone(),
        cosigned_at: now,
    };
    if !store::advance(&transaction, previous.as_ref(), next).await.map_err(db_status)? {
        // Another replica advanced the log between our read and our write: the caller asks again.
        let latest = store::witnessed_log(&transaction, &parsed.origin).await.map_err(db_status)?;
        return Ok(Err(Refusal::OldSizeMismatch { old_size, cosigned: latest.map_or(0, |row| row.tree_size) }));
    }
    let response = pb::AddCheckpointResponse { cosignatures: cosignatures.clone() };
    motcua_chassis::audit::record_in(&transaction, &response.encode_to_vec()).await.map_err(db_status)?;
    transaction.commit().await.map_err(db_status)?;
    Ok(Ok(cosignatures))
}
