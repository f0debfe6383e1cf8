//! A document of an applicant's electronic data store (Circular 01/2023/TT-VPCP): digitized once,
//! cited by later dossiers so the citizen never supplies it twice.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A field read off a document (by OCR or by an officer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractedField {
    /// A stable key, e.g. `so_giay_to`.
    pub key: String,
    /// The label as printed.
    pub label: String,
    /// The value.
    pub value: String,
}

/// A stored document's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDocument {
    /// Its id (a UUID).
    pub document_id: String,
    /// The owner's identity number or tax code. Personal data.
    pub owner_key: String,
    /// Whether the owner is an organisation (the key is a tax code).
    pub owner_is_organisation: bool,
    /// Its title.
    pub title: String,
    /// Its type, e.g. `giay_khai_sinh`.
    pub document_type: String,
    /// Upload (1), scan (2) or result (3), as the contract numbers them.
    pub source: i32,
    /// Original (1), copy (2) or electronic (3).
    pub copy_kind: i32,
    /// The file's name.
    pub file_name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size_bytes: i64,
    /// Its SHA-256.
    pub sha256: Vec<u8>,
    /// Fields read off it.
    pub extracted_fields: Vec<ExtractedField>,
    /// Who issued it.
    pub issuer: String,
    /// When it was issued.
    pub issue_date: Option<NaiveDate>,
    /// Until when it is valid.
    pub expiry_date: Option<NaiveDate>,
    /// The dossier whose result or filing it came from.
    pub origin_dossier_code: String,
    /// When it entered the store.
    pub create_time: DateTime<Utc>,
}

/// The media types a data store accepts: documents and scans, nothing executable.
pub const ACCEPTED_MEDIA_TYPES: [&str; 5] =
    ["application/pdf", "image/jpeg", "image/png", "image/tiff", "application/xml"];

/// The resource name of a document: `documents/{document_id}`.
pub fn name(document_id: &str) -> String {
    format!("documents/{document_id}")
}

/// The document id in a resource name, if it is one: `documents/` and a UUID's 36 characters.
pub fn parse_name(name: &str) -> Option<&str> {
    name.strip_prefix("documents/")
        .filter(|id| id.len() == 36 && id.bytes().all(|byte| byte.is_ascii_hexdigit() || byte == b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_names_hold_a_uuid() {
        let id = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b";
        assert_eq!(parse_name(&name(id)), Some(id));
        assert_eq!(parse_name("documents/../../etc"), None);
        assert_eq!(parse_name("dossiers/6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"), None);
    }
}
