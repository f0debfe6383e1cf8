//! Who files a dossier: the chassis's [`Party`], which intake calls an applicant, and the keyed hash
//! under which intake indexes an applicant's identifier.

pub use motcua_chassis::party::{Party as Applicant, is_valid_identity_number, is_valid_tax_code};

/// The keyed hash under which an applicant's identifier is indexed: lookups by identity number or tax
/// code work, while the index holds nothing a reader of the database could reverse without the key.
pub fn index_hash(key: &[u8], identifier: &str) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(identifier.as_bytes());
    mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_hashes_depend_on_the_key_and_hide_the_number() {
        let hash = index_hash(b"key one", "001099012345");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, index_hash(b"key one", "001099012345"));
        assert_ne!(hash, index_hash(b"key two", "001099012345"));
        assert!(!hash.contains("001099012345"));
    }
}
