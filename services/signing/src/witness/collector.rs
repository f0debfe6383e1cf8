//! The log's side of witnessing: for each new checkpoint, the tlog-witness `add-checkpoint` request to
//! every configured witness, with the consistency proof from the size that witness last cosigned; each
//! cosignature that verifies with the witness's configured key is stored, for [`super::published`].

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use motcua_chassis::{ServiceConfig, peer};
use motcua_proto::motcua::signing::v1::{self as pb, witness_service_client::WitnessServiceClient};
use sea_orm::DatabaseConnection;
use tonic_types::StatusExt;

use super::{Settings, WitnessPeer, domain, store};
use crate::{domain::checkpoint, store::entities::cosignature, transparency::TransparencyLog};

/// How often the collector looks for a checkpoint its witnesses have not cosigned.
const COLLECT_INTERVAL: Duration = Duration::from_millis(500);
/// How long one witness is given to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(5);

/// One witness, with its client.
struct Submission {
    witness: WitnessPeer,
    client: WitnessServiceClient<peer::PeerChannel>,
}

/// Starts the collector of `log` when witnesses are configured. It holds the log weakly: when the
/// service's handlers are dropped (the server stopped), it ends.
pub fn spawn(
    config: &ServiceConfig,
    settings: &Settings,
    db: DatabaseConnection,
    log: &Arc<TransparencyLog>,
) -> anyhow::Result<()> {
    let mut submissions = Vec::new();
    for witness in &settings.witnesses {
        let channel = peer::connect_as(config, &witness.url)?;
        submissions.push(Submission { witness: witness.clone(), client: WitnessServiceClient::new(channel) });
    }
    if submissions.is_empty() {
        return Ok(());
    }
    let weak_log = Arc::downgrade(log);
    tokio::spawn(async move {
        loop {
            let Some(log) = weak_log.upgrade() else { return };
            for submission in &mut submissions {
                if let Err(error) = collect(&db, &log, submission).await {
                    tracing::warn!(witness = %submission.witness.key.name, %error, "collecting a cosignature failed; retrying");
                }
            }
            drop(log);
            tokio::time::sleep(COLLECT_INTERVAL).await;
        }
    });
    Ok(())
}

/// Submits the latest checkpoint to one witness unless it cosigned it already; on OLD_SIZE_MISMATCH
/// (another replica, or a witness that lost or gained state) once more from the size it answers.
async fn collect(db: &DatabaseConnection, log: &TransparencyLog, submission: &mut Submission) -> anyhow::Result<()> {
    let name = submission.witness.key.name.clone();
    let Some(latest) = store::latest_checkpoint(db).await? else { return Ok(()) };
    let cosigned = store::cosigned_size(db, &name).await?;
    if cosigned == Some(latest.tree_size) {
        return Ok(());
    }
    let mut old_size = cosigned.filter(|size| *size <= latest.tree_size).unwrap_or(0);
    for _attempt in 0..2 {
        let proof = if old_size == 0 || old_size == latest.tree_size {
            Vec::new()
        } else {
            log.consistency_proof(old_size as u64, latest.tree_size as u64)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no consistency proof from {old_size} to {}", latest.tree_size))?
        };
        let body = domain::add_checkpoint_body(old_size as u64, &proof, &latest.note);
        let mut request = tonic::Request::new(pb::AddCheckpointRequest { body });
        request.set_timeout(WITNESS_TIMEOUT);
        match submission.client.add_checkpoint(request).await {
            Ok(response) => {
                let lines = response.into_inner().cosignatures;
                return store_verified(db, &submission.witness, &latest.note, latest.tree_size, &lines).await;
            }
            Err(status) => {
                let info = status.get_error_details().error_info().cloned();
                let reason = info.as_ref().map(|info| info.reason.clone()).unwrap_or_default();
                let witness_size = info.and_then(|info| info.metadata.get("tree_size")?.parse::<i64>().ok());
                match witness_size {
                    Some(size) if reason == "OLD_SIZE_MISMATCH" && size <= latest.tree_size && size != old_size => {
                        old_size = size;
                    }
                    _ => {
                        tracing::error!(
                            witness = %name,
                            tree_size = latest.tree_size,
                            code = ?status.code(),
                            reason,
                            message = status.message(),
                            "A WITNESS REFUSED THIS LOG'S CHECKPOINT"
                        );
                        return Ok(());
                    }
                }
            }
        }
    }
    Ok(())
}

/// Stores the first cosignature line of `witness` over the checkpoint `note` that verifies with its
/// key.
async fn store_verified(
    db: &DatabaseConnection,
    witness: &WitnessPeer,
    note: &str,
    tree_size: i64,
    lines: &str,
) -> anyhow::Result<()> {
    // The specification's way: the answer appended to the checkpoint reads as one signed note.
    let cosigned = checkpoint::parse(&format!("{note}{lines}"))?;
    let verified = cosigned.signatures.iter().find_map(|line| {
        domain::verify_cosignature(&witness.key, line, &cosigned.text).map(|timestamp| (line, timestamp))
    });
    let Some((line, timestamp)) = verified else {
        tracing::error!(witness = %witness.key.name, tree_size, "the witness answered no cosignature that verifies with its key");
        return Ok(());
    };
    let cosigned_at = chrono::DateTime::from_timestamp(timestamp as i64, 0)
        .ok_or_else(|| anyhow::anyhow!("a cosignature's timestamp {timestamp} is not a time"))?;
    let mut bytes = line.key_id.to_vec();
    bytes.extend_from_slice(&line.signature);
    let signature_line = format!("\u{2014} {} {}\n", line.key_name, STANDARD.encode(bytes));
    let row = cosignature::Model { tree_size, witness_name: witness.key.name.clone(), signature_line, cosigned_at };
    store::store_cosignature(db, row).await?;
    Ok(())
}
