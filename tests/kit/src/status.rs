//! Reading a refusal: the reason of its ErrorInfo, and the branch refusal every service gives alike.

use tonic::Code;
use tonic_types::StatusExt;

/// The ErrorInfo reason of `status`, empty when it has none.
pub fn reason(status: &tonic::Status) -> String {
    status.get_details_error_info().map(|info| info.reason).unwrap_or_default()
}

/// Asserts that `status` refuses a branch the caller's policy does not grant.
pub fn assert_branch_refused(status: &tonic::Status) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(status.get_details_error_info().map(|info| info.reason).as_deref(), Some("BRANCH_NOT_ALLOWED"));
}
