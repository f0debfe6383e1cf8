//! The lifecycle moves, the rating and complaints: each validates its request, then makes its change
//! through one path that applies the state machine, records history and event, and answers a retry
//! with the original response.

use chrono::{DateTime, Utc};
use motcua_chassis::{ApiError, idempotency::RequestKey, identity::Caller, timestamps};
use motcua_proto::motcua::intake::v1::{self as pb, intake_event::Payload};
use prost::Message;

use super::{
    IntakeApi, convert,
    dossiers::{decode, event, submitted_components},
    validate::Violations,
};
use crate::{
    domain::{
        catalogue::{FeeItem, FeeMoment},
        dossier::{Command, Dossier, Feedback, HistoryEntry, MoveError, MoveMeta, Rating, RequestedComponent},
        lifecycle::Status,
    },
    store::{
        catalogue,
        dossiers::{self, Effects, Outcome},
    },
};

/// What every move request carries.
pub(super) struct MoveRequest {
    rpc: &'static str,
    body: Vec<u8>,
    request_id: String,
    name: String,
    actor: Option<pb::Officer>,
    reason: String,
    reason_required: bool,
}

impl IntakeApi {
    /// Makes one move: validation of the common fields, then the state machine on the stored dossier.
    /// `respond` builds the RPC's response from the dossier after the move; `payload` its event.
    pub(super) async fn make_move<R: Message + Default>(
        &self,
        caller: &Caller,
        request: MoveRequest,
        mut violations: Violations,
        command: Command,
        respond: impl Fn(pb::Dossier, &Dossier) -> R,
        payload: impl Fn(&Dossier, Option<Status>) -> Payload,
    ) -> Result<R, ApiError> {
        let key = RequestKey::new(&request.request_id, request.rpc, &request.body)?;
        let code = violations.dossier_name("name", &request.name, &self.state.code_format);
        let actor = violations.officer("actor", request.actor);
        violations.text("reason", &request.reason, request.reason_required);
        violations.finish()?;
        let code = code.map(|code| code.printed()).unwrap_or_default();
        let now = self.state.clock.now();
        let state = &self.state;
        let mutate = |dossier: &mut Dossier| {
            caller.check_branch(&dossier.branch_code)?;
            let meta = MoveMeta {
                actor: actor.clone(),
                reason: request.reason.clone(),
                now,
                request_id: key.request_id().to_owned(),
            };
            dossier.perform(command.clone(), meta, &state.calendar).map(Some).map_err(|error| move_error(&code, error))
        };
        let effects = |dossier: &Dossier, entry: Option<&HistoryEntry>| {
            let response = respond(convert::dossier_to_proto(dossier, &[], now), dossier);
            let from_status = entry.and_then(|entry| entry.from_status);
            Effects {
                response: response.encode_to_vec(),
                event: event(dossier, key.request_id(), payload(dossier, from_status)),
            }
        };
        match dossiers::change(&state.db, &key, &code, mutate, effects).await? {
            Outcome::Done(dossier) => {
                state.feed.appended();
                tracing::info!(dossier_code = %code, rpc = request.rpc, status = dossier.status as i32, "dossier moved");
                Ok(respond(convert::dossier_to_proto(&dossier, &[], now), &dossier))
            }
            Outcome::Replayed(bytes) => decode(&bytes),
        }
    }

    pub(super) async fn accept(
        &self,
        caller: Caller,
        request: pb::AcceptDossierRequest,
    ) -> Result<pb::AcceptDossierResponse, ApiError> {
        let body = request.encode_to_vec();
        let common = MoveRequest::new(
            "AcceptDossier",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            false,
        );
        self.make_move(
            &caller,
            common,
            Violations::default(),
            Command::Accept,
            |dossier, _| pb::AcceptDossierResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                Payload::DossierAccepted(pb::DossierAccepted { dossier: Some(convert::facts(dossier, from_status)) })
            },
        )
        .await
    }

    pub(super) async fn refuse(
        &self,
        caller: Caller,
        request: pb::RefuseDossierRequest,
    ) -> Result<pb::RefuseDossierResponse, ApiError> {
        let body = request.encode_to_vec();
        let common = MoveRequest::new(
            "RefuseDossier",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            true,
        );
        self.make_move(
            &caller,
            common,
            Violations::default(),
            Command::Refuse,
            |dossier, _| pb::RefuseDossierResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                Payload::DossierRefused(pb::DossierRefused {
                    dossier: Some(convert::facts(dossier, from_status)),
                    completion: convert::completion(dossier),
                })
            },
        )
        .await
    }

    pub(super) async fn start_processing_handler(
        &self,
        caller: Caller,
        request: pb::StartProcessingRequest,
    ) -> Result<pb::StartProcessingResponse, ApiError> {
        let body = request.encode_to_vec();
        let mut violations = Violations::default();
        let unit = request.processing_unit.map(|unit| {
            violations.text("processing_unit.unit_name", &unit.unit_name, true);
            convert::party_from_proto(unit)
        });
        let step_due = request.to_due_time.as_ref().and_then(timestamps::from_proto);
        let common = MoveRequest::new(
            "StartProcessing",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            false,
        );
        self.make_move(
            &caller,
            common,
            violations,
            Command::StartProcessing { unit, step_due },
            |dossier, _| pb::StartProcessingResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                Payload::ProcessingStarted(pb::ProcessingStarted {
                    dossier: Some(convert::facts(dossier, from_status)),
                })
            },
        )
        .await
    }

    pub(super) async fn transfer(
        &self,
        caller: Caller,
        request: pb::TransferDossierRequest,
    ) -> Result<pb::TransferDossierResponse, ApiError> {
        let body = request.encode_to_vec();
        let mut violations = Violations::default();
        let to = match request.to {
            Some(to) => {
                violations.text("to.unit_name", &to.unit_name, true);
                convert::party_from_proto(to)
            }
            None => {
                violations.add("to", "required: the receiving unit");
                Default::default()
            }
        };
        let step_due = request.to_due_time.as_ref().and_then(timestamps::from_proto);
        let common = MoveRequest::new(
            "TransferDossier",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            false,
        );
        self.make_move(
            &caller,
            common,
            violations,
            Command::Transfer { to, step_due },
            |proto, _| pb::TransferDossierResponse {
                hand_over: proto.hand_overs.last().cloned(),
                dossier: Some(proto),
            },
            |dossier, from_status| {
                let last = dossier.hand_overs.last();
                Payload::DossierTransferred(pb::DossierTransferred {
                    dossier: Some(convert::facts(dossier, from_status)),
                    hand_over_sequence: last.map_or(0, |hand_over| hand_over.sequence as i32),
                    from_unit_code: last.map(|hand_over| hand_over.from.unit_code.clone()).unwrap_or_default(),
                    to_unit_code: last.map(|hand_over| hand_over.to.unit_code.clone()).unwrap_or_default(),
                    timeliness: last.map_or(0, |hand_over| hand_over.timeliness as i32),
                })
            },
        )
        .await
    }

    pub(super) async fn request_supplement_handler(
        &self,
        caller: Caller,
        request: pb::RequestSupplementRequest,
    ) -> Result<pb::RequestSupplementResponse, ApiError> {
        let body = request.encode_to_vec();
        let mut violations = Violations::default();
        if request.requested_components.is_empty() {
            violations.add("requested_components", "required: at least one component to supplement");
        }
        let requested = request
            .requested_components
            .into_iter()
            .enumerate()
            .map(|(index, component)| {
                violations.text(&format!("requested_components[{index}].note"), &component.note, true);
                RequestedComponent { component_code: component.component_code, note: component.note }
            })
            .collect();
        let common = MoveRequest::new(
            "RequestSupplement",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            true,
        );
        self.make_move(
            &caller,
            common,
            violations,
            Command::RequestSupplement { requested },
            |dossier, _| pb::RequestSupplementResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                let round = dossier.supplements.last();
                Payload::SupplementRequested(pb::SupplementRequested {
                    dossier: Some(convert::facts(dossier, from_status)),
                    round: round.map_or(0, |round| round.round as i32),
                    requested_component_count: round.map_or(0, |round| round.requested_components.len() as i32),
                })
            },
        )
        .await
    }

    pub(super) async fn supplement(
        &self,
        caller: Caller,
        request: pb::SupplementDossierRequest,
    ) -> Result<pb::SupplementDossierResponse, ApiError> {
        let body = request.encode_to_vec();
        let mut violations = Violations::default();
        if request.components.is_empty() {
            violations.add("components", "required: the components supplemented");
        }
        // Supplemented components are checked against the dossier's own procedure version.
        let components = match self.state.code_format.parse_name(&request.name) {
            Some(code) => match dossiers::find(&self.state.db, &code.printed()).await? {
                Some(record) => {
                    let procedure = catalogue::get(
                        &self.state.db,
                        &record.dossier.procedure_code,
                        Some(record.dossier.procedure_version),
                    )
                    .await?;
                    let known = procedure.map(|procedure| procedure.spec.components).unwrap_or_default();
                    let not_required: Vec<_> = known
                        .into_iter()
                        .map(|component| crate::domain::catalogue::Component { required: false, ..component })
                        .collect();
                    submitted_components(&mut violations, &not_required, request.components)
                }
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        let common = MoveRequest::new(
            "SupplementDossier",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            false,
        );
        self.make_move(
            &caller,
            common,
            violations,
            Command::Supplement { components },
            |dossier, _| pb::SupplementDossierResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                let round = dossier.supplements.iter().rev().find(|round| round.supplement_time.is_some());
                Payload::DossierSupplemented(pb::DossierSupplemented {
                    dossier: Some(convert::facts(dossier, from_status)),
                    round: round.map_or(0, |round| round.round as i32),
                    wait: round.and_then(|round| {
                        round.supplement_time.map(|done| prost_types::Duration {
                            seconds: (done - round.request_time).num_seconds(),
                            nanos: 0,
                        })
                    }),
                    components: Some(convert::component_counts(
                        &dossier
                            .components
                            .iter()
                            .filter(|component| component.supplement_round > 0)
                            .cloned()
                            .collect::<Vec<_>>(),
                    )),
                })
            },
        )
        .await
    }

    pub(super) async fn request_payment_handler(
        &self,
        caller: Caller,
        request: pb::RequestPaymentRequest,
    ) -> Result<pb::RequestPaymentResponse, ApiError> {
        let body = request.encode_to_vec();
        let mut violations = Violations::default();
        if request.items.is_empty() {
            violations.add("items", "required: at least one fee item");
        }
        let items = request
            .items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                violations.text(&format!("items[{index}].name"), &item.name, true);
                let amount = item.amount.map_or(0, |amount| amount.dong);
                if amount <= 0 {
                    violations.add(format!("items[{index}].amount"), "a positive number of đồng");
                }
                FeeItem { name: item.name, amount_dong: amount, moment: FeeMoment::AtIntake }
            })
            .collect();
        let common = MoveRequest::new(
            "RequestPayment",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            false,
        );
        self.make_move(
            &caller,
            common,
            violations,
            Command::RequestPayment { items },
            |dossier, _| pb::RequestPaymentResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                let round = dossier.payments.last();
                Payload::PaymentRequested(pb::PaymentRequested {
                    dossier: Some(convert::facts(dossier, from_status)),
                    round: round.map_or(0, |round| round.round as i32),
                    total: round.map(|round| motcua_proto::motcua::common::v1::Money {
                        dong: round.items.iter().map(|item| item.amount_dong).sum(),
                    }),
                })
            },
        )
        .await
    }

    pub(super) async fn confirm_payment_handler(
        &self,
        caller: Caller,
        request: pb::ConfirmPaymentRequest,
    ) -> Result<pb::ConfirmPaymentResponse, ApiError> {
        let body = request.encode_to_vec();
        let mut violations = Violations::default();
        violations.text("receipt", &request.receipt, false);
        let common = MoveRequest::new(
            "ConfirmPayment",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            false,
        );
        self.make_move(
            &caller,
            common,
            violations,
            Command::ConfirmPayment { receipt: request.receipt },
            |dossier, _| pb::ConfirmPaymentResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                let round = dossier.payments.iter().rev().find(|round| round.confirm_time.is_some());
                Payload::PaymentConfirmed(pb::PaymentConfirmed {
                    dossier: Some(convert::facts(dossier, from_status)),
                    round: round.map_or(0, |round| round.round as i32),
                    total: round.map(|round| motcua_proto::motcua::common::v1::Money {
                        dong: round.items.iter().map(|item| item.amount_dong).sum(),
                    }),
                    receipt: round.map(|round| round.receipt.clone()).unwrap_or_default(),
                })
            },
        )
        .await
    }

    pub(super) async fn stop(
        &self,
        caller: Caller,
        request: pb::StopDossierRequest,
    ) -> Result<pb::StopDossierResponse, ApiError> {
        let body = request.encode_to_vec();
        let common = MoveRequest::new(
            "StopDossier",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            true,
        );
        self.make_move(
            &caller,
            common,
            Violations::default(),
            Command::Stop,
            |dossier, _| pb::StopDossierResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                Payload::DossierStopped(pb::DossierStopped {
                    dossier: Some(convert::facts(dossier, from_status)),
                    completion: convert::completion(dossier),
                })
            },
        )
        .await
    }

    pub(super) async fn withdraw(
        &self,
        caller: Caller,
        request: pb::WithdrawDossierRequest,
    ) -> Result<pb::WithdrawDossierResponse, ApiError> {
        let body = request.encode_to_vec();
        let common = MoveRequest::new(
            "WithdrawDossier",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            true,
        );
        self.make_move(
            &caller,
            common,
            Violations::default(),
            Command::Withdraw,
            |dossier, _| pb::WithdrawDossierResponse { dossier: Some(dossier) },
            |dossier, from_status| {
                Payload::DossierWithdrawn(pb::DossierWithdrawn { dossier: Some(convert::facts(dossier, from_status)) })
            },
        )
        .await
    }

    pub(super) async fn apologize(
        &self,
        caller: Caller,
        request: pb::ApologizeDossierRequest,
    ) -> Result<pb::ApologizeDossierResponse, ApiError> {
        let body = request.encode_to_vec();
        let mut violations = Violations::default();
        let new_appointment = request.new_appointment_time.as_ref().and_then(timestamps::from_proto);
        if new_appointment.is_none() {
            violations.add("new_appointment_time", "required: the new appointment");
        }
        let command = Command::Apologize { new_appointment: new_appointment.unwrap_or_default() };
        let common = MoveRequest::new(
            "ApologizeDossier",
            body,
            request.request_id,
            request.name,
            request.actor,
            request.reason,
            true,
        );
        self.make_move(
            &caller,
            common,
            violations,
            command,
            |proto, _| pb::ApologizeDossierResponse { apology: proto.apologies.last().cloned(), dossier: Some(proto) },
            |dossier, from_status| {
                let apology = dossier.apologies.last();
                Payload::DossierApologized(pb::DossierApologized {
                    dossier: Some(convert::facts(dossier, from_status)),
                    sequence: apology.map_or(0, |apology| apology.sequence as i32),
                    previous_appointment_time: apology
                        .map(|apology| timestamps::to_proto(apology.previous_appointment)),
                })
            },
        )
        .await
    }

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
            if !caller.may_read_dossier(&dossier.submitter_identity, &dossier.procedure_code) {
                return Err(ApiError::PermissionDenied {
                    reason: "DOSSIER_NOT_ALLOWED",
                    description: format!(
                        "{} may act only on the dossiers it filed or of its procedures",
                        caller.identity
                    ),
                });
            }
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
            if !caller.may_read_dossier(&dossier.submitter_identity, &dossier.procedure_code) {
                return Err(ApiError::PermissionDenied {
                    reason: "DOSSIER_NOT_ALLOWED",
                    description: format!(
                        "{} may act only on the dossiers it filed or of its procedures",
                        caller.identity
                    ),
                });
            }
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

impl MoveRequest {
    pub(super) fn new(
        rpc: &'static str,
        body: Vec<u8>,
        request_id: String,
        name: String,
        actor: Option<pb::Officer>,
        reason: String,
        reason_required: bool,
    ) -> Self {
        Self { rpc, body, request_id, name, actor, reason, reason_required }
    }
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

fn move_error(code: &str, error: MoveError) -> ApiError {
    match error {
        MoveError::Refused(refusal) => ApiError::FailedPrecondition {
            reason: "INVALID_STATUS_TRANSITION",
            violation_type: "STATUS",
            subject: format!("dossiers/{code}"),
            description: refusal.describe(),
        },
        MoveError::AppointmentNotLater => ApiError::invalid(
            "APPOINTMENT_NOT_LATER",
            "new_appointment_time",
            "must be later than the current appointment",
        ),
    }
}
