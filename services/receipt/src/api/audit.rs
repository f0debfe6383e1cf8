//! What receipt's audit trail records: each RPC's classification, and what each recorded request and
//! answer says about its call (request id, collecting officer, resource names; never the payer).

use motcua_chassis::audit::{
    AuditFacts, AuditNote, Classification,
    Kind::{Mutation, NotRecorded, PersonalDataRead},
};
use motcua_proto::motcua::receipt::v1 as pb;

pub(super) use motcua_chassis::audit::noted;

/// Receipt's side of [`AuditFacts`].
pub enum Trail {}

/// Every method of `ReceiptService`, with what its calls are recorded as.
pub const AUDIT: Classification = &[
    ("CreateSeries", Mutation),
    // Series carry codes and symbols, no person.
    ("GetSeries", NotRecorded),
    ("ListSeries", NotRecorded),
    ("CloseSeries", Mutation),
    ("IssueReceipt", Mutation),
    // Receipts and their renderings carry the payer and the collector.
    ("GetReceipt", PersonalDataRead),
    ("ListReceipts", PersonalDataRead),
    // The citizen's view: no payer, no collector.
    ("LookupReceipt", NotRecorded),
    ("CancelReceipt", Mutation),
    ("ReplaceReceipt", Mutation),
    ("AdjustReceipt", Mutation),
    ("RenderReceipt", PersonalDataRead),
    // A result's decision text may name the applicant: recorded like a rendering of a receipt.
    ("RenderResultDocument", PersonalDataRead),
    // Counts of numbers.
    ("GetUsageReport", NotRecorded),
    // Events carry numbers, codes and amounts, never personal data.
    ("WatchEvents", NotRecorded),
];

/// The collector and the dossier a receipt's content names.
fn content(note: &AuditNote, content: Option<&pb::ReceiptContent>) {
    if let Some(content) = content {
        if let Some(collector) = &content.collector {
            note.actor(&collector.officer_id);
        }
        if !content.dossier_code.is_empty() {
            note.subject(&format!("dossiers/{}", content.dossier_code));
        }
    }
}

fn receipt(note: &AuditNote, receipt: Option<&pb::Receipt>) {
    if let Some(receipt) = receipt {
        note.subject(&receipt.name);
    }
}

impl AuditFacts<Trail> for pb::CreateSeriesRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
    }
}

impl AuditFacts<Trail> for pb::CreateSeriesResponse {
    fn note(&self, note: &AuditNote) {
        if let Some(series) = &self.series {
            note.subject(&series.name);
        }
    }
}

impl AuditFacts<Trail> for pb::CloseSeriesRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::CloseSeriesResponse {
    fn note(&self, _note: &AuditNote) {}
}

impl AuditFacts<Trail> for pb::IssueReceiptRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.series);
        content(note, self.content.as_ref());
    }
}

impl AuditFacts<Trail> for pb::IssueReceiptResponse {
    fn note(&self, note: &AuditNote) {
        receipt(note, self.receipt.as_ref());
    }
}

impl AuditFacts<Trail> for pb::GetReceiptRequest {
    fn note(&self, note: &AuditNote) {
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::Receipt {
    fn note(&self, note: &AuditNote) {
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::ListReceiptsRequest {
    fn note(&self, _note: &AuditNote) {}
}

impl AuditFacts<Trail> for pb::ListReceiptsResponse {
    fn note(&self, note: &AuditNote) {
        for receipt in &self.receipts {
            note.subject(&receipt.name);
        }
    }
}

impl AuditFacts<Trail> for pb::CancelReceiptRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.name);
        note.actor(&self.officer_id);
    }
}

impl AuditFacts<Trail> for pb::CancelReceiptResponse {
    fn note(&self, _note: &AuditNote) {}
}

impl AuditFacts<Trail> for pb::ReplaceReceiptRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.name);
        note.subject(&self.series);
        content(note, self.content.as_ref());
    }
}

impl AuditFacts<Trail> for pb::ReplaceReceiptResponse {
    fn note(&self, note: &AuditNote) {
        receipt(note, self.replacement.as_ref());
    }
}

impl AuditFacts<Trail> for pb::AdjustReceiptRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.name);
        note.subject(&self.series);
        if let Some(collector) = &self.collector {
            note.actor(&collector.officer_id);
        }
    }
}

impl AuditFacts<Trail> for pb::AdjustReceiptResponse {
    fn note(&self, note: &AuditNote) {
        receipt(note, self.adjustment.as_ref());
    }
}

impl AuditFacts<Trail> for pb::RenderReceiptRequest {
    fn note(&self, note: &AuditNote) {
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::RenderReceiptResponse {
    fn note(&self, _note: &AuditNote) {}
}

impl AuditFacts<Trail> for pb::RenderResultDocumentRequest {
    fn note(&self, note: &AuditNote) {
        note.subject(&format!("dossiers/{}", self.dossier_code));
    }
}

impl AuditFacts<Trail> for pb::RenderResultDocumentResponse {
    fn note(&self, _note: &AuditNote) {}
}
