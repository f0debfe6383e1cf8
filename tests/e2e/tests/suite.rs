//! The four services together, as `motcua up` runs them: each migrates its own database, reports
//! SERVING on grpc.health.v1, and lists its API through gRPC reflection v1 and v1alpha. And what the
//! chassis's server gives every service, shown on a real one: graceful shutdown, load shedding,
//! deadlines, the message size limit, and migrations run apart from start-up.

use std::{
    future::Future,
    task::Poll,
    time::{Duration, Instant},
};

use motcua_chassis::{
    MotcuaService, ServiceConfig, ServiceKind, db,
    server::RunningServer,
    testing::{TestDatabase, on_every_database, start_service, start_service_with},
};
use motcua_proto::motcua::reporting::v1::{
    GetIngestionStatusRequest, GetSummaryRequest, reporting_service_client::ReportingServiceClient,
};
use motcua_reporting::Reporting;
use motcua_testkit::clients::channel;
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
    transport::Channel,
};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};
use tonic_types::StatusExt;

async fn start<S: MotcuaService>() -> (TestDatabase, RunningServer) {
    let database = TestDatabase::sqlite();
    let server = start_service::<S>(&database).await;
    (database, server)
}

async fn listed_services_v1alpha(addr: std::net::SocketAddr) -> Vec<String> {
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
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
        other => panic!("unexpected v1alpha reflection answer {other:?}"),
    }
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
        // grpcurl and older tools still speak v1alpha only.
        for (version, services) in [
            ("v1", listed_services(server.local_addr).await),
            ("v1alpha", listed_services_v1alpha(server.local_addr).await),
        ] {
            for expected in [
                kind.grpc_service_name(),
                "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection",
                "grpc.reflection.v1alpha.ServerReflection",
                "motcua.audit.v1.AuditService",
                "motcua.jobs.v1.JobService",
            ] {
                assert!(
                    services.iter().any(|name| name == expected),
                    "{} lists {expected} over {version}: {services:?}",
                    kind.name()
                );
            }
            for other in ServiceKind::ALL.into_iter().filter(|other| other != kind) {
                assert!(
                    !services.iter().any(|name| name == other.grpc_service_name()),
                    "{} lists only its own API over {version}",
                    kind.name()
                );
            }
        }
    }
    for (_, (_database, server)) in running {
        server.stop().await.expect("clean stop");
    }
}

#[tokio::test]
async fn every_service_answers_the_shared_audit_service_on_a_fresh_trail() {
    use motcua_proto::motcua::audit::v1::{ListAuditRecordsRequest, audit_service_client::AuditServiceClient};
    let running = vec![
        start::<motcua_intake::Intake>().await,
        start::<motcua_signing::Signing>().await,
        start::<motcua_receipt::Receipt>().await,
        start::<motcua_reporting::Reporting>().await,
    ];
    for (_database, server) in &running {
        let mut trail = AuditServiceClient::new(channel(server.local_addr).await);
        let page = trail.list_audit_records(ListAuditRecordsRequest::default()).await.expect("built").into_inner();
        assert!(page.audit_records.is_empty(), "a fresh service has done nothing its trail records");
        assert!(page.next_page_token.is_empty());
    }
    for (_database, server) in running {
        server.stop().await.expect("clean stop");
    }
}

/// A message with no fields, written and read as nothing: what a test needs to hold a unary call open
/// the way a slow uploader does. Its decoder reads no bytes, so it serves only calls answered with a
/// status and no message (an empty GetSummary is refused: it names no period).
#[derive(Debug, Clone, Copy, Default)]
struct EmptyMessage;

impl Codec for EmptyMessage {
    type Encode = ();
    type Decode = ();
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        *self
    }

    fn decoder(&mut self) -> Self {
        *self
    }
}

impl Encoder for EmptyMessage {
    type Item = ();
    type Error = Status;

    fn encode(&mut self, (): (), _: &mut EncodeBuf<'_>) -> Result<(), Status> {
        Ok(())
    }
}

impl Decoder for EmptyMessage {
    type Item = ();
    type Error = Status;

    fn decode(&mut self, _: &mut DecodeBuf<'_>) -> Result<Option<()>, Status> {
        Ok(Some(()))
    }
}

/// A GetSummary whose headers the server has but whose request message is not sent yet: the server
/// waits for it inside the call, holding whatever a running call holds (a concurrency slot, a place in
/// the drain).
struct CallInFlight {
    message: mpsc::Sender<()>,
    answer: JoinHandle<Result<tonic::Response<()>, Status>>,
}

impl CallInFlight {
    /// Makes the call on `channel`; returns once it is on the connection, ahead of any call made after.
    async fn start(channel: Channel, deadline: Option<Duration>) -> Self {
        let (message, messages) = mpsc::channel::<()>(1);
        let (on_the_wire, made) = oneshot::channel::<()>();
        let answer = tokio::spawn(async move {
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.map_err(|error| Status::unavailable(error.to_string()))?;
            let mut request = tonic::Request::new(ReceiverStream::new(messages));
            if let Some(deadline) = deadline {
                request.set_timeout(deadline);
            }
            let path = PathAndQuery::from_static("/motcua.reporting.v1.ReportingService/GetSummary");
            let mut call = std::pin::pin!(grpc.client_streaming(request, path, EmptyMessage));
            // The first poll hands the request to the connection.
            let first = std::future::poll_fn(|context| Poll::Ready(call.as_mut().poll(context))).await;
            let _ = on_the_wire.send(());
            match first {
                Poll::Ready(answer) => answer,
                Poll::Pending => call.await,
            }
        });
        made.await.expect("the call was made");
        Self { message, answer }
    }

    /// Sends the request message and ends the request; returns the service's answer.
    async fn finish(self) -> Result<tonic::Response<()>, Status> {
        let Self { message, answer } = self;
        message.send(()).await.expect("the call still reads its request");
        drop(message);
        Self::answer(answer).await
    }

    /// The answer, without ever sending the request message.
    async fn answer_unsent(self) -> Result<tonic::Response<()>, Status> {
        let Self { message, answer } = self;
        let answer = Self::answer(answer).await;
        drop(message);
        answer
    }

    async fn answer(answer: JoinHandle<Result<tonic::Response<()>, Status>>) -> Result<tonic::Response<()>, Status> {
        tokio::time::timeout(Duration::from_secs(10), answer)
            .await
            .expect("the call is answered within 10 s")
            .expect("the call's task did not panic")
    }
}

fn reporting_config(database: &TestDatabase) -> ServiceConfig {
    ServiceConfig::for_local(ServiceKind::Reporting, database.url.clone())
}

/// Whether a fresh connection gets any answer to a health check within `patience`.
async fn answers_a_new_connection(addr: std::net::SocketAddr, patience: Duration) -> Option<ServingStatus> {
    let endpoint =
        Channel::from_shared(format!("http://{addr}")).expect("a URL").connect_timeout(patience).timeout(patience);
    let channel = endpoint.connect().await.ok()?;
    let mut health = HealthClient::new(channel);
    let answer = health.check(HealthCheckRequest { service: String::new() }).await.ok()?;
    Some(answer.into_inner().status())
}

#[tokio::test]
async fn a_shutdown_turns_health_to_not_serving_drains_and_stops_after_the_call_in_flight() {
    let database = TestDatabase::sqlite();
    let mut config = reporting_config(&database);
    config.shutdown_drain = Duration::from_millis(500);
    config.shutdown_grace = Duration::from_secs(10);
    let (shutdown, shutdown_requested) = oneshot::channel::<()>();
    let server = motcua_chassis::service::start::<Reporting>(&config, async {
        let _ = shutdown_requested.await;
    })
    .await
    .expect("reporting starts");
    let addr = server.local_addr;
    let connection = channel(addr).await;
    let mut health = HealthClient::new(connection.clone());
    let mut watch = health
        .watch(HealthCheckRequest { service: ServiceKind::Reporting.grpc_service_name().to_owned() })
        .await
        .expect("health watch")
        .into_inner();
    let status = |message: Option<Result<tonic_health::pb::HealthCheckResponse, Status>>| {
        message.expect("the watch goes on").expect("not an error").status()
    };
    assert_eq!(status(watch.next().await), ServingStatus::Serving);

    let in_flight = CallInFlight::start(connection.clone(), None).await;
    // Answered after the call in flight was made on the same connection: the server has that call.
    let now = health.check(HealthCheckRequest { service: String::new() }).await.expect("health check");
    assert_eq!(now.into_inner().status(), ServingStatus::Serving);

    shutdown.send(()).expect("the server waits for its shutdown signal");
    let changed = tokio::time::timeout(Duration::from_secs(5), watch.next()).await.expect("health changes at once");
    assert_eq!(status(changed), ServingStatus::NotServing, "the watch sees NOT_SERVING first");
    drop(watch);
    // The drain: the service still answers new calls, and says it is going away.
    let during_drain =
        health.check(HealthCheckRequest { service: String::new() }).await.expect("answered in the drain");
    assert_eq!(during_drain.into_inner().status(), ServingStatus::NotServing);

    // After the drain a new connection is served no more (bounded: the drain is 500 ms).
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        match answers_a_new_connection(addr, Duration::from_millis(250)).await {
            None => break,
            Some(status) => assert_eq!(status, ServingStatus::NotServing, "only NOT_SERVING once shutting down"),
        }
        assert!(Instant::now() < give_up, "after the drain new connections go unserved");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The call in flight still gets the service's own answer, not UNAVAILABLE or CANCELLED.
    let answer = in_flight.finish().await.expect_err("an empty GetSummary names no period");
    assert_eq!(answer.code(), Code::InvalidArgument, "{answer:?}");
    assert_eq!(answer.get_details_error_info().expect("ErrorInfo").reason, "INVALID_PERIOD");

    tokio::time::timeout(Duration::from_secs(5), server.wait())
        .await
        .expect("stops once the call in flight is answered, long before the grace period")
        .expect("a clean stop");
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "a stopped server's port refuses connections");
}

#[tokio::test]
async fn beyond_its_concurrency_limit_a_service_sheds_calls_with_resource_exhausted_and_retry_info() {
    let database = TestDatabase::sqlite();
    let mut config = reporting_config(&database);
    config.max_concurrent_requests = 1;
    let server = start_service_with::<Reporting>(config).await;
    let connection = channel(server.local_addr).await;
    let mut reporting = ReportingServiceClient::new(connection.clone());
    reporting.get_ingestion_status(GetIngestionStatusRequest::default()).await.expect("one call at a time is served");

    let holder = CallInFlight::start(connection.clone(), None).await;
    // Bounded: until the held call has taken the one slot.
    let mut first_shed = None;
    for _ in 0..100 {
        match reporting.get_ingestion_status(GetIngestionStatusRequest::default()).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(status) => {
                first_shed = Some(status);
                break;
            }
        }
    }
    let mut shed = vec![first_shed.expect("a call beyond the limit is shed")];
    // While the slot is held every other call is shed at once, none queued.
    let concurrent: Vec<_> = (0..8)
        .map(|_| {
            let mut reporting = reporting.clone();
            tokio::spawn(async move { reporting.get_ingestion_status(GetIngestionStatusRequest::default()).await })
        })
        .collect();
    for call in concurrent {
        let answer = tokio::time::timeout(Duration::from_secs(5), call).await.expect("shed at once").expect("no panic");
        shed.push(answer.expect_err("the one slot is taken"));
    }
    for status in &shed {
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!((info.reason.as_str(), info.domain.as_str()), ("OVERLOADED", "reporting.motcua"));
        let retry = status.get_details_retry_info().expect("RetryInfo says when to retry");
        let delay = retry.retry_delay.expect("a retry delay");
        assert!(delay > Duration::ZERO && delay <= Duration::from_secs(5), "retry after {delay:?}");
    }

    // The held call is served to the end, and then the slot is free again.
    let answer = holder.finish().await.expect_err("an empty GetSummary names no period");
    assert_eq!(answer.code(), Code::InvalidArgument, "the holder got the service's answer: {answer:?}");
    reporting.get_ingestion_status(GetIngestionStatusRequest::default()).await.expect("the slot is free again");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_call_outliving_the_service_deadline_is_cancelled_by_the_server_even_if_the_caller_would_wait() {
    let database = TestDatabase::sqlite();
    let mut config = reporting_config(&database);
    config.request_timeout = Duration::from_millis(1);
    let server = start_service_with::<Reporting>(config).await;
    let started = Instant::now();
    // The caller would wait a minute; the service's own limit is shorter and wins.
    let call = CallInFlight::start(channel(server.local_addr).await, Some(Duration::from_secs(60))).await;
    let status = call.answer_unsent().await.expect_err("the request never came");
    // tonic answers its server-side timeout with CANCELLED "Timeout expired", not DEADLINE_EXCEEDED.
    assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    assert_eq!(status.message(), "Timeout expired");
    assert!(started.elapsed() < Duration::from_secs(5), "answered at once, not after {:?}", started.elapsed());
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_callers_grpc_timeout_shorter_than_the_service_deadline_is_honoured() {
    const CALLER_DEADLINE: Duration = Duration::from_millis(200);
    let database = TestDatabase::sqlite();
    let server = start_service_with::<Reporting>(reporting_config(&database)).await;
    let started = Instant::now();
    let call = CallInFlight::start(channel(server.local_addr).await, Some(CALLER_DEADLINE)).await;
    // The tonic client only sends grpc-timeout; it does not time the call itself: the answer is the server's.
    let status = call.answer_unsent().await.expect_err("the request never came");
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Code::Cancelled, "{status:?}");
    assert_eq!(status.message(), "Timeout expired");
    assert!(elapsed >= CALLER_DEADLINE, "not before the caller's deadline: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "at the caller's deadline, not the service's 30 s: {elapsed:?}");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_request_larger_than_the_message_limit_is_refused_before_the_service_reads_it() {
    const LIMIT: usize = 256;
    let database = TestDatabase::sqlite();
    let mut config = reporting_config(&database);
    config.max_message_bytes = LIMIT;
    let server = start_service_with::<Reporting>(config).await;
    let mut reporting = ReportingServiceClient::new(channel(server.local_addr).await);

    let within = GetSummaryRequest { branch_code: "B".repeat(LIMIT / 2), ..Default::default() };
    let read = reporting.get_summary(within).await.expect_err("no period");
    assert_eq!(read.code(), Code::InvalidArgument, "a request within the limit reaches the service: {read:?}");

    let beyond = GetSummaryRequest { branch_code: "B".repeat(LIMIT * 4), ..Default::default() };
    let refused = reporting.get_summary(beyond).await.expect_err("too large");
    // tonic refuses an oversized message with OUT_OF_RANGE; the gRPC spec asks for RESOURCE_EXHAUSTED.
    assert_eq!(refused.code(), Code::OutOfRange, "{refused:?}");
    assert!(refused.message().contains(&format!("the limit is: {LIMIT} bytes")), "{}", refused.message());
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn the_migrations_a_migrate_job_applies_let_a_service_start_without_migrating() {
    on_every_database(|database| async move {
        let connection = db::connect(&database.url, None).await.expect("opens");
        // What `motcua-reporting migrate` runs, twice: a Job may run again on the next deploy.
        for _ in 0..2 {
            db::migrate::<<Reporting as MotcuaService>::Migrator>(&connection)
                .await
                .unwrap_or_else(|error| panic!("{}: migrates: {error}", database.backend));
        }
        let mut config = reporting_config(&database);
        config.migrate_on_start = false;
        let server = start_service_with::<Reporting>(config).await;
        let mut reporting = ReportingServiceClient::new(channel(server.local_addr).await);
        reporting
            .get_ingestion_status(GetIngestionStatusRequest::default())
            .await
            .unwrap_or_else(|error| panic!("{}: the tables are there: {error:?}", database.backend));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn without_migrations_a_service_told_not_to_migrate_cannot_answer_from_its_tables() {
    let database = TestDatabase::sqlite();
    let mut config = reporting_config(&database);
    config.migrate_on_start = false;
    let server = start_service_with::<Reporting>(config).await;
    let mut reporting = ReportingServiceClient::new(channel(server.local_addr).await);
    let status =
        reporting.get_ingestion_status(GetIngestionStatusRequest::default()).await.expect_err("there are no tables");
    // Reporting answers a missing table as it answers any database failure: UNAVAILABLE.
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_negative_cursor_is_refused_alike_by_every_feed() {
    use motcua_proto::motcua::{
        intake::v1::{self as intake, intake_service_client::IntakeServiceClient},
        receipt::v1::{self as receipt, receipt_service_client::ReceiptServiceClient},
        signing::v1::{self as signing, signing_service_client::SigningServiceClient},
    };
    let reason = |status: Status| {
        assert_eq!(status.code(), Code::InvalidArgument);
        status.get_error_details().error_info().map(|info| info.reason.clone()).expect("an ErrorInfo")
    };
    let (_intake_db, intake_server) = start::<motcua_intake::Intake>().await;
    let (_signing_db, signing_server) = start::<motcua_signing::Signing>().await;
    let (_receipt_db, receipt_server) = start::<motcua_receipt::Receipt>().await;
    let refusals = [
        IntakeServiceClient::new(channel(intake_server.local_addr).await)
            .watch_events(intake::WatchEventsRequest { after_sequence: -1 })
            .await
            .map(|_| ())
            .expect_err("refused"),
        SigningServiceClient::new(channel(signing_server.local_addr).await)
            .watch_events(signing::WatchEventsRequest { after_sequence: -1 })
            .await
            .map(|_| ())
            .expect_err("refused"),
        ReceiptServiceClient::new(channel(receipt_server.local_addr).await)
            .watch_events(receipt::WatchEventsRequest { after_sequence: -1 })
            .await
            .map(|_| ())
            .expect_err("refused"),
    ];
    for refusal in refusals {
        assert_eq!(reason(refusal), "INVALID_CURSOR");
    }
    for server in [intake_server, signing_server, receipt_server] {
        server.stop().await.expect("clean stop");
    }
}
