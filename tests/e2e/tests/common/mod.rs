//! What the end-to-end tests share: request ids, officers, and the signers of branch CN01.

#![allow(dead_code)]

use motcua_proto::motcua::{
    intake::v1 as pb,
    signing::v1::{self as signing_pb, signing_service_client::SigningServiceClient},
};

/// A commune-level procedure of the built-in catalogue (10 working days, one required component).
pub const PROCEDURE: &str = "1.012822";

pub fn id(label: &str) -> String {
    let nanos = std::time::SystemTime::from(motcua_chassis::clock::Clock::system().now())
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{label}-{nanos:x}")
}

/// A root CA, branch CN01's intermediate, officer CB001, leader LD001 (approver) and the CN01 seal.
pub async fn set_up_signers(signing: &mut SigningServiceClient<tonic::transport::Channel>) {
    signing
        .create_certificate_authority(signing_pb::CreateCertificateAuthorityRequest {
            request_id: id("root"),
            authority_id: "root".to_owned(),
            kind: signing_pb::AuthorityKind::Root as i32,
            display_name: "Hanoi PASC test root".to_owned(),
            key_algorithm: signing_pb::KeyAlgorithm::EcdsaP256 as i32,
            ..Default::default()
        })
        .await
        .expect("root CA");
    signing
        .create_certificate_authority(signing_pb::CreateCertificateAuthorityRequest {
            request_id: id("cn01"),
            authority_id: "cn01".to_owned(),
            kind: signing_pb::AuthorityKind::Intermediate as i32,
            branch_code: "CN01".to_owned(),
            parent: "authorities/root".to_owned(),
            display_name: "Chi nhánh số 1 CA".to_owned(),
            key_algorithm: signing_pb::KeyAlgorithm::EcdsaP256 as i32,
            ..Default::default()
        })
        .await
        .expect("branch CA");
    for (kind, holder, name, roles) in [
        (signing_pb::SubjectKind::Person, "CB001", "Nguyễn Văn An", vec![signing_pb::SignerRole::Officer]),
        (
            signing_pb::SubjectKind::Person,
            "LD001",
            "Trần Thị Bình",
            vec![signing_pb::SignerRole::Officer, signing_pb::SignerRole::Approver],
        ),
        (signing_pb::SubjectKind::Organisation, "CN01", "Chi nhánh số 1", vec![]),
    ] {
        signing
            .create_certificate(signing_pb::CreateCertificateRequest {
                request_id: id(holder),
                issuer: "authorities/cn01".to_owned(),
                subject_kind: kind as i32,
                holder_id: holder.to_owned(),
                display_name: name.to_owned(),
                branch_code: "CN01".to_owned(),
                roles: roles.into_iter().map(|role| role as i32).collect(),
                key_algorithm: signing_pb::KeyAlgorithm::EcdsaP256 as i32,
                validity_days: 0,
            })
            .await
            .expect("certificate issued");
    }
}

pub fn actor(officer_id: &str) -> Option<pb::Officer> {
    Some(pb::Officer { officer_id: officer_id.to_owned(), ..Default::default() })
}
