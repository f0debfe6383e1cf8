//! Lookup codes: printed on a receipt and carried by its QR code, so that anyone holding the paper can
//! look it up. 80 random bits in Crockford base32 (no I, L, O, U), 16 characters in four groups of
//! four (`7K2M-9QXD-4HFT-0BWZ`): unguessable, and short enough to type.

use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// The characters of a code, without separators.
pub const CODE_LENGTH: usize = 16;

/// A new random lookup code, normalised (no separators).
pub fn new_code() -> String {
    let bits: u128 = rand::rng().random::<u128>() >> 48;
    (0..CODE_LENGTH).rev().map(|position| ALPHABET[((bits >> (position * 5)) & 0x1f) as usize] as char).collect()
}

/// A normalised code as printed, in groups of four.
pub fn grouped(code: &str) -> String {
    code.as_bytes().chunks(4).map(|chunk| String::from_utf8_lossy(chunk).into_owned()).collect::<Vec<_>>().join("-")
}

/// The normalised form of a code as a person typed it: any case, with or without hyphens or spaces,
/// and Crockford's readings of look-alikes (O as 0, I and L as 1). `None` when it cannot be a code.
pub fn normalise(typed: &str) -> Option<String> {
    let mut code = String::with_capacity(CODE_LENGTH);
    for character in typed.chars() {
        let character = match character.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        };
        if !character.is_ascii() || !ALPHABET.contains(&(character as u8)) {
            return None;
        }
        code.push(character);
    }
    (code.len() == CODE_LENGTH).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_codes_are_sixteen_crockford_characters_and_differ() {
        let first = new_code();
        assert_eq!(first.len(), CODE_LENGTH);
        assert_eq!(normalise(&first).as_deref(), Some(first.as_str()));
        let codes: std::collections::HashSet<String> = (0..1000).map(|_| new_code()).collect();
        assert_eq!(codes.len(), 1000);
    }

    #[test]
    fn a_typed_code_is_read_in_any_case_with_separators_and_look_alikes() {
        assert_eq!(grouped("7K2M9QXD4HFT0BWZ"), "7K2M-9QXD-4HFT-0BWZ");
        assert_eq!(normalise("7k2m-9qxd 4hft-obwz").as_deref(), Some("7K2M9QXD4HFT0BWZ"));
        assert_eq!(normalise("7K2M-9QXD-4HFT-0BW"), None);
        assert_eq!(normalise("7K2M-9QXD-4HFT-0BWU"), None);
        assert_eq!(normalise("7K2M-9QXD-4HFT-0BWĐ"), None);
    }
}
