//! What intake's gRPC tests share: clients, request ids, officers, citizens and filings.

#![allow(dead_code)]

use motcua_proto::motcua::{
    common::v1::{Applicant, Channel, Citizen, CopyKind, applicant::Kind},
    intake::v1::{self as pb, intake_service_client::IntakeServiceClient},
};
use tonic::transport::Channel as GrpcChannel;

pub type Client = IntakeServiceClient<GrpcChannel>;

pub async fn client(addr: std::net::SocketAddr) -> Client {
    IntakeServiceClient::connect(format!("http://{addr}")).await.expect("intake answers")
}

pub fn request_id() -> String {
    uuid_v4()
}

pub fn uuid_v4() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::from(motcua_chassis::clock::Clock::system().now())
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{nanos:x}-{:x}-{:x}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub fn officer(id: &str) -> pb::Officer {
    pb::Officer {
        officer_id: id.to_owned(), display_name: format!("Cán bộ {id}"), unit: "Bộ phận một cửa".to_owned()
    }
}

pub fn citizen(identity_number: &str) -> Applicant {
    Applicant {
        kind: Some(Kind::Citizen(Citizen {
            identity_number: identity_number.to_owned(),
            full_name: "Trần Văn Bình".to_owned(),
            date_of_birth: None,
            phone: "0912345678".to_owned(),
            address: "Số 1 phố Tràng Tiền, Hà Nội".to_owned(),
        })),
    }
}

/// Every required component of `procedure_code`, as originals.
pub async fn required_components(intake: &mut Client, procedure_code: &str) -> Vec<pb::SubmittedComponent> {
    let procedure = intake
        .get_procedure(pb::GetProcedureRequest { name: format!("procedures/{procedure_code}"), version: 0 })
        .await
        .expect("procedure")
        .into_inner();
    procedure
        .components
        .iter()
        .filter(|component| component.required)
        .map(|component| pb::SubmittedComponent {
            component_code: component.code.clone(),
            copy_kind: CopyKind::Original as i32,
            copies: 1,
            ..Default::default()
        })
        .collect()
}

/// A procedure with a limit of 10 working days: whatever the hour a test runs, a dossier filed now is
/// due days later, so nothing here is overdue by accident.
pub const PROCEDURE: &str = "1.012822";

pub async fn filing(
    intake: &mut Client,
    branch_code: &str,
    channel: Channel,
    identity_number: &str,
) -> pb::CreateDossierRequest {
    pb::CreateDossierRequest {
        request_id: request_id(),
        branch_code: branch_code.to_owned(),
        procedure_code: PROCEDURE.to_owned(),
        channel: channel as i32,
        applicant: Some(citizen(identity_number)),
        receiving_officer: Some(officer("CB001")),
        components: required_components(intake, PROCEDURE).await,
    }
}

pub async fn create(intake: &mut Client, request: pb::CreateDossierRequest) -> pb::Dossier {
    intake.create_dossier(request).await.expect("filed").into_inner().dossier.expect("a dossier")
}
