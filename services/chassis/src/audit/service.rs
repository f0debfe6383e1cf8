//! `motcua.audit.v1.AuditService`, which the chassis mounts on every service's port beside health and
//! reflection: `ListAuditRecords` over the trail of the service that answers.

use motcua_proto::motcua::audit::v1::{
    ListAuditRecordsRequest, ListAuditRecordsResponse,
    audit_service_server::{AuditService, AuditServiceServer},
};
use tonic::{Request, Response, Status};

use super::{AuditTrail, store};

/// The handler of `AuditService`, reading one service's trail.
#[derive(Clone)]
pub struct AuditApi {
    trail: AuditTrail,
}

impl AuditApi {
    /// The gRPC service serving `trail`.
    pub fn server(trail: AuditTrail) -> AuditServiceServer<Self> {
        AuditServiceServer::new(Self { trail })
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_records(
        &self,
        request: Request<ListAuditRecordsRequest>,
    ) -> Result<Response<ListAuditRecordsResponse>, Status> {
        store::list(self.trail.db(), request.get_ref())
            .await
            .map(Response::new)
            .map_err(|error| error.into_status(self.trail.domain()))
    }
}
