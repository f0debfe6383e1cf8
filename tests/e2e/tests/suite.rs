//! The four services together, as `motcua up` runs them: each migrates its own database, reports
//! SERVING on grpc.health.v1, and lists its API through gRPC reflection.

use motcua_chassis::{
    MotcuaService, ServiceKind,
    server::RunningServer,
    testing::{TestDatabase, start_service},
};
use tokio_stream::StreamExt;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

async fn start<S: MotcuaService>() -> (TestDatabase, RunningServer) {
    let database = TestDatabase::sqlite();
    let server = start_service::<S>(&database).await;
    (database, server)
}

async fn channel(addr: std::net::SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("a URL")
        .connect()
        .await
        .expect("the service answers")
}

async fn listed_services(addr: std::net::SocketAddr) -> Vec<String> {
    let mut client = ServerReflectionClient::new(channel(addr).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses =
        client.server_reflection_info(tokio_stream::iter([request])).await.expect("a stream").into_inner();
    let response = responses.next().await.expect("one response").expect("not an error");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|service| service.name).collect()
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

#[tokio::test]
async fn four_services_are_healthy_and_reflect_their_api() {
    let running = vec![
        (ServiceKind::Intake, start::<motcua_intake::Intake>().await),
        (ServiceKind::Signing, start::<motcua_signing::Signing>().await),
        (ServiceKind::Receipt, start::<motcua_receipt::Receipt>().await),
        (ServiceKind::Reporting, start::<motcua_reporting::Reporting>().await),
    ];
    for (kind, (_database, server)) in &running {
        let mut health = HealthClient::new(channel(server.local_addr).await);
        for service in [kind.grpc_service_name(), ""] {
            let status = health
                .check(HealthCheckRequest { service: service.to_owned() })
                .await
                .expect("health check")
                .into_inner()
                .status();
            assert_eq!(status, ServingStatus::Serving, "{} {service:?}", kind.name());
        }
        let services = listed_services(server.local_addr).await;
        for expected in [kind.grpc_service_name(), "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"] {
            assert!(services.iter().any(|name| name == expected), "{} lists {expected}: {services:?}", kind.name());
        }
        for other in ServiceKind::ALL.into_iter().filter(|other| other != kind) {
            assert!(
                !services.iter().any(|name| name == other.grpc_service_name()),
                "{} lists only its own API",
                kind.name()
            );
        }
    }
    for (_, (_database, server)) in running {
        server.stop().await.expect("clean stop");
    }
}

#[tokio::test]
async fn unimplemented_rpcs_say_so() {
    use motcua_proto::motcua::reporting::v1::{
        ListAuditRecordsRequest, reporting_service_client::ReportingServiceClient,
    };
    let (_database, server) = start::<motcua_reporting::Reporting>().await;
    let mut reporting =
        ReportingServiceClient::connect(format!("http://{}", server.local_addr)).await.expect("connects");
    // The audit trail is not built yet.
    let status = reporting.list_audit_records(ListAuditRecordsRequest::default()).await.expect_err("not built yet");
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    server.stop().await.expect("clean stop");
}
