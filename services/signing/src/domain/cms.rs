//! Detached CMS SignedData with the CAdES-BES signed attributes (content type, signing time, message
//! digest, ESS signing-certificate-v2): the attributes a key signs, the `.p7s` assembled around that
//! signature, and the reading of any `.p7s` for verification.

use std::time::SystemTime;

use cms::{
    cert::{CertificateChoices, IssuerAndSerialNumber},
    content_info::{CmsVersion, ContentInfo},
    signed_data::{
        CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo,
        SignerInfos,
    },
};
use der::{
    Any, Decode, Encode, Sequence,
    asn1::{OctetString, SetOfVec},
    oid::ObjectIdentifier,
};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::{Certificate, attr::Attribute, ext::pkix::name::GeneralName, serial_number::SerialNumber, time::Time};

use super::algorithms::OID_SHA256;

/// id-data.
pub const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData.
pub const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-contentType.
pub const OID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest.
pub const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime.
pub const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-signingCertificateV2 (RFC 5035).
pub const OID_SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// IssuerSerial (RFC 5035).
#[derive(Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// ESSCertIDv2 with the default hash algorithm, SHA-256, left out as DER requires.
#[derive(Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

/// SigningCertificateV2, without policies.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

/// Why bytes are not a signature signing can read.
#[derive(Debug, thiserror::Error)]
pub enum MalformedCms {
    /// Not DER, or not the structure expected.
    #[error("not a CMS SignedData: {0}")]
    Encoding(#[from] der::Error),
    /// The structure is there, but not as CAdES-BES detached with one signer requires.
    #[error("{0}")]
    Structure(&'static str),
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, der::Error> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
}

/// The signed attributes of a signature over a document with SHA-256 `document_sha256`, made at
/// `signing_time` with `signer`'s key.
pub fn signed_attributes(
    document_sha256: &[u8; 32],
    signing_time: SystemTime,
    signer: &Certificate,
) -> Result<SignedAttributes, der::Error> {
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(signer.to_der()?).to_vec())?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(signer.tbs_certificate.issuer.clone())],
                serial_number: signer.tbs_certificate.serial_number.clone(),
            },
        }],
    };
    SetOfVec::try_from(vec![
        attribute(OID_CONTENT_TYPE, Any::encode_from(&OID_DATA)?)?,
        attribute(OID_SIGNING_TIME, Any::encode_from(&Time::try_from(signing_time)?)?)?,
        attribute(OID_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(document_sha256.to_vec())?)?)?,
        attribute(OID_SIGNING_CERTIFICATE_V2, Any::encode_from(&signing_certificate)?)?,
    ])
}

/// The bytes a key signs: the DER of the signed attributes as a SET OF (RFC 5652 section 5.4).
pub fn to_be_signed(attributes: &SignedAttributes) -> Result<Vec<u8>, der::Error> {
    attributes.to_der()
}

fn sha256_identifier() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: OID_SHA256, parameters: None }
}

/// The detached `.p7s` (ContentInfo of SignedData, DER) around `signature` over `attributes`, carrying
/// `certificates` (the signer then its chain).
pub fn assemble(
    signer: &Certificate,
    certificates: &[Certificate],
    attributes: SignedAttributes,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: &[u8],
) -> Result<Vec<u8>, der::Error> {
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_identifier(),
        signed_attrs: Some(attributes),
        signature_algorithm,
        signature: OctetString::new(signature.to_vec())?,
        unsigned_attrs: None,
    };
    let certificate_choices = certificates.iter().cloned().map(CertificateChoices::Certificate).collect::<Vec<_>>();
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_identifier()])?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: OID_DATA, econtent: None },
        certificates: Some(CertificateSet(SetOfVec::try_from(certificate_choices)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    ContentInfo { content_type: OID_SIGNED_DATA, content: Any::encode_from(&signed_data)? }.to_der()
}

/// A `.p7s`, read.
#[derive(Debug, Clone)]
pub struct ParsedSignature {
    /// The signer's certificate, found among the carried certificates by issuer and serial number.
    pub signer: Option<Certificate>,
    /// Every certificate carried.
    pub certificates: Vec<Certificate>,
    /// The bytes the signer signed (the signed attributes as a SET OF).
    pub signed_attributes_der: Vec<u8>,
    /// The messageDigest attribute.
    pub message_digest: Vec<u8>,
    /// The signingTime attribute.
    pub signing_time: SystemTime,
    /// The signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// The signature value.
    pub signature: Vec<u8>,
}

/// Reads a detached CMS SignedData with one signer, the SHA-256 digest and the signed attributes
/// content type (id-data), message digest and signing time.
pub fn parse(cms_der: &[u8]) -> Result<ParsedSignature, MalformedCms> {
    let content_info = ContentInfo::from_der(cms_der)?;
    if content_info.content_type != OID_SIGNED_DATA {
        return Err(MalformedCms::Structure("not a SignedData"));
    }
    let signed_data: SignedData = content_info.content.decode_as()?;
    if signed_data.encap_content_info.econtent.is_some() {
        return Err(MalformedCms::Structure("the content is attached; a detached signature is expected"));
    }
    let [signer_info] = signed_data.signer_infos.0.as_slice() else {
        return Err(MalformedCms::Structure("exactly one signer is expected"));
    };
    if signer_info.digest_alg.oid != OID_SHA256 {
        return Err(MalformedCms::Structure("the digest algorithm is not SHA-256"));
    }
    let attributes =
        signer_info.signed_attrs.as_ref().ok_or(MalformedCms::Structure("the signed attributes are missing"))?;
    let single_value = |oid: ObjectIdentifier| -> Result<&Any, MalformedCms> {
        let attribute = attributes
            .iter()
            .find(|attribute| attribute.oid == oid)
            .ok_or(MalformedCms::Structure("a required signed attribute is missing"))?;
        match attribute.values.as_slice() {
            [value] => Ok(value),
            _ => Err(MalformedCms::Structure("a signed attribute has more than one value")),
        }
    };
    let content_type: ObjectIdentifier = single_value(OID_CONTENT_TYPE)?.decode_as()?;
    if content_type != OID_DATA {
        return Err(MalformedCms::Structure("the content type is not id-data"));
    }
    let message_digest: OctetString = single_value(OID_MESSAGE_DIGEST)?.decode_as()?;
    let signing_time = Time::from_der(&single_value(OID_SIGNING_TIME)?.to_der()?)?;
    let certificates: Vec<Certificate> = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(certificate) => Some(certificate.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let signer = match &signer_info.sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => certificates
            .iter()
            .find(|certificate| {
                certificate.tbs_certificate.issuer == id.issuer
                    && certificate.tbs_certificate.serial_number == id.serial_number
            })
            .cloned(),
        SignerIdentifier::SubjectKeyIdentifier(_) => None,
    };
    Ok(ParsedSignature {
        signer,
        certificates,
        signed_attributes_der: attributes.to_der()?,
        message_digest: message_digest.as_bytes().to_vec(),
        signing_time: signing_time.to_system_time(),
        signature_algorithm: signer_info.signature_algorithm.clone(),
        signature: signer_info.signature.as_bytes().to_vec(),
    })
}
