//! Certificate profiles: who a certificate names (authority, person, organisation), the key usages and
//! constraints each gets, and the unsigned X.509 certificate (TBSCertificate) a key then signs.

use std::time::SystemTime;

use der::{
    Any, Encode, Tag,
    asn1::{BitString, OctetString, SetOfVec},
    oid::ObjectIdentifier,
};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::{
    Certificate, TbsCertificate,
    attr::AttributeTypeAndValue,
    certificate::Version,
    ext::{
        AsExtension, Extension,
        pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier},
    },
    name::{Name, RdnSequence, RelativeDistinguishedName},
    serial_number::SerialNumber,
    time::{Time, Validity},
};

use super::algorithms::KeyAlgorithm;

/// commonName.
pub const OID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// countryName.
pub const OID_COUNTRY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
/// organizationName.
pub const OID_ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
/// organizationalUnitName: the branch code.
pub const OID_ORGANIZATIONAL_UNIT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
/// userId (RFC 4519): the officer's staff code, the branch code of a seal, the authority's id.
pub const OID_USER_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1");

motcua_chassis::coded_enum! {
    /// Who or what a certificate identifies; the numbers are the contract's and the stored ones.
    pub enum SubjectKind {
        /// A certificate authority.
        Authority = 1,
        /// A person: an officer.
        Person = 2,
        /// An organisation: a branch's seal.
        Organisation = 3,
    }
}

impl SubjectKind {
    /// The key usages of the profile: an authority certifies and signs CRLs; a person or a seal signs
    /// documents, with non-repudiation (content commitment).
    pub fn key_usage(self) -> KeyUsage {
        match self {
            Self::Authority => KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            Self::Person | Self::Organisation => KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        }
    }
}

/// What a certificate says about its subject, besides its key.
#[derive(Debug, Clone)]
pub struct SubjectName<'a> {
    /// The common name: the person's, the organisation's, or the authority's name.
    pub common_name: &'a str,
    /// The holder's id (staff code, branch code, authority id).
    pub holder_id: &'a str,
    /// The branch, empty for a root.
    pub branch_code: &'a str,
    /// The organisation of the deployment.
    pub organization: &'a str,
}

impl SubjectName<'_> {
    /// The distinguished name: C=VN, O, OU=branch (when any), UID=holder, CN=name.
    pub fn to_name(&self) -> Result<Name, der::Error> {
        let mut attributes =
            vec![(OID_COUNTRY, Tag::PrintableString, "VN"), (OID_ORGANIZATION, Tag::Utf8String, self.organization)];
        if !self.branch_code.is_empty() {
            attributes.push((OID_ORGANIZATIONAL_UNIT, Tag::Utf8String, self.branch_code));
        }
        attributes.push((OID_USER_ID, Tag::Utf8String, self.holder_id));
        attributes.push((OID_COMMON_NAME, Tag::Utf8String, self.common_name));
        let mut relative_names = Vec::new();
        for (oid, tag, value) in attributes {
            let attribute = AttributeTypeAndValue { oid, value: Any::new(tag, value.as_bytes())? };
            relative_names.push(RelativeDistinguishedName(SetOfVec::try_from(vec![attribute])?));
        }
        Ok(RdnSequence(relative_names))
    }
}

/// The value of the first `oid` attribute of `name`, as text.
pub fn name_attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
    name.0
        .iter()
        .flat_map(|relative| relative.0.iter())
        .find(|attribute| attribute.oid == oid)
        .and_then(|attribute| std::str::from_utf8(attribute.value.value()).ok().map(str::to_owned))
}

/// Everything a new certificate needs, but the issuer's signature.
pub struct CertificateRequest<'a> {
    /// A fresh random serial number.
    pub serial: [u8; 16],
    /// The profile.
    pub subject_kind: SubjectKind,
    /// The subject's name.
    pub subject: Name,
    /// The issuer's subject name (the subject itself for a root).
    pub issuer: Name,
    /// The subject's public key.
    pub subject_public_key: &'a SubjectPublicKeyInfoOwned,
    /// The issuer's key identifier (see [`subject_key_identifier`]; the subject's own for a root),
    /// for the authority key identifier that verifiers match against the issuer's.
    pub issuer_key_identifier: Vec<u8>,
    /// The issuer's key algorithm: it decides the certificate's signature algorithm.
    pub issuer_algorithm: KeyAlgorithm,
    /// Valid from.
    pub not_before: SystemTime,
    /// Valid until.
    pub not_after: SystemTime,
    /// For an authority: how many authorities may stand below it (0 for a branch intermediate).
    pub path_length: Option<u8>,
}

/// The key identifier of a public key: the first 20 bytes of SHA-256 of its bits (RFC 7093, method 1).
pub fn key_identifier(public_key: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha256::digest(public_key.subject_public_key.raw_bytes())[..20].to_vec()
}

/// The key identifier a certificate gives its own key: its subjectKeyIdentifier extension when it has
/// one (an outside CA may compute it otherwise than signing does), else [`key_identifier`].
pub fn subject_key_identifier(certificate: &Certificate) -> Vec<u8> {
    use der::Decode;
    certificate
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|extension| extension.extn_id == ObjectIdentifier::new_unwrap("2.5.29.14"))
        .and_then(|extension| SubjectKeyIdentifier::from_der(extension.extn_value.as_bytes()).ok())
        .map_or_else(
            || key_identifier(&certificate.tbs_certificate.subject_public_key_info),
            |identifier| identifier.0.as_bytes().to_vec(),
        )
}

/// The unsigned certificate of `request`.
pub fn to_be_signed(request: &CertificateRequest<'_>) -> Result<TbsCertificate, der::Error> {
    let mut serial = request.serial;
    // A positive INTEGER of at most 20 octets, never zero.
    serial[0] = (serial[0] & 0x7f) | 0x01;
    let subject = &request.subject;
    let mut extensions: Vec<Extension> = Vec::new();
    let basic_constraints = match request.subject_kind {
        SubjectKind::Authority => BasicConstraints { ca: true, path_len_constraint: request.path_length },
        _ => BasicConstraints { ca: false, path_len_constraint: None },
    };
    extensions.push(basic_constraints.to_extension(subject, &extensions)?);
    extensions.push(request.subject_kind.key_usage().to_extension(subject, &extensions)?);
    let subject_key_identifier = SubjectKeyIdentifier(OctetString::new(key_identifier(request.subject_public_key))?);
    extensions.push(subject_key_identifier.to_extension(subject, &extensions)?);
    let authority_key_identifier = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(request.issuer_key_identifier.clone())?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    extensions.push(authority_key_identifier.to_extension(subject, &extensions)?);
    Ok(TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&serial)?,
        signature: request.issuer_algorithm.signature_algorithm()?,
        issuer: request.issuer.clone(),
        validity: Validity {
            not_before: Time::try_from(request.not_before)?,
            not_after: Time::try_from(request.not_after)?,
        },
        subject: subject.clone(),
        subject_public_key_info: request.subject_public_key.clone(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    })
}

/// The certificate: the TBSCertificate with the issuer's signature over its DER.
pub fn assemble(
    tbs_certificate: TbsCertificate,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: &[u8],
) -> Result<Certificate, der::Error> {
    Ok(Certificate { tbs_certificate, signature_algorithm, signature: BitString::from_bytes(signature)? })
}

/// The certificate's fingerprint: the lowercase hexadecimal SHA-256 of its DER, also its id.
pub fn fingerprint(certificate_der: &[u8]) -> String {
    hex::encode(Sha256::digest(certificate_der))
}

/// The DER of `certificate`.
pub fn to_der(certificate: &Certificate) -> Result<Vec<u8>, der::Error> {
    certificate.to_der()
}

/// Whether `certificate` is an authority: basicConstraints cA and keyCertSign.
pub fn is_authority(certificate: &Certificate) -> bool {
    use der::Decode;
    let extensions = certificate.tbs_certificate.extensions.as_deref().unwrap_or_default();
    let mut is_ca = false;
    let mut may_certify = true;
    for extension in extensions {
        if extension.extn_id == ObjectIdentifier::new_unwrap("2.5.29.19") {
            is_ca = BasicConstraints::from_der(extension.extn_value.as_bytes()).is_ok_and(|constraints| constraints.ca);
        } else if extension.extn_id == ObjectIdentifier::new_unwrap("2.5.29.15") {
            may_certify = KeyUsage::from_der(extension.extn_value.as_bytes())
                .is_ok_and(|usage| usage.0.contains(KeyUsages::KeyCertSign));
        }
    }
    is_ca && may_certify
}

/// The PEM text of DER certificates, one block each, in order.
pub fn chain_pem(certificates_der: &[Vec<u8>]) -> String {
    certificates_der
        .iter()
        .filter_map(|der| der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).ok())
        .collect()
}
