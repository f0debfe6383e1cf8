//! The leaves of the transparency log: the text anyone holding a document, its `.p7s` and the
//! certificate can rebuild (see `LogEntry` in the contract), one field a line.

use chrono::{DateTime, Utc};

/// The first line of every leaf: the format's name and version.
const FORMAT_LINE: &str = "motcua-signing-log/v1";

motcua_chassis::coded_enum! {
    /// The signing act a leaf records; the words are those of the leaf's second line.
    pub enum EntryKind {
        /// An officer's signature.
        Signature => "signature",
        /// A branch seal.
        Seal => "seal",
        /// A certificate's revocation.
        Revocation => "revocation",
    }
}

/// One leaf, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The act.
    pub kind: EntryKind,
    /// The SHA-256 of the document; `None` for a revocation.
    pub document_sha256: Option<[u8; 32]>,
    /// The SHA-256 of the CMS DER; `None` for a revocation.
    pub signature_sha256: Option<[u8; 32]>,
    /// The SHA-256 of the certificate's DER.
    pub certificate_sha256: [u8; 32],
    /// The signing or revocation time, kept to the microsecond.
    pub time: DateTime<Utc>,
}

impl LogEntry {
    /// The leaf's bytes.
    pub fn to_leaf_data(&self) -> Vec<u8> {
        let hash_or_dash = |hash: &Option<[u8; 32]>| hash.map_or_else(|| "-".to_owned(), hex::encode);
        format!(
            "{FORMAT_LINE}\n{}\n{}\n{}\n{}\n{}\n",
            self.kind.word(),
            hash_or_dash(&self.document_sha256),
            hash_or_dash(&self.signature_sha256),
            hex::encode(self.certificate_sha256),
            self.time.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
        )
        .into_bytes()
    }

    /// Reads a leaf's bytes; `None` when they are not a leaf of this format.
    pub fn from_leaf_data(data: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(data).ok()?;
        let lines: Vec<&str> = text.strip_suffix('\n')?.split('\n').collect();
        let [format, kind, document, signature, certificate, time] = lines.as_slice() else { return None };
        if *format != FORMAT_LINE {
            return None;
        }
        let optional_hash = |text: &str| -> Option<Option<[u8; 32]>> {
            if text == "-" { Some(None) } else { Some(Some(parse_hash(text)?)) }
        };
        Some(Self {
            kind: EntryKind::from_word(kind)?,
            document_sha256: optional_hash(document)?,
            signature_sha256: optional_hash(signature)?,
            certificate_sha256: parse_hash(certificate)?,
            time: DateTime::parse_from_rfc3339(time).ok()?.with_timezone(&Utc),
        })
    }
}

fn parse_hash(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_is_six_lines_with_microsecond_utc_time_and_reads_back() {
        let entry = LogEntry {
            kind: EntryKind::Signature,
            document_sha256: Some([1; 32]),
            signature_sha256: Some([2; 32]),
            certificate_sha256: [3; 32],
            time: DateTime::parse_from_rfc3339("2025-03-01T01:02:03.000456Z").expect("time").with_timezone(&Utc),
        };
        let data = entry.to_leaf_data();
        let text = String::from_utf8(data.clone()).expect("utf-8");
        assert!(text.starts_with("motcua-signing-log/v1\nsignature\n0101"));
        assert!(text.ends_with("\n2025-03-01T01:02:03.000456Z\n"));
        assert_eq!(LogEntry::from_leaf_data(&data), Some(entry));
    }

    #[test]
    fn a_revocation_leaf_has_dashes_for_document_and_signature() {
        let entry = LogEntry {
            kind: EntryKind::Revocation,
            document_sha256: None,
            signature_sha256: None,
            certificate_sha256: [3; 32],
            time: DateTime::from_timestamp(1_740_790_923, 0).expect("a valid time"),
        };
        let text = String::from_utf8(entry.to_leaf_data()).expect("utf-8");
        assert!(text.contains("\nrevocation\n-\n-\n"));
    }
}
