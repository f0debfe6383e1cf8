//! The moves of processing that carry more than an officer and a reason: hand-overs between units,
//! supplement and payment rounds, and apologies with a new appointment. Each reads its own fields,
//! then goes through the one path of [`IntakeApi::make_move`].

use motcua_chassis::{ApiError, identity::Caller, timestamps};
use motcua_proto::motcua::{
    common::v1::Money,
    intake::v1::{self as pb, intake_event::Payload},
};

use super::{IntakeApi, convert, dossiers::submitted_components, moves::MoveRequest, validate::Violations};
use crate::{
    domain::{
        catalogue::{FeeItem, FeeMoment},
        dossier::{Command, RequestedComponent},
    },
    store::{catalogue, dossiers},
};

impl IntakeApi {
    pub(super) async fn start_processing_handler(
        &self,
        caller: Caller,
        request: pb::StartProcessingRequest,
    ) -> Result<pb::StartProcessingResponse, ApiError> {
        let common = MoveRequest::of(&request);
        let mut violations = Violations::default();
        let unit = request.processing_unit.map(|unit| {
            violations.text("processing_unit.unit_name", &unit.unit_name, true);
            convert::party_from_proto(unit)
        });
        let step_due = request.to_due_time.as_ref().and_then(timestamps::from_proto);
        self.make_move(&caller, common, violations, Command::StartProcessing { unit, step_due }, |_, facts| {
            Payload::ProcessingStarted(pb::ProcessingStarted { dossier: facts })
        })
        .await
    }

    pub(super) async fn transfer(
        &self,
        caller: Caller,
        request: pb::TransferDossierRequest,
    ) -> Result<pb::TransferDossierResponse, ApiError> {
        let common = MoveRequest::of(&request);
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
        self.make_move(&caller, common, violations, Command::Transfer { to, step_due }, |moved, facts| {
            let last = moved.hand_overs.last();
            Payload::DossierTransferred(pb::DossierTransferred {
                dossier: facts,
                hand_over_sequence: last.map_or(0, |hand_over| hand_over.sequence as i32),
                from_unit_code: last.map(|hand_over| hand_over.from.unit_code.clone()).unwrap_or_default(),
                to_unit_code: last.map(|hand_over| hand_over.to.unit_code.clone()).unwrap_or_default(),
                timeliness: last.map_or(0, |hand_over| hand_over.timeliness as i32),
            })
        })
        .await
    }

    pub(super) async fn request_supplement_handler(
        &self,
        caller: Caller,
        request: pb::RequestSupplementRequest,
    ) -> Result<pb::RequestSupplementResponse, ApiError> {
        let common = MoveRequest::of(&request);
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
        self.make_move(&caller, common, violations, Command::RequestSupplement { requested }, |moved, facts| {
            let round = moved.supplements.last();
            Payload::SupplementRequested(pb::SupplementRequested {
                dossier: facts,
                round: round.map_or(0, |round| round.round as i32),
                requested_component_count: round.map_or(0, |round| round.requested_components.len() as i32),
            })
        })
        .await
    }

    pub(super) async fn supplement(
        &self,
        caller: Caller,
        request: pb::SupplementDossierRequest,
    ) -> Result<pb::SupplementDossierResponse, ApiError> {
        let common = MoveRequest::of(&request);
        let mut violations = Violations::default();
        if request.components.is_empty() {
            violations.add("components", "required: the components supplemented");
        }
        // Supplemented components are checked against the dossier's own procedure version.
        let known = match self.state.code_format.parse_name(&request.name) {
            Some(code) => match dossiers::find(&self.state.db, &code.printed()).await? {
                Some(record) => Some(
                    catalogue::get(
                        &self.state.db,
                        &record.dossier.procedure_code,
                        Some(record.dossier.procedure_version),
                    )
                    .await?
                    .map(|procedure| procedure.spec.components)
                    .unwrap_or_default(),
                ),
                None => None,
            },
            None => None,
        };
        let components = match known {
            Some(known) => {
                let not_required: Vec<_> = known
                    .into_iter()
                    .map(|component| crate::domain::catalogue::Component { required: false, ..component })
                    .collect();
                submitted_components(&mut violations, &not_required, request.components)
            }
            None => Vec::new(),
        };
        self.make_move(&caller, common, violations, Command::Supplement { components }, |moved, facts| {
            let round = moved.supplements.iter().rev().find(|round| round.supplement_time.is_some());
            let supplemented: Vec<_> =
                moved.components.iter().filter(|component| component.supplement_round > 0).cloned().collect();
            Payload::DossierSupplemented(pb::DossierSupplemented {
                dossier: facts,
                round: round.map_or(0, |round| round.round as i32),
                wait: round.and_then(|round| {
                    round.supplement_time.map(|done| prost_types::Duration {
                        seconds: (done - round.request_time).num_seconds(),
                        nanos: 0,
                    })
                }),
                components: Some(convert::component_counts(&supplemented)),
            })
        })
        .await
    }

    pub(super) async fn request_payment_handler(
        &self,
        caller: Caller,
        request: pb::RequestPaymentRequest,
    ) -> Result<pb::RequestPaymentResponse, ApiError> {
        let common = MoveRequest::of(&request);
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
        self.make_move(&caller, common, violations, Command::RequestPayment { items }, |moved, facts| {
            let round = moved.payments.last();
            Payload::PaymentRequested(pb::PaymentRequested {
                dossier: facts,
                round: round.map_or(0, |round| round.round as i32),
                total: round.map(|round| Money { dong: round.items.iter().map(|item| item.amount_dong).sum() }),
            })
        })
        .await
    }

    pub(super) async fn confirm_payment_handler(
        &self,
        caller: Caller,
        request: pb::ConfirmPaymentRequest,
    ) -> Result<pb::ConfirmPaymentResponse, ApiError> {
        let common = MoveRequest::of(&request);
        let mut violations = Violations::default();
        violations.text("receipt", &request.receipt, false);
        let command = Command::ConfirmPayment { receipt: request.receipt };
        self.make_move(&caller, common, violations, command, |moved, facts| {
            let round = moved.payments.iter().rev().find(|round| round.confirm_time.is_some());
            Payload::PaymentConfirmed(pb::PaymentConfirmed {
                dossier: facts,
                round: round.map_or(0, |round| round.round as i32),
                total: round.map(|round| Money { dong: round.items.iter().map(|item| item.amount_dong).sum() }),
                receipt: round.map(|round| round.receipt.clone()).unwrap_or_default(),
            })
        })
        .await
    }

    pub(super) async fn apologize(
        &self,
        caller: Caller,
        request: pb::ApologizeDossierRequest,
    ) -> Result<pb::ApologizeDossierResponse, ApiError> {
        let common = MoveRequest::of(&request);
        let mut violations = Violations::default();
        let new_appointment = request.new_appointment_time.as_ref().and_then(timestamps::from_proto);
        if new_appointment.is_none() {
            violations.add("new_appointment_time", "required: the new appointment");
        }
        let command = Command::Apologize { new_appointment: new_appointment.unwrap_or_default() };
        self.make_move(&caller, common, violations, command, |moved, facts| {
            let apology = moved.apologies.last();
            Payload::DossierApologized(pb::DossierApologized {
                dossier: facts,
                sequence: apology.map_or(0, |apology| apology.sequence as i32),
                previous_appointment_time: apology.map(|apology| timestamps::to_proto(apology.previous_appointment)),
            })
        })
        .await
    }
}
