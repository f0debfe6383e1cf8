//! `RebuildProjections`: rebuilds the rollups from the feeds, one rebuild at a time across replicas; a
//! retried request answers with the rebuild it started.

use motcua_chassis::ApiError;
use motcua_proto::motcua::reporting::v1 as pb;
use prost::Message as _;

use super::{ReportingApi, database, timestamp};
use crate::{jobs, store::rebuilds};

/// How long a running rebuild may go unheard of before it counts as abandoned (its replica stopped).
const STALE_AFTER_MS: i64 = 120_000;

impl ReportingApi {
    pub(super) async fn rebuild_projections_handler(
        &self,
        request: pb::RebuildProjectionsRequest,
    ) -> Result<pb::RebuildProjectionsResponse, ApiError> {
        if uuid::Uuid::parse_str(&request.request_id).is_err() {
            return Err(ApiError::invalid("INVALID_REQUEST_ID", "request_id", "must be a UUID"));
        }
        let db = &self.state.jobs.db;
        if let Some(existing) = rebuilds::by_request(db, &request.request_id).await.map_err(database)? {
            return Ok(pb::RebuildProjectionsResponse { rebuild: Some(rebuild(&existing)) });
        }
        let now = jobs::now_ms();
        rebuilds::abandon_stale(db, now - STALE_AFTER_MS, now).await.map_err(database)?;
        if let Some(running) = rebuilds::running(db).await.map_err(database)? {
            return Err(in_progress(&running));
        }
        let rebuild_id = uuid::Uuid::new_v4().to_string();
        // The rebuild's row and the call's audit record commit together.
        let transaction = motcua_chassis::db::begin_write(db).await.map_err(database)?;
        if let Err(error) = rebuilds::insert(&transaction, &rebuild_id, &request.request_id, now).await {
            let _ = transaction.rollback().await;
            // Another replica started one since the check above.
            return Err(match rebuilds::running(db).await.map_err(database)? {
                Some(running) => in_progress(&running),
                None => database(error),
            });
        }
        let started = rebuilds::by_request(&transaction, &request.request_id)
            .await
            .map_err(database)?
            .ok_or_else(|| ApiError::internal("the rebuild just recorded is missing"))?;
        let answer = pb::RebuildProjectionsResponse { rebuild: Some(rebuild(&started)) };
        motcua_chassis::audit::record_in(&transaction, &answer.encode_to_vec()).await.map_err(database)?;
        transaction.commit().await.map_err(database)?;
        tokio::spawn(jobs::rebuild(self.state.jobs.clone(), rebuild_id));
        Ok(answer)
    }
}

fn in_progress(running: &rebuilds::RebuildRow) -> ApiError {
    ApiError::FailedPrecondition {
        reason: "REBUILD_IN_PROGRESS",
        violation_type: "REBUILD",
        subject: format!("rebuilds/{}", running.rebuild_id),
        description: "a rebuild is already running; follow it with GetIngestionStatus".to_owned(),
    }
}

/// A rebuild as the contract has it.
pub(super) fn rebuild(row: &rebuilds::RebuildRow) -> pb::Rebuild {
    pb::Rebuild {
        rebuild_id: row.rebuild_id.clone(),
        state: row.state,
        start_time: timestamp(row.start_ms),
        end_time: row.end_ms.and_then(timestamp),
        events_applied: row.events_applied,
        error_reason: row.error_reason.clone(),
    }
}
