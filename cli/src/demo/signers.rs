//! The demo's signers in signing: a root, branch CN01's intermediate, the officer, the leader (an
//! approver) and the branch seal; and the chain (intermediate and root) a verifier trusts.

use anyhow::Context;
use motcua_chassis::peer::PeerChannel;
use motcua_proto::motcua::signing::v1::{self as signing, signing_service_client::SigningServiceClient};
use tonic::Code;

use super::{BRANCH, LEADER, OFFICER};

/// The branch intermediate's authority: the issuer of every demo certificate.
const INTERMEDIATE: &str = "authorities/demo-cn01";

/// Creates the signers. Fixed request ids make a second run find what the first made.
pub async fn set_up(signing: &mut SigningServiceClient<PeerChannel>) -> anyhow::Result<()> {
    let authority = |authority_id: &str, kind: signing::AuthorityKind, parent: &str, branch: &str, display: &str| {
        signing::CreateCertificateAuthorityRequest {
            request_id: format!("motcua-demo-authority-{authority_id}"),
            authority_id: authority_id.to_owned(),
            kind: kind as i32,
            branch_code: branch.to_owned(),
            parent: parent.to_owned(),
            display_name: display.to_owned(),
            key_algorithm: signing::KeyAlgorithm::EcdsaP256 as i32,
            ..Default::default()
        }
    };
    for request in [
        authority("demo-root", signing::AuthorityKind::Root, "", "", "motcua demo root"),
        authority(
            "demo-cn01",
            signing::AuthorityKind::Intermediate,
            "authorities/demo-root",
            BRANCH,
            "Chi nhánh số 1 (demo)",
        ),
    ] {
        tolerate_existing(signing.create_certificate_authority(request).await.map(drop))
            .context("signing: a demo CA")?;
    }
    for (kind, holder, display, roles) in [
        (signing::SubjectKind::Person, OFFICER, "Cán bộ tiếp nhận (demo)", vec![signing::SignerRole::Officer]),
        (
            signing::SubjectKind::Person,
            LEADER,
            "Lãnh đạo chi nhánh (demo)",
            vec![signing::SignerRole::Officer, signing::SignerRole::Approver],
        ),
        (signing::SubjectKind::Organisation, BRANCH, "Chi nhánh số 1", vec![]),
    ] {
        let request = signing::CreateCertificateRequest {
            request_id: format!("motcua-demo-certificate-{holder}"),
            issuer: INTERMEDIATE.to_owned(),
            subject_kind: kind as i32,
            holder_id: holder.to_owned(),
            display_name: display.to_owned(),
            branch_code: BRANCH.to_owned(),
            roles: roles.into_iter().map(|role| role as i32).collect(),
            key_algorithm: signing::KeyAlgorithm::EcdsaP256 as i32,
            validity_days: 0,
        };
        tolerate_existing(signing.create_certificate(request).await.map(drop))
            .context("signing: a demo certificate")?;
    }
    Ok(())
}

/// The branch intermediate's certificate then the root's, PEM: what `openssl cms -verify -CAfile`
/// trusts for every demo signature.
pub async fn chain_pem(signing: &mut SigningServiceClient<PeerChannel>) -> anyhow::Result<String> {
    let request = signing::GetCertificateAuthorityRequest { name: INTERMEDIATE.to_owned() };
    let authority = signing.get_certificate_authority(request).await.context("signing: the intermediate")?;
    let request = signing::GetCertificateRequest { name: authority.into_inner().certificate };
    Ok(signing.get_certificate(request).await.context("signing: its certificate")?.into_inner().chain_pem)
}

/// A create that finds its resource already there (an earlier run) is fine.
fn tolerate_existing(result: Result<(), tonic::Status>) -> Result<(), tonic::Status> {
    match result {
        Err(status) if status.code() == Code::AlreadyExists => Ok(()),
        other => other,
    }
}
