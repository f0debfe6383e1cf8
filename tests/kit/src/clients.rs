//! Connected clients of each service: plain ones for the development mode's anonymous caller, and
//! ones that call as a named identity (`staff/…`, `agency/…`, `service/…`) the way the development
//! mode reads it from metadata.

use std::net::SocketAddr;

use motcua_proto::motcua::{
    audit::v1::audit_service_client::AuditServiceClient, intake::v1::intake_service_client::IntakeServiceClient,
    jobs::v1::job_service_client::JobServiceClient, receipt::v1::receipt_service_client::ReceiptServiceClient,
    reporting::v1::reporting_service_client::ReportingServiceClient,
    signing::v1::signing_service_client::SigningServiceClient,
};
use tonic::{
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

/// A plaintext channel to the service at `addr`.
pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a socket address makes a URL")
        .connect()
        .await
        .unwrap_or_else(|error| panic!("the service at {addr} answers: {error}"))
}

/// Names the caller in every request's metadata, as the development mode expects.
#[derive(Clone)]
pub struct AsIdentity(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl AsIdentity {
    /// Calls as `identity`.
    pub fn new(identity: &str) -> Self {
        Self(identity.parse().expect("a test identity is ASCII"))
    }
}

impl Interceptor for AsIdentity {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        request.metadata_mut().insert(motcua_chassis::identity::IDENTITY_HEADER, self.0.clone());
        Ok(request)
    }
}

/// A channel that calls as an identity.
pub type IdentifiedChannel = InterceptedService<Channel, AsIdentity>;

macro_rules! clients {
    ($($(#[$doc:meta])* $alias:ident, $connect:ident, $connect_as:ident => $client:ident;)*) => {$(
        $(#[$doc])*
        pub type $alias = $client<Channel>;

        $(#[$doc])*
        /// Connected to `addr` as the development mode's anonymous caller.
        pub async fn $connect(addr: SocketAddr) -> $alias {
            $client::new(channel(addr).await)
        }

        $(#[$doc])*
        /// Connected to `addr`, calling as `identity`.
        pub async fn $connect_as(addr: SocketAddr, identity: &str) -> $client<IdentifiedChannel> {
            $client::with_interceptor(channel(addr).await, AsIdentity::new(identity))
        }
    )*};
}

clients! {
    /// A client of intake.
    Intake, intake, intake_as => IntakeServiceClient;
    /// A client of signing.
    Signing, signing, signing_as => SigningServiceClient;
    /// A client of receipt.
    Receipt, receipt, receipt_as => ReceiptServiceClient;
    /// A client of reporting.
    Reporting, reporting, reporting_as => ReportingServiceClient;
    /// A client of the audit service every service mounts.
    Audit, audit, audit_as => AuditServiceClient;
    /// A client of the job service every service mounts.
    Jobs, jobs, jobs_as => JobServiceClient;
}
