//! Who is calling. In production the caller's client certificate names it (a SPIFFE-style URI SAN,
//! `spiffe://motcua/agency/so-tu-phap` or `spiffe://motcua/service/receipt`); in the development mode,
//! switched on explicitly and only on loopback, the `x-motcua-identity` metadata does.

use x509_cert::{
    Certificate,
    der::{Decode, oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME},
    ext::pkix::{SubjectAltName, name::GeneralName},
};

/// The metadata that names the caller in the development mode.
pub const IDENTITY_HEADER: &str = "x-motcua-identity";
/// The identity of a development caller that names none.
pub const ANONYMOUS_DEVELOPER: &str = "dev/anonymous";
/// The URI prefix of motcua identities in certificates.
const SPIFFE_PREFIX: &str = "spiffe://motcua/";

/// How a caller was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentitySource {
    /// By its client certificate, verified by mutual TLS.
    ClientCertificate,
    /// By metadata, in the development mode: trusted only because only loopback can reach it.
    DevelopmentMetadata,
}

/// The caller of an RPC, as the chassis established it, and what the policy lets it reach. Handlers
/// read it from the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `agency/so-tu-phap`, `service/receipt`, `staff/cn01`, `dev/anonymous`.
    pub identity: String,
    /// How it was identified.
    pub source: IdentitySource,
    /// The branches it may act for; empty means every branch.
    pub branches: Vec<String>,
    /// The procedures whose dossiers it may read; empty means every procedure.
    pub procedures: Vec<String>,
}

impl Caller {
    /// The caller the chassis's guard put in `request`'s extensions: every guarded request has one.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Self, crate::ApiError> {
        request.extensions().get::<Self>().cloned().ok_or_else(|| crate::ApiError::Unauthenticated {
            reason: "NO_IDENTITY",
            description: "the call was not identified".to_owned(),
        })
    }

    /// PERMISSION_DENIED (BRANCH_NOT_ALLOWED) unless the caller may act for `branch_code`.
    pub fn check_branch(&self, branch_code: &str) -> Result<(), crate::ApiError> {
        if self.may_act_for_branch(branch_code) {
            return Ok(());
        }
        Err(crate::ApiError::PermissionDenied {
            reason: "BRANCH_NOT_ALLOWED",
            description: format!("{} may not act for branch {branch_code}", self.identity),
        })
    }

    /// Whether the caller may act for `branch_code`.
    pub fn may_act_for_branch(&self, branch_code: &str) -> bool {
        self.branches.is_empty() || self.branches.iter().any(|branch| branch == branch_code)
    }

    /// Whether the caller is restricted to some branches or procedures (an agency), as opposed to the
    /// center's own staff and services.
    pub fn is_restricted(&self) -> bool {
        !self.branches.is_empty() || !self.procedures.is_empty()
    }

    /// Whether the caller may read a dossier of `procedure_code` that `submitter` filed: its own, or
    /// one of its procedures, or any when it is not restricted.
    pub fn may_read_dossier(&self, submitter: &str, procedure_code: &str) -> bool {
        !self.is_restricted()
            || submitter == self.identity
            || self.procedures.iter().any(|procedure| procedure == procedure_code)
    }
}

/// The motcua identity in a DER certificate's subject alternative names, if it has one.
pub fn from_certificate(der: &[u8]) -> Option<String> {
    let certificate = Certificate::from_der(der).ok()?;
    let extensions = certificate.tbs_certificate.extensions?;
    let names = extensions.iter().find(|extension| extension.extn_id == ID_CE_SUBJECT_ALT_NAME)?;
    let names = SubjectAltName::from_der(names.extn_value.as_bytes()).ok()?;
    names.0.iter().find_map(|name| match name {
        GeneralName::UniformResourceIdentifier(uri) => parse_uri(uri.as_str()),
        _ => None,
    })
}

/// The identity in a development caller's metadata value, if it is one.
pub fn from_metadata(value: Option<&str>) -> Option<String> {
    match value {
        None => Some(ANONYMOUS_DEVELOPER.to_owned()),
        Some(value) => is_valid(value).then(|| value.to_owned()),
    }
}

fn parse_uri(uri: &str) -> Option<String> {
    uri.strip_prefix(SPIFFE_PREFIX).filter(|identity| is_valid(identity)).map(str::to_owned)
}

/// `kind/name`: lower-case letters, digits and hyphens, at most 100 characters.
fn is_valid(identity: &str) -> bool {
    let Some((kind, name)) = identity.split_once('/') else { return false };
    let part = |text: &str| {
        !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
    };
    identity.len() <= 100 && part(kind) && part(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spiffe_uris_name_kind_and_name() {
        assert_eq!(parse_uri("spiffe://motcua/agency/so-tu-phap").as_deref(), Some("agency/so-tu-phap"));
        assert_eq!(parse_uri("spiffe://other/agency/x"), None);
        assert_eq!(parse_uri("spiffe://motcua/agency/Bad Name"), None);
        assert_eq!(parse_uri("spiffe://motcua/agency"), None);
    }

    #[test]
    fn development_callers_without_metadata_are_anonymous() {
        assert_eq!(from_metadata(None).as_deref(), Some(ANONYMOUS_DEVELOPER));
        assert_eq!(from_metadata(Some("agency/so-y-te")).as_deref(), Some("agency/so-y-te"));
        assert_eq!(from_metadata(Some("not an identity")), None);
    }

    #[test]
    fn restricted_callers_read_their_own_dossiers_and_their_procedures() {
        let agency = Caller {
            identity: "agency/a".to_owned(),
            source: IdentitySource::DevelopmentMetadata,
            branches: Vec::new(),
            procedures: vec!["1.001193".to_owned()],
        };
        assert!(agency.may_read_dossier("agency/a", "2.000001"));
        assert!(agency.may_read_dossier("staff/cn01", "1.001193"));
        assert!(!agency.may_read_dossier("agency/b", "2.000001"));
        let staff = Caller { identity: "staff/cn01".to_owned(), procedures: Vec::new(), ..agency };
        assert!(staff.may_read_dossier("agency/b", "2.000001"));
    }
}
