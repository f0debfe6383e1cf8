//! Who files a dossier, and the checks on their identifiers: the 12-digit citizen identity number
//! and the tax code of an organisation. The checks never echo the value back: it is personal data.

/// A citizen or an organisation, as validated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Applicant {
    /// A citizen in their own name.
    Citizen {
        /// The 12-digit identity number.
        identity_number: String,
        /// Full name.
        full_name: String,
        /// Date of birth, when given.
        date_of_birth: Option<chrono::NaiveDate>,
        /// Phone, when given.
        phone: String,
        /// Address, when given.
        address: String,
    },
    /// An organisation.
    Organisation {
        /// The tax code.
        tax_code: String,
        /// Registered name.
        name: String,
        /// Address, when given.
        address: String,
        /// Phone, when given.
        phone: String,
    },
}

impl Applicant {
    /// The identifier a lookup matches: identity number or tax code.
    pub fn key(&self) -> &str {
        match self {
            Self::Citizen { identity_number, .. } => identity_number,
            Self::Organisation { tax_code, .. } => tax_code,
        }
    }
}

/// The keyed hash under which an applicant's identifier is indexed: lookups by identity number or tax
/// code work, while the index holds nothing a reader of the database could reverse without the key.
pub fn index_hash(key: &[u8], identifier: &str) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(identifier.as_bytes());
    mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Whether `number` is a citizen identity number: 12 digits, a province code of birth (001-096), a
/// century-and-sex digit (0-9), two digits of the birth year and six random digits.
pub fn is_valid_identity_number(number: &str) -> bool {
    if number.len() != 12 || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    let province: u32 = number[..3].parse().unwrap_or(0);
    (1..=96).contains(&province)
}

/// Whether `code` is a tax code: 10 digits whose last is the check digit of the first nine (weights
/// 31, 29, 23, 19, 17, 13, 7, 5, 3; 10 minus the sum modulo 11), optionally followed by `-` and a
/// three-digit branch unit number.
pub fn is_valid_tax_code(code: &str) -> bool {
    let (main, unit) = match code.split_once('-') {
        Some((main, unit)) => (main, Some(unit)),
        None => (code, None),
    };
    if main.len() != 10 || !main.bytes().all(|byte| byte.is_ascii_digit()) {
        return false;
    }
    if let Some(unit) = unit
        && (unit.len() != 3 || !unit.bytes().all(|byte| byte.is_ascii_digit()) || unit == "000")
    {
        return false;
    }
    const WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];
    let digits: Vec<u32> = main.bytes().map(|byte| u32::from(byte - b'0')).collect();
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(digit, weight)| digit * weight).sum();
    let check = 10 - (sum % 11);
    check < 10 && check == digits[9]
}

/// Whether `phone` looks like a phone number: 8 to 15 digits, an optional leading `+`.
pub fn is_valid_phone(phone: &str) -> bool {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    (8..=15).contains(&digits.len()) && digits.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_numbers_need_twelve_digits_and_a_province() {
        assert!(is_valid_identity_number("001099012345"));
        assert!(is_valid_identity_number("096205000001"));
        assert!(!is_valid_identity_number("000099012345"), "no province 000");
        assert!(!is_valid_identity_number("097099012345"), "no province 097");
        assert!(!is_valid_identity_number("00109901234"), "eleven digits");
        assert!(!is_valid_identity_number("00109901234x"));
    }

    #[test]
    fn tax_codes_carry_a_check_digit() {
        // 0100109106 is a real, public tax code (Viettel).
        assert!(is_valid_tax_code("0100109106"));
        assert!(is_valid_tax_code("0100109106-001"));
        assert!(!is_valid_tax_code("0100109107"), "wrong check digit");
        assert!(!is_valid_tax_code("0100109106-000"));
        assert!(!is_valid_tax_code("010010910"));
    }

    #[test]
    fn index_hashes_depend_on_the_key_and_hide_the_number() {
        let hash = index_hash(b"key one", "001099012345");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, index_hash(b"key one", "001099012345"));
        assert_ne!(hash, index_hash(b"key two", "001099012345"));
        assert!(!hash.contains("001099012345"));
    }

    #[test]
    fn phones_are_digits_with_an_optional_plus() {
        assert!(is_valid_phone("0912345678"));
        assert!(is_valid_phone("+84912345678"));
        assert!(!is_valid_phone("0912-345"));
    }
}
