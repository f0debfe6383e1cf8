//! What signing's audit trail records: each RPC's classification, and what each recorded request and
//! answer says about its call (request id, acting officer, resource names; never a document).

use motcua_chassis::audit::{
    AuditFacts, AuditNote, Classification,
    Kind::{Mutation, NotRecorded, PersonalDataRead},
};
use motcua_proto::motcua::signing::v1 as pb;

pub(super) use motcua_chassis::audit::noted;

/// Signing's side of [`AuditFacts`].
pub enum Trail {}

/// Every method of `SigningService`, with what its calls are recorded as.
pub const AUDIT: Classification = &[
    ("CreateCertificateAuthority", Mutation),
    ("ImportCertificateAuthority", Mutation),
    // Authorities and certificates are public by design: every signature carries them.
    ("GetCertificateAuthority", NotRecorded),
    ("ListCertificateAuthorities", NotRecorded),
    ("CreateCertificate", Mutation),
    ("ImportCertificate", Mutation),
    ("GetCertificate", NotRecorded),
    ("ListCertificates", NotRecorded),
    ("RevokeCertificate", Mutation),
    ("GetCrl", NotRecorded),
    ("Sign", Mutation),
    ("Seal", Mutation),
    // A signature record says which officer, by name, signed what about which dossier or receipt.
    ("GetSignature", PersonalDataRead),
    ("ListSignatures", PersonalDataRead),
    // The caller brings the signature; the answer tells it what the signature already says.
    ("VerifySignature", NotRecorded),
    // The transparency log is public: hashes, proofs and tiles.
    ("GetCheckpoint", NotRecorded),
    ("GetInclusionProof", NotRecorded),
    ("GetConsistencyProof", NotRecorded),
    ("GetTile", NotRecorded),
    // Events carry ids and times, never personal data.
    ("WatchEvents", NotRecorded),
];

fn signature(note: &AuditNote, signature: Option<&pb::Signature>) {
    if let Some(signature) = signature {
        note.subject(&signature.name);
        note.subject(&signature.subject);
    }
}

fn certificate(note: &AuditNote, certificate: Option<&pb::Certificate>) {
    if let Some(certificate) = certificate {
        note.subject(&certificate.name);
    }
}

impl AuditFacts<Trail> for pb::CreateCertificateAuthorityRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.parent);
    }
}

impl AuditFacts<Trail> for pb::ImportCertificateAuthorityRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
    }
}

macro_rules! authority_answers {
    ($($response:ident),+) => {$(
        impl AuditFacts<Trail> for pb::$response {
            fn note(&self, note: &AuditNote) {
                if let Some(authority) = &self.authority {
                    note.subject(&authority.name);
                }
                certificate(note, self.certificate.as_ref());
            }
        }
    )+};
}

authority_answers!(CreateCertificateAuthorityResponse, ImportCertificateAuthorityResponse);

impl AuditFacts<Trail> for pb::CreateCertificateRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.issuer);
    }
}

impl AuditFacts<Trail> for pb::ImportCertificateRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
    }
}

impl AuditFacts<Trail> for pb::RevokeCertificateRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.subject(&self.name);
    }
}

macro_rules! certificate_answers {
    ($($response:ident),+) => {$(
        impl AuditFacts<Trail> for pb::$response {
            fn note(&self, note: &AuditNote) {
                certificate(note, self.certificate.as_ref());
            }
        }
    )+};
}

certificate_answers!(CreateCertificateResponse, ImportCertificateResponse, RevokeCertificateResponse);

impl AuditFacts<Trail> for pb::SignRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.actor(&self.signer_id);
        note.subject(&self.subject);
        note.subject(&self.certificate);
    }
}

impl AuditFacts<Trail> for pb::SignResponse {
    fn note(&self, note: &AuditNote) {
        signature(note, self.signature.as_ref());
    }
}

impl AuditFacts<Trail> for pb::SealRequest {
    fn note(&self, note: &AuditNote) {
        note.request_id(&self.request_id);
        note.actor(&self.approver_id);
        note.subject(&self.officer_signature);
    }
}

impl AuditFacts<Trail> for pb::SealResponse {
    fn note(&self, note: &AuditNote) {
        signature(note, self.seal.as_ref());
    }
}

impl AuditFacts<Trail> for pb::GetSignatureRequest {
    fn note(&self, note: &AuditNote) {
        note.subject(&self.name);
    }
}

impl AuditFacts<Trail> for pb::Signature {
    fn note(&self, note: &AuditNote) {
        signature(note, Some(self));
    }
}

impl AuditFacts<Trail> for pb::ListSignaturesRequest {
    fn note(&self, _note: &AuditNote) {}
}

impl AuditFacts<Trail> for pb::ListSignaturesResponse {
    fn note(&self, note: &AuditNote) {
        for listed in &self.signatures {
            signature(note, Some(listed));
        }
    }
}
