//! What reporting's audit trail records. Reporting holds counts, no personal data: its one mutation,
//! the rebuild of the rollups, is what the trail shows.

use motcua_chassis::audit::{
    AuditFacts, AuditNote, Classification,
    Kind::{Mutation, NotRecorded},
};
use motcua_proto::motcua::reporting::v1 as pb;

pub(super) use motcua_chassis::audit::noted;

/// Reporting's side of [`AuditFacts`].
pub enum Trail {}

/// Every method of `ReportingService`, with what its calls are recorded as.
pub const AUDIT: Classification = &[
    ("GetSummary", NotRecorded),
    ("ListBranchStats", NotRecorded),
    ("GetServiceIndex", NotRecorded),
    ("ExportReport", NotRecorded),
    ("GetIngestionStatus", NotRecorded),
    ("RebuildProjections", Mutation),
];

impl AuditFacts<Trail> for pb::RebuildProjectionsRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
    }
}

impl AuditFacts<Trail> for pb::RebuildProjectionsResponse {
    fn note(&self, note: &AuditNote) {
        if let Some(rebuild) = &self.rebuild {
            note.subject(&format!("rebuilds/{}", rebuild.rebuild_id));
        }
    }
}
