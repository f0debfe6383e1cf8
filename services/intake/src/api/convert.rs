//! Between the contract's messages and intake's domain: dossiers, officers, components, history,
//! follow-ups and the feed's events. No rules here, only shapes.

use motcua_chassis::{jobs::JobState, timestamps::to_proto};
use motcua_proto::motcua::{
    common::v1::{self as common, Money},
    intake::v1::{self as pb, intake_event::Payload},
};
use prost_types::Duration;

use crate::{
    domain::{
        applicant::Applicant,
        catalogue::{FeeItem, FeeMoment, Level},
        dossier::{Dossier, HandOverParty, HistoryEntry, Officer, SubmittedComponent, Timeliness},
        lifecycle::Status,
    },
    store::follow_ups::FollowUps,
};

pub fn officer_to_proto(officer: &Officer) -> pb::Officer {
    pb::Officer {
        officer_id: officer.officer_id.clone(),
        display_name: officer.display_name.clone(),
        unit: officer.unit.clone(),
    }
}

pub fn officer_from_proto(officer: pb::Officer) -> Officer {
    Officer { officer_id: officer.officer_id, display_name: officer.display_name, unit: officer.unit }
}

pub fn party_to_proto(party: &HandOverParty) -> pb::HandOverParty {
    pb::HandOverParty {
        unit_code: party.unit_code.clone(),
        unit_name: party.unit_name.clone(),
        officer: party.officer.as_ref().map(officer_to_proto),
    }
}

pub fn party_from_proto(party: pb::HandOverParty) -> HandOverParty {
    HandOverParty {
        unit_code: party.unit_code,
        unit_name: party.unit_name,
        officer: party.officer.map(officer_from_proto),
    }
}

pub fn level_to_proto(level: Level) -> common::ImplementationLevel {
    match level {
        Level::Ministry => common::ImplementationLevel::Ministry,
        Level::Province => common::ImplementationLevel::Province,
        Level::District => common::ImplementationLevel::District,
        Level::Commune => common::ImplementationLevel::Commune,
    }
}

pub fn fee_moment_to_proto(moment: FeeMoment) -> common::FeeMoment {
    match moment {
        FeeMoment::AtIntake => common::FeeMoment::AtIntake,
        FeeMoment::AtSupplement => common::FeeMoment::AtSupplement,
        FeeMoment::AtReturn => common::FeeMoment::AtReturn,
    }
}

pub fn fee_item_to_proto(item: &FeeItem) -> pb::FeeItem {
    pb::FeeItem {
        name: item.name.clone(),
        amount: Some(Money { dong: item.amount_dong }),
        moment: fee_moment_to_proto(item.moment) as i32,
    }
}

pub fn applicant_to_proto(applicant: &Applicant) -> common::Applicant {
    use common::applicant::Kind;
    let kind = match applicant {
        Applicant::Citizen { identity_number, full_name, date_of_birth, phone, address } => {
            Kind::Citizen(common::Citizen {
                identity_number: identity_number.clone(),
                full_name: full_name.clone(),
                date_of_birth: date_of_birth.map(|date| {
                    use chrono::Datelike;
                    motcua_proto::google::r#type::Date {
                        year: date.year(),
                        month: date.month() as i32,
                        day: date.day() as i32,
                    }
                }),
                phone: phone.clone(),
                address: address.clone(),
            })
        }
        Applicant::Organisation { tax_code, name, address, phone } => Kind::Organisation(common::Organisation {
            tax_code: tax_code.clone(),
            name: name.clone(),
            address: address.clone(),
            phone: phone.clone(),
        }),
    };
    common::Applicant { kind: Some(kind) }
}

fn component_to_proto(component: &SubmittedComponent) -> pb::SubmittedComponent {
    pb::SubmittedComponent {
        component_code: component.component_code.clone(),
        component_name: component.component_name.clone(),
        copy_kind: component.copy_kind,
        copies: component.copies as i32,
        content: component.stored_document.clone().map(pb::submitted_component::Content::StoredDocument),
        document: String::new(),
        digitized: component.copy_kind == common::CopyKind::Electronic as i32,
        reused: component.stored_document.is_some(),
        supplement_round: component.supplement_round as i32,
    }
}

fn timeliness_to_proto(timeliness: Timeliness) -> pb::Timeliness {
    match timeliness {
        Timeliness::Early => pb::Timeliness::Early,
        Timeliness::OnTime => pb::Timeliness::OnTime,
        Timeliness::Late => pb::Timeliness::Late,
    }
}

fn seconds(seconds: i64) -> Duration {
    Duration { seconds, nanos: 0 }
}

pub fn history_to_proto(entry: &HistoryEntry) -> pb::HistoryEntry {
    pb::HistoryEntry {
        sequence: entry.sequence as i32,
        r#move: entry.dossier_move as i32,
        from_status: entry.from_status.map_or(0, |status| status as i32),
        to_status: entry.to_status as i32,
        actor: Some(officer_to_proto(&entry.actor)),
        reason: entry.reason.clone(),
        time: Some(to_proto(entry.time)),
        request_id: entry.request_id.clone(),
    }
}

/// The contract's dossier. `history` is empty in the BASIC view.
pub fn dossier_to_proto(
    dossier: &Dossier,
    history: &[HistoryEntry],
    now: chrono::DateTime<chrono::Utc>,
) -> pb::Dossier {
    let code = dossier.code.printed();
    pb::Dossier {
        name: format!("dossiers/{code}"),
        dossier_code: code,
        branch_code: dossier.branch_code.clone(),
        agency_code: dossier.code.agency_code.clone(),
        procedure_code: dossier.procedure_code.clone(),
        procedure_version: dossier.procedure_version,
        procedure_name: dossier.procedure_name.clone(),
        level: level_to_proto(dossier.level) as i32,
        channel: dossier.channel,
        applicant: Some(applicant_to_proto(&dossier.applicant)),
        receiving_officer: Some(officer_to_proto(&dossier.receiving_officer)),
        components: dossier.components.iter().map(component_to_proto).collect(),
        status: dossier.status as i32,
        create_time: Some(to_proto(dossier.create_time)),
        receive_time: dossier.receive_time.map(to_proto),
        counted_receive_time: dossier.counted_receive_time.map(to_proto),
        initial_appointment_time: dossier.initial_appointment.map(to_proto),
        appointment_time: dossier.appointment.map(to_proto),
        overdue: dossier.overdue_at(now),
        end_time: dossier.end_time.map(to_proto),
        timeliness: dossier.timeliness.map_or(0, |timeliness| timeliness_to_proto(timeliness) as i32),
        supplement_request_count: dossier.supplement_request_count as i32,
        supplement_wait: Some(seconds(dossier.supplement_wait_seconds)),
        current_holder: dossier.current_holder.as_ref().map(party_to_proto),
        result: dossier.result.as_ref().map(|result| pb::DossierResult {
            document: result.document.clone(),
            document_sha256: result.document_sha256.clone(),
            electronic: result.electronic,
            resolved_by: result.resolved_by.as_ref().map(officer_to_proto),
            resolve_time: result.resolve_time.map(to_proto),
            officer_signature: result.officer_signature.clone(),
            officer_signature_log_index: result.officer_signature_log_index,
            approved_by: result.approved_by.as_ref().map(officer_to_proto),
            approve_time: result.approve_time.map(to_proto),
            seal_signature: result.seal_signature.clone(),
            seal_log_index: result.seal_log_index,
            return_method: result.return_method,
            return_time: result.return_time.map(to_proto),
        }),
        history: history.iter().map(history_to_proto).collect(),
        hand_overs: dossier
            .hand_overs
            .iter()
            .map(|hand_over| pb::HandOver {
                sequence: hand_over.sequence as i32,
                from: Some(party_to_proto(&hand_over.from)),
                to: Some(party_to_proto(&hand_over.to)),
                hand_over_time: Some(to_proto(hand_over.time)),
                step_due_time: Some(to_proto(hand_over.step_due_time)),
                timeliness: timeliness_to_proto(hand_over.timeliness) as i32,
                note: hand_over.note.clone(),
            })
            .collect(),
        supplements: dossier
            .supplements
            .iter()
            .map(|round| pb::SupplementRound {
                round: round.round as i32,
                request_time: Some(to_proto(round.request_time)),
                requested_by: Some(officer_to_proto(&round.requested_by)),
                reason: round.reason.clone(),
                requested_components: round
                    .requested_components
                    .iter()
                    .map(|component| pb::RequestedComponent {
                        component_code: component.component_code.clone(),
                        note: component.note.clone(),
                    })
                    .collect(),
                supplement_time: round.supplement_time.map(to_proto),
                wait: round.supplement_time.map(|done| seconds((done - round.request_time).num_seconds())),
            })
            .collect(),
        payments: dossier
            .payments
            .iter()
            .map(|round| pb::PaymentRound {
                round: round.round as i32,
                items: round.items.iter().map(fee_item_to_proto).collect(),
                total: Some(Money { dong: round.items.iter().map(|item| item.amount_dong).sum() }),
                request_time: Some(to_proto(round.request_time)),
                confirm_time: round.confirm_time.map(to_proto),
                receipt: round.receipt.clone(),
            })
            .collect(),
        apologies: dossier
            .apologies
            .iter()
            .map(|apology| pb::Apology {
                sequence: apology.sequence as i32,
                apology_time: Some(to_proto(apology.time)),
                actor: Some(officer_to_proto(&apology.actor)),
                reason: apology.reason.clone(),
                previous_appointment_time: Some(to_proto(apology.previous_appointment)),
                new_appointment_time: Some(to_proto(apology.new_appointment)),
            })
            .collect(),
        rating: dossier.rating.as_ref().map(|rating| pb::DossierRating {
            rating: rating.rating,
            comment: rating.comment.clone(),
            create_time: Some(to_proto(rating.time)),
        }),
        feedback: dossier
            .feedback
            .iter()
            .map(|feedback| pb::Feedback {
                name: format!("dossiers/{}/feedback/{}", dossier.code.printed(), feedback.id),
                kind: feedback.kind,
                content: feedback.content.clone(),
                recorded_by: feedback.recorded_by.as_ref().map(officer_to_proto),
                create_time: Some(to_proto(feedback.time)),
            })
            .collect(),
        follow_ups: Vec::new(),
        receipts: Vec::new(),
        update_time: Some(to_proto(dossier.update_time)),
        submitter_identity: dossier.submitter_identity.clone(),
    }
}

/// The facts of a dossier every event carries: codes, status, times. No personal data.
pub fn facts(dossier: &Dossier, previous: Option<Status>) -> pb::DossierFacts {
    pb::DossierFacts {
        dossier_code: dossier.code.printed(),
        branch_code: dossier.branch_code.clone(),
        agency_code: dossier.code.agency_code.clone(),
        procedure_code: dossier.procedure_code.clone(),
        procedure_version: dossier.procedure_version,
        level: level_to_proto(dossier.level) as i32,
        channel: dossier.channel,
        status: dossier.status as i32,
        previous_status: previous.map_or(0, |status| status as i32),
        counted_receive_time: dossier.counted_receive_time.map(to_proto),
        appointment_time: dossier.appointment.map(to_proto),
    }
}

/// How processing ended, for the events that end it.
pub fn completion(dossier: &Dossier) -> Option<pb::Completion> {
    let end = dossier.end_time?;
    Some(pb::Completion {
        end_time: Some(to_proto(end)),
        timeliness: dossier.timeliness.map_or(0, |timeliness| timeliness_to_proto(timeliness) as i32),
        processing_duration: dossier.counted_receive_time.map(|start| seconds((end - start).num_seconds())),
        supplement_wait: Some(seconds(dossier.supplement_wait_seconds)),
        supplement_request_count: dossier.supplement_request_count as i32,
        initial_appointment_time: dossier.initial_appointment.map(to_proto),
    })
}

/// The components' counts an event carries.
pub fn component_counts(components: &[SubmittedComponent]) -> pb::ComponentCounts {
    pb::ComponentCounts {
        filed: components.len() as i32,
        digitized: components
            .iter()
            .filter(|component| component.copy_kind == common::CopyKind::Electronic as i32)
            .count() as i32,
        reused: components.iter().filter(|component| component.stored_document.is_some()).count() as i32,
    }
}

/// The event type stored with a payload, for logs and filters.
pub fn event_type(payload: &Payload) -> &'static str {
    match payload {
        Payload::DossierCreated(_) => "dossier_created",
        Payload::DossierAccepted(_) => "dossier_accepted",
        Payload::DossierRefused(_) => "dossier_refused",
        Payload::ProcessingStarted(_) => "processing_started",
        Payload::DossierTransferred(_) => "dossier_transferred",
        Payload::SupplementRequested(_) => "supplement_requested",
        Payload::DossierSupplemented(_) => "dossier_supplemented",
        Payload::PaymentRequested(_) => "payment_requested",
        Payload::PaymentConfirmed(_) => "payment_confirmed",
        Payload::DossierStopped(_) => "dossier_stopped",
        Payload::DossierWithdrawn(_) => "dossier_withdrawn",
        Payload::ResultSigned(_) => "result_signed",
        Payload::ResultApproved(_) => "result_approved",
        Payload::ResultReturned(_) => "result_returned",
        Payload::DossierApologized(_) => "dossier_apologized",
        Payload::DossierRated(_) => "dossier_rated",
        Payload::FeedbackCreated(_) => "feedback_created",
        Payload::DocumentAdded(_) => "document_added",
        Payload::FollowUpDone(_) => "follow_up_done",
        Payload::Heartbeat(_) => "heartbeat",
    }
}

/// The follow-ups of a dossier as the contract shows them: each job's state (a job leased for an attempt
/// is still pending), with the receipt it produced once done.
pub fn follow_ups_to_proto(follow_ups: &FollowUps) -> Vec<pb::FollowUpJob> {
    follow_ups
        .jobs
        .iter()
        .map(|(follow_up, job)| {
            let done = follow_ups.results.iter().find(|result| result.kind == job.kind);
            let state = match job.state {
                JobState::Succeeded => pb::FollowUpState::Done,
                JobState::DeadLettered => pb::FollowUpState::DeadLettered,
                JobState::Pending | JobState::Running => pb::FollowUpState::Pending,
            };
            pb::FollowUpJob {
                kind: follow_up.to_proto() as i32,
                state: state as i32,
                attempts: job.attempts,
                next_attempt_time: (state == pb::FollowUpState::Pending).then(|| to_proto(job.run_at)),
                last_error_reason: job.last_error.clone(),
                result: done.map(|done| done.receipt.clone()).unwrap_or_default(),
                update_time: Some(to_proto(job.updated_at)),
                job: format!("jobs/{}", job.id),
                receipt_number: done.map(|done| done.receipt_number.clone()).unwrap_or_default(),
                lookup_code: done.map(|done| done.lookup_code.clone()).unwrap_or_default(),
                signature_log_index: done.and_then(|done| done.signature_log_index),
            }
        })
        .collect()
}
