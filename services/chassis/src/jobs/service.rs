//! `motcua.jobs.v1.JobService`, which the chassis mounts on every service: the operator's view of the
//! service's jobs (`ListJobs`) and the one action on them (`RetryJob` of a dead-lettered job).

use motcua_proto::motcua::jobs::v1::{
    self as pb,
    job_service_server::{JobService, JobServiceServer},
};
use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};

use super::{
    JobState,
    store::{self, Filter, JobRecord},
};
use crate::{clock::Clock, error::ApiError, paging, timestamps};

/// The resource type of a job, in NOT_FOUND errors.
const JOB_TYPE: &str = "motcua.jobs.v1.Job";

/// The job service over the `jobs` table of `db`, its errors in `domain`.
pub fn server(db: DatabaseConnection, clock: Clock, domain: &'static str) -> JobServiceServer<JobApi> {
    JobServiceServer::new(JobApi { db, clock, domain })
}

/// The handlers of `motcua.jobs.v1.JobService`.
pub struct JobApi {
    db: DatabaseConnection,
    clock: Clock,
    domain: &'static str,
}

#[tonic::async_trait]
impl JobService for JobApi {
    async fn list_jobs(&self, request: Request<pb::ListJobsRequest>) -> Result<Response<pb::ListJobsResponse>, Status> {
        self.list(request.into_inner()).await.map(Response::new).map_err(|error| error.into_status(self.domain))
    }

    async fn retry_job(&self, request: Request<pb::RetryJobRequest>) -> Result<Response<pb::RetryJobResponse>, Status> {
        self.retry(request.into_inner()).await.map(Response::new).map_err(|error| error.into_status(self.domain))
    }
}

impl JobApi {
    async fn list(&self, request: pb::ListJobsRequest) -> Result<pb::ListJobsResponse, ApiError> {
        let page_size = paging::page_size(request.page_size)?;
        let state = match request.state {
            0 => None,
            code => Some(
                JobState::from_code(code)
                    .ok_or_else(|| ApiError::invalid("INVALID_STATE", "state", "not a job state"))?,
            ),
        };
        if request.kind.len() > 64 {
            return Err(ApiError::invalid("INVALID_KIND", "kind", "at most 64 characters"));
        }
        let filter = Filter { state, kind: Some(request.kind.clone()).filter(|kind| !kind.is_empty()) };
        let fingerprint = format!("state={}&kind={}", request.state, request.kind);
        let before_id = match paging::decode_token(&request.page_token, &fingerprint)? {
            None => None,
            Some(key) => Some(key.parse::<i64>().map_err(|_| {
                ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service")
            })?),
        };
        // One more than the page, to know whether another page follows.
        let mut records = store::list(&self.db, &filter, before_id, page_size + 1).await?;
        let next_page_token = if records.len() as u64 > page_size {
            records.truncate(page_size as usize);
            records.last().map(|last| paging::encode_token(&last.id.to_string(), &fingerprint)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::ListJobsResponse { jobs: records.iter().map(job).collect(), next_page_token })
    }

    async fn retry(&self, request: pb::RetryJobRequest) -> Result<pb::RetryJobResponse, ApiError> {
        let id = request
            .name
            .strip_prefix("jobs/")
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|id| *id > 0)
            .ok_or_else(|| ApiError::invalid("INVALID_NAME", "name", "must be jobs/{id}"))?;
        let not_found = || ApiError::not_found(JOB_TYPE, request.name.clone());
        let record = store::find(&self.db, id).await?.ok_or_else(not_found)?;
        if record.state == JobState::Succeeded {
            return Err(ApiError::FailedPrecondition {
                reason: "JOB_SUCCEEDED",
                violation_type: "STATE",
                subject: request.name.clone(),
                description: "the job has succeeded; there is nothing to retry".to_owned(),
            });
        }
        if record.state == JobState::DeadLettered {
            store::revive(&self.db, id, self.clock.now()).await?;
            tracing::info!(job = id, kind = %record.kind, subject = %record.subject, "dead-lettered job retried");
        }
        // Pending or running already (or revived just now): the job as it is now.
        let record = store::find(&self.db, id).await?.ok_or_else(not_found)?;
        Ok(pb::RetryJobResponse { job: Some(job(&record)) })
    }
}

/// The contract's form of a stored job.
fn job(record: &JobRecord) -> pb::Job {
    let state = match record.state {
        JobState::Pending => pb::JobState::Pending,
        JobState::Running => pb::JobState::Running,
        JobState::Succeeded => pb::JobState::Succeeded,
        JobState::DeadLettered => pb::JobState::DeadLettered,
    };
    pb::Job {
        name: format!("jobs/{}", record.id),
        kind: record.kind.clone(),
        subject: record.subject.clone(),
        state: state as i32,
        attempts: record.attempts,
        last_error_reason: record.last_error.clone(),
        request_id: record.request_id.clone(),
        cause_trace_id: trace_id(&record.traceparent),
        create_time: Some(timestamps::to_proto(record.created_at)),
        update_time: Some(timestamps::to_proto(record.updated_at)),
        next_attempt_time: (record.state == JobState::Pending).then(|| timestamps::to_proto(record.run_at)),
    }
}

/// The trace id of a stored W3C traceparent (`00-{trace id}-{span id}-{flags}`), or empty.
fn trace_id(traceparent: &str) -> String {
    traceparent.split('-').nth(1).unwrap_or_default().to_owned()
}
