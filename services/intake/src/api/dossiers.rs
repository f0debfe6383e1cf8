//! Dossier handlers: filing one, reading one with its history, follow-ups and receipts, listing them,
//! and the event each change appends to the feed.

use motcua_chassis::{ApiError, feed::NewEvent, idempotency::RequestKey, identity::Caller, paging};
use motcua_proto::motcua::{
    common::v1 as common,
    intake::v1::{self as pb, intake_event::Payload},
};
use prost::Message;

use super::{IntakeApi, convert, validate::Violations};
use crate::{
    domain::{
        applicant,
        calendar::local_date,
        dossier::{Dossier, SubmittedComponent},
        lifecycle::Status,
    },
    store::{
        catalogue,
        dossiers::{self, DossierFilter, Effects, Filing, Outcome},
        follow_ups,
    },
};

impl IntakeApi {
    pub(super) async fn create_dossier_handler(
        &self,
        caller: Caller,
        request: pb::CreateDossierRequest,
    ) -> Result<pb::CreateDossierResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "CreateDossier", &request.encode_to_vec())?;
        caller.check_branch(&request.branch_code)?;
        let state = &self.state;
        let mut violations = Violations::default();
        let branch = match catalogue::get_branch(&state.db, &request.branch_code).await? {
            Some(branch) => Some(branch),
            None => {
                violations.add_with_reason("UNKNOWN_BRANCH", "branch_code", "no such branch");
                None
            }
        };
        let procedure = if crate::domain::catalogue::is_valid_procedure_code(&request.procedure_code) {
            catalogue::get(&state.db, &request.procedure_code, None).await?
        } else {
            None
        };
        if procedure.is_none() {
            violations.add_with_reason("UNKNOWN_PROCEDURE", "procedure_code", "no such procedure in the catalogue");
        }
        let channel = request.channel;
        if !(1..=3).contains(&channel) {
            violations.add("channel", "required: in person, online or postal");
        }
        let applicant = violations.applicant(request.applicant);
        let receiving_officer = violations.officer("receiving_officer", request.receiving_officer);
        let components = match &procedure {
            Some(procedure) => submitted_components(&mut violations, &procedure.spec.components, request.components),
            None => Vec::new(),
        };
        let applicant_hash =
            applicant.as_ref().map(|applicant| applicant::index_hash(&state.applicant_index_key, applicant.key()));
        let reused_documents =
            self.check_cited_documents(&mut violations, &components, applicant_hash.as_deref()).await?;
        violations.finish()?;
        let (Some(branch), Some(procedure), Some(applicant), Some(applicant_hash)) =
            (branch, procedure, applicant, applicant_hash)
        else {
            return Err(ApiError::internal("validation passed without branch, procedure or applicant"));
        };

        let now = self.state.clock.now();
        let online = channel == common::Channel::Online as i32;
        let build = |number| {
            let mut dossier = Dossier {
                code: self.state.code_format.code(&branch.agency_code, local_date(now), number),
                branch_code: branch.branch_code.clone(),
                procedure_code: procedure.spec.procedure_code.clone(),
                procedure_version: procedure.version,
                procedure_name: procedure.spec.display_name.clone(),
                level: procedure.spec.level,
                time_limit: procedure.spec.time_limit,
                after_15h_next_working_day: procedure.spec.after_15h_next_working_day,
                channel,
                applicant,
                receiving_officer,
                components,
                status: if online { Status::Registered } else { Status::Received },
                status_before_supplement: None,
                create_time: now,
                receive_time: None,
                counted_receive_time: None,
                initial_appointment: None,
                appointment: None,
                due_time: None,
                end_time: None,
                timeliness: None,
                supplement_request_count: 0,
                supplement_wait_seconds: 0,
                current_holder: None,
                result: None,
                hand_overs: Vec::new(),
                supplements: Vec::new(),
                payments: Vec::new(),
                apologies: Vec::new(),
                rating: None,
                feedback: Vec::new(),
                submitter_identity: caller.identity.clone(),
                update_time: now,
                moves_made: 0,
            };
            if !online {
                dossier.receive(now, &state.calendar);
            }
            let entry = dossier.creation_entry(key.request_id());
            (dossier, entry)
        };
        let effects = |dossier: &Dossier| {
            let response = pb::CreateDossierResponse { dossier: Some(convert::dossier_to_proto(dossier, &[], now)) };
            let applicant_kind = match dossier.applicant {
                applicant::Applicant::Citizen { .. } => pb::ApplicantKind::Citizen,
                applicant::Applicant::Organisation { .. } => pb::ApplicantKind::Organisation,
            };
            let payload = Payload::DossierCreated(pb::DossierCreated {
                dossier: Some(convert::facts(dossier, None)),
                applicant_kind: applicant_kind as i32,
                components: Some(convert::component_counts(&dossier.components)),
            });
            Effects { response: response.encode_to_vec(), event: event(dossier, key.request_id(), payload) }
        };
        let outcome = dossiers::create(
            &state.db,
            &key,
            Filing {
                agency_code: &branch.agency_code,
                day: local_date(now),
                applicant_key_hash: &applicant_hash,
                reused_documents: &reused_documents,
            },
            build,
            effects,
        )
        .await?;
        match outcome {
            Outcome::Done(dossier) => {
                state.feed.appended();
                state.follow_ups_due.notify_one();
                tracing::info!(dossier_code = %dossier.code.printed(), status = dossier.status as i32, "dossier created");
                Ok(pb::CreateDossierResponse { dossier: Some(convert::dossier_to_proto(&dossier, &[], now)) })
            }
            Outcome::Replayed(bytes) => decode(&bytes),
        }
    }

    /// The document ids that `components` cite, each checked to exist and to belong to the applicant:
    /// a data store is its owner's alone.
    async fn check_cited_documents(
        &self,
        violations: &mut Violations,
        components: &[SubmittedComponent],
        applicant_hash: Option<&str>,
    ) -> Result<Vec<String>, ApiError> {
        let mut cited = Vec::new();
        for (index, component) in components.iter().enumerate() {
            if let Some(name) = &component.stored_document {
                match crate::domain::document::parse_name(name) {
                    Some(id) => cited.push((index, id.to_owned())),
                    None => violations
                        .add(format!("components[{index}].stored_document"), "expected documents/{document_id}"),
                }
            }
        }
        let ids: Vec<String> = cited.iter().map(|(_, id)| id.clone()).collect();
        let owners = crate::store::documents::owners(&self.state.db, &ids).await?;
        for (index, id) in &cited {
            let owner = owners.iter().find(|(document_id, _)| document_id == id).map(|(_, owner)| owner.as_str());
            if owner.is_none() || owner != applicant_hash {
                violations.add_with_reason(
                    "UNKNOWN_DOCUMENT",
                    format!("components[{index}].stored_document"),
                    "no such document in the applicant's data store",
                );
            }
        }
        Ok(ids)
    }

    pub(super) async fn get_dossier_handler(
        &self,
        caller: Caller,
        request: pb::GetDossierRequest,
    ) -> Result<pb::Dossier, ApiError> {
        let mut violations = Violations::default();
        let code = violations.dossier_name("name", &request.name, &self.state.code_format);
        violations.finish()?;
        let code = code.map(|code| code.printed()).unwrap_or_default();
        let Some(record) = dossiers::find(&self.state.db, &code).await? else {
            return Err(ApiError::not_found("motcua.intake.v1.Dossier", request.name));
        };
        if !caller.may_read_dossier(&record.dossier.submitter_identity, &record.dossier.procedure_code) {
            return Err(ApiError::PermissionDenied {
                reason: "DOSSIER_NOT_ALLOWED",
                description: format!("{} may read only the dossiers it filed or of its procedures", caller.identity),
            });
        }
        let basic = request.view == pb::DossierView::Basic as i32;
        let history = if basic { Vec::new() } else { dossiers::history(&self.state.db, record.id).await? };
        let mut dossier = convert::dossier_to_proto(&record.dossier, &history, self.state.clock.now());
        let follow_ups = follow_ups::of_dossier(&self.state.db, &code).await?;
        dossier.receipts = follow_ups.results.iter().map(|done| done.receipt.clone()).collect();
        if !basic {
            dossier.follow_ups = convert::follow_ups_to_proto(&follow_ups);
        }
        Ok(dossier)
    }

    pub(super) async fn list_dossiers_handler(
        &self,
        caller: Caller,
        request: pb::ListDossiersRequest,
    ) -> Result<pb::ListDossiersResponse, ApiError> {
        let page_size = paging::page_size(request.page_size)?;
        let mut violations = Violations::default();
        let status = match request.status {
            0 => None,
            code => {
                if Status::from_code(code).is_none() {
                    violations.add("status", "not a national status code (1-10)");
                }
                Some(code as i16)
            }
        };
        let date = |field: &str, date: Option<motcua_proto::google::r#type::Date>, violations: &mut Violations| {
            violations.date(field, date.as_ref())
        };
        let received_from = date("received_date_from", request.received_date_from, &mut violations);
        let received_to = date("received_date_to", request.received_date_to, &mut violations);
        let applicant_key = request.applicant.and_then(|key| key.key).map(|key| match key {
            pb::applicant_key::Key::IdentityNumber(number) => {
                if !applicant::is_valid_identity_number(&number) {
                    violations.add("applicant.identity_number", "must be a 12-digit citizen identity number");
                }
                number
            }
            pb::applicant_key::Key::TaxCode(code) => {
                if !applicant::is_valid_tax_code(&code) {
                    violations.add("applicant.tax_code", "must be a valid tax code");
                }
                code
            }
        });
        for (field, value) in [("branch_code", &request.branch_code), ("procedure_code", &request.procedure_code)] {
            if value.len() > 40 {
                violations.add(field, "at most 40 characters");
            }
        }
        violations.finish()?;
        let now = self.state.clock.now();
        let filter = DossierFilter {
            branch_code: Some(request.branch_code).filter(|code| !code.is_empty()),
            procedure_code: Some(request.procedure_code).filter(|code| !code.is_empty()),
            status,
            received_from,
            received_to,
            applicant_key_hash: applicant_key.map(|key| applicant::index_hash(&self.state.applicant_index_key, &key)),
            overdue_at: request.overdue_only.then_some(now),
            visible_to: caller.is_restricted().then(|| (caller.identity.clone(), caller.procedures.clone())),
        };
        // Overdue-ness depends on the time of the first page; the token carries the filter without it.
        let filter_text = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
            filter.branch_code,
            filter.procedure_code,
            filter.status,
            filter.received_from,
            filter.received_to,
            filter.applicant_key_hash,
            request.overdue_only
        ) + &format!("|{:?}", filter.visible_to);
        let before_id = match paging::decode_token(&request.page_token, &filter_text)? {
            None => None,
            Some(id) => Some(id.parse::<i64>().map_err(|_| {
                ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service")
            })?),
        };
        let mut records = dossiers::list(&self.state.db, &filter, before_id, page_size + 1).await?;
        let next_page_token = if records.len() as u64 > page_size {
            records.truncate(page_size as usize);
            records.last().map(|last| paging::encode_token(&last.id.to_string(), &filter_text)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::ListDossiersResponse {
            dossiers: records.iter().map(|record| convert::dossier_to_proto(&record.dossier, &[], now)).collect(),
            next_page_token,
        })
    }
}

/// The event of a change, its payload encoded without the envelope (the feed adds it when read).
pub(super) fn event(dossier: &Dossier, request_id: &str, payload: Payload) -> NewEvent {
    let event_type = convert::event_type(&payload).to_owned();
    let event = pb::IntakeEvent { envelope: None, payload: Some(payload) };
    NewEvent {
        // The dossier's last change is the one the event describes.
        occur_time: dossier.update_time,
        subject: format!("dossiers/{}", dossier.code.printed()),
        request_id: request_id.to_owned(),
        event_type,
        payload: event.encode_to_vec(),
    }
}

/// A stored response, decoded for a retry.
pub(super) fn decode<T: Message + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    T::decode(bytes).map_err(|error| ApiError::internal(format!("stored response: {error}")))
}

/// The components as filed, checked against the procedure version: known codes, valid copy kinds,
/// and every required component present (one violation per missing code).
pub(super) fn submitted_components(
    violations: &mut Violations,
    catalogue_components: &[crate::domain::catalogue::Component],
    filed: Vec<pb::SubmittedComponent>,
) -> Vec<SubmittedComponent> {
    let mut components = Vec::new();
    for (index, component) in filed.into_iter().enumerate() {
        let Some(known) = catalogue_components.iter().find(|known| known.code == component.component_code) else {
            violations.add_with_reason(
                "UNKNOWN_COMPONENT",
                format!("components[{index}].component_code"),
                "not a component of this procedure version",
            );
            continue;
        };
        let copy_kind = if component.copy_kind == 0 { common::CopyKind::Original as i32 } else { component.copy_kind };
        if !(1..=3).contains(&copy_kind) {
            violations.add(format!("components[{index}].copy_kind"), "original, copy or electronic");
        }
        if component.copies < 0 || component.copies > 100 {
            violations.add(format!("components[{index}].copies"), "0 to 100");
        }
        let stored_document = match component.content {
            Some(pb::submitted_component::Content::StoredDocument(name)) => Some(name),
            // Refused rather than dropped: a dossier must never lose a paper the applicant handed in.
            Some(pb::submitted_component::Content::File(_)) => {
                violations.add_with_reason(
                    "FILE_NOT_SUPPORTED",
                    format!("components[{index}].file"),
                    format!(
                        "component {}: a file given inline is not accepted yet; add it to the applicant's data store with AddDocument and cite it in stored_document",
                        known.code
                    ),
                );
                None
            }
            None => None,
        };
        components.push(SubmittedComponent {
            component_code: known.code.clone(),
            component_name: known.name.clone(),
            copy_kind,
            copies: component.copies.max(1) as u32,
            stored_document,
            supplement_round: 0,
        });
    }
    for required in catalogue_components.iter().filter(|known| known.required) {
        if !components.iter().any(|component| component.component_code == required.code) {
            violations.add_with_reason(
                "MISSING_COMPONENTS",
                "components",
                format!("required component {} is missing: {}", required.code, required.name),
            );
        }
    }
    components
}
