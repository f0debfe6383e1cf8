//! The procedure catalogue's rules: what a procedure and a branch are, which values are valid, and how
//! a procedure is found by text.

use serde::{Deserialize, Serialize};

use super::text;

motcua_chassis::coded_enum! {
    /// The level of government that carries a procedure out; the numbers are the contract's, the words
    /// the seed file's.
    #[derive(Serialize, Deserialize)]
    pub enum Level {
        /// A ministry or central agency.
        Ministry = 1 => "ministry",
        /// A province or centrally governed city.
        Province = 2 => "province",
        /// A district: only before 1 July 2025.
        District = 3 => "district",
        /// A commune, ward or special zone.
        Commune = 4 => "commune",
    }
}

motcua_chassis::coded_enum! {
    /// The unit of a legal time limit; the numbers are the contract's, the words the seed file's.
    #[derive(Serialize, Deserialize)]
    pub enum TimeUnit {
        /// Clock hours.
        Hours = 1 => "hours",
        /// Calendar days.
        Days = 2 => "days",
        /// Working days.
        WorkingDays = 3 => "working_days",
        /// Calendar months.
        Months = 4 => "months",
    }
}

/// A legal time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    /// How many units; at least 1.
    pub value: u32,
    /// The unit.
    pub unit: TimeUnit,
}

motcua_chassis::coded_enum! {
    /// How much is known of a procedure's fee; the numbers are the contract's, the words the seed
    /// file's.
    #[derive(Serialize, Deserialize)]
    pub enum FeeStatus {
        /// The fee items are the amounts to collect.
        Known = 1 => "known",
        /// Nothing is collected.
        Free = 2 => "free",
        /// The amount is not in the catalogue.
        Unknown = 3 => "unknown",
    }
}

motcua_chassis::coded_enum! {
    /// When a fee is collected; the numbers are the national codes, the words the seed file's.
    #[derive(Serialize, Deserialize)]
    pub enum FeeMoment {
        /// When the dossier is received.
        AtIntake = 1 => "intake",
        /// When the applicant supplements the dossier.
        AtSupplement = 2 => "supplement",
        /// When the result is returned.
        AtReturn = 4 => "return",
    }
}

/// One fee or charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeItem {
    /// What is collected.
    pub name: String,
    /// The amount in đồng.
    pub amount_dong: i64,
    /// When it is collected.
    pub moment: FeeMoment,
}

/// A document component of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Its code inside the procedure (`TP01`).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Whether every dossier must carry it.
    pub required: bool,
}

/// The content of one version of a procedure: everything a change to which makes a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureSpec {
    /// The catalogue code (the national code where there is one).
    pub procedure_code: String,
    /// The national database code, if any.
    pub national_code: Option<String>,
    /// The Vietnamese name.
    pub display_name: String,
    /// The level of government.
    pub level: Level,
    /// The sector, in Vietnamese.
    pub sector: String,
    /// The legal time limit, when the source gives one.
    pub time_limit: Option<TimeLimit>,
    /// Whether a dossier received after 15:00 counts from the next working day.
    pub after_15h_next_working_day: bool,
    /// How much is known of the fee.
    pub fee_status: FeeStatus,
    /// The fee items (only with [`FeeStatus::Known`]).
    pub fee_items: Vec<FeeItem>,
    /// Remarks on the fee.
    pub fee_note: String,
    /// The document components, in order.
    pub components: Vec<Component>,
    /// The public source of the data.
    pub source: String,
}

impl ProcedureSpec {
    /// The folded text a free-text search matches: name, codes and sector.
    pub fn search_text(&self) -> String {
        let national = self.national_code.as_deref().unwrap_or_default();
        text::fold(&format!("{} {} {} {}", self.procedure_code, national, self.display_name, self.sector))
    }

    /// What is wrong with this procedure, if anything; a seed file with an invalid row is refused
    /// whole rather than loaded in part.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !is_valid_procedure_code(&self.procedure_code) {
            problems.push(format!(
                "procedure code {:?} is not 1 to 40 letters, digits, dots or hyphens",
                self.procedure_code
            ));
        }
        if self.display_name.trim().is_empty() {
            problems.push("the name is empty".to_owned());
        }
        if self.time_limit.is_some_and(|limit| limit.value == 0) {
            problems.push("the time limit is zero".to_owned());
        }
        match self.fee_status {
            FeeStatus::Known if self.fee_items.is_empty() => {
                problems.push("fee status is known but there are no fee items".to_owned())
            }
            FeeStatus::Free | FeeStatus::Unknown if !self.fee_items.is_empty() => {
                problems.push("fee items are given but the fee status is not known".to_owned());
            }
            _ => {}
        }
        if self.fee_items.iter().any(|item| item.amount_dong <= 0) {
            problems.push("a fee item has no positive amount".to_owned());
        }
        let mut codes: Vec<_> = self.components.iter().map(|component| component.code.as_str()).collect();
        codes.sort_unstable();
        if codes.windows(2).any(|pair| pair[0] == pair[1]) {
            problems.push("two components share a code".to_owned());
        }
        problems
    }
}

/// A branch of the center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// Its short code (`CN01`).
    pub branch_code: String,
    /// Its Vietnamese name.
    pub display_name: String,
    /// The receiving agency's electronic identifier.
    pub agency_code: String,
    /// The area it mainly serves.
    pub service_area: String,
    /// Its street address.
    pub address: String,
    /// The public source of the data.
    pub source: String,
}

/// Whether `code` can be a procedure code: 1 to 40 ASCII letters, digits, dots or hyphens. Resource
/// names are parsed with this, so a caller's junk never reaches a query.
pub fn is_valid_procedure_code(code: &str) -> bool {
    (1..=40).contains(&code.len())
        && code.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-')
}

/// The procedure code in a resource name `procedures/{procedure_code}`.
pub fn parse_procedure_name(name: &str) -> Option<&str> {
    name.strip_prefix("procedures/").filter(|code| is_valid_procedure_code(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn birth_registration() -> ProcedureSpec {
        ProcedureSpec {
            procedure_code: "1.001193".to_owned(),
            national_code: Some("1.001193".to_owned()),
            display_name: "Thủ tục đăng ký khai sinh".to_owned(),
            level: Level::Commune,
            sector: "Hộ tịch".to_owned(),
            time_limit: Some(TimeLimit { value: 1, unit: TimeUnit::Days }),
            after_15h_next_working_day: false,
            fee_status: FeeStatus::Free,
            fee_items: Vec::new(),
            fee_note: String::new(),
            components: vec![Component { code: "TP01".to_owned(), name: "Tờ khai".to_owned(), required: true }],
            source: "test".to_owned(),
        }
    }

    #[test]
    fn search_text_covers_code_name_and_sector_without_diacritics() {
        assert_eq!(birth_registration().search_text(), "1.001193 1.001193 thu tuc dang ky khai sinh ho tich");
    }

    #[test]
    fn a_valid_procedure_has_no_problems() {
        assert!(birth_registration().problems().is_empty());
    }

    #[test]
    fn a_known_fee_needs_items_and_items_need_a_known_fee() {
        let mut procedure = birth_registration();
        procedure.fee_status = FeeStatus::Known;
        assert_eq!(procedure.problems().len(), 1);
        procedure.fee_status = FeeStatus::Unknown;
        procedure.fee_items.push(FeeItem {
            name: "Lệ phí".to_owned(),
            amount_dong: 50_000,
            moment: FeeMoment::AtIntake,
        });
        assert_eq!(procedure.problems().len(), 1);
    }

    #[test]
    fn resource_names_accept_only_plausible_codes() {
        assert_eq!(parse_procedure_name("procedures/1.001193"), Some("1.001193"));
        assert_eq!(parse_procedure_name("procedures/"), None);
        assert_eq!(parse_procedure_name("procedures/1' OR 1=1"), None);
        assert_eq!(parse_procedure_name("dossiers/1.001193"), None);
    }
}
