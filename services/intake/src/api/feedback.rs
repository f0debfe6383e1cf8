//! The applicant's word on a dossier: the rating after its result is returned, and complaints and
//! suggestions at any time. Neither moves the dossier through the lifecycle; each is recorded on it
//! with its event, and a retry gets the original answer.

use chrono::{DateTime, Utc};
use motcua_chassis::{ApiError, idempotency::RequestKey, identity::Caller, timestamps};
use motcua_proto::motcua::intake::v1::{self as pb, intake_event::Payload};
use prost::Message;

use super::{
    IntakeApi, convert,
    dossiers::{decode, event},
    validate::Violations,
};
use crate::{
    domain::{
        dossier::{Dossier, Feedback, HistoryEntry, Rating},
        lifecycle::Status,
    },
    store::dossiers::{self, Effects, Outcome},
};

impl IntakeApi {
    pub(super) async fn rate(
        &self,
        caller: Caller,
        request: pb::RateDossierRequest,
    ) -> Result<pb::RateDossierResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "RateDossier", &request.encode_to_vec())?;
        let mut violations = Violations::default();
        let code = violations.dossier_name("name", &request.name, &self.state.code_format);
        if !(1..=3).contains(&request.rating) {
            violations.add("rating", "required: satisfied, neutral or dissatisfied");
        }
        violations.text("comment", &request.comment, false);
        violations.finish()?;
        let code = code.map(|code| code.printed()).unwrap_or_default();
        let now = self.state.clock.now();
        let mutate = |dossier: &mut Dossier| {
            may_act_on(&caller, dossier)?;
            if dossier.status != Status::Returned {
                return Err(ApiError::FailedPrecondition {
                    reason: "NOT_RETURNED",
                    violation_type: "STATUS",
                    subject: format!("dossiers/{code}"),
                    description: "only a dossier whose result was returned (status 10) can be rated".to_owned(),
                });
            }
            if dossier.rating.is_some() {
                return Err(ApiError::AlreadyExists {
                    reason: "ALREADY_RATED",
                    description: "the dossier already has a rating".to_owned(),
                });
            }
            dossier.rating = Some(Rating { rating: request.rating, comment: request.comment.clone(), time: now });
            dossier.update_time = now;
            Ok(None)
        };
        let effects = |dossier: &Dossier, _: Option<&HistoryEntry>| {
            let rating = rating_to_proto(dossier);
            let payload = Payload::DossierRated(pb::DossierRated {
                dossier: Some(convert::facts(dossier, None)),
                rating: request.rating,
            });
            Effects {
                response: pb::RateDossierResponse { rating }.encode_to_vec(),
                event: event(dossier, key.request_id(), payload),
            }
        };
        match dossiers::change(&self.state.db, &key, &code, mutate, effects).await? {
            Outcome::Done(dossier) => {
                self.state.feed.appended();
                Ok(pb::RateDossierResponse { rating: rating_to_proto(&dossier) })
            }
            Outcome::Replayed(bytes) => decode(&bytes),
        }
    }

    pub(super) async fn create_feedback_handler(
        &self,
        caller: Caller,
        request: pb::CreateFeedbackRequest,
    ) -> Result<pb::CreateFeedbackResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "CreateFeedback", &request.encode_to_vec())?;
        let mut violations = Violations::default();
        let code = violations.dossier_name("parent", &request.parent, &self.state.code_format);
        if !(1..=2).contains(&request.kind) {
            violations.add("kind", "required: complaint or suggestion");
        }
        violations.text("content", &request.content, true);
        let recorded_by = request.recorded_by.map(|officer| violations.officer("recorded_by", Some(officer)));
        violations.finish()?;
        let code = code.map(|code| code.printed()).unwrap_or_default();
        let now = self.state.clock.now();
        let mutate = |dossier: &mut Dossier| {
            may_act_on(&caller, dossier)?;
            let id = dossier.feedback.len() as u32 + 1;
            dossier.feedback.push(Feedback {
                id,
                kind: request.kind,
                content: request.content.clone(),
                recorded_by: recorded_by.clone(),
                time: now,
            });
            dossier.update_time = now;
            Ok(None)
        };
        let effects = |dossier: &Dossier, _: Option<&HistoryEntry>| {
            let feedback = latest_feedback(dossier, now);
            let payload = Payload::FeedbackCreated(pb::FeedbackCreated {
                dossier: Some(convert::facts(dossier, None)),
                feedback: feedback.as_ref().map(|feedback| feedback.name.clone()).unwrap_or_default(),
                kind: request.kind,
            });
            Effects {
                response: pb::CreateFeedbackResponse { feedback }.encode_to_vec(),
                event: event(dossier, key.request_id(), payload),
            }
        };
        match dossiers::change(&self.state.db, &key, &code, mutate, effects).await? {
            Outcome::Done(dossier) => {
                self.state.feed.appended();
                Ok(pb::CreateFeedbackResponse { feedback: latest_feedback(&dossier, now) })
            }
            Outcome::Replayed(bytes) => decode(&bytes),
        }
    }
}

/// Only the caller that filed a dossier, or one that handles its procedure, rates it or complains.
fn may_act_on(caller: &Caller, dossier: &Dossier) -> Result<(), ApiError> {
    if caller.may_read_dossier(&dossier.submitter_identity, &dossier.procedure_code) {
        return Ok(());
    }
    Err(ApiError::PermissionDenied {
        reason: "DOSSIER_NOT_ALLOWED",
        description: format!("{} may act only on the dossiers it filed or of its procedures", caller.identity),
    })
}

fn rating_to_proto(dossier: &Dossier) -> Option<pb::DossierRating> {
    dossier.rating.as_ref().map(|rating| pb::DossierRating {
        rating: rating.rating,
        comment: rating.comment.clone(),
        create_time: Some(timestamps::to_proto(rating.time)),
    })
}

fn latest_feedback(dossier: &Dossier, now: DateTime<Utc>) -> Option<pb::Feedback> {
    convert::dossier_to_proto(dossier, &[], now).feedback.pop()
}
