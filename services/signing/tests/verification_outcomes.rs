//! Why a signature fails, decided by signing's verification rules on certificates and signatures made
//! here without a database: revoked before (not after) the signing time, expired at the signing time,
//! a signer no held authority issued, and a chain whose issuer's key does not match.

use std::time::{Duration, SystemTime};

use der::Encode;
use motcua_signing::{
    domain::{
        algorithms::KeyAlgorithm,
        certificates::{self, CertificateRequest, SubjectKind, SubjectName},
        cms,
        verification::{self, Failure, HeldCertificate},
    },
    keys::SoftwareKey,
};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

const DAY: Duration = Duration::from_secs(86_400);

struct Issued {
    certificate: Certificate,
    key: SoftwareKey,
}

fn issue(
    kind: SubjectKind,
    name: &str,
    issuer: Option<&Issued>,
    not_before: SystemTime,
    not_after: SystemTime,
) -> Issued {
    let (key, _) = SoftwareKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let public_key = key.public_key_info().expect("public key");
    let subject = SubjectName { common_name: name, holder_id: name, branch_code: "CN01", organization: "test" }
        .to_name()
        .expect("name");
    let (issuer_name, issuer_key_identifier) = match issuer {
        Some(issuer) => (
            issuer.certificate.tbs_certificate.subject.clone(),
            certificates::subject_key_identifier(&issuer.certificate),
        ),
        None => (subject.clone(), certificates::key_identifier(&public_key)),
    };
    let tbs = certificates::to_be_signed(&CertificateRequest {
        serial: [7; 16],
        subject_kind: kind,
        subject,
        issuer: issuer_name,
        subject_public_key: &public_key,
        issuer_key_identifier,
        issuer_algorithm: KeyAlgorithm::EcdsaP256,
        not_before,
        not_after,
        path_length: None,
    })
    .expect("tbs");
    let signing_key = issuer.map_or(&key, |issuer| &issuer.key);
    let signature = signing_key.sign(&tbs.to_der().expect("der")).expect("signed");
    let certificate =
        certificates::assemble(tbs, KeyAlgorithm::EcdsaP256.signature_algorithm().expect("alg"), &signature)
            .expect("certificate");
    Issued { certificate, key }
}

struct World {
    root: Issued,
    intermediate: Issued,
    officer: Issued,
}

fn world(officer_not_after: SystemTime) -> World {
    let now = SystemTime::from(motcua_chassis::clock::Clock::system().now());
    let root = issue(SubjectKind::Authority, "root", None, now - DAY, now + 3650 * DAY);
    let intermediate = issue(SubjectKind::Authority, "cn01", Some(&root), now - DAY, now + 3650 * DAY);
    let officer = issue(SubjectKind::Person, "officer", Some(&intermediate), now - DAY, officer_not_after);
    World { root, intermediate, officer }
}

fn signed(world: &World, document: &[u8], signing_time: SystemTime) -> cms::ParsedSignature {
    let digest: [u8; 32] = Sha256::digest(document).into();
    let attributes = cms::signed_attributes(&digest, signing_time, &world.officer.certificate).expect("attributes");
    let signature = world.officer.key.sign(&cms::to_be_signed(&attributes).expect("der")).expect("signed");
    let der = cms::assemble(
        &world.officer.certificate,
        &[world.officer.certificate.clone(), world.intermediate.certificate.clone()],
        attributes,
        KeyAlgorithm::EcdsaP256.signature_algorithm().expect("alg"),
        &signature,
    )
    .expect("cms");
    cms::parse(&der).expect("parses")
}

fn held(issued: &[&Issued]) -> Vec<HeldCertificate> {
    issued.iter().map(|issued| HeldCertificate { certificate: issued.certificate.clone(), revoked_at: None }).collect()
}

fn whole_second(time: SystemTime) -> SystemTime {
    let seconds = time.duration_since(SystemTime::UNIX_EPOCH).expect("after 1970").as_secs();
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

#[test]
fn a_signature_by_an_officer_of_a_held_chain_is_valid() {
    let world = world(SystemTime::from(motcua_chassis::clock::Clock::system().now()) + 365 * DAY);
    let parsed = signed(&world, b"document", SystemTime::from(motcua_chassis::clock::Clock::system().now()));
    let authorities = held(&[&world.root, &world.intermediate]);
    let digest: [u8; 32] = Sha256::digest(b"document").into();
    assert_eq!(verification::verify(&parsed, &digest, &authorities, |_| None).failure, None);
}

#[test]
fn a_revocation_before_the_signing_time_invalidates_and_one_after_does_not() {
    let world = world(SystemTime::from(motcua_chassis::clock::Clock::system().now()) + 365 * DAY);
    let signing_time = whole_second(SystemTime::from(motcua_chassis::clock::Clock::system().now()));
    let parsed = signed(&world, b"document", signing_time);
    let authorities = held(&[&world.root, &world.intermediate]);
    let digest: [u8; 32] = Sha256::digest(b"document").into();
    let officer = world.officer.certificate.clone();
    let revoked_before =
        |certificate: &Certificate| (certificate == &officer).then(|| signing_time - Duration::from_secs(1));
    assert_eq!(
        verification::verify(&parsed, &digest, &authorities, revoked_before).failure,
        Some(Failure::RevokedBeforeSigningTime)
    );
    let revoked_after =
        |certificate: &Certificate| (certificate == &officer).then(|| signing_time + Duration::from_secs(1));
    assert_eq!(verification::verify(&parsed, &digest, &authorities, revoked_after).failure, None);
}

#[test]
fn a_signing_time_after_the_certificate_expired_is_expired() {
    let world = world(SystemTime::from(motcua_chassis::clock::Clock::system().now()) + DAY);
    let parsed = signed(&world, b"document", SystemTime::from(motcua_chassis::clock::Clock::system().now()) + 2 * DAY);
    let authorities = held(&[&world.root, &world.intermediate]);
    let digest: [u8; 32] = Sha256::digest(b"document").into();
    assert_eq!(verification::verify(&parsed, &digest, &authorities, |_| None).failure, Some(Failure::Expired));
}

#[test]
fn a_signer_whose_issuer_is_not_held_is_unknown_and_a_foreign_key_breaks_the_chain() {
    let world = world(SystemTime::from(motcua_chassis::clock::Clock::system().now()) + 365 * DAY);
    let parsed = signed(&world, b"document", SystemTime::from(motcua_chassis::clock::Clock::system().now()));
    let digest: [u8; 32] = Sha256::digest(b"document").into();
    assert_eq!(
        verification::verify(&parsed, &digest, &held(&[&world.root]), |_| None).failure,
        Some(Failure::UnknownSigner)
    );
    // Another intermediate with the same name but its own key.
    let now = SystemTime::from(motcua_chassis::clock::Clock::system().now());
    let impostor = issue(SubjectKind::Authority, "cn01", Some(&world.root), now - DAY, now + 3650 * DAY);
    assert_eq!(
        verification::verify(&parsed, &digest, &held(&[&world.root, &impostor]), |_| None).failure,
        Some(Failure::ChainBroken)
    );
}
