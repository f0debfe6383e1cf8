//! Certificate authorities in the signing service: the root, a branch's intermediate, and the
//! certificates of its officer, its leader and its seal, so that a test can sign and seal.

use motcua_proto::motcua::signing::v1 as pb;

use crate::{
    clients::Signing,
    people::{LEADER_NAME, OFFICER_NAME},
    request_id,
};

/// Someone a branch's intermediate certifies.
pub struct Holder {
    kind: pb::SubjectKind,
    holder_id: String,
    display_name: String,
    roles: Vec<pb::SignerRole>,
}

impl Holder {
    /// An officer, who signs results.
    pub fn officer(holder_id: &str, display_name: &str) -> Self {
        Self::person(holder_id, display_name, vec![pb::SignerRole::Officer])
    }

    /// A branch leader, who signs results and approves them.
    pub fn leader(holder_id: &str, display_name: &str) -> Self {
        Self::person(holder_id, display_name, vec![pb::SignerRole::Officer, pb::SignerRole::Approver])
    }

    /// The seal of `branch_code`.
    pub fn seal(branch_code: &str) -> Self {
        Self {
            kind: pb::SubjectKind::Organisation,
            holder_id: branch_code.to_owned(),
            display_name: format!("Chi nhánh {branch_code}"),
            roles: Vec::new(),
        }
    }

    fn person(holder_id: &str, display_name: &str, roles: Vec<pb::SignerRole>) -> Self {
        Self {
            kind: pb::SubjectKind::Person,
            holder_id: holder_id.to_owned(),
            display_name: display_name.to_owned(),
            roles,
        }
    }
}

/// Creates the root authority `authorities/root` and returns its certificate.
pub async fn create_root(signing: &mut Signing, algorithm: pb::KeyAlgorithm) -> pb::Certificate {
    signing
        .create_certificate_authority(pb::CreateCertificateAuthorityRequest {
            request_id: request_id(),
            authority_id: "root".to_owned(),
            kind: pb::AuthorityKind::Root as i32,
            display_name: "motcua test root CA".to_owned(),
            key_algorithm: algorithm as i32,
            ..Default::default()
        })
        .await
        .expect("root created")
        .into_inner()
        .certificate
        .expect("root certificate")
}

/// The certificate of the root authority created before.
pub async fn existing_root(signing: &mut Signing) -> pb::Certificate {
    let authority = signing
        .get_certificate_authority(pb::GetCertificateAuthorityRequest { name: "authorities/root".to_owned() })
        .await
        .expect("root exists")
        .into_inner();
    signing
        .get_certificate(pb::GetCertificateRequest { name: authority.certificate })
        .await
        .expect("root certificate")
        .into_inner()
}

/// Creates `branch_code`'s intermediate under the root, `authorities/<branch in lower case>`.
pub async fn create_branch_authority(
    signing: &mut Signing,
    branch_code: &str,
    algorithm: pb::KeyAlgorithm,
) -> pb::Certificate {
    signing
        .create_certificate_authority(pb::CreateCertificateAuthorityRequest {
            request_id: request_id(),
            authority_id: branch_code.to_lowercase(),
            kind: pb::AuthorityKind::Intermediate as i32,
            branch_code: branch_code.to_owned(),
            parent: "authorities/root".to_owned(),
            display_name: format!("Chi nhánh {branch_code} CA"),
            key_algorithm: algorithm as i32,
            ..Default::default()
        })
        .await
        .expect("intermediate created")
        .into_inner()
        .certificate
        .expect("intermediate certificate")
}

/// Has `branch_code`'s intermediate certify `holder`.
pub async fn certify(
    signing: &mut Signing,
    branch_code: &str,
    holder: Holder,
    algorithm: pb::KeyAlgorithm,
) -> pb::Certificate {
    signing
        .create_certificate(pb::CreateCertificateRequest {
            request_id: request_id(),
            issuer: format!("authorities/{}", branch_code.to_lowercase()),
            subject_kind: holder.kind as i32,
            holder_id: holder.holder_id,
            display_name: holder.display_name,
            branch_code: branch_code.to_owned(),
            roles: holder.roles.into_iter().map(|role| role as i32).collect(),
            key_algorithm: algorithm as i32,
            validity_days: 0,
        })
        .await
        .expect("certificate issued")
        .into_inner()
        .certificate
        .expect("certificate")
}

/// A new root, `branch_code`'s intermediate and one officer's certificate (ECDSA P-256): enough for
/// `officer_id` to sign, the chain coming with each signature.
pub async fn deploy_officer(signing: &mut Signing, branch_code: &str, officer_id: &str, display_name: &str) {
    let algorithm = pb::KeyAlgorithm::EcdsaP256;
    create_root(signing, algorithm).await;
    create_branch_authority(signing, branch_code, algorithm).await;
    certify(signing, branch_code, Holder::officer(officer_id, display_name), algorithm).await;
}

/// A branch's certificates: its chain, its officer, its leader and its seal.
pub struct Deployment {
    /// The root authority's certificate.
    pub root: pb::Certificate,
    /// The branch intermediate's certificate.
    pub intermediate: pb::Certificate,
    /// The officer's certificate.
    pub officer: pb::Certificate,
    /// The leader's certificate, officer and approver.
    pub leader: pb::Certificate,
    /// The branch seal's certificate.
    pub seal: pb::Certificate,
}

/// What to deploy for one branch: by default a new root, officer `officer-<branch>` and leader
/// `leader-<branch>`, keys ECDSA P-256.
pub struct BranchDeployment {
    branch_code: String,
    officer_id: String,
    leader_id: String,
    algorithm: pb::KeyAlgorithm,
    new_root: bool,
}

impl BranchDeployment {
    /// The deployment of `branch_code`.
    pub fn of(branch_code: &str) -> Self {
        Self {
            branch_code: branch_code.to_owned(),
            officer_id: format!("officer-{branch_code}"),
            leader_id: format!("leader-{branch_code}"),
            algorithm: pb::KeyAlgorithm::EcdsaP256,
            new_root: true,
        }
    }

    /// The officer is `officer_id`.
    pub fn officer(mut self, officer_id: &str) -> Self {
        self.officer_id = officer_id.to_owned();
        self
    }

    /// The leader is `leader_id`.
    pub fn leader(mut self, leader_id: &str) -> Self {
        self.leader_id = leader_id.to_owned();
        self
    }

    /// Every key is made with `algorithm`.
    pub fn key_algorithm(mut self, algorithm: pb::KeyAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The branch goes under the root an earlier deployment created.
    pub fn under_existing_root(mut self) -> Self {
        self.new_root = false;
        self
    }

    /// Creates the root (unless it exists), the intermediate, the officer's, the leader's and the
    /// seal's certificates.
    pub async fn deploy(self, signing: &mut Signing) -> Deployment {
        let Self { branch_code, officer_id, leader_id, algorithm, new_root } = self;
        let root = if new_root { create_root(signing, algorithm).await } else { existing_root(signing).await };
        let intermediate = create_branch_authority(signing, &branch_code, algorithm).await;
        let officer = certify(signing, &branch_code, Holder::officer(&officer_id, OFFICER_NAME), algorithm).await;
        let leader = certify(signing, &branch_code, Holder::leader(&leader_id, LEADER_NAME), algorithm).await;
        let seal = certify(signing, &branch_code, Holder::seal(&branch_code), algorithm).await;
        Deployment { root, intermediate, officer, leader, seal }
    }
}
