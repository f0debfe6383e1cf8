//! Request validation shared by the handlers: resource names, ids and the document a request covers.

use motcua_chassis::{ApiError, FieldViolation};
use sha2::{Digest, Sha256};
use tonic::Status;

use super::status;

/// The id in `name` when it is `{collection}/{id}` with a non-empty id of at most `max_len` of
/// lowercase letters, digits and hyphens.
pub(crate) fn parse_name<'a>(name: &'a str, collection: &str, field: &str, max_len: usize) -> Result<&'a str, Status> {
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| is_plain_id(id, max_len))
        .ok_or_else(|| {
            status(ApiError::invalid(
                "INVALID_NAME",
                field,
                format!("expected {collection}/{{id}}, the id of lowercase letters, digits and hyphens"),
            ))
        })
}

/// Whether `id` is 1 to `max_len` lowercase letters, digits and hyphens.
pub(crate) fn is_plain_id(id: &str, max_len: usize) -> bool {
    !id.is_empty()
        && id.len() <= max_len
        && id.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// A required text field of at most `max_chars`, trimmed.
pub(crate) fn required_text(
    violations: &mut Vec<FieldViolation>,
    field: &str,
    value: &str,
    max_chars: usize,
) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        violations.push(FieldViolation::new(field, "required"));
    } else if trimmed.chars().count() > max_chars {
        violations.push(FieldViolation::new(field, format!("at most {max_chars} characters")));
    }
    trimmed.to_owned()
}

/// A code (staff code, branch code): 1 to 64 printable ASCII characters without spaces.
pub(crate) fn code(violations: &mut Vec<FieldViolation>, field: &str, value: &str) -> String {
    if value.is_empty() || value.len() > 64 || !value.bytes().all(|byte| byte.is_ascii_graphic()) {
        violations.push(FieldViolation::new(field, "required: 1 to 64 printable ASCII characters, no spaces"));
    }
    value.to_owned()
}

/// The SHA-256 of the document a request covers: of its bytes, or as given (32 bytes).
pub(crate) fn document_digest(
    violations: &mut Vec<FieldViolation>,
    document: Option<&[u8]>,
    document_sha256: Option<&[u8]>,
) -> [u8; 32] {
    match (document, document_sha256) {
        (Some(document), _) => Sha256::digest(document).into(),
        (None, Some(digest)) => match <[u8; 32]>::try_from(digest) {
            Ok(digest) => digest,
            Err(_) => {
                violations.push(FieldViolation::new("document_sha256", "must be 32 bytes"));
                [0; 32]
            }
        },
        (None, None) => {
            violations.push(FieldViolation::new("document", "required: the document or its SHA-256"));
            [0; 32]
        }
    }
}

/// INVALID_ARGUMENT with `violations`, if any.
pub(crate) fn finish(reason: &'static str, violations: Vec<FieldViolation>) -> Result<(), Status> {
    if violations.is_empty() { Ok(()) } else { Err(status(ApiError::InvalidArgument { reason, violations })) }
}
