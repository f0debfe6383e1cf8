//! The `pipeline` scenario: the whole path of a dossier. A worker files it (intake's jobs then issue
//! its acknowledgement slip and fee receipt, and receipt's jobs have them signed), starts processing,
//! resolves it with a result the officer signs, has the leader approve and seal it, returns it and
//! rates it; the run is done when reporting has counted every one of them (its slips, fee receipts
//! and ratings in today's summary of CN01), which is what the scenario's throughput is timed to.
//! Reporting's ingestion lag is sampled all along.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use motcua_proto::motcua::{
    intake::v1 as intake,
    reporting::v1::{self as reporting},
};

use super::{
    load::Call,
    scenarios::{Clients, Setup, create_dossier_request, officer, request_id},
};
use crate::demo::{BRANCH, LEADER, OFFICER};

/// How often reporting's summary and ingestion status are read while waiting and sampling.
const POLL_EVERY: Duration = Duration::from_millis(250);

/// One dossier through every synchronous step, filing to rating.
pub fn call(pool: Arc<Vec<Clients>>, setup: Arc<Setup>) -> Call {
    Arc::new(move |worker| {
        let mut intake = pool[worker % pool.len()].intake.clone();
        let create = create_dossier_request(&setup);
        Box::pin(async move {
            let filed = intake.create_dossier(create).await?.into_inner().dossier.unwrap_or_default();
            let name = filed.name;
            let start = intake::StartProcessingRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: officer(OFFICER),
                ..Default::default()
            };
            intake.start_processing(start).await?;
            let document = format!("<ketQua><hoSo>{}</hoSo><noiDung>Đồng ý</noiDung></ketQua>", filed.dossier_code);
            let resolve = intake::ResolveDossierRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: officer(OFFICER),
                result_content: Some(intake::resolve_dossier_request::ResultContent::File(intake::DocumentFile {
                    file_name: "ket-qua.xml".to_owned(),
                    media_type: "application/xml".to_owned(),
                    content: document.into_bytes(),
                    ..Default::default()
                })),
                electronic: true,
                reason: String::new(),
            };
            intake.resolve_dossier(resolve).await?;
            let approve = intake::ApproveResultRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: officer(LEADER),
                reason: String::new(),
            };
            intake.approve_result(approve).await?;
            let give_back = intake::ReturnResultRequest {
                request_id: request_id(),
                name: name.clone(),
                actor: officer(OFFICER),
                return_method: intake::ReturnMethod::Electronic as i32,
                reason: String::new(),
            };
            intake.return_result(give_back).await?;
            let rate = intake::RateDossierRequest {
                request_id: request_id(),
                name,
                rating: intake::Rating::Satisfied as i32,
                comment: String::new(),
            };
            intake.rate_dossier(rate).await.map(drop)
        })
    })
}

/// What reporting counts of the path, today at CN01.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counted {
    slips: i64,
    fee_receipts: i64,
    ratings: i64,
}

impl Counted {
    /// The fewest of the three beyond `before`: how many whole paths reporting has counted.
    fn whole_paths_since(&self, before: &Self) -> i64 {
        (self.slips - before.slips).min(self.fee_receipts - before.fee_receipts).min(self.ratings - before.ratings)
    }
}

/// Today's counts of CN01 in reporting.
pub async fn counted(clients: &Clients, setup: &Setup) -> anyhow::Result<Counted> {
    let request = reporting::GetSummaryRequest {
        period: Some(reporting::Period {
            kind: reporting::PeriodKind::Day as i32,
            date: Some(setup.today),
            end_date: None,
        }),
        branch_code: BRANCH.to_owned(),
        ..Default::default()
    };
    let summary = clients.reporting.clone().get_summary(request).await.context("reporting: GetSummary")?;
    let counters = summary.into_inner().counters.unwrap_or_default();
    Ok(Counted {
        slips: counters.acknowledgement_slips_issued,
        fee_receipts: counters.fee_receipts_issued,
        ratings: counters.ratings_satisfied,
    })
}

/// Waits until reporting has counted `paths` whole paths beyond `before`, at most `timeout`; when it
/// did, the instant it was seen.
pub async fn wait_until_counted(
    clients: &Clients,
    setup: &Setup,
    before: Counted,
    paths: u64,
    timeout: Duration,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        let now = counted(clients, setup).await?;
        let whole = now.whole_paths_since(&before);
        if u64::try_from(whole).unwrap_or(0) >= paths {
            return Ok(Instant::now());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "reporting counted {whole} of {paths} dossiers' slips, fee receipts and ratings within {timeout:?} ({now:?})"
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// The largest ingestion lag reporting showed while sampled.
#[derive(Debug, Clone, Copy, Default)]
pub struct LagSeen {
    /// Events behind, the most of any feed at any sample.
    pub events: i64,
    /// Seconds behind, the most of any feed at any sample.
    pub seconds: f64,
}

/// Samples reporting's `GetIngestionStatus` until `stop` is set; the largest lag seen.
pub async fn sample_lag(clients: Clients, stop: Arc<AtomicBool>) -> LagSeen {
    let mut seen = LagSeen::default();
    let mut reporting = clients.reporting;
    while !stop.load(Ordering::Relaxed) {
        // A failed sample is a missing sample; the run's own calls report the failures.
        if let Ok(status) = reporting.get_ingestion_status(reporting::GetIngestionStatusRequest {}).await {
            for feed in status.into_inner().feeds {
                seen.events = seen.events.max(feed.lag_events);
                seen.seconds = seen.seconds.max(feed.lag_seconds);
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    seen
}
