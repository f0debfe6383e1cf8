//! The audit trail every service keeps: one record for each mutation, each read of personal data and
//! each call the policy refused, saying who called which RPC about which resources, in which request
//! and trace, and how it was answered. Append-only: nothing here updates or deletes a record, and the
//! database refuses to (see [`schema`]).
//!
//! How a record comes about: each service classifies every method of its gRPC service
//! ([`Classification`], checked against the contract at start-up). The [`AuditLayer`] gives every
//! classified call an [`AuditNote`], in which the handler notes what the call was about (resource
//! names, the request id, the acting officer) from its request and its answer ([`AuditFacts`]). A
//! mutation's record is written by the transaction that makes its change ([`record_in`]), so both
//! commit or neither; every other call's record (a read, a refusal, a mutation that changed nothing)
//! is written by the layer after the handler answers, and only then does the answer go. The guard
//! records the calls it refuses. [`AuditApi`] serves the trail on every service's port.

mod call;
pub mod chain;
mod layer;
mod note;
pub mod schema;
mod service;
mod store;

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use http::HeaderMap;
use motcua_proto::motcua::audit::v1::audit_record::Action;
use prost::Message;
use sea_orm::{DatabaseConnection, DbErr};
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub use call::{PendingCall, record_in};
pub use layer::{AuditLayer, AuditedService};
pub use note::{AuditFacts, AuditNote, CallNote, noted};
pub use service::AuditApi;

use crate::clock::Clock;

/// How identities are written in the trail, as the contract's `identity` field shows them.
const IDENTITY_PREFIX: &str = "spiffe://motcua/";
/// The longest subject kept: resource names are short.
const MAX_SUBJECT_LENGTH: usize = 200;

/// What the calls of one RPC are recorded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// It asks to change state: every call is recorded, answered or failed.
    Mutation,
    /// It returns personal data (an applicant, a payer, an officer, a document's content): every call
    /// is recorded with the resources whose data it returned.
    PersonalDataRead,
    /// Neither (catalogue reads, feeds, proofs): not recorded unless the policy refuses it.
    NotRecorded,
}

/// A service's classification: every method of its gRPC service by name (`CreateDossier`), with what
/// its calls are recorded as.
pub type Classification = &'static [(&'static str, Kind)];

/// A classification that does not match the contract: start-up refuses it, so that a new RPC cannot
/// ship unclassified.
#[derive(Debug, thiserror::Error)]
pub enum ClassificationError {
    /// The contract has no such service.
    #[error("the contract has no service {0}")]
    UnknownService(String),
    /// Methods missing from the classification, or classified but not in the contract.
    #[error(
        "{service}: the audit classification must name every method once: unclassified {missing:?}, unknown {unknown:?}"
    )]
    Mismatch {
        /// The gRPC service.
        service: String,
        /// Methods of the contract the classification leaves out.
        missing: Vec<String>,
        /// Methods of the classification the contract does not have, or named twice.
        unknown: Vec<String>,
    },
}

/// One service's trail: where records go, and what each of its RPCs is recorded as. Cheap to clone.
#[derive(Clone)]
pub struct AuditTrail {
    shared: Arc<Shared>,
}

#[derive(Clone)]
struct Shared {
    db: DatabaseConnection,
    clock: Clock,
    domain: &'static str,
    /// The gRPC services whose calls it classifies: the ones the service serves.
    services: Vec<String>,
    /// By full path, `/motcua.intake.v1.IntakeService/CreateDossier`.
    kinds: HashMap<String, Kind>,
}

impl AuditTrail {
    /// The trail of `service` (`motcua.intake.v1.IntakeService`) in `db`, whose migrations created
    /// the tables of [`schema`], timed by `clock`, its errors in `domain`.
    pub fn new(
        db: DatabaseConnection,
        clock: Clock,
        service: &str,
        domain: &'static str,
        classification: Classification,
    ) -> Result<Self, ClassificationError> {
        check_classification(service, classification)?;
        let kinds = classification.iter().map(|(method, kind)| (format!("/{service}/{method}"), *kind)).collect();
        Ok(Self { shared: Arc::new(Shared { db, clock, domain, services: vec![service.to_owned()], kinds }) })
    }

    /// The trail that also records the calls of `service`, a further gRPC service on the same port
    /// (signing's witness), by its own `classification`, checked against the contract like the first.
    pub fn also_of(self, service: &str, classification: Classification) -> Result<Self, ClassificationError> {
        check_classification(service, classification)?;
        let Shared { db, clock, domain, mut services, mut kinds } = Arc::unwrap_or_clone(self.shared);
        services.push(service.to_owned());
        kinds.extend(classification.iter().map(|(method, kind)| (format!("/{service}/{method}"), *kind)));
        Ok(Self { shared: Arc::new(Shared { db, clock, domain, services, kinds }) })
    }

    /// The gRPC services whose calls the trail classifies, the service's own first.
    pub fn services(&self) -> &[String] {
        &self.shared.services
    }

    /// What calls of `path` (`/package.Service/Method`) are recorded as; paths of other services
    /// (health, reflection) are not recorded.
    pub fn kind(&self, path: &str) -> Kind {
        self.shared.kinds.get(path).copied().unwrap_or(Kind::NotRecorded)
    }

    /// The error domain of the service, for the status of a call whose record could not be written.
    pub(crate) fn domain(&self) -> &'static str {
        self.shared.domain
    }

    /// The trail's database, which [`AuditApi`] reads.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.shared.db
    }

    /// The time a record is written at.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.clock.now()
    }

    /// Writes one record in a transaction of its own; returns its sequence. The write runs as a task of
    /// its own, so a caller that hangs up does not cut a record in half.
    pub(crate) async fn record(&self, entry: Entry) -> Result<i64, DbErr> {
        let db = self.shared.db.clone();
        let time = self.now();
        tokio::spawn(async move { store::append_alone(&db, time, &entry).await })
            .await
            .map_err(|error| DbErr::Custom(format!("the audit write task failed: {error}")))?
    }

    /// Whether the record `sequence`, which a transaction of the call of `entry` wrote, committed.
    pub(crate) async fn committed(&self, sequence: i64, entry: &Entry) -> Result<bool, DbErr> {
        store::exists(&self.shared.db, sequence, entry).await
    }

    /// Records a call the guard refused: `identity` when the caller named one, the refusal's code
    /// and reason.
    pub(crate) async fn record_denied(
        &self,
        path: &str,
        identity: Option<&str>,
        headers: &HeaderMap,
        status_code: tonic::Code,
        reason: &str,
    ) -> Result<i64, DbErr> {
        self.record(Entry {
            identity: identity.map(trail_identity).unwrap_or_default(),
            rpc: path.to_owned(),
            action: Action::Denied,
            facts: Facts::default(),
            trace_id: trace_id(headers),
            status_code: status_code as i32,
            error_reason: reason.to_owned(),
        })
        .await
    }
}

/// Every method of the contract's `service` once, and nothing else.
fn check_classification(service: &str, classification: Classification) -> Result<(), ClassificationError> {
    let descriptors = prost_types::FileDescriptorSet::decode(motcua_proto::FILE_DESCRIPTOR_SET)
        .map_err(|_| ClassificationError::UnknownService(service.to_owned()))?;
    let (package, name) = service.rsplit_once('.').unwrap_or(("", service));
    let methods: BTreeSet<String> = descriptors
        .file
        .iter()
        .filter(|file| file.package() == package)
        .flat_map(|file| file.service.iter())
        .find(|candidate| candidate.name() == name)
        .ok_or_else(|| ClassificationError::UnknownService(service.to_owned()))?
        .method
        .iter()
        .map(|method| method.name().to_owned())
        .collect();
    let mut classified = BTreeSet::new();
    let mut unknown = Vec::new();
    for (method, _) in classification {
        if !methods.contains(*method) || !classified.insert((*method).to_owned()) {
            unknown.push((*method).to_owned());
        }
    }
    let missing: Vec<String> = methods.difference(&classified).cloned().collect();
    if missing.is_empty() && unknown.is_empty() {
        Ok(())
    } else {
        Err(ClassificationError::Mismatch { service: service.to_owned(), missing, unknown })
    }
}

/// What a record says, apart from its sequence and time.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub identity: String,
    pub rpc: String,
    pub action: Action,
    pub facts: Facts,
    pub trace_id: String,
    pub status_code: i32,
    pub error_reason: String,
}

/// What the handler noted.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub request_id: String,
    pub actor_id: String,
    pub subjects: Vec<String>,
}

/// `collection/id...`: ASCII without spaces, a lower-case collection, short.
fn is_resource_name(name: &str) -> bool {
    let Some((collection, rest)) = name.split_once('/') else { return false };
    !collection.is_empty()
        && collection.bytes().next().is_some_and(|byte| byte.is_ascii_lowercase())
        && collection.bytes().all(|byte| byte.is_ascii_alphanumeric())
        && !rest.is_empty()
        && name.len() <= MAX_SUBJECT_LENGTH
        && rest.bytes().all(|byte| byte.is_ascii_graphic())
}

/// The identity as the trail writes it: `spiffe://motcua/agency/so-tu-phap`.
fn trail_identity(identity: &str) -> String {
    if identity.starts_with(IDENTITY_PREFIX) { identity.to_owned() } else { format!("{IDENTITY_PREFIX}{identity}") }
}

/// The W3C trace id of the current call: the server span's, or, when nothing exports spans, the
/// caller's `traceparent`; empty when neither has one.
fn trace_id(headers: &HeaderMap) -> String {
    use opentelemetry::trace::{TraceContextExt, TraceId};
    let span_trace = tracing::Span::current().context().span().span_context().trace_id();
    if span_trace != TraceId::INVALID {
        return span_trace.to_string();
    }
    headers
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split('-').nth(1))
        .filter(|trace| is_trace_id(trace) && trace.bytes().any(|byte| byte != b'0'))
        .map(str::to_owned)
        .unwrap_or_default()
}

/// 32 lower-case hexadecimal digits.
fn is_trace_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resource_names_are_kept_as_subjects() {
        assert!(is_resource_name("dossiers/000.00.12.H26-250301-0001"));
        assert!(is_resource_name("series/1C26TAA/receipts/0000001"));
        assert!(!is_resource_name("dossiers/Nguyễn Văn A"));
        assert!(!is_resource_name("Số 1 phố Tràng Tiền"));
        assert!(!is_resource_name("0912345678"));
        assert!(!is_resource_name("dossiers/"));
    }

    #[test]
    fn identities_are_written_as_spiffe_uris() {
        assert_eq!(trail_identity("agency/so-tu-phap"), "spiffe://motcua/agency/so-tu-phap");
        assert_eq!(trail_identity("spiffe://motcua/staff/cn01"), "spiffe://motcua/staff/cn01");
    }

    #[test]
    fn the_callers_traceparent_gives_the_trace_id_when_no_span_has_one() {
        let mut headers = HeaderMap::new();
        headers
            .insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().expect("ascii"));
        assert_eq!(trace_id(&headers), "4bf92f3577b34da6a3ce929d0e0e4736");
        headers
            .insert("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01".parse().expect("ascii"));
        assert_eq!(trace_id(&headers), "");
        assert_eq!(trace_id(&HeaderMap::new()), "");
    }

    #[test]
    fn a_classification_must_name_every_method_of_the_contract_once() {
        const PARTIAL: Classification = &[("GetSummary", Kind::NotRecorded), ("NoSuchMethod", Kind::Mutation)];
        match check_classification("motcua.reporting.v1.ReportingService", PARTIAL) {
            Err(ClassificationError::Mismatch { missing, unknown, .. }) => {
                assert!(missing.contains(&"RebuildProjections".to_owned()));
                assert_eq!(unknown, vec!["NoSuchMethod".to_owned()]);
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
        assert!(matches!(
            check_classification("motcua.nothing.v1.NoService", PARTIAL),
            Err(ClassificationError::UnknownService(_))
        ));
    }
}
