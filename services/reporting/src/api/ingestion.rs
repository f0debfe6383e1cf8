//! `GetIngestionStatus`: where each feed follower stands (cursor, head, lag, leader, last error), the
//! latest rebuild, and the state of the branch names read from intake.

use motcua_chassis::ApiError;
use motcua_proto::motcua::reporting::v1 as pb;

use super::{ReportingApi, database, rebuilds::rebuild, timestamp};
use crate::{
    feeds::FeedName,
    store::{cursors, rebuilds},
};

impl ReportingApi {
    pub(super) async fn get_ingestion_status_handler(&self) -> Result<pb::GetIngestionStatusResponse, ApiError> {
        let jobs = &self.state.jobs;
        let rows = cursors::read_all(&jobs.db).await.map_err(database)?;
        let now = crate::jobs::now_ms();
        let mut feeds = Vec::new();
        for feed in FeedName::ALL {
            let Some(row) = rows.iter().find(|row| row.feed == feed.as_str()) else { continue };
            let local = jobs.follower(feed);
            let head = row.head.max(local.head).max(row.cursor);
            let lag_events = head - row.cursor;
            let lag_seconds = match (lag_events, row.last_event_ms) {
                (0, _) | (_, None) => 0.0,
                (_, Some(last_event)) => ((now - last_event).max(0) as f64) / 1000.0,
            };
            let leads = row.holder == jobs.holder;
            feeds.push(pb::FeedStatus {
                feed: feed.to_proto() as i32,
                source: jobs.sources.url(feed).to_owned(),
                cursor: row.cursor,
                head_sequence: head,
                lag_events,
                lag_seconds,
                last_event_time: row.last_event_ms.and_then(timestamp),
                last_apply_time: row.last_apply_ms.and_then(timestamp),
                state: if leads || row.holder.is_empty() { local.state } else { pb::FollowerState::Standby } as i32,
                leader: row.holder.clone(),
                last_error_reason: if leads { local.last_error } else { row.last_error.clone() },
            });
        }
        let rebuild = rebuilds::latest(&jobs.db).await.map_err(database)?.map(|row| rebuild(&row));
        let branch_names = Some(self.state.branch_names.status().await);
        Ok(pb::GetIngestionStatusResponse { feeds, rebuild, branch_names })
    }
}
