//! AIP-158 paging shared by every List RPC: page size rules, and opaque page tokens that carry the
//! keyset position and are only valid with the filters of the request that produced them.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The page size when the caller sets none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// The largest page; larger requests are read as this (AIP-158 coerces rather than refuses).
pub const MAX_PAGE_SIZE: u64 = 1000;

/// Reads `page_size`: 0 means the default, above the maximum means the maximum, negative is
/// INVALID_ARGUMENT.
pub fn page_size(requested: i32) -> Result<u64, ApiError> {
    match u64::try_from(requested) {
        Err(_) => Err(ApiError::invalid("INVALID_PAGE_SIZE", "page_size", "must not be negative")),
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(size) => Ok(size.min(MAX_PAGE_SIZE)),
    }
}

#[derive(Serialize, Deserialize)]
struct TokenBody {
    /// The keyset position: the sort key of the last item returned.
    #[serde(rename = "k")]
    after: String,
    /// A fingerprint of the request's filters.
    #[serde(rename = "f")]
    filter: String,
}

/// Makes the `next_page_token` that continues after `last_key` for a request with `filter`
/// (any canonical text of the request's filters).
pub fn encode_token(last_key: &str, filter: &str) -> String {
    let body = TokenBody { after: last_key.to_owned(), filter: fingerprint(filter) };
    // Serialising two strings cannot fail.
    let json = serde_json::to_vec(&body).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Reads a `page_token`: `None` for the first page, the keyset position otherwise. A token that was
/// not made by [`encode_token`], or was made for other filters, is INVALID_ARGUMENT.
pub fn decode_token(token: &str, filter: &str) -> Result<Option<String>, ApiError> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = |description: &str| ApiError::invalid("INVALID_PAGE_TOKEN", "page_token", description);
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid("not a page token from this service"))?;
    let body: TokenBody = serde_json::from_slice(&bytes).map_err(|_| invalid("not a page token from this service"))?;
    if body.filter != fingerprint(filter) {
        return Err(invalid("the token belongs to a listing with other filters; start again without a token"));
    }
    Ok(Some(body.after))
}

/// FNV-1a over the filter text: short, stable across releases and platforms.
fn fingerprint(filter: &str) -> String {
    let hash = filter
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_defaults_caps_and_refuses_negative() {
        assert_eq!(page_size(0), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(7), Ok(7));
        assert_eq!(page_size(5000), Ok(MAX_PAGE_SIZE));
        assert_eq!(page_size(-1).map_err(|error| error.reason()), Err("INVALID_PAGE_SIZE"));
    }

    #[test]
    fn token_round_trips_for_the_same_filter_only() {
        let token = encode_token("1.001193", "level=2");
        assert_eq!(decode_token(&token, "level=2"), Ok(Some("1.001193".to_owned())));
        assert_eq!(decode_token(&token, "level=4").map_err(|error| error.reason()), Err("INVALID_PAGE_TOKEN"));
        assert_eq!(decode_token("%%%", "level=2").map_err(|error| error.reason()), Err("INVALID_PAGE_TOKEN"));
        assert_eq!(decode_token("", "anything"), Ok(None));
    }
}
