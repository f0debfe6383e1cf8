//! Signing's request rules on the chassis's validation kit: resource names, ids, codes, display names
//! and the document a request covers.

use motcua_chassis::{ApiError, validate};
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

/// The longest display name (a certificate holder's, an authority's), in characters: it becomes the
/// certificate's common name, which a CA or relying party shows in one line, so the kit's limit for free
/// text ([`validate::MAX_TEXT`], 2000) would let names through no certificate should carry.
pub(crate) const MAX_DISPLAY_NAME: usize = 200;

/// The longest subject a signature names (`receipts/…`, `dossiers/…/result`), in characters: it is
/// written into the transparency log entry, which is kept small.
pub(crate) const MAX_SUBJECT: usize = 200;

/// The longest note on a revocation, in characters: it is written into the revocation's log entry.
pub(crate) const MAX_REVOCATION_NOTE: usize = 500;

motcua_chassis::service_violations! {
    /// Signing's request checks: the chassis's kit ([`validate::Violations`]: fields, text, codes, the
    /// error) plus signing's own rules (the document a request covers).
    pub(crate) struct Violations;
}

impl Violations {
    /// A staff or branch code in `field`, which a request must give (see [`validate::MAX_STAFF_CODE`]).
    pub(crate) fn required_code(&mut self, field: &str, value: &str) -> String {
        self.code(field, value, validate::MAX_STAFF_CODE, true);
        value.to_owned()
    }

    /// A display name in `field`, required, trimmed, of at most [`MAX_DISPLAY_NAME`] characters.
    pub(crate) fn display_name(&mut self, field: &str, value: &str) -> String {
        let trimmed = value.trim();
        self.text_within(field, trimmed, true, MAX_DISPLAY_NAME);
        trimmed.to_owned()
    }

    /// The SHA-256 of the document a request covers: of its bytes, or as given (32 bytes).
    pub(crate) fn document_digest(&mut self, document: Option<&[u8]>, document_sha256: Option<&[u8]>) -> [u8; 32] {
        match (document, document_sha256) {
            (Some(document), _) => Sha256::digest(document).into(),
            (None, Some(digest)) => <[u8; 32]>::try_from(digest).unwrap_or_else(|_| {
                self.add("document_sha256", "must be 32 bytes");
                [0; 32]
            }),
            (None, None) => {
                self.add("document", "required: the document or its SHA-256");
                [0; 32]
            }
        }
    }

    /// INVALID_ARGUMENT with every violation and `reason` (unless a violation brought its own), as a
    /// status of signing's.
    pub(crate) fn check(self, reason: &'static str) -> Result<(), Status> {
        self.finish_as(reason).map_err(status)
    }
}
