//! The signing service's gRPC handlers. None is implemented yet: every RPC answers UNIMPLEMENTED, the
//! generated default, as docs/api.md says.

use motcua_proto::motcua::signing::v1::signing_service_server::SigningService;

/// The signing service's handlers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SigningApi;

impl SigningService for SigningApi {}
