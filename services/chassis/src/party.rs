//! Who files a dossier or pays a fee: a citizen in their own name or an organisation, as the contract's
//! `motcua.common.v1.Applicant` carries them, and the checks on their identifiers (the 12-digit citizen
//! identity number, the tax code with its check digit, a phone number). Pure, so a service's domain may
//! hold a [`Party`]; the checks never echo a value back: it is personal data.

use chrono::NaiveDate;
use motcua_proto::motcua::common::v1::{Applicant, applicant::Kind};
use serde::{Deserialize, Serialize};

use crate::validate::Violations;

/// A citizen or an organisation, as validated. Personal data: never in events, logs or spans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Party {
    /// A citizen in their own name.
    Citizen {
        /// The 12-digit identity number.
        identity_number: String,
        /// Full name.
        full_name: String,
        /// Date of birth, when given.
        date_of_birth: Option<NaiveDate>,
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

impl Party {
    /// The identifier a lookup matches: identity number or tax code.
    pub fn key(&self) -> &str {
        match self {
            Self::Citizen { identity_number, .. } => identity_number,
            Self::Organisation { tax_code, .. } => tax_code,
        }
    }

    /// The name printed on a form.
    pub fn display_name(&self) -> &str {
        match self {
            Self::Citizen { full_name, .. } => full_name,
            Self::Organisation { name, .. } => name,
        }
    }

    /// The address printed on a form.
    pub fn address(&self) -> &str {
        match self {
            Self::Citizen { address, .. } | Self::Organisation { address, .. } => address,
        }
    }
}

impl Violations {
    /// The citizen or organisation in `field` (`applicant`, `content.payer` ...); a malformed identity
    /// number or tax code is `INVALID_APPLICANT`.
    pub fn party(&mut self, field: &str, applicant: Option<Applicant>) -> Option<Party> {
        match applicant.and_then(|applicant| applicant.kind) {
            Some(Kind::Citizen(citizen)) => {
                if !is_valid_identity_number(&citizen.identity_number) {
                    self.add_with_reason(
                        "INVALID_APPLICANT",
                        format!("{field}.citizen.identity_number"),
                        "must be a 12-digit citizen identity number",
                    );
                }
                self.text(&format!("{field}.citizen.full_name"), &citizen.full_name, true);
                self.phone(&format!("{field}.citizen.phone"), &citizen.phone);
                self.text(&format!("{field}.citizen.address"), &citizen.address, false);
                let date_of_birth =
                    self.date(&format!("{field}.citizen.date_of_birth"), citizen.date_of_birth.as_ref());
                Some(Party::Citizen {
                    identity_number: citizen.identity_number,
                    full_name: citizen.full_name,
                    date_of_birth,
                    phone: citizen.phone,
                    address: citizen.address,
                })
            }
            Some(Kind::Organisation(organisation)) => {
                if !is_valid_tax_code(&organisation.tax_code) {
                    self.add_with_reason(
                        "INVALID_APPLICANT",
                        format!("{field}.organisation.tax_code"),
                        "must be a tax code: 10 digits with a valid check digit, optionally -NNN",
                    );
                }
                self.text(&format!("{field}.organisation.name"), &organisation.name, true);
                self.phone(&format!("{field}.organisation.phone"), &organisation.phone);
                self.text(&format!("{field}.organisation.address"), &organisation.address, false);
                Some(Party::Organisation {
                    tax_code: organisation.tax_code,
                    name: organisation.name,
                    address: organisation.address,
                    phone: organisation.phone,
                })
            }
            None => {
                self.add(field, "required: a citizen or an organisation");
                None
            }
        }
    }

    fn phone(&mut self, field: &str, phone: &str) {
        if !phone.is_empty() && !is_valid_phone(phone) {
            self.add(field, "must be 8 to 15 digits with an optional leading +");
        }
    }
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
    fn phones_are_digits_with_an_optional_plus() {
        assert!(is_valid_phone("0912345678"));
        assert!(is_valid_phone("+84912345678"));
        assert!(!is_valid_phone("0912-345"));
    }
}
