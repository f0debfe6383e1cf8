//! Dossier codes: the receiving agency's electronic identifier, the receiving day (yymmdd,
//! Asia/Ho_Chi_Minh) and the day's running number per agency, `000.00.12.H26-250301-0001`.

use chrono::NaiveDate;

/// The parts of a dossier code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DossierCode {
    /// The receiving agency's electronic identifier.
    pub agency_code: String,
    /// The receiving day.
    pub day: NaiveDate,
    /// The running number of the day for the agency, from 1.
    pub number: u32,
}

impl DossierCode {
    /// The code as printed: `{agency}-{yymmdd}-{number}`, the number zero-padded to four digits
    /// (more when a day exceeds 9,999 dossiers).
    pub fn format(&self) -> String {
        format!("{}-{}-{:04}", self.agency_code, self.day.format("%y%m%d"), self.number)
    }

    /// Parses a printed code; `None` for anything else.
    pub fn parse(code: &str) -> Option<Self> {
        let mut parts = code.rsplitn(3, '-');
        let number = parts.next()?;
        let day = parts.next()?;
        let agency_code = parts.next()?;
        if number.len() < 4 || !number.bytes().all(|byte| byte.is_ascii_digit()) || day.len() != 6 {
            return None;
        }
        if agency_code.is_empty()
            || agency_code.len() > 40
            || !agency_code.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'.')
        {
            return None;
        }
        let day = NaiveDate::parse_from_str(&format!("20{day}"), "%Y%m%d").ok()?;
        let number = number.parse().ok().filter(|number| *number > 0)?;
        Some(Self { agency_code: agency_code.to_owned(), day, number })
    }
}

/// The dossier code in a resource name `dossiers/{dossier_code}`.
pub fn parse_dossier_name(name: &str) -> Option<DossierCode> {
    name.strip_prefix("dossiers/").and_then(DossierCode::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_format_and_parse_back() {
        let code = DossierCode {
            agency_code: "000.00.12.H26".to_owned(),
            day: NaiveDate::from_ymd_opt(2025, 3, 1).expect("date"),
            number: 1,
        };
        assert_eq!(code.format(), "000.00.12.H26-250301-0001");
        assert_eq!(DossierCode::parse("000.00.12.H26-250301-0001"), Some(code));
    }

    #[test]
    fn busy_days_get_longer_numbers() {
        let code = DossierCode::parse("000.01.12.H26-251231-12345").expect("parses");
        assert_eq!(code.number, 12_345);
        assert_eq!(code.format(), "000.01.12.H26-251231-12345");
    }

    #[test]
    fn junk_is_not_a_code() {
        for junk in [
            "",
            "000.00.12.H26-250301",
            "000.00.12.H26-251301-0001",
            "x-250301-0000",
            "a b-250301-0001",
            "-250301-0001",
        ] {
            assert_eq!(DossierCode::parse(junk), None, "{junk:?}");
        }
        assert!(parse_dossier_name("dossiers/000.00.12.H26-250301-0001").is_some());
        assert!(parse_dossier_name("procedures/000.00.12.H26-250301-0001").is_none());
    }
}
