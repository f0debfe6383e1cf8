//! The receipt service's gRPC handlers. None is implemented yet: every RPC answers UNIMPLEMENTED, the
//! generated default, as docs/api.md says.

use motcua_proto::motcua::receipt::v1::receipt_service_server::ReceiptService;

/// The receipt service's handlers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReceiptApi;

impl ReceiptService for ReceiptApi {}
