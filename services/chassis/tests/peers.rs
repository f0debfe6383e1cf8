//! Peers as every service reads them: a peer URL that does not parse stops start-up, and a peer that
//! is down reaches the caller as UNAVAILABLE with RetryInfo, safe to retry.

use motcua_chassis::{
    ApiError, ServiceConfig, ServiceKind,
    peer::{
        self, ConnectError, PeerError, PeerFailure,
        signing::{SignContent, SigningClient},
    },
};
use tonic::Code;
use tonic_types::StatusExt;

fn intake_config() -> ServiceConfig {
    ServiceConfig::for_local(ServiceKind::Intake, "sqlite::memory:")
}

#[test]
fn a_peer_url_that_does_not_parse_is_refused_at_start_up() {
    for url in ["", "not a url", "127.0.0.1:50052", "ftp://127.0.0.1:50052", "http://"] {
        let refused = peer::connect_as(&intake_config(), url).err();
        assert!(matches!(refused, Some(ConnectError::InvalidUrl { .. })), "{url:?} is refused");
        let refused = SigningClient::connect(&intake_config(), "MOTCUA_INTAKE_SIGNING_URL", url).err();
        let message = refused.map(|error| error.to_string()).unwrap_or_default();
        assert_eq!(message, "MOTCUA_INTAKE_SIGNING_URL is not valid", "{url:?} is refused by the typed client");
    }
    let message = peer::connect_lazy("127.0.0.1:50052").err().map(|error| error.to_string()).unwrap_or_default();
    assert!(message.contains("127.0.0.1:50052") && message.contains("http://host:port"), "{message}");
}

#[tokio::test]
async fn a_peer_that_is_down_is_unavailable_with_retry_info() {
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a port");
    let signing = SigningClient::connect(&intake_config(), "MOTCUA_INTAKE_SIGNING_URL", &format!("http://{closed}"))
        .expect("a valid URL");
    let error = signing
        .sign(
            uuid::Uuid::new_v4().to_string(),
            "officer-CN01",
            SignContent::DocumentSha256(vec![0; 32]),
            "dossiers/x".to_owned(),
        )
        .await
        .expect_err("nobody answers");
    assert_eq!((error.peer, error.failure), (ServiceKind::Signing, PeerFailure::Unavailable));

    let status = ApiError::from(error).into_status(ServiceKind::Intake.error_domain());
    assert_eq!(status.code(), Code::Unavailable);
    let details = status.get_error_details();
    assert_eq!(details.error_info().map(|info| info.reason.as_str()), Some("SIGNING_UNAVAILABLE"));
    assert!(details.retry_info().and_then(|retry| retry.retry_delay).is_some(), "RetryInfo says when to retry");
}

#[test]
fn a_peers_refusal_is_a_failed_precondition_naming_the_peer_and_its_reason() {
    let refusal = tonic::Status::with_error_details(
        Code::NotFound,
        "no signer officer-CN09",
        tonic_types::ErrorDetails::with_error_info(
            "SIGNER_NOT_FOUND",
            "signing.motcua",
            std::collections::HashMap::new(),
        ),
    );
    let error = PeerError::from_status(ServiceKind::Signing, &refusal);
    assert_eq!((error.failure, error.reason.as_str()), (PeerFailure::Refused, "SIGNER_NOT_FOUND"));
    let status = ApiError::from(error).into_status(ServiceKind::Intake.error_domain());
    assert_eq!(status.code(), Code::FailedPrecondition);
    let details = status.get_error_details();
    assert_eq!(details.error_info().map(|info| info.reason.as_str()), Some("SIGNING_REFUSED"));
    let violation = &details.precondition_failure().expect("a precondition failure").violations[0];
    assert_eq!(violation.subject, "signing.motcua");
    assert!(violation.description.contains("SIGNER_NOT_FOUND"), "{}", violation.description);

    let without_details = PeerError::from_status(ServiceKind::Signing, &tonic::Status::deadline_exceeded("slow"));
    assert_eq!(
        (without_details.failure, without_details.reason.as_str()),
        (PeerFailure::Unavailable, "DEADLINE_EXCEEDED")
    );
}
