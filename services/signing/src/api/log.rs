//! The transparency log's reads: the latest checkpoint, inclusion and consistency proofs, and tiles.

use motcua_chassis::{ApiError, timestamps};
use motcua_proto::motcua::signing::v1::{self as pb, get_inclusion_proof_request};
use tonic::Status;

use super::{State, db_status, records::SIGNATURE_TYPE, status, validate::parse_name};
use crate::{
    domain::{
        log_entry::{EntryKind, LogEntry},
        tiles::TilePath,
    },
    store::{entities::checkpoint, log, signatures},
    witness,
};

fn not_checkpointed(subject: String, description: &str) -> Status {
    status(ApiError::FailedPrecondition {
        reason: "LEAF_NOT_YET_CHECKPOINTED",
        violation_type: "CHECKPOINT",
        subject,
        description: description.to_owned(),
    })
}

/// The latest checkpoint; FAILED_PRECONDITION (LOG_INCONSISTENT) once the stored leaves stopped
/// matching a signed checkpoint.
async fn latest(state: &State) -> Result<checkpoint::Model, Status> {
    if let Some(inconsistency) = state.log.inconsistency() {
        return Err(status(ApiError::FailedPrecondition {
            reason: "LOG_INCONSISTENT",
            violation_type: "LOG_INTEGRITY",
            subject: "checkpoint".to_owned(),
            description: inconsistency,
        }));
    }
    log::latest_checkpoint(&state.db)
        .await
        .map_err(db_status)?
        .ok_or_else(|| not_checkpointed("checkpoint".to_owned(), "no checkpoint yet; retry within a second"))
}

/// The checkpoint published: the latest with the cosignatures of at least the configured quorum of
/// witnesses, its note carrying their cosignature lines (with a quorum of 0, the latest one).
pub(super) async fn checkpoint(state: &State) -> Result<pb::GetCheckpointResponse, Status> {
    let latest = latest(state).await?;
    let witnessing = &state.settings.witnessing;
    let (published, note) = match witness::published(&state.db, witnessing).await.map_err(db_status)? {
        Some(published) => published,
        None if witnessing.quorum == 0 => (latest.clone(), latest.note),
        None => {
            let description = format!("no checkpoint has the cosignatures of {} witnesses yet", witnessing.quorum);
            return Err(not_checkpointed("checkpoint".to_owned(), &description));
        }
    };
    Ok(pb::GetCheckpointResponse {
        checkpoint: note,
        origin: state.log.origin().to_owned(),
        tree_size: published.tree_size,
        root_hash: published.root_hash,
        issue_time: Some(timestamps::to_proto(published.issued_at)),
        verifier_key: state.log.verifier_key(),
    })
}

/// The tree size a proof is asked against: 0 means the latest checkpoint's; more than it is not yet
/// checkpointed. Returns the size and its checkpoint note, when one was issued at that size.
async fn proof_size(state: &State, requested: i64, field: &str) -> Result<(i64, String), Status> {
    let latest = latest(state).await?;
    match requested {
        0 => Ok((latest.tree_size, latest.note)),
        size if size < 0 => Err(status(ApiError::invalid("INVALID_TREE_SIZE", field, "must not be negative"))),
        size if size > latest.tree_size => Err(not_checkpointed(
            format!("tree_size/{size}"),
            "no checkpoint covers this size yet; retry within a second",
        )),
        size => {
            let note =
                log::checkpoint_of(&state.db, size).await.map_err(db_status)?.map(|row| row.note).unwrap_or_default();
            Ok((size, note))
        }
    }
}

pub(super) async fn inclusion_proof(
    state: &State,
    request: pb::GetInclusionProofRequest,
) -> Result<pb::GetInclusionProofResponse, Status> {
    let leaf_index = match &request.leaf {
        Some(get_inclusion_proof_request::Leaf::LeafIndex(index)) if *index >= 0 => *index,
        Some(get_inclusion_proof_request::Leaf::Signature(name)) => {
            let signature_id = parse_name(name, "signatures", "signature", 36)?;
            signatures::get(&state.db, signature_id)
                .await
                .map_err(db_status)?
                .ok_or_else(|| status(ApiError::not_found(SIGNATURE_TYPE, name.clone())))?
                .log_index
        }
        _ => {
            return Err(status(ApiError::invalid(
                "INVALID_LEAF",
                "leaf_index",
                "required: a leaf index (not negative) or a signature",
            )));
        }
    };
    let (tree_size, checkpoint) = proof_size(state, request.tree_size, "tree_size").await?;
    if leaf_index >= tree_size {
        return Err(not_checkpointed(
            format!("leaves/{leaf_index}"),
            "the leaf is not in a checkpoint yet; retry within a second",
        ));
    }
    let proof = state.log.inclusion_proof(leaf_index as u64, tree_size as u64).await.map_err(db_status)?;
    let proof = proof.ok_or_else(|| status(ApiError::internal("a checkpointed leaf is missing")))?;
    let leaf_data = log::leaves(&state.db, leaf_index, leaf_index + 1)
        .await
        .map_err(db_status)?
        .pop()
        .map(|(_, data)| data)
        .ok_or_else(|| status(ApiError::internal("a checkpointed leaf is missing")))?;
    let entry = LogEntry::from_leaf_data(&leaf_data).map(|entry| entry_to_proto(leaf_index, &entry));
    Ok(pb::GetInclusionProofResponse {
        leaf_index,
        tree_size,
        hashes: proof.into_iter().map(|hash| hash.to_vec()).collect(),
        leaf_data,
        entry,
        checkpoint,
    })
}

fn entry_to_proto(index: i64, entry: &LogEntry) -> pb::LogEntry {
    pb::LogEntry {
        index,
        kind: match entry.kind {
            EntryKind::Signature => pb::LogEntryKind::Signature,
            EntryKind::Seal => pb::LogEntryKind::Seal,
            EntryKind::Revocation => pb::LogEntryKind::Revocation,
        } as i32,
        document_sha256: entry.document_sha256.map(|hash| hash.to_vec()).unwrap_or_default(),
        signature_sha256: entry.signature_sha256.map(|hash| hash.to_vec()).unwrap_or_default(),
        certificate_sha256: entry.certificate_sha256.to_vec(),
        time: Some(timestamps::to_proto(entry.time)),
        revocation_reason: 0,
    }
}

pub(super) async fn consistency_proof(
    state: &State,
    request: pb::GetConsistencyProofRequest,
) -> Result<pb::GetConsistencyProofResponse, Status> {
    let (second_size, checkpoint) = proof_size(state, request.second_size, "second_size").await?;
    if request.first_size < 1 || request.first_size > second_size {
        return Err(status(ApiError::invalid(
            "INVALID_TREE_SIZE",
            "first_size",
            "must be at least 1 and at most the second size",
        )));
    }
    let proof = state.log.consistency_proof(request.first_size as u64, second_size as u64).await.map_err(db_status)?;
    let proof = proof.ok_or_else(|| status(ApiError::internal("checkpointed leaves are missing")))?;
    Ok(pb::GetConsistencyProofResponse {
        first_size: request.first_size,
        second_size,
        hashes: proof.into_iter().map(|hash| hash.to_vec()).collect(),
        checkpoint,
    })
}

pub(super) async fn tile(state: &State, request: pb::GetTileRequest) -> Result<pb::GetTileResponse, Status> {
    let path = TilePath::parse(&request.path)
        .ok_or_else(|| status(ApiError::invalid("INVALID_TILE_PATH", "path", "not a C2SP tlog-tiles path")))?;
    let tree_size = latest(state).await?.tree_size;
    let data = state.log.tile(&path, tree_size as u64).await.map_err(db_status)?;
    let data = data.ok_or_else(|| status(ApiError::not_found("motcua.signing.v1.Tile", request.path.clone())))?;
    Ok(pb::GetTileResponse { data })
}
