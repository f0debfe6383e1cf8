//! The reporting service's gRPC handlers. None is implemented yet: every RPC answers UNIMPLEMENTED, the
//! generated default, as docs/api.md says.

use motcua_proto::motcua::reporting::v1::reporting_service_server::ReportingService;

/// The reporting service's handlers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportingApi;

impl ReportingService for ReportingApi {}
