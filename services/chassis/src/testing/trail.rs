//! Reading a service's audit trail in tests: every record a filter selects, page after page, through
//! the `AuditService` the chassis mounts on every service.

use std::net::SocketAddr;

use motcua_proto::motcua::audit::v1::{AuditRecord, ListAuditRecordsRequest, audit_service_client::AuditServiceClient};
use tonic::transport::Channel;

/// An auditor's reader of one service's trail.
pub struct TrailReader {
    client: AuditServiceClient<Channel>,
    identity: Option<String>,
}

impl TrailReader {
    /// A reader of the trail of the service at `addr`, calling as the development mode's anonymous
    /// caller.
    pub async fn connect(addr: SocketAddr) -> Self {
        let client = AuditServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap_or_else(|error| panic!("cannot reach the audit service at {addr}: {error}"));
        Self { client, identity: None }
    }

    /// The same reader, calling as `identity` (`agency/auditor`) in the development mode.
    pub fn as_identity(mut self, identity: &str) -> Self {
        self.identity = Some(identity.to_owned());
        self
    }

    /// One page: the trail's own answer, for tests of paging and refusals.
    pub async fn page(
        &mut self,
        filter: ListAuditRecordsRequest,
    ) -> Result<motcua_proto::motcua::audit::v1::ListAuditRecordsResponse, tonic::Status> {
        let request = match &self.identity {
            Some(identity) => super::as_identity(identity, filter),
            None => tonic::Request::new(filter),
        };
        self.client.list_audit_records(request).await.map(tonic::Response::into_inner)
    }

    /// Every record `filter` selects, oldest first, following the page tokens to the end.
    pub async fn records(&mut self, filter: ListAuditRecordsRequest) -> Vec<AuditRecord> {
        let mut records = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .page(ListAuditRecordsRequest { page_token: page_token.clone(), ..filter.clone() })
                .await
                .unwrap_or_else(|status| panic!("the trail answers: {status:?}"));
            records.extend(page.audit_records);
            if page.next_page_token.is_empty() {
                return records;
            }
            page_token = page.next_page_token;
        }
    }

    /// The whole trail.
    pub async fn all(&mut self) -> Vec<AuditRecord> {
        self.records(ListAuditRecordsRequest::default()).await
    }

    /// The records of the call with `request_id`.
    pub async fn of_request(&mut self, request_id: &str) -> Vec<AuditRecord> {
        self.records(ListAuditRecordsRequest { request_id: request_id.to_owned(), ..Default::default() }).await
    }
}
