//! The applicants' data stores: adding a digitized document with its extracted fields, reading it, and
//! listing an owner's documents so an officer looks there before asking for a paper again.

use motcua_chassis::{ApiError, idempotency::RequestKey, identity::Caller, paging, timestamps};
use motcua_proto::{
    google::r#type::Date,
    motcua::intake::v1::{self as pb, intake_event::Payload},
};
use prost::Message;
use sha2::{Digest, Sha256};

use super::{IntakeApi, dossiers::decode, validate::Violations};
use crate::{
    domain::{
        applicant,
        document::{self, ACCEPTED_MEDIA_TYPES, ExtractedField, StoredDocument},
    },
    store::{
        documents::{self, DocumentRecord},
        dossiers::{self, Outcome},
    },
};

/// The most extracted fields one document may carry.
const MAX_EXTRACTED_FIELDS: usize = 200;

impl IntakeApi {
    /// Whether `caller` may reach a document whose origin is the dossier `origin_dossier_code`: the
    /// center's staff and services (unrestricted) every document; an identity the policy limits (an
    /// agency, a branch) only those of dossiers it may read, and to add one, of its branches.
    async fn check_document_access(
        &self,
        caller: &Caller,
        origin_dossier_code: &str,
        adding: bool,
    ) -> Result<(), ApiError> {
        if !caller.is_restricted() {
            return Ok(());
        }
        let dossier = match origin_dossier_code {
            "" => None,
            code => dossiers::find(&self.state.db, code).await?.map(|record| record.dossier),
        };
        let allowed = dossier.is_some_and(|dossier| {
            caller.may_read_dossier(&dossier.submitter_identity, &dossier.procedure_code)
                && (!adding || caller.may_act_for_branch(&dossier.branch_code))
        });
        if allowed {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied {
                reason: "DOCUMENT_NOT_ALLOWED",
                description: format!(
                    "{} may reach only the documents of dossiers it may read (origin_dossier_code)",
                    caller.identity
                ),
            })
        }
    }

    pub(super) async fn add_document(
        &self,
        caller: Caller,
        request: pb::AddDocumentRequest,
    ) -> Result<pb::AddDocumentResponse, ApiError> {
        let key = RequestKey::new(&request.request_id, "AddDocument", &request.encode_to_vec())?;
        let mut violations = Violations::default();
        let owner = owner_key(&mut violations, "owner", request.owner);
        violations.text("title", &request.title, true);
        violations.officer("actor", request.actor);
        if request.document_type.len() > 100 {
            violations.add("document_type", "at most 100 characters");
        }
        if !(1..=3).contains(&request.source) {
            violations.add("source", "required: upload, scan or result");
        }
        let file = request.file.unwrap_or_default();
        if file.content.is_empty() {
            violations.add("file.content", "required: the document's bytes");
        }
        if !ACCEPTED_MEDIA_TYPES.contains(&file.media_type.as_str()) {
            violations.add("file.media_type", format!("one of {}", ACCEPTED_MEDIA_TYPES.join(", ")));
        }
        if file.extracted_fields.len() > MAX_EXTRACTED_FIELDS {
            violations.add("file.extracted_fields", format!("at most {MAX_EXTRACTED_FIELDS}"));
        }
        let issue_date = date(&mut violations, "issue_date", request.issue_date);
        let expiry_date = date(&mut violations, "expiry_date", request.expiry_date);
        violations.finish()?;
        let Some((owner_key, owner_is_organisation)) = owner else {
            return Err(ApiError::internal("validation passed without an owner"));
        };
        self.check_document_access(&caller, &request.origin_dossier_code, true).await?;

        let stored = StoredDocument {
            document_id: uuid_v4(),
            owner_key: owner_key.clone(),
            owner_is_organisation,
            title: request.title,
            document_type: request.document_type,
            source: request.source,
            copy_kind: if request.copy_kind == 0 { 3 } else { request.copy_kind },
            file_name: file.file_name,
            media_type: file.media_type,
            size_bytes: file.content.len() as i64,
            sha256: Sha256::digest(&file.content).to_vec(),
            extracted_fields: file
                .extracted_fields
                .into_iter()
                .map(|field| ExtractedField { key: field.key, label: field.label, value: field.value })
                .collect(),
            issuer: request.issuer,
            issue_date,
            expiry_date,
            origin_dossier_code: request.origin_dossier_code,
            create_time: self.state.clock.now(),
        };
        let record = DocumentRecord { id: 0, document: stored.clone(), content: Vec::new(), reuse_count: 0 };
        let response = pb::AddDocumentResponse { document: Some(document_to_proto(&record, false)) };
        let event = pb::IntakeEvent {
            envelope: None,
            payload: Some(Payload::DocumentAdded(pb::DocumentAdded {
                document: document::name(&stored.document_id),
                source: stored.source,
                document_type: stored.document_type.clone(),
                origin_dossier_code: stored.origin_dossier_code.clone(),
            })),
        };
        let new_event = motcua_chassis::feed::NewEvent {
            occur_time: stored.create_time,
            subject: document::name(&stored.document_id),
            request_id: key.request_id().to_owned(),
            event_type: "document_added".to_owned(),
            payload: event.encode_to_vec(),
        };
        let owner_hash = applicant::index_hash(&self.state.applicant_index_key, &owner_key);
        match documents::add(
            &self.state.db,
            &key,
            &owner_hash,
            &stored,
            file.content,
            response.encode_to_vec(),
            new_event,
        )
        .await?
        {
            Outcome::Done(()) => {
                self.state.feed.appended();
                Ok(response)
            }
            Outcome::Replayed(bytes) => decode(&bytes),
        }
    }

    pub(super) async fn get_document(
        &self,
        caller: Caller,
        request: pb::GetDocumentRequest,
    ) -> Result<pb::Document, ApiError> {
        let Some(document_id) = document::parse_name(&request.name) else {
            return Err(ApiError::invalid("INVALID_NAME", "name", "expected documents/{document_id}"));
        };
        let Some(record) = documents::find(&self.state.db, document_id).await? else {
            return Err(ApiError::not_found("motcua.intake.v1.Document", request.name));
        };
        self.check_document_access(&caller, &record.document.origin_dossier_code, false).await?;
        Ok(document_to_proto(&record, request.view == pb::DocumentView::Full as i32))
    }

    /// An owner's documents. Only for unrestricted callers: an applicant's data store spans every
    /// agency's procedures, so an identity the policy limits reads documents one by one, by dossier.
    pub(super) async fn list_applicant_documents(
        &self,
        caller: Caller,
        request: pb::ListApplicantDocumentsRequest,
    ) -> Result<pb::ListApplicantDocumentsResponse, ApiError> {
        if caller.is_restricted() {
            return Err(ApiError::PermissionDenied {
                reason: "DOCUMENTS_NOT_ALLOWED",
                description: format!("{} may not list an applicant's documents across agencies", caller.identity),
            });
        }
        let page_size = paging::page_size(request.page_size)?;
        let mut violations = Violations::default();
        let owner = owner_key(&mut violations, "owner", request.owner);
        if request.document_type.len() > 100 {
            violations.add("document_type", "at most 100 characters");
        }
        violations.finish()?;
        let Some((owner_key, _)) = owner else {
            return Err(ApiError::internal("validation passed without an owner"));
        };
        let owner_hash = applicant::index_hash(&self.state.applicant_index_key, &owner_key);
        let document_type = Some(request.document_type.as_str()).filter(|kind| !kind.is_empty());
        let filter_text = format!("{owner_hash}|{document_type:?}");
        let before_id = match paging::decode_token(&request.page_token, &filter_text)? {
            None => None,
            Some(id) => Some(id.parse::<i64>().map_err(|_| {
                ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", "not a page token from this service")
            })?),
        };
        let mut records = documents::list(&self.state.db, &owner_hash, document_type, before_id, page_size + 1).await?;
        let next_page_token = if records.len() as u64 > page_size {
            records.truncate(page_size as usize);
            records.last().map(|last| paging::encode_token(&last.id.to_string(), &filter_text)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(pb::ListApplicantDocumentsResponse {
            documents: records.iter().map(|record| document_to_proto(record, false)).collect(),
            next_page_token,
        })
    }
}

/// The owner named by an `ApplicantKey`: its identifier and whether it is an organisation.
fn owner_key(violations: &mut Violations, field: &str, key: Option<pb::ApplicantKey>) -> Option<(String, bool)> {
    match key.and_then(|key| key.key) {
        Some(pb::applicant_key::Key::IdentityNumber(number)) => {
            if !applicant::is_valid_identity_number(&number) {
                violations.add(format!("{field}.identity_number"), "must be a 12-digit citizen identity number");
            }
            Some((number, false))
        }
        Some(pb::applicant_key::Key::TaxCode(code)) => {
            if !applicant::is_valid_tax_code(&code) {
                violations.add(format!("{field}.tax_code"), "must be a valid tax code");
            }
            Some((code, true))
        }
        None => {
            violations.add(field, "required: an identity number or a tax code");
            None
        }
    }
}

fn date(violations: &mut Violations, field: &str, date: Option<Date>) -> Option<chrono::NaiveDate> {
    violations.date(field, date.as_ref())
}

fn proto_date(date: chrono::NaiveDate) -> Date {
    motcua_chassis::validate::date_to_proto(date)
}

fn document_to_proto(record: &DocumentRecord, with_content: bool) -> pb::Document {
    let document = &record.document;
    let owner = if document.owner_is_organisation {
        pb::applicant_key::Key::TaxCode(document.owner_key.clone())
    } else {
        pb::applicant_key::Key::IdentityNumber(document.owner_key.clone())
    };
    pb::Document {
        name: document::name(&document.document_id),
        owner: Some(pb::ApplicantKey { key: Some(owner) }),
        title: document.title.clone(),
        document_type: document.document_type.clone(),
        source: document.source,
        copy_kind: document.copy_kind,
        file_name: document.file_name.clone(),
        media_type: document.media_type.clone(),
        size_bytes: document.size_bytes,
        sha256: document.sha256.clone(),
        content: if with_content { record.content.clone() } else { Vec::new() },
        extracted_fields: document
            .extracted_fields
            .iter()
            .map(|field| pb::ExtractedField {
                key: field.key.clone(),
                label: field.label.clone(),
                value: field.value.clone(),
            })
            .collect(),
        issuer: document.issuer.clone(),
        issue_date: document.issue_date.map(proto_date),
        expiry_date: document.expiry_date.map(proto_date),
        origin_dossier_code: document.origin_dossier_code.clone(),
        reuse_count: record.reuse_count,
        create_time: Some(timestamps::to_proto(document.create_time)),
    }
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string()
}
