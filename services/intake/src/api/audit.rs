//! What intake's audit trail records: each RPC's classification, and what each recorded request and
//! answer says about its call (request id, acting officer, resource names; never the applicant).

use motcua_chassis::audit::{
    AuditFacts, AuditNote, Classification,
    Kind::{Mutation, NotRecorded, PersonalDataRead},
};
use motcua_proto::motcua::intake::v1 as pb;

pub(super) use motcua_chassis::audit::noted;

/// Intake's side of [`AuditFacts`].
pub enum Trail {}

/// Every method of `IntakeService`, with what its calls are recorded as.
pub const AUDIT: Classification = &[
    ("ListProcedures", NotRecorded),
    ("GetProcedure", NotRecorded),
    ("ListProcedureVersions", NotRecorded),
    ("ListBranches", NotRecorded),
    ("CreateDossier", Mutation),
    ("GetDossier", PersonalDataRead),
    ("ListDossiers", PersonalDataRead),
    ("AcceptDossier", Mutation),
    ("RefuseDossier", Mutation),
    ("StartProcessing", Mutation),
    ("TransferDossier", Mutation),
    ("RequestSupplement", Mutation),
    ("SupplementDossier", Mutation),
    ("RequestPayment", Mutation),
    ("ConfirmPayment", Mutation),
    ("StopDossier", Mutation),
    ("WithdrawDossier", Mutation),
    ("ResolveDossier", Mutation),
    ("ApproveResult", Mutation),
    ("ReturnResult", Mutation),
    ("ApologizeDossier", Mutation),
    ("RateDossier", Mutation),
    ("CreateFeedback", Mutation),
    ("AddDocument", Mutation),
    ("GetDocument", PersonalDataRead),
    ("ListApplicantDocuments", PersonalDataRead),
    // Events carry codes and counts, never personal data.
    ("WatchEvents", NotRecorded),
];

fn officer(note: &AuditNote, officer: Option<&pb::Officer>) {
    if let Some(officer) = officer {
        note.actor(&officer.officer_id);
    }
}

/// The lifecycle moves: a request id, a dossier by name, an acting officer.
macro_rules! dossier_moves {
    ($($request:ident),+ $(,)?) => {$(
        impl AuditFacts<Trail> for pb::$request {
            fn note(&self, note: &AuditNote) {
                note.request_id(&self.request_id);
                note.subject(&self.name);
                officer(note, self.actor.as_ref());
            }
        }
    )+};
}

dossier_moves!(
    AcceptDossierRequest,
    RefuseDossierRequest,
    StartProcessingRequest,
    TransferDossierRequest,
    RequestSupplementRequest,
    SupplementDossierRequest,
    RequestPaymentRequest,
    StopDossierRequest,
    WithdrawDossierRequest,
    ResolveDossierRequest,
    ApproveResultRequest,
    ReturnResultRequest,
    ApologizeDossierRequest,
);

/// The answers that carry the dossier they changed.
macro_rules! dossier_answers {
    ($($response:ident),+ $(,)?) => {$(
        impl AuditFacts<Trail> for pb::$response {
            fn note(&self, note: &AuditNote) {
                if let Some(dossier) = &self.dossier {
                    note.subject(&dossier.name);
                }
            }
        }
    )+};
}

dossier_answers!(
    CreateDossierResponse,
    AcceptDossierResponse,
    RefuseDossierResponse,
    StartProcessingResponse,
    TransferDossierResponse,
    RequestSupplementResponse,
    SupplementDossierResponse,
    RequestPaymentResponse,
    ConfirmPaymentResponse,
    StopDossierResponse,
    WithdrawDossierResponse,
    ResolveDossierResponse,
    ApproveResultResponse,
    ReturnResultResponse,
    ApologizeDossierResponse,
);

impl AuditFacts<Trail> for pb::CreateDossierRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        officer(note, self.receiving_officer.as_ref());
    }
}

impl AuditFacts<Trail> for pb::ConfirmPaymentRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.name);
        note.subject(&self.receipt);
        officer(note, self.actor.as_ref());
    }
}

impl AuditFacts<Trail> for pb::RateDossierRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::RateDossierResponse {
    fn note(&self, _note: &AuditNote) {}
}

impl AuditFacts<Trail> for pb::CreateFeedbackRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.parent);
        officer(note, self.recorded_by.as_ref());
    }
}

impl AuditFacts<Trail> for pb::CreateFeedbackResponse {
    fn note(&self, note: &AuditNote) {
        if let Some(feedback) = &self.feedback {
            note.subject(&feedback.name);
        }
    }
}

impl AuditFacts<Trail> for pb::AddDocumentRequest {
    fn note(&self, note: &AuditNote) {
        // The owner is an applicant key (an identity number): never noted.
        note.request_id(&self.request_id);
        officer(note, self.actor.as_ref());
        if !self.origin_dossier_code.is_empty() {
            note.subject(&format!("dossiers/{}", self.origin_dossier_code));
        }
    }
}

impl AuditFacts<Trail> for pb::AddDocumentResponse {
    fn note(&self, note: &AuditNote) {
        if let Some(document) = &self.document {
            note.subject(&document.name);
        }
    }
}

impl AuditFacts<Trail> for pb::GetDossierRequest {
    fn note(&self, note: &AuditNote) {
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::Dossier {
    fn note(&self, note: &AuditNote) {
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::ListDossiersRequest {
    fn note(&self, _note: &AuditNote) {}
}

impl AuditFacts<Trail> for pb::ListDossiersResponse {
    fn note(&self, note: &AuditNote) {
        for dossier in &self.dossiers {
            note.subject(&dossier.name);
        }
    }
}

impl AuditFacts<Trail> for pb::GetDocumentRequest {
    fn note(&self, note: &AuditNote) {
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::Document {
    fn note(&self, note: &AuditNote) {
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::ListApplicantDocumentsRequest {
    fn note(&self, _note: &AuditNote) {}
}

impl AuditFacts<Trail> for pb::ListApplicantDocumentsResponse {
    fn note(&self, note: &AuditNote) {
        for document in &self.documents {
            note.subject(&document.name);
        }
    }
}
